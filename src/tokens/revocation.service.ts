import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AUTH_MODULE_OPTIONS } from '../auth/auth.module-definition.js';
import type { AuthModuleOptions } from '../auth/auth-module-options.interface.js';
import { RevocationStore } from './revocation-store.interface.js';
import { Session } from './session.entity.js';

/**
 * How long a session may be cached as live. It bounds how stale any instance can be even if a
 * revocation never reached the cache (Redis down at that moment): one second, as promised.
 */
export const LIVE_CACHE_TTL_MS = 1000;

/**
 * Answers "is this session revoked?" for every authenticated request: the cache first, the
 * database on a miss (at most once a second per session across all instances with Redis).
 */
@Injectable()
export class RevocationService {
  /** Revocation markers outlive every access token that could still carry the session. */
  private readonly revokedTtlMs: number;

  constructor(
    @Inject(RevocationStore) private readonly store: RevocationStore,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
  ) {
    this.revokedTtlMs = (options.accessTokenTtl + options.clockTolerance + 1) * 1000;
  }

  /** Whether the session is revoked (or gone); the database decides when the cache does not know. */
  async isRevoked(sessionId: string): Promise<boolean> {
    const cached = await this.store.get(sessionId);
    if (cached !== null) return cached === 'revoked';
    const session = await this.sessions.findOne({ select: { id: true, revokedAt: true }, where: { id: sessionId } });
    const revoked = session === null || session.revokedAt !== null;
    if (revoked) await this.store.markRevoked([sessionId], this.revokedTtlMs);
    else await this.store.markLive(sessionId, LIVE_CACHE_TTL_MS);
    return revoked;
  }

  /** Tells every instance, through the cache, that these sessions are revoked. Call after the database update. */
  async publish(sessionIds: readonly string[]): Promise<void> {
    await this.store.markRevoked(sessionIds, this.revokedTtlMs);
  }

  /** Whether the cache answers; for `/health`. */
  ping(): Promise<boolean> {
    return this.store.ping();
  }
}
