import { availableParallelism } from 'node:os';
import { parseDuration } from '../common/duration.js';
import type { UserStore } from '../users/user-store.interface.js';
import { AuthOptionsError } from './auth-options.error.js';
import type { AuthModuleOptions, AuthRedisOptions, Duration } from './auth-options.interface.js';
import { loadKeyRing, type JwtAlgorithm, type KeyRing } from './key-ring.js';

/** Redis as the library uses it: one server, a Sentinel group or a Cluster. */
export type ResolvedRedis =
  | { kind: 'single'; url: string; keyPrefix: string }
  | {
      kind: 'sentinel';
      sentinels: Array<{ host: string; port: number }>;
      name: string;
      password?: string;
      keyPrefix: string;
    }
  | { kind: 'cluster'; nodes: string[]; password?: string; keyPrefix: string };

/** The validated options every part of the library reads: durations in seconds, keys parsed. */
export interface AuthConfig {
  users?: UserStore;
  keys: KeyRing;
  issuer: string;
  audience: string;
  clockTolerance: number;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  sessionMaxAge: number;
  refreshTokenTtlByRole: ReadonlyMap<string, number>;
  sessionMaxAgeByRole: ReadonlyMap<string, number>;
  refreshReuseGrace: number;
  defaultScopes: string[];
  login: { maxFailures: number; failureWindow: number; maxFailuresPerIp: number; ipWindow: number };
  credentialRateLimit: number;
  cookie: { secure: boolean; path?: string };
  redis: ResolvedRedis | null;
  publicUrl?: string;
  introspectionClients: Array<{ id: string; secret: string }>;
  caches: { accessTokens: number; sessions: number };
  passwordHashing: { memoryCost: number; timeCost: number; parallelism: number; concurrency: number };
  securityEventRetention: number;
  shutdownTimeout: number;
}

/** Ten years: longer is a typo, and would overflow the dates computed from it. */
const MAX_DURATION = 3650 * 86400;

/**
 * Validates `AuthModule` options and fills in the defaults; throws {@link AuthOptionsError}
 * naming the first wrong option.
 *
 * @example const config = resolveAuthOptions({ jwt: { secret, issuer, audience } });
 */
