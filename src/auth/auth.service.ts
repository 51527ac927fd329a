import { Inject, Injectable } from '@nestjs/common';
import { AuthError } from '../common/auth.error.js';
import { toClientContext, type ClientContext, type ClientInfo } from '../common/client-context.js';
import { isUniqueViolation } from '../common/database-errors.js';
import { AuthMetrics } from '../metrics/auth-metrics.service.js';
import { SecurityEventsService, type SecurityEventPage } from '../security-events/security-events.service.js';
import { TokensService, type IssuedRefreshToken, type RefreshPlan } from '../tokens/tokens.service.js';
import type { SessionRevokedReason } from '../tokens/session.entity.js';
import { PasswordHasher } from '../users/password-hasher.service.js';
import { normalizeEmail } from '../users/typeorm-user.store.js';
import { EmailTakenError, UserStore, type AuthUserRecord } from '../users/user-store.interface.js';
import { AccessTokenService } from './access-token.service.js';
import { AuthEvents } from './auth-events.service.js';
import type { AuthUser } from './auth-user.interface.js';
import { AUTH_CONFIG } from './auth.constants.js';
import { lifetimesFor, type AuthConfig } from './auth-options.js';
import { LoginLimiter } from './login-limiter.service.js';

/** The token response of login and refresh, with RFC 6749 §5.1 field names. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Absent in cookie mode (moved into the cookie by the transport). */
  refresh_token?: string;
  refresh_expires_in: number;
  session_id: string;
}

/** A live session as `GET /auth/sessions` lists it. */
export interface SessionInfo {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

/** The caller's account as `GET /auth/me` shows it; `name` and `createdAt` when the store has them. */
export interface AccountView {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  createdAt: Date | null;
}

/** A user and (optionally) the session a request came with. */
export type SessionOwner = Pick<AuthUser, 'id'> & { sessionId?: string };

/** Within this long of a stored password change, a retry of that change is recognised as such. */
const PASSWORD_RETRY_WINDOW_MS = 5 * 60 * 1000;

/**
 * The account and session operations behind the built-in routes, for host code too: a host's
 * own signup calls `register`, its admin screens `revokeUserSessions`. `client` (`{ ip,
 * userAgent }`) is what the security log records.
 *
 * @example const user = await auth.register({ email, password }, { ip: request.ip });
 */
@Injectable()
export class AuthService {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(UserStore) private readonly users: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokensService,
    private readonly accessTokens: AccessTokenService,
    private readonly securityLog: SecurityEventsService,
    private readonly limiter: LoginLimiter,
    private readonly notify: AuthEvents,
    private readonly metrics: AuthMetrics,
  ) {}

  /** Creates an account in the user store (409 `email_taken` for a taken email) and resolves to its record. */
  async register(
    input: { email: string; password: string; name?: string | null },
    client?: ClientInfo,
  ): Promise<AuthUserRecord> {
    const context = toClientContext(client);
    const email = normalizeEmail(String(input.email ?? ''));
    checkCredentials(email, input.password, 8);
    const passwordHash = await this.hasher.hash(input.password);
    let user: AuthUserRecord;
    try {
      user = await this.users.create({ email, passwordHash, name: input.name ?? null });
    } catch (error) {
      if (error instanceof EmailTakenError || isUniqueViolation(error)) throw new AuthError('email_taken');
      throw error;
    }
    await this.securityLog.record(user.id, 'register', context);
    this.notify.emit('registered', user.id, context);
    return user;
  }

  /**
   * Checks credentials and starts a session. An unknown email and a wrong password get the same
   * answer in the same time; a disabled account with the right password gets 403 `account_disabled`.
   */
  async login(input: { email: string; password: string }, client?: ClientInfo): Promise<TokenResponse> {
    const context = toClientContext(client);
    const email = normalizeEmail(String(input.email ?? ''));
    checkCredentials(email, input.password, 1);
    let attempt;
    try {
      // Unknown emails are limited too: the answers must not tell which accounts exist.
      attempt = await this.limiter.begin(email, context.ip);
    } catch (error) {
      if (error instanceof AuthError && error.code === 'rate_limited') {
        const user = await this.users.findByEmail(email).catch(() => null);
        this.notify.emit('rate_limited', user?.id ?? null, context);
      }
      throw error;
    }
    let user: AuthUserRecord | null;
    let valid: boolean;
    try {
      user = await this.users.findByEmail(email);
      valid = await this.hasher.verify(user?.passwordHash ?? null, input.password);
    } catch (error) {
      await attempt.settle('aborted'); // not a failed guess: the store or hashing failed
      throw error;
    }
    if (!valid || !user) {
      await attempt.settle('failed');
      if (user) {
        await this.securityLog.record(user.id, 'login_failed', context);
        this.notify.emit('login_failed', user.id, context);
      }
      throw new AuthError('invalid_credentials');
    }
    await attempt.settle('succeeded');
    if (user.disabled) throw new AuthError('account_disabled');
    const issued = await this.tokens.startSession(user.id, this.planFor(user), context);
    // A password change may have landed between the check above and the new session: its sweep of
    // the user's sessions could then have missed this one. Seen from here, after the insert, the
    // change is visible, so the session is withdrawn and the old password refused.
    const current = await this.users.findById(user.id);
    if (!current || current.passwordHash !== user.passwordHash || current.disabled) {
      await this.tokens.revoke({ sessionIds: [issued.session.id] }, 'password_changed', null);
      throw new AuthError('invalid_credentials');
    }
    this.metrics.logins.inc();
    this.notify.emit('login', user.id, context, issued.session.id);
    return this.tokenResponse(user, issued);
  }

