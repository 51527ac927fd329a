import { REDIS_COMMAND_TIMEOUT_MS, type RedisClient } from './redis-client.provider.js';
import type { RevocationStore, SessionStatus } from './revocation-store.interface.js';

/** The revocation cache in Redis, shared by every instance; keys are `<prefix>session:<id>`. */
export class RedisRevocationStore implements RevocationStore {
  /** The same connection, with a per-command timeout. */
  private readonly commands;

  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
  ) {
    this.commands = client.withCommandOptions({ timeout: REDIS_COMMAND_TIMEOUT_MS });
  }

  async get(sessionId: string): Promise<SessionStatus | null> {
    if (!this.client.isReady) return null;
    try {
      const value = await this.commands.get(this.key(sessionId));
      return value === 'live' || value === 'revoked' ? value : null;
    } catch {
      return null;
    }
  }

  async markLive(sessionId: string, ttlMs: number): Promise<void> {
    if (!this.client.isReady) return;
    // NX: a revocation written meanwhile by another instance must not be overwritten.
    await this.commands
      .set(this.key(sessionId), 'live', { condition: 'NX', expiration: { type: 'PX', value: ttlMs } })
      .catch(() => undefined);
  }

  async markRevoked(sessionIds: readonly string[], ttlMs: number): Promise<void> {
    if (!this.client.isReady || sessionIds.length === 0) return;
    const batch = this.commands.multi();
    for (const id of sessionIds) batch.set(this.key(id), 'revoked', { expiration: { type: 'PX', value: ttlMs } });
    await batch.exec().catch(() => undefined);
  }

  async ping(): Promise<boolean> {
    if (!this.client.isReady) return false;
    return this.commands.ping().then(
      (reply) => reply === 'PONG',
      () => false,
    );
  }

  private key(sessionId: string): string {
    return `${this.keyPrefix}session:${sessionId}`;
  }
}
