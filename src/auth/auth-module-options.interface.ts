import type { IntrospectionClient } from '../config/app.config.js';
import type { KeyRing } from '../config/signing-keys.js';

/** Everything `AuthModule` needs; `loadConfig` builds it from the environment in this app. */
export interface AuthModuleOptions {
  /** Parsed signing and verification keys (see `loadKeyRing`). */
  keys: KeyRing;
  issuer: string;
  audience: string;
  /** Seconds of clock skew accepted on `exp`, `iat` and `nbf`. */
  clockTolerance: number;
  /** Seconds. */
  accessTokenTtl: number;
  /** Idle lifetime of a refresh token in seconds; slides on rotation. */
  refreshTokenTtl: number;
  /** Absolute lifetime of a session in seconds, from login. */
  sessionMaxAge: number;
  /** Seconds during which a rotated refresh token is answered idempotently; 0 turns it off. */
  refreshReuseGrace: number;
  /** Shared Redis for revocations and counters; `null` or absent: in-process (one instance). */
  redis?: { url: string; keyPrefix: string } | null;
  /** Scopes granted to every access token. */
  defaultScopes?: string[];
  /** An `admin` user created at start-up when absent. */
  admin?: { email: string; password: string } | null;
  /** `Secure` flag of the refresh-token cookie. */
  cookieSecure?: boolean;
  /** Requests per client IP per minute to `/auth/register` and `/auth/login` (argon2 is costly); default 60. */
  credentialRateLimit?: number;
  /** Brute-force limits on login, in failures and seconds. */
  login?: { maxFailures: number; failureWindow: number; maxFailuresPerIp: number; ipWindow: number };
  /** Clients allowed to call `/oauth/introspect`. */
  introspectionClients?: IntrospectionClient[];
}
