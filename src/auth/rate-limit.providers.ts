import type { Provider } from '@nestjs/common';
import type { RedisConnection } from '../common/redis-connection.js';
import { AuthMetrics } from '../metrics/auth-metrics.service.js';
import { REDIS_CONNECTION } from '../tokens/tokens.providers.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';
import { RateLimitStore } from './rate-limit.store.interface.js';
import { RedisRateLimitStore } from './redis-rate-limit.store.js';

/** The one place the rate-limit counter store is chosen: Redis when configured, else in-process. */
export const rateLimitStoreProvider: Provider = {
  provide: RateLimitStore,
  inject: [REDIS_CONNECTION, AuthMetrics],
  useFactory: (redis: RedisConnection | null, metrics: AuthMetrics): RateLimitStore =>
    redis ? new RedisRateLimitStore(redis, metrics) : new MemoryRateLimitStore(),
};
