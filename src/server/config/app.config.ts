import { resolve } from 'node:path';
import {
  AuthOptionsError,
  JWT_ALGORITHMS,
  resolveAuthOptions,
  type AuthConfig,
  type AuthModuleOptions,
  type AuthRedisOptions,
  type JwtAlgorithm,
} from '../../index.js';
import { ConfigError } from './config.error.js';
import { developmentKey } from './development-keys.js';

/** Where the data lives: the embedded SQLite file, or a PostgreSQL server. */
export type DatabaseConfig = { type: 'sqlite'; path: string } | { type: 'postgres'; url: string; poolSize: number };

/** The whole validated configuration of the service, built once at boot from the environment. */
export interface AppConfig {
  production: boolean;
  port: number;
  dataDir: string;
  database: DatabaseConfig;
  /** The options handed to `AuthModule.forRoot()`, as one object. */
  auth: AuthModuleOptions;
  /** The same, validated and with defaults filled in. */
  resolved: AuthConfig;
  /** An `admin` user made at start-up when absent. */
  admin: { email: string; password: string } | null;
  corsOrigins: string[];
  /** Express `trust proxy`: which proxies' `X-Forwarded-*` to believe; `false` trusts none. */
  trustProxy: boolean | number | string;
  /** One JSON line per request and log entry, or readable text. */
  logFormat: 'json' | 'text';
  /** `/metrics`: on its own port (`port`), on the public listener behind a bearer `token`, or off. */
  metrics: { port: number | null; token: string | null };
}

/** The environment as read: variable name to raw value. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Which variable each `AuthModule` option comes from, so a refused option names the variable. */
const VARIABLE_OF_OPTION: ReadonlyArray<[RegExp, string]> = [
  [/^jwt\.algorithm$/, 'JWT_ALGORITHM'],
  [/^jwt\.secret$/, 'JWT_SECRET'],
  [/^jwt\.privateKey$/, 'JWT_PRIVATE_KEY'],
  [/^jwt\.publicKey$/, 'JWT_PUBLIC_KEY'],
  [/^jwt\.previousPublicKeys$/, 'JWT_PREVIOUS_PUBLIC_KEYS'],
  [/^jwt\.issuer$/, 'JWT_ISSUER'],
  [/^jwt\.audience$/, 'JWT_AUDIENCE'],
  [/^jwt\.clockTolerance$/, 'JWT_CLOCK_TOLERANCE'],
  [/^jwt\.accessTokenTtl$/, 'ACCESS_TOKEN_TTL'],
  [/^refreshTokenTtlByRole/, 'REFRESH_TOKEN_TTL_BY_ROLE'],
  [/^sessionMaxAgeByRole/, 'SESSION_MAX_AGE_BY_ROLE'],
  [/^refreshTokenTtl$/, 'REFRESH_TOKEN_TTL'],
  [/^sessionMaxAge$/, 'SESSION_MAX_AGE'],
  [/^refreshReuseGrace$/, 'REFRESH_REUSE_GRACE'],
  [/^defaultScopes$/, 'DEFAULT_SCOPES'],
  [/^login\.maxFailures$/, 'LOGIN_MAX_FAILURES'],
  [/^login\.failureWindow$/, 'LOGIN_FAILURE_WINDOW'],
  [/^login\.maxFailuresPerIp$/, 'LOGIN_MAX_FAILURES_PER_IP'],
  [/^login\.ipWindow$/, 'LOGIN_IP_WINDOW'],
  [/^credentialRateLimit$/, 'AUTH_RATE_LIMIT'],
  [/^cookie\.secure$/, 'COOKIE_SECURE'],
  [/^cookie\.path$/, 'COOKIE_PATH'],
  [/^redis\.keyPrefix$/, 'REDIS_KEY_PREFIX'],
  [/^redis\.sentinelName$/, 'REDIS_SENTINEL_NAME'],
  [/^redis\.sentinels$/, 'REDIS_SENTINELS'],
  [/^redis\.clusterNodes$/, 'REDIS_CLUSTER_NODES'],
  [/^redis/, 'REDIS_URL'],
  [/^publicUrl$/, 'PUBLIC_URL'],
  [/^introspectionClients/, 'OAUTH_INTROSPECTION_CLIENTS'],
  [/^caches\.accessTokens$/, 'ACCESS_TOKEN_CACHE_SIZE'],
  [/^caches\.sessions$/, 'SESSION_CACHE_SIZE'],
  [/^passwordHashing\.memoryCost$/, 'ARGON2_MEMORY_COST'],
  [/^passwordHashing\.timeCost$/, 'ARGON2_TIME_COST'],
  [/^passwordHashing\.parallelism$/, 'ARGON2_PARALLELISM'],
  [/^passwordHashing\.concurrency$/, 'PASSWORD_HASH_CONCURRENCY'],
  [/^securityEventRetention$/, 'SECURITY_EVENT_RETENTION'],
  [/^shutdownTimeout$/, 'SHUTDOWN_TIMEOUT'],
];

