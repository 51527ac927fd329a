import type { RedisClient } from '../tokens/redis-client.provider.js';
import type { AttemptCount, LoginAttemptStore } from './login-attempts.store.interface.js';
import { MemoryLoginAttemptStore } from './memory-login-attempts.store.js';

/**
 * Failed-login counters in Redis, shared by every instance. While Redis is unreachable the
 * counting goes on in process, so the limits hold per instance rather than not at all.
 */
export class RedisLoginAttemptStore implements LoginAttemptStore {
  private readonly fallback = new MemoryLoginAttemptStore();

  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
  ) {}

  async peek(key: string): Promise<AttemptCount> {
    if (!this.client.isReady) return this.fallback.peek(key);
    try {
      const [count, ttl] = (await this.client.multi().get(this.key(key)).pTTL(this.key(key)).exec()) as unknown as [
        string | null,
        number,
      ];
      return count === null ? { count: 0, resetInMs: 0 } : { count: Number(count), resetInMs: Math.max(ttl, 0) };
    } catch {
      return this.fallback.peek(key);
    }
  }

  async increment(key: string, windowMs: number): Promise<AttemptCount> {
    if (!this.client.isReady) return this.fallback.increment(key, windowMs);
    try {
      // PEXPIRE NX: the window starts at the first failure and is never extended by later ones.
      const [count, , ttl] = (await this.client
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

  private key(key: string): string {
    return `${this.keyPrefix}login:${key}`;
  }
}