export function resolveAuthOptions(options: AuthModuleOptions): AuthConfig {
  if (typeof options !== 'object' || options === null) throw new AuthOptionsError('options', 'must be an object');
  const jwt = options.jwt;
  if (typeof jwt !== 'object' || jwt === null) throw new AuthOptionsError('jwt', 'is required');
  const issuer = requiredString('jwt.issuer', jwt.issuer);
  const audience = requiredString('jwt.audience', jwt.audience);
  const algorithm: JwtAlgorithm =
    jwt.algorithm ?? (jwt.secret !== undefined && jwt.privateKey === undefined ? 'HS256' : 'ES256');
  const production = options.production === true;
  const refreshTokenTtl = duration('refreshTokenTtl', options.refreshTokenTtl, 14 * 86400, 1);
  const sessionMaxAge = duration('sessionMaxAge', options.sessionMaxAge, 30 * 86400, 1);
  if (sessionMaxAge < refreshTokenTtl)
    throw new AuthOptionsError('sessionMaxAge', 'must not be shorter than refreshTokenTtl');
  if (options.users !== undefined) checkUserStore(options.users);
  const login = options.login ?? {};
  return {
    users: options.users,
    keys: loadKeyRing({
      algorithm,
      secret: jwt.secret,
      privateKey: jwt.privateKey,
      publicKey: jwt.publicKey,
      previousPublicKeys: jwt.previousPublicKeys,
      production,
    }),
    issuer,
    audience,
    clockTolerance: integer('jwt.clockTolerance', jwt.clockTolerance, 5, 0, 300),
    accessTokenTtl: duration('jwt.accessTokenTtl', jwt.accessTokenTtl, 15 * 60, 1),
    refreshTokenTtl,
    sessionMaxAge,
    refreshTokenTtlByRole: byRole('refreshTokenTtlByRole', options.refreshTokenTtlByRole),
    sessionMaxAgeByRole: byRole('sessionMaxAgeByRole', options.sessionMaxAgeByRole),
    refreshReuseGrace: duration('refreshReuseGrace', options.refreshReuseGrace, 10, 0),
    defaultScopes: scopes('defaultScopes', options.defaultScopes),
    login: {
      maxFailures: integer('login.maxFailures', login.maxFailures, 5, 1, 1_000_000),
      failureWindow: duration('login.failureWindow', login.failureWindow, 15 * 60, 1),
      maxFailuresPerIp: integer('login.maxFailuresPerIp', login.maxFailuresPerIp, 20, 1, 1_000_000),
      ipWindow: duration('login.ipWindow', login.ipWindow, 60, 1),
    },
    credentialRateLimit: integer('credentialRateLimit', options.credentialRateLimit, 60, 1, 1_000_000),
    cookie: {
      secure: boolean('cookie.secure', options.cookie?.secure, true),
      path: options.cookie?.path === undefined ? undefined : cookiePath(options.cookie.path),
    },
    redis: redis(options.redis),
    publicUrl: options.publicUrl === undefined ? undefined : url('publicUrl', options.publicUrl).replace(/\/+$/, ''),
    introspectionClients: clients(options.introspectionClients, production),
    caches: {
      accessTokens: integer('caches.accessTokens', options.caches?.accessTokens, 10_000, 1, 10_000_000),
      sessions: integer('caches.sessions', options.caches?.sessions, 100_000, 1, 10_000_000),
    },
    passwordHashing: {
      memoryCost: integer('passwordHashing.memoryCost', options.passwordHashing?.memoryCost, 19_456, 7_168, 4_194_304),
      timeCost: integer('passwordHashing.timeCost', options.passwordHashing?.timeCost, 2, 1, 100),
      parallelism: integer('passwordHashing.parallelism', options.passwordHashing?.parallelism, 1, 1, 64),
      concurrency: integer(
        'passwordHashing.concurrency',
        options.passwordHashing?.concurrency,
        Math.max(1, availableParallelism() - 1),
        1,
        1024,
      ),
    },
    securityEventRetention: duration('securityEventRetention', options.securityEventRetention, 90 * 86400, 3600),
    shutdownTimeout: duration('shutdownTimeout', options.shutdownTimeout, 10, 1),
  };
}

/**
 * The lifetimes of a session of a user with these roles: the shortest configured for any of
 * them, else the defaults; the idle lifetime never exceeds the absolute one.
 *
 * @example lifetimesFor(config, ['user', 'admin']) // { refreshTokenTtl: 86400, sessionMaxAge: 2592000 }
 */
export function lifetimesFor(
  config: AuthConfig,
  roles: readonly string[],
): { refreshTokenTtl: number; sessionMaxAge: number } {
  const pick = (table: ReadonlyMap<string, number>, fallback: number): number => {
    let chosen: number | undefined;
    for (const role of roles) {
      const value = table.get(role);
      if (value !== undefined && (chosen === undefined || value < chosen)) chosen = value;
    }
    return chosen ?? fallback;
  };
  const sessionMaxAge = pick(config.sessionMaxAgeByRole, config.sessionMaxAge);
  return {
    sessionMaxAge,
    refreshTokenTtl: Math.min(pick(config.refreshTokenTtlByRole, config.refreshTokenTtl), sessionMaxAge),
  };
}

function checkUserStore(store: UserStore): void {
  for (const method of ['findByEmail', 'findById', 'create', 'updatePassword'] as const) {
    if (typeof (store as unknown as Record<string, unknown>)?.[method] !== 'function') {
      throw new AuthOptionsError('users', `must implement UserStore: ${method}() is missing`);
    }
  }
}

function requiredString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new AuthOptionsError(option, 'is required (a non-empty string)');
  return value;
}

