import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuthError } from '../common/auth.error.js';
import type { ClientContext } from '../common/client-context.js';
import { OAuthError } from '../common/oauth.error.js';
import { parseRefreshToken } from '../tokens/refresh-token.format.js';
import { TokensService } from '../tokens/tokens.service.js';
import { AccessTokenService } from './access-token.service.js';
import { AUTH_CONFIG } from './auth.constants.js';
import type { AuthConfig } from './auth-options.js';
import { AuthService, type TokenResponse } from './auth.service.js';

/** An OAuth form body: parameters by name; unknown ones are ignored as RFC 6749 §3.2 says. */
export type OAuthParameters = Record<string, unknown>;

/** RFC 7662 introspection answer. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      token_type: 'access_token' | 'refresh_token';
      sub: string;
      sid: string;
      scope: string;
      iat: number;
      exp: number;
      iss?: string;
      aud?: string;
      jti?: string;
    };

/**
 * The OAuth 2.0 surface over the same sessions: refresh (RFC 6749 §6), revocation (RFC 7009) and
 * introspection (RFC 7662). Rotation, reuse and revocation rules are `/auth/refresh`'s own.
 */
@Injectable()
export class OAuthService {
  private readonly clients: Array<{ id: string; secretHash: Buffer }>;

  constructor(
    @Inject(AUTH_CONFIG) private readonly options: AuthConfig,
    private readonly auth: AuthService,
    private readonly tokens: TokensService,
    private readonly accessTokens: AccessTokenService,
  ) {
    this.clients = options.introspectionClients.map((client) => ({
      id: client.id,
      secretHash: sha256(client.secret),
    }));
  }

  /** `POST /oauth/token`: only `grant_type=refresh_token`, public clients. */
  async token(parameters: OAuthParameters, client: ClientContext): Promise<TokenResponse> {
    const grantType = single(parameters, 'grant_type');
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'refresh_token') {
      throw new OAuthError('unsupported_grant_type', 'Only grant_type=refresh_token is supported');
    }
    const refreshToken = single(parameters, 'refresh_token');
    if (refreshToken === undefined) throw new OAuthError('invalid_request', 'refresh_token is required');
    const requested = single(parameters, 'scope');
    const scope = requested?.split(' ').filter(Boolean);
    try {
      return await this.auth.refresh(refreshToken, client, scope);
    } catch (error) {
      if (error instanceof AuthError && error.code === 'insufficient_scope')
        throw new OAuthError('invalid_scope', error.message);
      throw error;
    }
  }

  /** `POST /oauth/revoke`: ends the token's session; succeeds for unknown or invalid tokens too. */
  async revoke(parameters: OAuthParameters, client: ClientContext): Promise<void> {
    const token = single(parameters, 'token');
    if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
    try {
      if (parseRefreshToken(token)) await this.auth.logout({ refreshToken: token }, client, 'oauth_revoked');
      else await this.auth.logout({ accessToken: token }, client, 'oauth_revoked');
    } catch (error) {
      // RFC 7009 §2.2: an invalid, expired or already revoked token is answered 200 all the same.
      if (!(error instanceof AuthError) || error.code === 'service_unavailable') throw error;
    }
  }

  /** `POST /oauth/introspect`: for the configured clients only (HTTP Basic). */
  async introspect(authorization: string | undefined, parameters: OAuthParameters): Promise<IntrospectionResponse> {
    this.authenticateClient(authorization);
    const token = single(parameters, 'token');
    if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
    if (parseRefreshToken(token)) {
      const found = await this.tokens.inspect(token);
      if (!found) return { active: false };
      return {
        active: true,
        token_type: 'refresh_token',
        sub: found.session.userId,
        sid: found.session.id,
        scope: found.session.scope,
        iat: Math.floor(found.issuedAt.getTime() / 1000),
        exp: Math.floor(found.expiresAt.getTime() / 1000),
      };
    }
    try {
      const user = await this.accessTokens.verify(token);
      return {
        active: true,
        token_type: 'access_token',
        sub: user.id,
        sid: user.sessionId,
        scope: user.scopes.join(' '),
        iat: user.issuedAt,
        exp: user.expiresAt,
        iss: this.options.issuer,
        aud: this.options.audience,
        jti: user.tokenId,
      };
    } catch (error) {
      if (error instanceof AuthError && error.code !== 'service_unavailable') return { active: false };
      throw error;
    }
  }

  private authenticateClient(authorization: string | undefined): void {
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const id = colon > 0 ? formDecode(decoded.slice(0, colon)) : undefined;
    const secret = colon > 0 ? sha256(formDecode(decoded.slice(colon + 1)) ?? '') : sha256('');
    // Every configured secret is compared, so the time does not tell which client ids exist.
    let matched = false;
    for (const client of this.clients)
      matched = timingSafeEqual(client.secretHash, secret) && client.id === id ? true : matched;
    if (!matched) throw new OAuthError('invalid_client', 'Client authentication failed');
  }
}

function single(parameters: OAuthParameters, name: string): string | undefined {
  const value = parameters[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new OAuthError('invalid_request', `${name} must be given once, as a string`);
  return value;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** RFC 6749 §2.3.1: client credentials are form-encoded before they go into the Basic header. */
function formDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
