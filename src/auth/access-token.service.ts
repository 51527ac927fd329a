import { createHmac, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AuthError } from '../common/auth.error.js';
import { LruMap } from '../common/lru-map.js';
import { AuthMetrics } from '../metrics/auth-metrics.service.js';
import { RevocationService } from '../tokens/revocation.service.js';
import type { AuthUser } from './auth-user.interface.js';
import { AUTH_CONFIG } from './auth.constants.js';
import type { AuthConfig } from './auth-options.js';
import type { JwtAlgorithm } from './key-ring.js';

/** The `typ` header of our access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** jsonwebtoken verification options, pinned: one algorithm, our issuer and audience. */
export interface PinnedVerifyOptions {
  algorithms: [JwtAlgorithm];
  issuer: string;
  audience: string;
  clockTolerance: number;
}

/**
 * Signs access tokens and holds the pieces of their verification, shared by the passport-jwt
 * strategy (every guarded request) and by endpoints that verify a token themselves.
 *
 * Verified tokens are remembered (bounded LRU keyed by the exact token string), so a token seen
 * before costs a map lookup instead of a signature check; its `exp` is checked again on every
 * use, and its session's revocation is checked on every request either way.
 */
@Injectable()
export class AccessTokenService {
  /** Options handed to jsonwebtoken for every verification. */
  readonly verifyOptions: PinnedVerifyOptions;
  private readonly verified: LruMap<string, AuthUser>;
  /** The JWS protected header, base64url, the same for every token. */
  private readonly header: string;
  private readonly signature: (input: string) => string;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly jwt: JwtService,
    private readonly revocation: RevocationService,
    private readonly metrics: AuthMetrics,
  ) {
    this.verifyOptions = {
      algorithms: [config.keys.algorithm],
      issuer: config.issuer,
      audience: config.audience,
      clockTolerance: config.clockTolerance,
    };
    this.verified = new LruMap(config.caches.accessTokens);
    metrics.trackCache('access_tokens', this.verified);
    const { algorithm, kid, signingKey } = config.keys;
    this.header = Buffer.from(JSON.stringify({ alg: algorithm, kid, typ: ACCESS_TOKEN_TYPE })).toString('base64url');
    const digest = `sha${algorithm.slice(2)}`;
    this.signature = algorithm.startsWith('HS')
      ? (input) => createHmac(digest, signingKey).update(input).digest('base64url')
      : algorithm.startsWith('ES')
        ? (input) =>
            cryptoSign(digest, Buffer.from(input), { key: signingKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')
        : (input) => cryptoSign(digest, Buffer.from(input), signingKey).toString('base64url');
  }

  /**
   * Signs an access token for a user's session; `expiresIn` is in seconds. The JWS is put
   * together here, with the header encoded once at boot and node:crypto signing with the
   * `KeyObject` (ECDSA signatures in the JOSE form, `ieee-p1363`): jsonwebtoken's sign spent as
   * much again on option checks as on the signature. Every verification still goes through
   * jsonwebtoken (passport-jwt), so each token we sign is checked by it.
   */
  sign(
    user: { id: string; roles: string[] },
    session: { id: string; scope: string },
  ): { token: string; expiresIn: number } {
    const { accessTokenTtl, issuer, audience } = this.config;
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      sid: session.id,
      roles: user.roles,
      scope: session.scope,
      iat,
      exp: iat + accessTokenTtl,
      aud: audience,
      iss: issuer,
      sub: user.id,
      jti: randomUUID(),
    };
    const input = `${this.header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return { token: `${input}.${this.signature(input)}`, expiresIn: accessTokenTtl };
  }

  /**
   * The verification key for a raw token, chosen by `kid` from our own key ring only: `jku`,
   * `x5u` and `jwk` headers are never looked at. Rejects a wrong `typ` or `alg` before any
   * signature work.
   */
  keyFor(rawJwt: string): KeyObject {
    const header = decodeHeader(rawJwt);
    const key = typeof header?.kid === 'string' ? this.config.keys.verificationKeys.get(header.kid) : undefined;
    if (!header || header.typ !== ACCESS_TOKEN_TYPE || header.alg !== this.config.keys.algorithm || !key) {
      throw new AuthError('token_invalid');
    }
    return key;
  }

  /** The caller of a token verified before and not yet expired; `undefined` otherwise. */
  recall(rawJwt: string): AuthUser | undefined {
    const user = this.verified.get(rawJwt);
    if (user === undefined) {
      this.metrics.hot.tokenMiss.inc();
      return undefined;
    }
    // jsonwebtoken's own rule: expired once now >= exp + tolerance.
    if (Date.now() / 1000 >= user.expiresAt + this.config.clockTolerance) {
      this.verified.delete(rawJwt);
      this.metrics.hot.tokenMiss.inc();
      return undefined;
    }
    this.metrics.hot.tokenHit.inc();
    return user;
  }

  /** Turns claims whose signature was verified into the caller, and remembers the token. */
  accept(rawJwt: string, claims: unknown): AuthUser {
    const user = toAuthUser(claims);
    if (!user) throw new AuthError('token_invalid');
    this.verified.set(rawJwt, user);
    return user;
  }

  /**
   * The caller, or `token_revoked` when its session is revoked: answered synchronously when the
   * session's state is in memory (the common case), else a promise.
   */
  unlessRevoked(user: AuthUser): AuthUser | Promise<AuthUser> {
    const revoked = this.revocation.isRevoked(user.sessionId);
    if (revoked === false) return user;
    if (revoked === true) throw new AuthError('token_revoked');
    return revoked.then((isRevoked) => {
      if (isRevoked) throw new AuthError('token_revoked');
      return user;
    });
  }

  /** Verifies a raw access token completely, outside passport (logout, introspection). */
  async verify(rawJwt: string): Promise<AuthUser> {
    return this.unlessRevoked(this.verifyGenuine(rawJwt));
  }

  /**
   * Verifies signature, header and claims of a raw access token, but not its session's
   * revocation: for logout, which ends a revoked session again without complaint.
   */
  verifyGenuine(rawJwt: string): AuthUser {
    const user = this.recall(rawJwt);
    if (user) return user;
    const key = this.keyFor(rawJwt);
    let claims: unknown;
    try {
      claims = this.jwt.verify(rawJwt, { ...this.verifyOptions, publicKey: key as unknown as Buffer });
    } catch (error) {
      throw verificationError(error);
    }
    return this.accept(rawJwt, claims);
  }

  /** Entries in the verified-token cache, for tests and the benchmarks. */
  cacheStats(): { entries: number; capacity: number; evictions: number } {
    return { entries: this.verified.size, capacity: this.verified.capacity, evictions: this.verified.evictions };
  }
}

/**
 * Maps a jsonwebtoken failure to our error: `token_expired` past `exp`, else `token_invalid`.
 *
 * @example throw verificationError(info);
 */
export function verificationError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  return new AuthError((error as { name?: string })?.name === 'TokenExpiredError' ? 'token_expired' : 'token_invalid');
}

function decodeHeader(rawJwt: string): Record<string, unknown> | null {
  const dot = rawJwt.indexOf('.');
  if (dot <= 0) return null;
  try {
    const header: unknown = JSON.parse(Buffer.from(rawJwt.slice(0, dot), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null ? (header as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function toAuthUser(claims: unknown): AuthUser | null {
  const c = claims as Record<string, unknown> | null;
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.sub !== 'string' ||
    typeof c.sid !== 'string' ||
    typeof c.jti !== 'string' ||
    typeof c.scope !== 'string' ||
    typeof c.iat !== 'number' ||
    typeof c.exp !== 'number' ||
    !Array.isArray(c.roles) ||
    !c.roles.every((role) => typeof role === 'string')
  ) {
    return null;
  }
  return {
    id: c.sub,
    sessionId: c.sid,
    roles: [...(c.roles as string[])],
    scopes: c.scope.split(' ').filter(Boolean),
    tokenId: c.jti,
    issuedAt: c.iat,
    expiresAt: c.exp,
  };
}