function integer(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AuthOptionsError(option, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function boolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new AuthOptionsError(option, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * A duration option in seconds: a whole number of seconds or a string such as `'15m'`.
 *
 * @example duration('refreshTokenTtl', '14d', 1209600, 1) // 1209600
 */
export function duration(option: string, value: Duration | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const seconds =
    typeof value === 'number' ? (Number.isSafeInteger(value) ? value : undefined) : parseDuration(String(value));
  if (seconds === undefined || seconds < min || seconds > MAX_DURATION) {
    throw new AuthOptionsError(
      option,
      `must be a duration from ${min}s to 3650d: whole seconds or with s/m/h/d/w, got ${JSON.stringify(value)}`,
    );
  }
  return seconds;
}

function byRole(option: string, table: Readonly<Record<string, Duration>> | undefined): ReadonlyMap<string, number> {
  if (table === undefined) return new Map();
  if (typeof table !== 'object' || table === null)
    throw new AuthOptionsError(option, 'must map role names to durations');
  return new Map(Object.entries(table).map(([role, value]) => [role, duration(`${option}.${role}`, value, 0, 1)]));
}

function scopes(option: string, value: readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  if (
    !Array.isArray(value) ||
    value.some((scope) => typeof scope !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))
  ) {
    throw new AuthOptionsError(option, 'must be an array of scope tokens (RFC 6749 §3.3: no spaces or quotes)');
  }
  return [...value];
}

function url(option: string, value: unknown): string {
  const text = requiredString(option, value);
  try {
    const parsed = new URL(text);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new AuthOptionsError(option, `must be an absolute http(s) URL, got ${JSON.stringify(text)}`);
  }
  return text;
}

function cookiePath(value: unknown): string {
  if (typeof value !== 'string' || !/^\/[\x21-\x3a\x3c-\x7e]*$/.test(value)) {
    throw new AuthOptionsError('cookie.path', 'must be a path starting with "/" (no spaces or semicolons)');
  }
  return value;
}

function redis(value: AuthRedisOptions | null | undefined): ResolvedRedis | null {
  if (value === undefined || value === null) return null;
  const keyPrefix = value.keyPrefix ?? 'nra:';
  if (typeof keyPrefix !== 'string' || /[{}\s]/.test(keyPrefix)) {
    throw new AuthOptionsError('redis.keyPrefix', 'must be a string without braces or spaces (braces are hash tags)');
  }
  const given = [value.url, value.sentinels, value.clusterNodes].filter((item) => item !== undefined).length;
  if (given !== 1)
    throw new AuthOptionsError('redis', 'needs exactly one of url, sentinels (with sentinelName) or clusterNodes');
  if (value.url !== undefined) {
    if (typeof value.url !== 'string' || !/^rediss?:\/\//.test(value.url)) {
      throw new AuthOptionsError('redis.url', 'must be a redis:// or rediss:// URL');
    }
    return { kind: 'single', url: value.url, keyPrefix };
  }
  if (value.sentinels !== undefined) {
    if (!Array.isArray(value.sentinels) || value.sentinels.length === 0) {
      throw new AuthOptionsError('redis.sentinels', 'must list at least one { host, port }');
    }
    for (const node of value.sentinels) {
      if (typeof node?.host !== 'string' || !Number.isInteger(node?.port)) {
        throw new AuthOptionsError('redis.sentinels', 'must list { host, port } entries');
      }
    }
    const name = requiredString('redis.sentinelName', value.sentinelName);
    return {
      kind: 'sentinel',
      sentinels: value.sentinels.map(({ host, port }) => ({ host, port })),
      name,
      password: value.password,
      keyPrefix,
    };
  }
  if (
    !Array.isArray(value.clusterNodes) ||
    value.clusterNodes.length === 0 ||
    value.clusterNodes.some((node) => !/^rediss?:\/\//.test(node))
  ) {
    throw new AuthOptionsError('redis.clusterNodes', 'must list redis:// URLs of some cluster nodes');
  }
  return { kind: 'cluster', nodes: [...value.clusterNodes], password: value.password, keyPrefix };
}

function clients(
  value: AuthModuleOptions['introspectionClients'],
  production: boolean,
): Array<{ id: string; secret: string }> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new AuthOptionsError('introspectionClients', 'must be an array of { id, secret }');
  return value.map((client, index) => {
    if (
      typeof client?.id !== 'string' ||
      client.id === '' ||
      client.id.includes(':') ||
      typeof client.secret !== 'string' ||
      client.secret === ''
    ) {
      throw new AuthOptionsError(
        `introspectionClients[${index}]`,
        'must be { id, secret } with a non-empty id (no ":") and secret',
      );
    }
    if (production && client.secret.length < 16) {
      throw new AuthOptionsError(
        `introspectionClients[${index}]`,
        `secret of client "${client.id}" must be at least 16 characters`,
      );
    }
    return { id: client.id, secret: client.secret };
  });
}
