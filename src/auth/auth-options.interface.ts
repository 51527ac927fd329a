import type { KeyObject } from 'node:crypto';
import type { UserStore } from '../users/user-store.interface.js';
import type { JwtAlgorithm } from './key-ring.js';

/** Seconds (`900`) or a string with a unit: `'15m'`, `'14d'` (s, m, h, d, w). */
export type Duration = number | string;

/** Signing and verification of access tokens; names mirror API.md's `JWT_*` variables. */
export interface AuthJwtOptions {
  /** Default `'ES256'`, or `'HS256'` when only a `secret` is given. */
  algorithm?: JwtAlgorithm;
  /** RS and ES algorithms: PKCS#8 PEM (real newlines or `\n` escapes) or a `KeyObject`. */
  privateKey?: string | KeyObject;
  /** Optional SPKI PEM or `KeyObject`; checked to belong to `privateKey`. */
  publicKey?: string | KeyObject;
  /** Older public keys still accepted during a key rotation (PEM blocks or `KeyObject`s); published in the JWKS. */
  previousPublicKeys?: string | ReadonlyArray<string | KeyObject>;
  /** HS algorithms: the secret, used as given (UTF-8), at least as many bytes as the hash (32 for HS256). */
  secret?: string;
  /** `iss` of every token, checked on every verification. */
  issuer: string;
  /** `aud` of every token, checked on every verification. */
  audience: string;
  /** Default `'15m'`. */
  accessTokenTtl?: Duration;
  /** Seconds of clock skew accepted on `exp`/`iat`; default 5. */
  clockTolerance?: number;
}

/** Where the library keeps what every instance must share: revocation fan-out and login counters. */
export interface AuthRedisOptions {
  /** One Redis server: `redis://` or `rediss://`. */
  url?: string;
  /** Redis Sentinel: the sentinels to ask, with {@link AuthRedisOptions.sentinelName}. */
  sentinels?: ReadonlyArray<{ host: string; port: number }>;
  /** The master name the sentinels watch. */
  sentinelName?: string;
  /** Redis Cluster: some of its nodes (`redis://host:port`). */
  clusterNodes?: readonly string[];
  /** Password for Sentinel or Cluster nodes (a `url` carries its own). */
  password?: string;
  /** Prefix of every key and channel; default `'nra:'`. */
  keyPrefix?: string;
}

/** Brute-force limits on login; names mirror `LOGIN_*`. */
export interface AuthLoginLimitOptions {
  /** Failed logins per account within `failureWindow` before 429; default 5. */
  maxFailures?: number;
  /** Default `'15m'`. */
  failureWindow?: Duration;
  /** Failed logins per client IP within `ipWindow` before 429; default 20. */
  maxFailuresPerIp?: number;
  /** Default `'1m'`. */
  ipWindow?: Duration;
}

/** The refresh-token cookie of the browser transport. */
export interface AuthCookieOptions {
  /** `Secure` flag; default `true` (set `false` only for plain-HTTP development). */
  secure?: boolean;
  /** `Path` of the refresh cookie; default: where the auth routes are mounted (e.g. `/api/auth`). */
  path?: string;
}

/** Bounds of the in-process caches (entries); each is an LRU. */
export interface AuthCacheOptions {
  /** Verified access tokens; default 10,000. */
  accessTokens?: number;
  /** Session revocation status; default 100,000. */
  sessions?: number;
}

/** argon2id parameters; defaults are OWASP's minimum (19 MiB, 2 passes, 1 lane). */
export interface AuthPasswordHashingOptions {
  /** KiB; default 19,456. */
  memoryCost?: number;
  /** Passes; default 2. */
  timeCost?: number;
  /** Lanes; default 1. */
  parallelism?: number;
  /** Hashes computed at once; default: CPU cores minus one (at least 1), so requests keep a core. */
  concurrency?: number;
}

/**
 * Options of `AuthModule.forRoot()` / `forRootAsync()`. Names mirror API.md's environment
 * variables; durations take seconds or `'15m'`-style strings. A wrong or weak option fails at
 * boot with a message naming it.
 */
export interface AuthModuleOptions {
  /** The host's user store; default: the built-in TypeORM `users` table. */
  users?: UserStore;
  jwt: AuthJwtOptions;
  /** Idle lifetime of a refresh token, sliding on each rotation; default `'14d'`. */
  refreshTokenTtl?: Duration;
  /** Absolute lifetime of a session from login; default `'30d'`. */
  sessionMaxAge?: Duration;
  /** Idle lifetime by role, e.g. `{ admin: '1d' }`; the shortest of the user's roles wins. */
  refreshTokenTtlByRole?: Readonly<Record<string, Duration>>;
  /** Absolute lifetime by role; the shortest of the user's roles wins. */
  sessionMaxAgeByRole?: Readonly<Record<string, Duration>>;
  /** Seconds a rotated refresh token is answered idempotently; 0 turns it off; default 10. */
  refreshReuseGrace?: Duration;
  /** Scopes of users whose store record has none; default none. */
  defaultScopes?: readonly string[];
  login?: AuthLoginLimitOptions;
  /** Requests per client IP per minute to register and login (each hashes a password); default 60. */
  credentialRateLimit?: number;
  cookie?: AuthCookieOptions;
  /** Shared state for several instances; omitted or `null`: in process (one instance, or PostgreSQL polling). */
  redis?: AuthRedisOptions | null;
  /** Base URL of the auth routes for the OAuth metadata (e.g. `https://api.example.com/api`); default: the request's origin and mount path. */
  publicUrl?: string;
  /** Clients allowed to call `/oauth/introspect` with HTTP Basic. */
  introspectionClients?: ReadonlyArray<{ id: string; secret: string }>;
  /** Production strictness: placeholder-looking secrets and short introspection secrets are refused; default `false`. */
  production?: boolean;
  caches?: AuthCacheOptions;
  passwordHashing?: AuthPasswordHashingOptions;
  /** How long security-log entries are kept; default `'90d'`. */
  securityEventRetention?: Duration;
  /** Budget of `app.close()`: requests in flight are finished within it; default `'10s'`. */
  shutdownTimeout?: Duration;
}

/** Which built-in controllers `AuthModule` maps; every one is on unless set to `false`. */
export interface AuthRoutesOptions {
  /** `POST /auth/register`. */
  register?: boolean;
  /** `GET /auth/sessions`, `DELETE /auth/sessions/:id`. */
  sessions?: boolean;
  /** `POST /admin/users/:id/revoke-sessions`. */
  admin?: boolean;
  /** `/oauth/token`, `/oauth/revoke`, `/oauth/introspect` and the RFC 8414 metadata. */
  oauth?: boolean;
  /** `GET /.well-known/jwks.json`. */
  jwks?: boolean;
}

/** Extras of `forRoot` / `forRootAsync`, beside the options: known before any factory runs. */
export interface AuthModuleExtras {
  /** Default `true`: the module's exports (guards, `AuthService`) are visible everywhere. */
  isGlobal?: boolean;
  routes?: AuthRoutesOptions;
  /** Default `true`: every route needs an access token unless `@Public()`; `false`: use `@UseGuards(JwtAuthGuard)`. */
  globalGuard?: boolean;
}
