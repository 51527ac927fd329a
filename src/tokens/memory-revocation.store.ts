import type { OnModuleDestroy } from '@nestjs/common';
import type { RevocationStore, SessionStatus } from './revocation-store.interface.js';

const SWEEP_INTERVAL_MS = 60_000;

/** The in-process revocation cache of the embedded default: one instance, no Redis. */
export class MemoryRevocationStore implements RevocationStore, OnModuleDestroy {
  private readonly entries = new Map<string, { status: SessionStatus; expiresAt: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  async get(sessionId: string): Promise<SessionStatus | null> {
    const entry = this.entries.get(sessionId);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(sessionId);
      return null;
    }
    return entry.status;
  }

  async markLive(sessionId: string, ttlMs: number): Promise<void> {
    if ((await this.get(sessionId)) === null) {
      this.entries.set(sessionId, { status: 'live', expiresAt: Date.now() + ttlMs });
    }
  }

  async markRevoked(sessionIds: readonly string[], ttlMs: number): Promise<void> {
    const expiresAt = Date.now() + ttlMs;
    for (const id of sessionIds) this.entries.set(id, { status: 'revoked', expiresAt });
  }

  async ping(): Promise<boolean> {
    return true;
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id);
  }
}