/**
 * Validates the environment and builds the service's configuration, including the one options
 * object for `AuthModule`; throws a {@link ConfigError} naming the first bad variable.
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
  const algorithm = read.string('JWT_ALGORITHM') ?? 'ES256';
  if (!(JWT_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new ConfigError('JWT_ALGORITHM', `must be one of ${JWT_ALGORITHMS.join(', ')}`);
  }
  const issuer = read.string('JWT_ISSUER') ?? (production ? undefined : `http://localhost:${port}`);
  if (issuer === undefined) throw new ConfigError('JWT_ISSUER', 'is required in production (the URL of this service)');
  const audience = read.string('JWT_AUDIENCE') ?? (production ? undefined : 'nest-refresh-auth');
  if (audience === undefined) throw new ConfigError('JWT_AUDIENCE', 'is required in production');
  const adminEmail = read.string('ADMIN_EMAIL')?.trim().toLowerCase();
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
  const hmac = algorithm.startsWith('HS');
  const secret = read.string('JWT_SECRET');
  const privateKey = read.string('JWT_PRIVATE_KEY');
  if (production && hmac && secret === undefined) {
    throw new ConfigError('JWT_SECRET', `is required with JWT_ALGORITHM=${algorithm} in production`);
  }
  if (production && !hmac && privateKey === undefined) {
    throw new ConfigError('JWT_PRIVATE_KEY', `is required with JWT_ALGORITHM=${algorithm} in production`);
  }
  const missingKey = hmac ? secret === undefined : privateKey === undefined;
  const developmentSecret = missingKey ? developmentKey(dataDir, algorithm as JwtAlgorithm) : undefined;
  const metricsPort = read.optionalInteger('METRICS_PORT', 0, 65535);
  const metricsToken = read.string('METRICS_TOKEN') ?? null;
  if (metricsToken !== null && metricsToken.length < 16) {
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');
  }
  const logFormat = read.choice('LOG_FORMAT', ['json', 'text'] as const, production ? 'json' : 'text');

  const auth: AuthModuleOptions = {
    production,
    jwt: {
      algorithm: algorithm as JwtAlgorithm,
      ...(hmac ? { secret: secret ?? developmentSecret } : { privateKey: privateKey ?? developmentSecret }),
      ...(read.string('JWT_PUBLIC_KEY') !== undefined ? { publicKey: read.string('JWT_PUBLIC_KEY') } : {}),
      ...(read.string('JWT_PREVIOUS_PUBLIC_KEYS') !== undefined
        ? { previousPublicKeys: read.string('JWT_PREVIOUS_PUBLIC_KEYS') }
        : {}),
      issuer,
      audience,
      clockTolerance: read.integer('JWT_CLOCK_TOLERANCE', 5, 0, 300),
      accessTokenTtl: read.string('ACCESS_TOKEN_TTL'),
    },
    refreshTokenTtl: read.string('REFRESH_TOKEN_TTL'),
    sessionMaxAge: read.string('SESSION_MAX_AGE'),
    refreshTokenTtlByRole: read.roleTable('REFRESH_TOKEN_TTL_BY_ROLE'),
    sessionMaxAgeByRole: read.roleTable('SESSION_MAX_AGE_BY_ROLE'),
    refreshReuseGrace: read.string('REFRESH_REUSE_GRACE'),
    defaultScopes: (read.string('DEFAULT_SCOPES') ?? 'notes:read notes:write').split(/\s+/).filter(Boolean),
    login: {
      maxFailures: read.integer('LOGIN_MAX_FAILURES', 5, 1, 1_000_000),
      failureWindow: read.string('LOGIN_FAILURE_WINDOW'),
      maxFailuresPerIp: read.integer('LOGIN_MAX_FAILURES_PER_IP', 20, 1, 1_000_000),
      ipWindow: read.string('LOGIN_IP_WINDOW'),
    },
    credentialRateLimit: read.integer('AUTH_RATE_LIMIT', 60, 1, 1_000_000),
    cookie: { secure: cookieSecure, ...(read.string('COOKIE_PATH') ? { path: read.string('COOKIE_PATH') } : {}) },
    redis: redisOptions(read),
    // The service's own metadata URLs are its issuer's, unless PUBLIC_URL says where it is reached.
    publicUrl: read.string('PUBLIC_URL') ?? (/^https?:\/\//.test(issuer) ? issuer : undefined),
    introspectionClients: parseClients(read.string('OAUTH_INTROSPECTION_CLIENTS')),
    caches: {
      accessTokens: read.integer('ACCESS_TOKEN_CACHE_SIZE', 10_000, 1, 10_000_000),
      sessions: read.integer('SESSION_CACHE_SIZE', 100_000, 1, 10_000_000),
    },
    passwordHashing: {
      memoryCost: read.optionalInteger('ARGON2_MEMORY_COST', 1, 4_194_304),
      timeCost: read.optionalInteger('ARGON2_TIME_COST', 1, 100),
      parallelism: read.optionalInteger('ARGON2_PARALLELISM', 1, 64),
      concurrency: read.optionalInteger('PASSWORD_HASH_CONCURRENCY', 1, 1024),
    },
    securityEventRetention: read.string('SECURITY_EVENT_RETENTION'),
    shutdownTimeout: read.string('SHUTDOWN_TIMEOUT'),
  };
  return {
    production,
    port,
    dataDir,
    database: databaseUrl
      ? { type: 'postgres', url: databaseUrl, poolSize: read.integer('DATABASE_POOL_SIZE', 10, 1, 1000) }
      : { type: 'sqlite', path: resolve(dataDir, 'auth.sqlite') },
    auth,
    resolved: resolveAsConfig(auth),
    admin: adminEmail && adminPassword ? { email: adminEmail, password: adminPassword } : null,
    corsOrigins: (read.string('CORS_ORIGINS') ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    trustProxy: parseTrustProxy(read.string('TRUST_PROXY')),
    logFormat,
    metrics: { port: metricsPort ?? null, token: metricsToken },
  };
}

/** Validates the options through the library, naming the variable behind a refused option. */
function resolveAsConfig(auth: AuthModuleOptions): AuthConfig {
  try {
    return resolveAuthOptions(stripUndefined(auth));
  } catch (error) {
    if (!(error instanceof AuthOptionsError)) throw error;
    const variable = VARIABLE_OF_OPTION.find(([pattern]) => pattern.test(error.option))?.[1] ?? error.option;
    throw new ConfigError(variable, error.reason);
  }
}