  /**
   * Rotates a refresh token and answers a new token pair; roles and scopes come from the user
   * store as it is now. `scope` may narrow the access token's scope (RFC 6749 §6).
   */
  async refresh(refreshToken: string, client?: ClientInfo, scope?: string[]): Promise<TokenResponse> {
    const context = toClientContext(client);
    let user: AuthUserRecord | null = null;
    const issued = await this.tokens.rotate(refreshToken, context, async (session, prefetched) => {
      // Read with the session when the built-in store shares its database, else from the store.
      user = prefetched ? (prefetched.owner as AuthUserRecord | null) : await this.users.findById(session.userId);
      if (!user) {
        await this.tokens.revoke({ sessionIds: [session.id] }, 'user_removed', null);
        throw new AuthError('refresh_token_revoked');
      }
      if (user.disabled) throw new AuthError('refresh_token_revoked');
      const plan = this.planFor(user);
      const granted = new Set(plan.scope.split(' ').filter(Boolean));
      if (scope && !scope.every((item) => granted.has(item))) {
        throw new AuthError('insufficient_scope', 'The requested scope exceeds the scope granted to the session');
      }
      return plan;
    });
    const owner = user as AuthUserRecord | null;
    if (!owner) throw new AuthError('refresh_token_invalid');
    this.notify.emit('refresh', owner.id, context, issued.session.id);
    return this.tokenResponse(owner, issued, scope);
  }

  /** Ends the session of a refresh token (any genuine one of its chain) or of an access token. */
  async logout(
    credential: { refreshToken?: string; accessToken?: string },
    client?: ClientInfo,
    reason: Extract<SessionRevokedReason, 'logout' | 'oauth_revoked'> = 'logout',
  ): Promise<void> {
    const context = toClientContext(client);
    let userId: string;
    let sessionId: string;
    if (credential.refreshToken !== undefined) {
      const session = await this.tokens.sessionOf(credential.refreshToken);
      if (!session) throw new AuthError('refresh_token_invalid');
      ({ userId, id: sessionId } = session);
    } else if (credential.accessToken !== undefined) {
      // Like a refresh token of a revoked session, an access token of one is logged out again with
      // 204 (a retry whose first answer was lost), not refused: the revocation below is a no-op.
      ({ id: userId, sessionId } = this.accessTokens.verifyGenuine(credential.accessToken));
    } else {
      throw new AuthError('token_missing');
    }
    const revoked = await this.tokens.revoke(
      { sessionIds: [sessionId] },
      reason,
      { userId, type: 'logout', sessionId, client: context },
      { eventOnlyIfRevoked: true },
    );
    if (revoked.length > 0) this.notify.emit('logout', userId, context, sessionId);
  }

  /** Ends every session of the user, the current one included. */
  async logoutAll(owner: SessionOwner, client?: ClientInfo): Promise<void> {
    const context = toClientContext(client);
    // The event only with a revocation: a retry after a lost answer finds nothing left to end.
    await this.tokens.revoke(
      { userId: owner.id },
      'logout_all',
      { userId: owner.id, type: 'logout_all', sessionId: owner.sessionId ?? null, client: context },
      { eventOnlyIfRevoked: true },
    );
    this.notify.emit('sessions_revoked', owner.id, context, owner.sessionId);
  }

  /** Ends one of the user's own sessions; 404 `not_found` for anyone else's. */
  async revokeSession(owner: SessionOwner, sessionId: string, client?: ClientInfo): Promise<void> {
    const context = toClientContext(client);
    const session = await this.tokens.findSession(owner.id, sessionId);
    if (!session) throw new AuthError('not_found', 'Session not found');
    const revoked = await this.tokens.revoke(
      { sessionIds: [session.id] },
      'session_revoked',
      { userId: owner.id, type: 'session_revoked', sessionId: session.id, client: context },
      { eventOnlyIfRevoked: true },
    );
    if (revoked.length > 0) this.notify.emit('session_revoked', owner.id, context, session.id);
  }

  /**
   * Ends every session of a user at once (an admin, or the host when it disables or deletes
   * the user); their access tokens stop working within a second on every instance.
   */
  async revokeUserSessions(userId: string, client?: ClientInfo): Promise<void> {
    const context = toClientContext(client);
    await this.tokens.revoke({ userId }, 'admin_revoked', {
      userId,
      type: 'admin_revoked',
      sessionId: null,
      client: context,
    });
    this.notify.emit('sessions_revoked', userId, context);
  }

