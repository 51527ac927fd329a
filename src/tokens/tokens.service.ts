import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuthEvents } from '../auth/auth-events.service.js';
import { AUTH_CONFIG } from '../auth/auth.constants.js';
import type { AuthConfig } from '../auth/auth-options.js';
import { AuthError } from '../common/auth.error.js';
import type { ClientContext } from '../common/client-context.js';
import { AuthMetrics } from '../metrics/auth-metrics.service.js';
import type { SecurityEventType } from '../security-events/security-event.entity.js';
import {
  deriveSuccessorSecret,
  formatRefreshToken,
  hashesMatch,
  hashRefreshToken,
  MAX_GENERATION,
  newRefreshSecret,
  newTokenKey,
  parseRefreshToken,
  tagMatches,
  type ParsedRefreshToken,
} from './refresh-token.format.js';
import { RevocationService } from './revocation.service.js';
import { Session, type SessionRevokedReason } from './session.entity.js';
import { SessionStore, type RevocationTarget } from './session-store.interface.js';

/** What a refresh may hand out, decided from the user's current record (roles, scopes, lifetimes). */
export interface RefreshPlan {
  /** Space-separated scope of the session from now on. */
  scope: string;
  /** Idle lifetime in seconds for this user's roles. */
  refreshTokenTtl: number;
  /** Absolute lifetime in seconds for this user's roles. */
  sessionMaxAge: number;
}

/**
 * Re-reads what a refresh depends on once the token is known genuine, live and not reused, and
 * before anything is written; it throws to refuse (a disabled user, a scope beyond the grant).
 */
export type RefreshPreparation = (session: Session, prefetched?: { owner: unknown }) => Promise<RefreshPlan>;

/** A session together with its current refresh token, as handed to the client. */
export interface IssuedRefreshToken {
  session: Session;
  refreshToken: string;
  refreshExpiresAt: Date;
  /** `false` when a rotated token was answered again within the grace window. */
  rotated: boolean;
}

/** Who caused a change, for the security log. */
export interface Actor {
  userId: string;
  type: SecurityEventType;
  sessionId?: string | null;
  client: ClientContext;
}

/** Where a presented token sits in its session's chain. */
interface Located {
  session: Session;
  generation: number;
  tokenHash: string;
  secret: string;
  parsed: ParsedRefreshToken;
  /** The session's owner, read with it (the built-in user store, see `SessionStore.findWithOwner`). */
  prefetched?: { owner: unknown };
}

/**
 * Sessions and their refresh-token chains: issue, rotate with reuse detection, revoke.
 *
 * A session keeps two token hashes whatever the number of refreshes: the live token's and its
 * immediate predecessor's. A refresh reads the session, lets the caller re-read the user, then
 * writes once: a conditional UPDATE on the generation and hash it read, which both databases
 * apply atomically, so N concurrent refreshes of one token yield exactly one successor and a
 * failure before the write changes nothing.
 */
@Injectable()
export class TokensService {
  constructor(
    @Inject(SessionStore) private readonly store: SessionStore,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly revocation: RevocationService,
    private readonly metrics: AuthMetrics,
    private readonly notify: AuthEvents,
  ) {}

  /** Starts a session (one login) and writes its `login` event with it. */
  async startSession(userId: string, plan: RefreshPlan, client: ClientContext): Promise<IssuedRefreshToken> {
    const now = new Date();
    const id = randomUUID();
    const tokenKey = newTokenKey();
    const refreshToken = formatRefreshToken(id, 0, newRefreshSecret(), tokenKey);
    const expiresAt = new Date(now.getTime() + plan.sessionMaxAge * 1000);
    const idleExpiresAt = new Date(Math.min(now.getTime() + plan.refreshTokenTtl * 1000, expiresAt.getTime()));
    const session: Session = {
      id,
      userId,
      scope: plan.scope,
      createdAt: now,
      lastUsedAt: now,
      idleExpiresAt,
      expiresAt,
      revokedAt: null,
      revokedReason: null,
      ip: client.ip,
      userAgent: client.userAgent,
      generation: 0,
      tokenHash: hashRefreshToken(refreshToken),
      previousTokenHash: null,
      rotatedAt: null,
      successorSalt: null,
      tokenKey,
      legacyTokenId: null,
    };
    await this.store.create(session, {
      userId,
      type: 'login',
      sessionId: id,
      ip: client.ip,
      userAgent: client.userAgent,
    });
    return { session, refreshToken, refreshExpiresAt: idleExpiresAt, rotated: true };
  }

