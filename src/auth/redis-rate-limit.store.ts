import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../common/redis-connection.js';
import type { AuthMetrics } from '../metrics/auth-metrics.service.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';
import type { RateLimitStore, Reservation, WindowCount } from './rate-limit.store.interface.js';

// KEYS[1] counter. PEXPIRE NX: the window starts at the first hit and is never extended.
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1], 'NX')
return {count, redis.call('PTTL', KEYS[1])}`;

// KEYS[1] failures, KEYS[2] places in flight (sorted set: token by lapse time, in Redis's clock).
// ARGV: max, holdMs, token. Returns {0, ttl} full, {1} busy, {2} taken.
const RESERVE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
local max = tonumber(ARGV[1])
if failures >= max then return {0, redis.call('PTTL', KEYS[1])} end
if failures + redis.call('ZCARD', KEYS[2]) >= max then return {1} end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {2}`;

// KEYS[1] failures, KEYS[2] places. ARGV: token, failed (1/0), windowMs.
const SETTLE = `
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '1' then
  redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3], 'NX')
end
return 0`;

/**
 * Rate-limit counters in Redis, shared by every instance. A counter's keys share one hash tag,
 * so its scripts run on one slot of a Redis Cluster. While Redis is unreachable the counting goes
 * on in process, so the limits hold per instance rather than not at all.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly fallback = new MemoryRateLimitStore();

  constructor(
    private readonly redis: RedisConnection,
    private readonly metrics: AuthMetrics,
  ) {}

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    try {
      const [count, ttl] = (await this.redis.eval(INCREMENT, [this.key(key, 'count')], [windowMs])) as [number, number];
      return { count: Number(count), resetInMs: Math.max(Number(ttl), 0) };
    } catch {
      this.metrics.redisFallbacks.labels('rate_limit').inc();
      return this.fallback.increment(key, windowMs);
    }
  }

  async reserve(key: string, max: number, holdMs: number): Promise<Reservation> {
    const token = randomUUID();
    try {
      const reply = (await this.redis.eval(
        RESERVE,
        [this.key(key, 'failures'), this.key(key, 'places')],
        [max, holdMs, token],
      )) as number[];
      if (Number(reply[0]) === 0) return { status: 'full', retryInMs: Math.max(Number(reply[1]), 0) };
      if (Number(reply[0]) === 1) return { status: 'busy' };
      return { status: 'taken', token: `redis:${token}` };
    } catch {
      this.metrics.redisFallbacks.labels('rate_limit').inc();
      return this.fallback.reserve(key, max, holdMs);
    }
  }

  async settle(key: string, token: string, failed: boolean, windowMs: number): Promise<void> {
    // A place taken from the fallback is settled there, wherever Redis is now.
    if (!token.startsWith('redis:')) return this.fallback.settle(key, token, failed, windowMs);
    try {
      await this.redis.eval(
        SETTLE,
        [this.key(key, 'failures'), this.key(key, 'places')],
        [token.slice(6), failed ? 1 : 0, windowMs],
      );
    } catch {
      this.metrics.redisFallbacks.labels('rate_limit').inc();
      // The place lapses by itself; the failure is kept in process at least.
      if (failed) await this.fallback.settle(key, token, true, windowMs);
    }
  }

  /** `<prefix>{<key>}:<part>`: the braces are the hash tag, one slot per counter. */
  private key(key: string, part: string): string {
    return `${this.redis.keyPrefix}{${key}}:${part}`;
  }
}
