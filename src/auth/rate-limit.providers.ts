import type { Provider } from '@nestjs/common';
import { REDIS_CLIENT, type RedisClient } from '../tokens/redis-client.provider.js';
import type { AuthModuleOptions } from './auth-module-options.interface.js';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition.js';
import { RateLimitStore } from './rate-limit.store.interface.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';
import { RedisRateLimitStore } from './redis-rate-limit.store.js';

/** The one place the rate-limit counter store is chosen: Redis when configured, else in-process. */
export const rateLimitStoreProvider: Provider = {
  provide: RateLimitStore,
  inject: [AUTH_MODULE_OPTIONS, REDIS_CLIENT],
  useFactory: (options: AuthModuleOptions, client: RedisClient | null): RateLimitStore =>
    client && options.redis ? new RedisRateLimitStore(client, options.redis.keyPrefix) : new MemoryRateLimitStore(),
};