  /**
   * Exchanges a refresh token for its successor. The immediate predecessor of the live token,
   * presented again within the grace window, gets the same successor; later, or any older
   * ancestor, is theft: the whole session is revoked.
   */
  async rotate(presented: string, client: ClientContext, prepare: RefreshPreparation): Promise<IssuedRefreshToken> {
    let located = await this.locate(presented, true);
    // A lost race reads the session again and answers from what the winner wrote.
    for (let attempt = 0; ; attempt++) {
      const { session, generation } = located;
      if (session.revokedAt) throw new AuthError('refresh_token_revoked');
      const now = new Date();
      // An ended session is expired, not stolen, even if the token presented was rotated.
      if (session.expiresAt <= now) throw new AuthError('refresh_token_expired');
      if (generation === session.generation) {
        if (!hashesMatch(session.tokenHash, located.tokenHash)) throw new AuthError('refresh_token_invalid');
        if (session.idleExpiresAt <= now) throw new AuthError('refresh_token_expired');
        if (session.generation >= MAX_GENERATION) throw new AuthError('refresh_token_expired');
        const issued = await this.advance(located, now, await prepare(session, located.prefetched));
        if (issued) return issued;
        if (attempt > 0) throw new AuthError('refresh_token_invalid');
        const reread = await this.store.find(session.id);
        if (!reread) throw new AuthError('refresh_token_invalid');
        located = { ...located, session: reread, prefetched: undefined };
        continue;
      }
      if (generation === session.generation - 1) {
        const replay = this.graceReplay(located, now);
        if (replay) {
          if (session.idleExpiresAt <= now) throw new AuthError('refresh_token_expired');
          await prepare(session, located.prefetched);
          this.metrics.refreshGraceReplays.inc();
          return { session, refreshToken: replay, refreshExpiresAt: session.idleExpiresAt, rotated: false };
        }
      } else if (generation > session.generation) {
        throw new AuthError('refresh_token_invalid');
      }
      const revoked = await this.revoke(
        { sessionIds: [session.id] },
        'refresh_token_reused',
        {
          userId: session.userId,
          type: 'refresh_token_reused',
          sessionId: session.id,
          client,
        },
        { eventOnlyIfRevoked: true },
      );
      // Like the security log entry: once, by the request that revoked the session.
      if (revoked.length > 0) this.notify.emit('refresh_token_reused', session.userId, client, session.id);
      this.metrics.refreshReuseDetections.inc();
      throw new AuthError('refresh_token_reused');
    }
  }

  /**
   * The session a refresh token belongs to, whatever the token's state (rotated, expired), as
   * long as it is genuine; for logout and RFC 7009 revocation. `null` when it is not ours.
   */
  async sessionOf(presented: string): Promise<Session | null> {
    try {
      return (await this.locate(presented)).session;
    } catch (error) {
      if (error instanceof AuthError && error.code === 'refresh_token_invalid') return null;
      throw error;
    }
  }

  /**
   * A refresh token's state for RFC 7662 introspection: `null` unless it is the live token of a
   * live session.
   */
  async inspect(presented: string): Promise<{ session: Session; issuedAt: Date; expiresAt: Date } | null> {
    let located: Located;
    try {
      located = await this.locate(presented);
    } catch (error) {
      if (error instanceof AuthError) return null;
      throw error;
    }
    const { session } = located;
    const now = new Date();
    const live =
      located.generation === session.generation &&
      hashesMatch(session.tokenHash, located.tokenHash) &&
      !session.revokedAt &&
      session.idleExpiresAt > now &&
      session.expiresAt > now;
    return live
      ? { session, issuedAt: session.rotatedAt ?? session.createdAt, expiresAt: session.idleExpiresAt }
      : null;
  }

  /** A session by id, if it belongs to the user. */
  async findSession(userId: string, sessionId: string): Promise<Session | null> {
    const session = await this.store.find(sessionId);
    return session && session.userId === userId ? session : null;
  }

  /** The user's sessions that can still be refreshed, most recently used first. */
  liveSessions(userId: string): Promise<Session[]> {
    return this.store.liveSessions(userId, new Date());
  }

  /**
   * Revokes sessions and writes the actor's security event in the same atomic step (only if
   * something was revoked, with `eventOnlyIfRevoked`), then tells every instance. Returns the
   * ids that were live until now.
   */
  async revoke(
    target: RevocationTarget,
    reason: SessionRevokedReason,
    actor: Actor | null,
    options: { eventOnlyIfRevoked?: boolean } = {},
  ): Promise<string[]> {
    const event = actor
      ? {
          userId: actor.userId,
          type: actor.type,
          sessionId: actor.sessionId ?? null,
          ip: actor.client.ip,
          userAgent: actor.client.userAgent,
        }
      : null;
    const ids = await this.store.revoke(target, reason, event, options);
    if (ids.length > 0) this.metrics.revocations.labels(reason).inc(ids.length);
    // Published after the write. Named sessions are published even when an earlier request revoked
    // them (a retry whose first answer was lost): its message may not have gone out.
    await this.revocation.revoked('sessionIds' in target ? [...new Set([...target.sessionIds, ...ids])] : ids);
    return ids;
  }

