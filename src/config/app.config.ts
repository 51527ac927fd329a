import { resolve } from 'node:path';
import { ConfigError } from './config.error.js';
import { parseDuration } from './duration.js';
import { JWT_ALGORITHMS, loadKeyRing, type JwtAlgorithm, type KeyRing } from './signing-keys.js';

/** Where the data lives: the embedded SQLite file, or a PostgreSQL server. */
export type DatabaseConfig = { type: 'sqlite'; path: string } | { type: 'postgres'; url: string };

/** An OAuth client allowed to call `/oauth/introspect`. */
export interface IntrospectionClient {
  id: string;
  secret: string;
}

/** The whole validated configuration, built once at boot from the environment. */
export interface AppConfig {
  production: boolean;
  port: number;
  dataDir: string;
  database: DatabaseConfig;
  /** `null`: the in-process store (one instance). */
  redis: { url: string; keyPrefix: string } | null;
  jwt: {
    keys: KeyRing;
    issuer: string;
    audience: string;
    clockTolerance: number;
    accessTokenTtl: number;
  };
  refreshTokenTtl: number;
  sessionMaxAge: number;
  refreshReuseGrace: number;
  cookieSecure: boolean;
  login: { maxFailures: number; failureWindow: number; maxFailuresPerIp: number; ipWindow: number };
  /** Requests per client IP per minute to register and login. */
  credentialRateLimit: number;
  admin: { email: string; password: string } | null;
  introspectionClients: IntrospectionClient[];
  corsOrigins: string[];
  /** Scopes every access token is granted. */
  defaultScopes: string[];
  /** Express `trust proxy`: which proxies' `X-Forwarded-For` gives the client IP; `false` trusts none. */
  trustProxy: boolean | number | string;
}

/** The environment as read: variable name to raw value. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Validates the environment and builds the typed configuration; throws a {@link ConfigError}
 * naming the first bad variable.
 *
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Environment): AppConfig {
  const read = reader(env);
  const production = read.string('NODE_ENV') === 'production';
  const port = read.integer('PORT', 3000, 0, 65535);
  const dataDir = resolve(read.string('DATA_DIR') ?? './data');
  const databaseUrl = read.string('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// URL (leave it unset for the embedded SQLite file)');
  }
  const redisUrl = read.string('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL (leave it unset for the in-process store)');
  }
  const algorithm = read.string('JWT_ALGORITHM') ?? 'ES256';
  if (!(JWT_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new ConfigError('JWT_ALGORITHM', `must be one of ${JWT_ALGORITHMS.join(', ')}`);
  }
  const issuer = read.string('JWT_ISSUER') ?? (production ? undefined : `http://localhost:${port}`);
  if (issuer === undefined) throw new ConfigError('JWT_ISSUER', 'is required in production (the URL of this service)');
  const audience = read.string('JWT_AUDIENCE') ?? (production ? undefined : 'nest-refresh-auth');
  if (audience === undefined) throw new ConfigError('JWT_AUDIENCE', 'is required in production');
  const adminEmail = read.string('ADMIN_EMAIL')?.toLowerCase();
  const adminPassword = read.string('ADMIN_PASSWORD');
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError(adminEmail ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL', 'ADMIN_EMAIL and ADMIN_PASSWORD go together');
  }
  if (adminPassword !== undefined && (adminPassword.length < 8 || adminPassword.length > 128)) {
    throw new ConfigError('ADMIN_PASSWORD', 'must be 8 to 128 characters');
  }
  const cookieSecure = read.boolean('COOKIE_SECURE', true);
  if (production && !cookieSecure) {
    throw new ConfigError('COOKIE_SECURE', 'may be false only for plain-HTTP development, not in production');
  }
  const refreshTokenTtl = read.duration('REFRESH_TOKEN_TTL', 14 * 86400, 1);
  const sessionMaxAge = read.duration('SESSION_MAX_AGE', 30 * 86400, 1);
  if (sessionMaxAge < refreshTokenTtl) {
    throw new ConfigError('SESSION_MAX_AGE', 'must not be shorter than REFRESH_TOKEN_TTL');
  }
  return {
    production,
    port,
    dataDir,
    database: databaseUrl
      ? { type: 'postgres', url: databaseUrl }
      : { type: 'sqlite', path: resolve(dataDir, 'auth.sqlite') },
    redis: redisUrl ? { url: redisUrl, keyPrefix: read.string('REDIS_KEY_PREFIX') ?? 'nra:' } : null,
    jwt: {
      keys: loadKeyRing({
        algorithm: algorithm as JwtAlgorithm,
        secret: read.string('JWT_SECRET'),
        privateKey: read.string('JWT_PRIVATE_KEY'),
        publicKey: read.string('JWT_PUBLIC_KEY'),
        previousPublicKeys: read.string('JWT_PREVIOUS_PUBLIC_KEYS'),
        dataDir,
        production,
      }),
      issuer,
      audience,
      clockTolerance: read.integer('JWT_CLOCK_TOLERANCE', 5, 0, 300),
      accessTokenTtl: read.duration('ACCESS_TOKEN_TTL', 15 * 60, 1),
    },
    refreshTokenTtl,
    sessionMaxAge,
    refreshReuseGrace: read.duration('REFRESH_REUSE_GRACE', 10, 0),
    cookieSecure,
    login: {
      maxFailures: read.integer('LOGIN_MAX_FAILURES', 5, 1, 1_000_000),
      failureWindow: read.duration('LOGIN_FAILURE_WINDOW', 15 * 60, 1),
      maxFailuresPerIp: read.integer('LOGIN_MAX_FAILURES_PER_IP', 20, 1, 1_000_000),
      ipWindow: read.duration('LOGIN_IP_WINDOW', 60, 1),
    },
    credentialRateLimit: read.integer('AUTH_RATE_LIMIT', 60, 1, 1_000_000),
    admin: adminEmail && adminPassword ? { email: adminEmail, password: adminPassword } : null,
    introspectionClients: parseClients(read.string('OAUTH_INTROSPECTION_CLIENTS'), production),
    corsOrigins: (read.string('CORS_ORIGINS') ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    defaultScopes: (read.string('DEFAULT_SCOPES') ?? 'notes:read notes:write').split(/\s+/).filter(Boolean),
    trustProxy: parseTrustProxy(read.string('TRUST_PROXY')),
  };
}

/** `true`/`false`, a hop count, or Express's list of addresses, subnets and names (`loopback`, …). */
function parseTrustProxy(text: string | undefined): boolean | number | string {
  if (text === undefined || text === 'false') return false;
  if (text === 'true') return true;
  return /^\d+$/.test(text) ? Number(text) : text;
}

