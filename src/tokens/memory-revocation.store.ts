import type { OnModuleDestroy } from '@nestjs/common';
import { ExpiringMap } from '../common/expiring-map.js';
import type { RevocationStore, SessionStatus } from './revocation-store.interface.js';

/** The in-process revocation cache of the embedded default: one instance, no Redis. */
export class MemoryRevocationStore implements RevocationStore, OnModuleDestroy {
  private readonly entries = new ExpiringMap<SessionStatus>();

  async get(sessionId: string): Promise<SessionStatus | null> {
    return this.entries.get(sessionId) ?? null;
  }

  async markLive(sessionId: string, ttlMs: number): Promise<void> {
    // Like Redis SET NX: a revocation cached meanwhile is never overwritten.
    if (this.entries.get(sessionId) === undefined) this.entries.set(sessionId, 'live', ttlMs);
  }

  async markRevoked(sessionIds: readonly string[], ttlMs: number): Promise<void> {
    for (const id of sessionIds) this.entries.set(id, 'revoked', ttlMs);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  onModuleDestroy(): void {
    this.entries.dispose();
  }
}