  /** Finds the session and generation of a presented token, checking it is genuine. */
  private async locate(presented: string, withOwner = false): Promise<Located> {
    const parsed = parseRefreshToken(presented);
    if (!parsed) throw new AuthError('refresh_token_invalid');
    const tokenHash = hashRefreshToken(presented);
    if (parsed.format === 'v2') {
      let session: Session | null;
      let prefetched: { owner: unknown } | undefined;
      if (withOwner && this.store.findWithOwner) {
        const found = await this.store.findWithOwner(parsed.sessionId);
        session = found?.session ?? null;
        prefetched = found ? { owner: found.owner } : undefined;
      } else {
        session = await this.store.find(parsed.sessionId);
      }
      // The tag proves we issued this generation for this session: without it, anyone who knows
      // a session id could forge an "old" token and get the session revoked as stolen.
      if (!session || !tagMatches(parsed, session.tokenKey)) throw new AuthError('refresh_token_invalid');
      return { session, generation: parsed.generation, tokenHash, secret: parsed.secret, parsed, prefetched };
    }
    const row = await this.store.findLegacyToken(parsed.tokenId);
    if (!row || !hashesMatch(row.tokenHash, tokenHash)) throw new AuthError('refresh_token_invalid');
    const session = await this.store.find(row.sessionId);
    if (!session) throw new AuthError('refresh_token_invalid');
    // First-format tokens sit below generation 1: the live one of the upgrade is 0, its
    // predecessor -1, anything older further down (theft, like any old ancestor).
    const generation =
      parsed.tokenId === session.legacyTokenId
        ? 0
        : session.generation === 0 && hashesMatch(session.previousTokenHash, tokenHash)
          ? -1
          : -2;
    return { session, generation, tokenHash, secret: parsed.secret, parsed };
  }

  /** Writes the successor of the live token; `null` when another request rotated it first. */
  private async advance(located: Located, now: Date, plan: RefreshPlan): Promise<IssuedRefreshToken | null> {
    const { session } = located;
    const salt = newRefreshSecret();
    const generation = session.generation + 1;
    const refreshToken = formatRefreshToken(
      session.id,
      generation,
      deriveSuccessorSecret(located.secret, salt),
      session.tokenKey,
    );
    // A role with a shorter lifetime, gained since login, shortens the session; nothing lengthens it.
    const expiresAt = new Date(
      Math.min(session.expiresAt.getTime(), session.createdAt.getTime() + plan.sessionMaxAge * 1000),
    );
    if (expiresAt <= now) throw new AuthError('refresh_token_expired');
    const idleExpiresAt = new Date(Math.min(now.getTime() + plan.refreshTokenTtl * 1000, expiresAt.getTime()));
    const tokenHash = hashRefreshToken(refreshToken);
    const won = await this.store.rotate({
      sessionId: session.id,
      fromGeneration: session.generation,
      fromHash: session.tokenHash!,
      tokenHash,
      successorSalt: salt,
      at: now,
      idleExpiresAt,
      expiresAt,
      scope: plan.scope,
    });
    if (!won) return null;
    this.metrics.refreshRotations.inc();
    return {
      session: {
        ...session,
        generation,
        tokenHash,
        previousTokenHash: session.tokenHash,
        rotatedAt: now,
        successorSalt: salt,
        lastUsedAt: now,
        idleExpiresAt,
        expiresAt,
        scope: plan.scope,
      },
      refreshToken,
      refreshExpiresAt: idleExpiresAt,
      rotated: true,
    };
  }

  /** The live token again, for its immediate predecessor within the grace window; else `null`. */
  private graceReplay(located: Located, now: Date): string | null {
    const { session } = located;
    const graceMs = this.config.refreshReuseGrace * 1000;
    if (graceMs <= 0 || !session.rotatedAt || !session.successorSalt) return null;
    if (now.getTime() - session.rotatedAt.getTime() > graceMs) return null;
    if (!hashesMatch(session.previousTokenHash, located.tokenHash)) return null;
    const secret = deriveSuccessorSecret(located.secret, session.successorSalt);
    // The live token of a session from before the upgrade is still in the first format.
    const successor =
      session.generation === 0 && session.legacyTokenId
        ? `${session.legacyTokenId}.${secret}`
        : formatRefreshToken(session.id, session.generation, secret, session.tokenKey);
    return hashesMatch(session.tokenHash, hashRefreshToken(successor)) ? successor : null;
  }
}