function parseClients(text: string | undefined, production: boolean): IntrospectionClient[] {
  if (!text) return [];
  return text.split(',').map((pair) => {
    const at = pair.indexOf(':');
    const id = pair.slice(0, at).trim();
    const secret = pair.slice(at + 1).trim();
    if (at <= 0 || !secret) {
      throw new ConfigError('OAUTH_INTROSPECTION_CLIENTS', 'must be comma-separated id:secret pairs');
    }
    if (production && secret.length < 16) {
      throw new ConfigError('OAUTH_INTROSPECTION_CLIENTS', `secret of client "${id}" must be at least 16 characters`);
    }
    return { id, secret };
  });
}

/** Ten years: longer is a typo, and would overflow the dates computed from it. */
const MAX_DURATION = 3650 * 86400;

function reader(env: Environment) {
  const string = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  return {
    string,
    integer(name: string, fallback: number, min: number, max: number): number {
      const raw = string(name);
      if (raw === undefined) return fallback;
      const value = Number(raw);
      if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
        throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
      }
      return value;
    },
    duration(name: string, fallback: number, min: number): number {
      const raw = string(name);
      if (raw === undefined) return fallback;
      const value = parseDuration(raw);
      if (value === undefined || value < min || value > MAX_DURATION) {
        throw new ConfigError(
          name,
          `must be a duration from ${min}s to 3650d: whole seconds or with s/m/h/d/w, got "${raw}"`,
        );
      }
      return value;
    },
    boolean(name: string, fallback: boolean): boolean {
      const raw = string(name)?.toLowerCase();
      if (raw === undefined) return fallback;
      if (['true', '1', 'yes'].includes(raw)) return true;
      if (['false', '0', 'no'].includes(raw)) return false;
      throw new ConfigError(name, `must be true or false, got "${raw}"`);
    },
  };
}
