import type { RedisConnection } from '../common/redis-connection.js';
import type { RevocationBus } from './revocation-bus.interface.js';

/** Revocations fanned out over Redis pub/sub on `<prefix>revocations` (cluster-wide on a Cluster). */
export class RedisRevocationBus implements RevocationBus {
  private readonly channel: string;

  constructor(private readonly redis: RedisConnection) {
    this.channel = `${redis.keyPrefix}revocations`;
  }

  async publish(sessionIds: readonly string[]): Promise<boolean> {
    if (sessionIds.length === 0) return true;
    try {
      await this.redis.publish(this.channel, sessionIds.join(','));
      return true;
    } catch {
      return false;
    }
  }

  async subscribe(listener: (sessionIds: string[]) => void): Promise<void> {
    await this.redis.subscribe(this.channel, (message) => listener(message.split(',').filter(Boolean)));
  }

  async ping(): Promise<boolean> {
    return this.redis.ping();
  }
}
