import { randomUUID, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AuthError } from '../common/auth.error.js';
import type { JwtAlgorithm } from '../config/signing-keys.js';
import { RevocationService } from '../tokens/revocation.service.js';
import type { AuthModuleOptions } from './auth-module-options.interface.js';
import type { AuthUser } from './auth-user.interface.js';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition.js';

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
 */
@Injectable()
export class AccessTokenService {
  /** Options handed to jsonwebtoken for every verification. */
  readonly verifyOptions: PinnedVerifyOptions;

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions,
    private readonly jwt: JwtService,
    private readonly revocation: RevocationService,
  ) {
    this.verifyOptions = {
      algorithms: [options.keys.algorithm],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockTolerance,
    };
  }

  /** Signs an access token for a user's session; `expiresIn` is in seconds. */
  sign(
    user: { id: string; roles: string[] },
    session: { id: string; scope: string },
  ): { token: string; expiresIn: number } {
    const { keys, accessTokenTtl, issuer, audience } = this.options;
    const token = this.jwt.sign(
      { sid: session.id, roles: user.roles, scope: session.scope },
      {
        privateKey: keys.signingKey,
        algorithm: keys.algorithm,
        keyid: keys.kid,
        header: { alg: keys.algorithm, kid: keys.kid, typ: ACCESS_TOKEN_TYPE },
        subject: user.id,
        issuer,
        audience,
        jwtid: randomUUID(),
        expiresIn: accessTokenTtl,
      },
    );
    return { token, expiresIn: accessTokenTtl };
  }

  /**
   * The verification key for a raw token, chosen by `kid` from our own key ring only: `jku`,
   * `x5u` and `jwk` headers are never looked at. Rejects a wrong `typ` or `alg` before any
   * signature work.
   */
  keyFor(rawJwt: string): KeyObject {
    const header = decodeHeader(rawJwt);
    const key = typeof header?.kid === 'string' ? this.options.keys.verificationKeys.get(header.kid) : undefined;
    if (!header || header.typ !== ACCESS_TOKEN_TYPE || header.alg !== this.options.keys.algorithm || !key) {
      throw new AuthError('token_invalid');
    }
    return key;
  }

  /** Turns verified claims into the caller, rejecting malformed claims and revoked sessions. */
  async authenticate(claims: unknown): Promise<AuthUser> {
    const user = toAuthUser(claims);
    if (!user) throw new AuthError('token_invalid');
    if (await this.revocation.isRevoked(user.sessionId)) throw new AuthError('token_revoked');
    return user;
  }

  /** Verifies a raw access token completely, outside passport (logout, introspection). */
  async verify(rawJwt: string): Promise<AuthUser> {
    const key = this.keyFor(rawJwt);
    let claims: unknown;
    try {
      claims = this.jwt.verify(rawJwt, { ...this.verifyOptions, publicKey: key as unknown as Buffer });
    } catch (error) {
      throw verificationError(error);
    }
    return this.authenticate(claims);
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
    roles: c.roles as string[],
    scopes: c.scope.split(' ').filter(Boolean),
    tokenId: c.jti,
    issuedAt: c.iat,
    expiresAt: c.exp,
  };
}
