import { REDIS_COMMAND_TIMEOUT_MS, type RedisClient } from '../tokens/redis-client.provider.js';
import type { WindowCount, RateLimitStore } from './rate-limit.store.interface.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';

// Decrements only a counter that still exists, so an expired window is never brought back
// without a TTL.
const DECREMENT_IF_PRESENT =
  "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0";

/**
 * Rate-limit counters in Redis, shared by every instance. While Redis is unreachable the
 * counting goes on in process, so the limits hold per instance rather than not at all.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly fallback = new MemoryRateLimitStore();
  /** The same connection, with a per-command timeout. */
  private readonly commands;

  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
  ) {
    this.commands = client.withCommandOptions({ timeout: REDIS_COMMAND_TIMEOUT_MS });
  }

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    if (!this.client.isReady) return this.fallback.increment(key, windowMs);
    try {
      // PEXPIRE NX: the window starts at the first hit and is never extended by later ones.
      const [count, , ttl] = (await this.commands
        .multi()
        .incr(this.key(key))
        .pExpire(this.key(key), windowMs, 'NX')
        .pTTL(this.key(key))
        .exec()) as unknown as [number, number, number];
      return { count: Number(count), resetInMs: Math.max(ttl, 0) };
    } catch {
      return this.fallback.increment(key, windowMs);
    }
  }

  async decrement(key: string): Promise<void> {
    if (!this.client.isReady) return this.fallback.decrement(key);
    try {
      await this.commands.eval(DECREMENT_IF_PRESENT, { keys: [this.key(key)] });
    } catch {
      await this.fallback.decrement(key);
    }
  }

  private key(key: string): string {
    return `${this.keyPrefix}limit:${key}`;
  }
}
