import { Inject, Injectable } from '@nestjs/common';
import { AuthError } from '../common/auth.error.js';
import type { ClientContext } from '../common/client-context.js';
import { SecurityEventsService, type SecurityEventPage } from '../security-events/security-events.service.js';
import { TokensService, type IssuedRefreshToken } from '../tokens/tokens.service.js';
import type { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { AccessTokenService } from './access-token.service.js';
import type { AuthModuleOptions } from './auth-module-options.interface.js';
import type { AuthUser } from './auth-user.interface.js';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition.js';
import type { SessionResponseDto, TokenResponseDto, UserResponseDto } from './dto/responses.dto.js';
import { LoginLimiter } from './login-limiter.service.js';

/** The account and session operations behind `/auth/*` and `/admin/*`. */
@Injectable()
export class AuthService {
  private readonly scope: string;

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly accessTokens: AccessTokenService,
    private readonly events: SecurityEventsService,
    private readonly limiter: LoginLimiter,
  ) {
    this.scope = (options.defaultScopes ?? []).join(' ');
  }

  /** Creates an account. */
  async register(
    email: string,
    password: string,
    name: string | null,
    client: ClientContext,
  ): Promise<UserResponseDto> {
    const user = await this.users.register(email, password, name);
    await this.events.record(user.id, 'register', client);
    return toUserResponse(user);
  }

  /** Checks credentials and starts a session; the same answer for an unknown email and a wrong password. */
  async login(email: string, password: string, client: ClientContext): Promise<TokenResponseDto> {
    // Unknown emails are limited too: the answers must not tell which accounts exist.
    const attempt = await this.limiter.begin(email, client.ip);
    let user: User | null;
    let valid: boolean;
    try {
      user = await this.users.findByEmail(email);
      valid = await this.users.verifyPassword(user, password);
    } catch (error) {
      await attempt.release(); // not a failed guess: the database or hashing failed
      throw error;
    }
    if (!valid || !user) {
      // Awaited, so the log is complete when the answer arrives; one INSERT is far inside the
      // variance of the argon2 verification both kinds of failure spend.
      if (user) await this.events.record(user.id, 'login_failed', client);
      throw new AuthError('invalid_credentials');
    }
    await attempt.release();
    const issued = await this.tokens.startSession(user.id, this.scope, client);
    // A password change may have landed between the check above and the new session: its sweep of
    // the user's sessions could then have missed this one. Seen from here, after the insert, the
    // change is visible, so the session is withdrawn and the old password refused.
    if (!(await this.users.passwordUnchanged(user))) {
      await this.tokens.revokeSessions([issued.session.id], 'password_changed');
      throw new AuthError('invalid_credentials');
    }
    await this.events.record(user.id, 'login', client, issued.session.id);
    return this.tokenResponse(user, issued);
  }

  /**
   * Rotates a refresh token and answers a new token pair. `scope` may narrow the access token's
   * scope to a subset of the session's (RFC 6749 §6); the refresh token keeps the session's.
   */
  async refresh(refreshToken: string, client: ClientContext, scope?: string[]): Promise<TokenResponseDto> {
    const issued = await this.tokens.rotate(refreshToken, client, (session) => {
      const granted = new Set(session.scope.split(' '));
      if (scope && !scope.every((item) => granted.has(item)))
        throw new AuthError('insufficient_scope', 'The requested scope exceeds the scope granted to the session');
    });
    const user = await this.users.findById(issued.session.userId);
    if (!user) throw new AuthError('refresh_token_invalid');
    return this.tokenResponse(user, issued, scope);
  }

  /** Ends the session of a refresh token (any genuine one of the family) or of an access token. */
  async logout(
    credential: { refreshToken?: string; accessToken?: string },
    client: ClientContext,
    reason: 'logout' | 'oauth_revoked' = 'logout',
  ): Promise<void> {
    let userId: string;
    let sessionId: string;
    if (credential.refreshToken !== undefined) {
      const session = await this.tokens.sessionOf(credential.refreshToken);
      if (!session) throw new AuthError('refresh_token_invalid');
      ({ userId, id: sessionId } = session);
    } else if (credential.accessToken !== undefined) {
      ({ id: userId, sessionId } = await this.accessTokens.verify(credential.accessToken));
    } else {
      throw new AuthError('token_missing');
    }
    const revoked = await this.tokens.revokeSessions([sessionId], reason);
    if (revoked.length > 0) await this.events.record(userId, 'logout', client, sessionId);
  }

  /** Ends every session of the caller, the current one included. */
  async logoutAll(caller: AuthUser, client: ClientContext): Promise<void> {
    await this.tokens.revokeUserSessions(caller.id, 'logout_all');
    await this.events.record(caller.id, 'logout_all', client, caller.sessionId);
  }

  /** Ends one of the caller's own sessions; `not_found` for anyone else's. */
  async revokeSession(caller: AuthUser, sessionId: string, client: ClientContext): Promise<void> {
    const session = await this.tokens.findSession(caller.id, sessionId);
    if (!session) throw new AuthError('not_found', 'Session not found');
    const revoked = await this.tokens.revokeSessions([session.id], 'session_revoked');
    if (revoked.length > 0) await this.events.record(caller.id, 'session_revoked', client, session.id);
  }

  /** Changes the password and ends every other session of the caller. */
  async changePassword(
    caller: AuthUser,
    currentPassword: string,
    newPassword: string,
    client: ClientContext,
  ): Promise<void> {
    const user = await this.requireUser(caller.id);
    // Wrong current passwords count like failed logins: a stolen access token must not become an
    // unlimited password oracle.
    const attempt = await this.limiter.begin(user.email, client.ip);
    let valid: boolean;
    try {
      valid = await this.users.verifyPassword(user, currentPassword);
    } catch (error) {
      await attempt.release();
      throw error;
    }
    if (!valid) {
      throw new AuthError('validation_failed', 'Current password is incorrect', [
        { field: 'currentPassword', messages: ['currentPassword is incorrect'] },
      ]);
    }
    await attempt.release();
    const hash = await this.users.hashPassword(newPassword);
    // Sessions before and after the new hash is stored: a failure between the steps leaves the
    // old password with no other session, and a login that checked the old password meanwhile is
    // caught by the second sweep or by its own re-check (see login).
    await this.tokens.revokeUserSessions(user.id, 'password_changed', caller.sessionId);
    await this.users.storePasswordHash(user.id, hash);
    await this.tokens.revokeUserSessions(user.id, 'password_changed', caller.sessionId);
    await this.events.record(user.id, 'password_changed', client, caller.sessionId);
  }

  /** Ends every session of any user (admin). */
  async adminRevokeSessions(userId: string, client: ClientContext): Promise<void> {
    await this.requireUser(userId);
    await this.tokens.revokeUserSessions(userId, 'admin_revoked');
    await this.events.record(userId, 'admin_revoked', client);
  }

  /** The caller's account. */
  async me(caller: AuthUser): Promise<UserResponseDto> {
    return toUserResponse(await this.requireUser(caller.id));
  }

  /** The caller's live sessions. */
  async sessions(caller: AuthUser): Promise<SessionResponseDto[]> {
    const sessions = await this.tokens.liveSessions(caller.id);
    return sessions.map((session) => ({
      id: session.id,
      createdAt: session.createdAt,
      lastUsedAt: session.lastUsedAt,
      expiresAt: session.idleExpiresAt,
      ip: session.ip,
      userAgent: session.userAgent,
      current: session.id === caller.sessionId,
    }));
  }

  /** A page of the caller's security log. */
  securityLog(caller: AuthUser, limit: number, cursor?: string): Promise<SecurityEventPage> {
    return this.events.list(caller.id, limit, cursor);
  }

  private async requireUser(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw new AuthError('not_found', 'User not found');
    return user;
  }

  private tokenResponse(user: User, issued: IssuedRefreshToken, scope?: string[]): TokenResponseDto {
    const access = this.accessTokens.sign(user, {
      id: issued.session.id,
      scope: scope ? scope.join(' ') : issued.session.scope,
    });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      refresh_token: issued.refreshToken,
      refresh_expires_in: Math.max(0, Math.round((issued.refreshExpiresAt.getTime() - Date.now()) / 1000)),
      session_id: issued.session.id,
    };
  }
}

function toUserResponse(user: User): UserResponseDto {
  return { id: user.id, email: user.email, name: user.name, roles: user.roles, createdAt: user.createdAt };
}