  /** `POST /admin/users/:id/revoke-sessions`: like {@link revokeUserSessions}, 404 for an unknown user. */
  async adminRevokeSessions(userId: string, client?: ClientInfo): Promise<void> {
    await this.requireUser(userId);
    await this.revokeUserSessions(userId, client);
  }

  /**
   * Changes the password and ends every other session of the user. Wrong current passwords
   * count like failed logins. A retry of a change whose answer was lost (the new password is
   * already stored) succeeds again instead of calling the current password wrong.
   */
  async changePassword(
    owner: SessionOwner,
    input: { currentPassword: string; newPassword: string },
    client?: ClientInfo,
  ): Promise<void> {
    const context = toClientContext(client);
    checkPassword('newPassword', input.newPassword, 8);
    const user = await this.requireUser(owner.id);
    const attempt = await this.limiter.begin(user.email, context.ip);
    let valid: boolean;
    let alreadyChanged = false;
    try {
      valid = await this.hasher.verify(user.passwordHash, input.currentPassword);
      if (
        !valid &&
        user.passwordChangedAt &&
        Date.now() - user.passwordChangedAt.getTime() < PASSWORD_RETRY_WINDOW_MS
      ) {
        alreadyChanged = await this.hasher.verify(user.passwordHash, input.newPassword);
      }
    } catch (error) {
      await attempt.settle('aborted');
      throw error;
    }
    if (!valid && !alreadyChanged) {
      await attempt.settle('failed');
      throw new AuthError('validation_failed', 'Current password is incorrect', [
        { field: 'currentPassword', messages: ['currentPassword is incorrect'] },
      ]);
    }
    await attempt.settle('succeeded');
    if (!alreadyChanged)
      await this.users.updatePassword(user.id, await this.hasher.hash(input.newPassword), new Date());
    // After the new hash is stored: a login that checked the old password meanwhile is caught
    // here or by its own re-check (see login). The event is written with the revocation; for a
    // retry of a stored change, only if it still ends sessions (else the first attempt wrote it).
    await this.tokens.revoke(
      { userId: user.id, exceptSessionId: owner.sessionId },
      'password_changed',
      { userId: user.id, type: 'password_changed', sessionId: owner.sessionId ?? null, client: context },
      { eventOnlyIfRevoked: alreadyChanged },
    );
    this.notify.emit('password_changed', user.id, context, owner.sessionId);
  }

  /** The caller's account, or 404 `not_found` when the store no longer has it. */
  async me(owner: SessionOwner): Promise<AccountView> {
    return accountView(await this.requireUser(owner.id));
  }

  /** The user's live sessions, most recently used first; `current` marks the caller's. */
  async sessions(owner: SessionOwner): Promise<SessionInfo[]> {
    const sessions = await this.tokens.liveSessions(owner.id);
    return sessions.map((session) => ({
      id: session.id,
      createdAt: session.createdAt,
      lastUsedAt: session.lastUsedAt,
      expiresAt: session.idleExpiresAt,
      ip: session.ip,
      userAgent: session.userAgent,
      current: session.id === owner.sessionId,
    }));
  }

  /** A page of the user's security log, newest first. */
  events(userId: string, page: { limit?: number; cursor?: string } = {}): Promise<SecurityEventPage> {
    return this.securityLog.list(userId, Math.min(Math.max(page.limit ?? 20, 1), 100), page.cursor);
  }

  private async requireUser(id: string): Promise<AuthUserRecord> {
    const user = await this.users.findById(id);
    if (!user) throw new AuthError('not_found', 'User not found');
    return user;
  }

  /** Scope and lifetimes of a session of this user, from its record as it is now. */
  private planFor(user: AuthUserRecord): RefreshPlan {
    return { scope: (user.scopes ?? this.config.defaultScopes).join(' '), ...lifetimesFor(this.config, user.roles) };
  }

  private tokenResponse(user: AuthUserRecord, issued: IssuedRefreshToken, scope?: string[]): TokenResponse {
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

/**
 * What the API shows of a user record: `name` and `createdAt` when the store keeps them.
 *
 * @example return accountView(await auth.register(dto));
 */
export function accountView(user: AuthUserRecord & { name?: string | null; createdAt?: Date }): AccountView {
  return {
    id: user.id,
    email: user.email,
    name: user.name ?? null,
    roles: user.roles,
    createdAt: user.createdAt ?? null,
  };
}

/** The checks of the built-in DTOs, for host code that calls the service directly. */
function checkCredentials(email: string, password: unknown, minLength: number): void {
  if (email === '' || email.length > 320 || !email.includes('@') || !email.isWellFormed()) {
    throw new AuthError('validation_failed', undefined, [{ field: 'email', messages: ['email must be an email'] }]);
  }
  checkPassword('password', password, minLength);
}

function checkPassword(field: string, password: unknown, minLength: number): asserts password is string {
  if (
    typeof password !== 'string' ||
    password.length < minLength ||
    password.length > 128 ||
    !password.isWellFormed()
  ) {
    throw new AuthError('validation_failed', undefined, [
      {
        field,
        messages: [`${field} must be longer than or equal to ${minLength} and shorter than or equal to 128 characters`],
      },
    ]);
  }
}

export type { ClientContext };
