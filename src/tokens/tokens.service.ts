import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, MoreThan, type Repository } from 'typeorm';
import { AUTH_MODULE_OPTIONS } from '../auth/auth.module-definition.js';
import type { AuthModuleOptions } from '../auth/auth-module-options.interface.js';
import { AuthError } from '../common/auth.error.js';
import type { ClientContext } from '../common/client-context.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import { RefreshToken } from './refresh-token.entity.js';
import {
  deriveSuccessorSecret,
  formatRefreshToken,
  hashesMatch,
  hashRefreshToken,
  newRefreshSecret,
  parseRefreshToken,
} from './refresh-token.format.js';
import { RevocationService } from './revocation.service.js';
import { Session, type SessionRevokedReason } from './session.entity.js';

/**
 * A last check of a refresh request against its session (the OAuth `scope` parameter), run once
 * the token is known genuine, live and not reused, and before anything changes; it throws to refuse.
 */
export type Approval = (session: Session) => void;

/** A session together with its current refresh token, as handed to the client. */
export interface IssuedRefreshToken {
  session: Session;
  refreshToken: string;
  refreshExpiresAt: Date;
}

/**
 * Sessions and their refresh-token families: issue, rotate with reuse detection, revoke.
 *
 * Every write is a single statement, ordered so that a crash between two leaves a safe state;
 * the rotation itself is one conditional UPDATE, which both SQLite and PostgreSQL apply
 * atomically, so N concurrent refreshes of one token yield exactly one successor.
 */