/** Unset variables leave the library's defaults in place. */
function stripUndefined<T>(value: T): T {
  if (
    Array.isArray(value) ||
    typeof value !== 'object' ||
    value === null ||
    Object.getPrototypeOf(value) !== Object.prototype
  )
    return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, stripUndefined(item)]),
  ) as T;
}

function redisOptions(read: ReturnType<typeof reader>): AuthRedisOptions | null {
  const url = read.string('REDIS_URL');
  const sentinels = read.string('REDIS_SENTINELS');
  const cluster = read.string('REDIS_CLUSTER_NODES');
  const given = [url, sentinels, cluster].filter((item) => item !== undefined).length;
  if (given === 0) return null;
  if (given > 1) throw new ConfigError('REDIS_URL', 'set one of REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES');
  const keyPrefix = read.string('REDIS_KEY_PREFIX') ?? 'nra:';
  const password = read.string('REDIS_PASSWORD');
  if (url !== undefined) {
    if (!/^rediss?:\/\//.test(url)) {
      throw new ConfigError(
        'REDIS_URL',
        'must be a redis:// or rediss:// URL (leave it unset for the in-process store)',
      );
    }
    return { url, keyPrefix };
  }
  if (sentinels !== undefined) {
    const nodes = sentinels.split(',').map((entry) => {
      const match = /^\s*([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\s*$/.exec(entry);
      if (!match) throw new ConfigError('REDIS_SENTINELS', 'must be comma-separated host:port pairs');
      return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
    });
    const name = read.string('REDIS_SENTINEL_NAME');
    if (!name) throw new ConfigError('REDIS_SENTINEL_NAME', 'is required with REDIS_SENTINELS (the master name)');
    return { sentinels: nodes, sentinelName: name, keyPrefix, ...(password ? { password } : {}) };
  }
  const nodes = cluster!
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => (/^rediss?:\/\//.test(entry) ? entry : `redis://${entry}`));
  return { clusterNodes: nodes, keyPrefix, ...(password ? { password } : {}) };
}

/** `true`/`false`, a hop count, or Express's list of addresses, subnets and names (`loopback`, …). */
function parseTrustProxy(text: string | undefined): boolean | number | string {
  if (text === undefined || text === 'false') return false;
  if (text === 'true') return true;
  return /^\d+$/.test(text) ? Number(text) : text;
}

function parseClients(text: string | undefined): Array<{ id: string; secret: string }> {
  if (!text) return [];
  return text.split(',').map((pair) => {
    const at = pair.indexOf(':');
    const id = pair.slice(0, at).trim();
    const secret = pair.slice(at + 1).trim();
    if (at <= 0 || !secret) {
      throw new ConfigError('OAUTH_INTROSPECTION_CLIENTS', 'must be comma-separated id:secret pairs');
    }
    return { id, secret };
  });
}

function reader(env: Environment) {
  const string = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
      throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
  return {
    string,
    integer,
    optionalInteger(name: string, min: number, max: number): number | undefined {
      return string(name) === undefined ? undefined : integer(name, 0, min, max);
    },
    boolean(name: string, fallback: boolean): boolean {
      const raw = string(name)?.toLowerCase();
      if (raw === undefined) return fallback;
      if (['true', '1', 'yes'].includes(raw)) return true;
      if (['false', '0', 'no'].includes(raw)) return false;
      throw new ConfigError(name, `must be true or false, got "${raw}"`);
    },
    choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
      const raw = string(name)?.toLowerCase();
      if (raw === undefined) return fallback;
      if (!(choices as readonly string[]).includes(raw))
        throw new ConfigError(name, `must be one of ${choices.join(', ')}, got "${raw}"`);
      return raw as T;
    },
    /** `role:duration` pairs, comma-separated: `admin:1d,support:3d`. */
    roleTable(name: string): Record<string, string> | undefined {
      const raw = string(name);
      if (raw === undefined) return undefined;
      const table: Record<string, string> = {};
      for (const pair of raw.split(',')) {
        const match = /^\s*([^\s:,]+)\s*:\s*(\S+)\s*$/.exec(pair);
        if (!match) throw new ConfigError(name, `must be comma-separated role:duration pairs (admin:1d), got "${raw}"`);
        table[match[1]!] = match[2]!;
      }
      return table;
    },
  };
}