@Injectable()
export class TokensService {
  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @InjectRepository(RefreshToken) private readonly tokens: Repository<RefreshToken>,
    @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions,
    private readonly revocation: RevocationService,
    private readonly events: SecurityEventsService,
  ) {}

  /** Starts a session (one login) and its first refresh token. */
  async startSession(userId: string, scope: string, client: ClientContext): Promise<IssuedRefreshToken> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.options.sessionMaxAge * 1000);
    const refreshExpiresAt = this.idleExpiry(now, expiresAt);
    const session = this.sessions.create({
      id: randomUUID(),
      userId,
      scope,
      createdAt: now,
      lastUsedAt: now,
      idleExpiresAt: refreshExpiresAt,
      expiresAt,
      revokedAt: null,
      revokedReason: null,
      ip: client.ip,
      userAgent: client.userAgent,
    });
    await this.sessions.insert(session);
    const refreshToken = formatRefreshToken(randomUUID(), newRefreshSecret());
    await this.insertToken(refreshToken, session.id, null, now, refreshExpiresAt);
    return { session, refreshToken, refreshExpiresAt };
  }

  /**
   * Exchanges a refresh token for its successor. A rotated token presented again within the
   * grace window gets the same successor; later, or if it is not the live token's immediate
   * predecessor, it is theft and the whole session is revoked. `approve` may still refuse a
   * request that is otherwise valid, without side effects.
   */
  async rotate(
    presented: string,
    client: ClientContext,
    approve: Approval = () => undefined,
  ): Promise<IssuedRefreshToken> {
    const { row, secret, session } = await this.authenticate(presented);
    if (session.revokedAt) throw new AuthError('refresh_token_revoked');
    const now = new Date();
    // An ended session is expired, not stolen, even if the token presented was rotated.
    if (session.expiresAt <= now) throw new AuthError('refresh_token_expired');
    if (row.usedAt) return this.replay(row, secret, session, now, client, approve);
    if (row.expiresAt <= now) throw new AuthError('refresh_token_expired');
    approve(session);

    // The successor is written first but is inert: nobody knows its secret until the claim
    // below succeeds. A crash in between leaves an orphan row that no one can ever present.
    const successorId = randomUUID();
    const salt = newRefreshSecret();
    const successor = formatRefreshToken(successorId, deriveSuccessorSecret(secret, salt));
    const refreshExpiresAt = this.idleExpiry(now, session.expiresAt);
    await this.insertToken(successor, session.id, row.id, now, refreshExpiresAt);
    const claim = await this.tokens
      .createQueryBuilder()
      .update(RefreshToken)
      .set({ usedAt: now, replacedById: successorId, successorSalt: salt })
      .where('id = :id AND used_at IS NULL', { id: row.id })
      .execute();
    if (claim.affected !== 1) {
      // Another request rotated this token first: answer with what it got.
      await this.tokens.delete({ id: successorId });
      const winner = await this.tokens.findOneByOrFail({ id: row.id });
      return this.replay(winner, secret, session, now, client, approve);
    }
    await this.sessions.update({ id: session.id }, { lastUsedAt: now, idleExpiresAt: refreshExpiresAt });
    session.lastUsedAt = now;
    session.idleExpiresAt = refreshExpiresAt;
    return { session, refreshToken: successor, refreshExpiresAt };
  }

  /**
   * The session a refresh token belongs to, whatever the token's state (rotated, expired), as
   * long as it is genuine; for logout and RFC 7009 revocation. `null` when it is not ours.
   */
  async sessionOf(presented: string): Promise<Session | null> {
    try {
      return (await this.authenticate(presented)).session;
    } catch (error) {
      if (error instanceof AuthError && error.code === 'refresh_token_invalid') return null;
      throw error;
    }
  }

  /**
   * A refresh token's state for RFC 7662 introspection: `null` unless it is genuine, unrotated,
   * unexpired and its session live.
   */
  async inspect(presented: string): Promise<{ session: Session; issuedAt: Date; expiresAt: Date } | null> {
    let found: Awaited<ReturnType<TokensService['authenticate']>>;
    try {
      found = await this.authenticate(presented);
    } catch (error) {
      if (error instanceof AuthError) return null;
      throw error;
    }
    const { row, session } = found;
    const now = new Date();
    if (row.usedAt || session.revokedAt || row.expiresAt <= now || session.expiresAt <= now) return null;
    return { session, issuedAt: row.createdAt, expiresAt: row.expiresAt };
  }

  /** A session by id, if it belongs to the user. */
  async findSession(userId: string, sessionId: string): Promise<Session | null> {
    return this.sessions.findOneBy({ id: sessionId, userId });
  }

  /** The user's sessions that can still be refreshed, most recently used first. */
  liveSessions(userId: string): Promise<Session[]> {
    const now = new Date();
    return this.sessions.find({
      where: { userId, revokedAt: IsNull(), idleExpiresAt: MoreThan(now), expiresAt: MoreThan(now) },
      order: { lastUsedAt: 'DESC' },
    });
  }

  /**
   * Deletes sessions (and, by cascade, their refresh tokens) that ended more than `retentionMs`
   * ago, by expiry or revocation. Safe at any time: a missing session counts as revoked.
   */
  async purgeEnded(retentionMs: number): Promise<number> {
    const cutoff = new Date(Date.now() - retentionMs);
    const result = await this.sessions
      .createQueryBuilder()
      .delete()
      .from(Session)
      .where('expires_at < :cutoff OR idle_expires_at < :cutoff OR revoked_at < :cutoff', { cutoff })
      .execute();
    return result.affected ?? 0;
  }

  /**
   * Revokes sessions in the database, then tells every instance through the cache. Returns the
   * ids that were live until now.
   */
  async revokeSessions(sessionIds: readonly string[], reason: SessionRevokedReason): Promise<string[]> {
    if (sessionIds.length === 0) return [];
    const live = await this.sessions.find({
      select: { id: true },
      where: { id: In([...sessionIds]), revokedAt: IsNull() },
    });
    const ids = live.map((session) => session.id);
    if (ids.length > 0) {
      await this.sessions
        .createQueryBuilder()
        .update(Session)
        .set({ revokedAt: new Date(), revokedReason: reason })
        .where('id IN (:...ids) AND revoked_at IS NULL', { ids })
        .execute();
    }
    // Published even for sessions revoked earlier: the cache may have lost them.
    await this.revocation.publish(sessionIds);
    return ids;
  }

  /** Revokes every live session of a user, but `keepSessionId`; returns the revoked ids. */
  async revokeUserSessions(userId: string, reason: SessionRevokedReason, keepSessionId?: string): Promise<string[]> {
    const live = await this.sessions.find({ select: { id: true }, where: { userId, revokedAt: IsNull() } });
    return this.revokeSessions(
      live.map((session) => session.id).filter((id) => id !== keepSessionId),
      reason,
    );
  }

  private async authenticate(presented: string): Promise<{ row: RefreshToken; secret: string; session: Session }> {
    const parsed = parseRefreshToken(presented);
    if (!parsed) throw new AuthError('refresh_token_invalid');
    const row = await this.tokens.findOneBy({ id: parsed.id });
    // A wrong secret with a right id is rejected here, before anything about the session changes.
    if (!row || !hashesMatch(row.tokenHash, hashRefreshToken(presented))) throw new AuthError('refresh_token_invalid');
    const session = await this.sessions.findOneBy({ id: row.sessionId });
    if (!session) throw new AuthError('refresh_token_invalid');
    return { row, secret: parsed.secret, session };
  }

  private async replay(
    row: RefreshToken,
    secret: string,
    session: Session,
    now: Date,
    client: ClientContext,
    approve: Approval,
  ): Promise<IssuedRefreshToken> {
    const graceMs = this.options.refreshReuseGrace * 1000;
    if (
      graceMs > 0 &&
      row.usedAt &&
      now.getTime() - row.usedAt.getTime() <= graceMs &&
      row.replacedById &&
      row.successorSalt
    ) {
      const successor = await this.tokens.findOneBy({ id: row.replacedById });
      // Only the immediate predecessor of the live token gets the grace.
      if (successor && successor.usedAt === null) {
        if (successor.expiresAt <= now) throw new AuthError('refresh_token_expired');
        const refreshToken = formatRefreshToken(successor.id, deriveSuccessorSecret(secret, row.successorSalt));
        if (hashesMatch(successor.tokenHash, hashRefreshToken(refreshToken))) {
          approve(session);
          return { session, refreshToken, refreshExpiresAt: successor.expiresAt };
        }
      }
    }
    await this.revokeSessions([session.id], 'refresh_token_reused');
    await this.events.record(session.userId, 'refresh_token_reused', client, session.id);
    throw new AuthError('refresh_token_reused');
  }

  private async insertToken(
    token: string,
    sessionId: string,
    parentId: string | null,
    now: Date,
    expiresAt: Date,
  ): Promise<void> {
    await this.tokens.insert({
      id: parseRefreshToken(token)!.id,
      sessionId,
      parentId,
      tokenHash: hashRefreshToken(token),
      createdAt: now,
      expiresAt,
      usedAt: null,
      replacedById: null,
      successorSalt: null,
    });
  }

  private idleExpiry(now: Date, sessionExpiresAt: Date): Date {
    return new Date(Math.min(now.getTime() + this.options.refreshTokenTtl * 1000, sessionExpiresAt.getTime()));
  }
}
