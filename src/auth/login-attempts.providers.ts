import type { Provider } from '@nestjs/common';
import { REDIS_CLIENT, type RedisClient } from '../tokens/redis-client.provider.js';
import type { AuthModuleOptions } from './auth-module-options.interface.js';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition.js';
import { LoginAttemptStore } from './login-attempts.store.interface.js';
import { MemoryLoginAttemptStore } from './memory-login-attempts.store.js';
import { RedisLoginAttemptStore } from './redis-login-attempts.store.js';

/** The one place the login counter store is chosen: Redis when configured, else in-process. */
export const loginAttemptStoreProvider: Provider = {
  provide: LoginAttemptStore,
  inject: [AUTH_MODULE_OPTIONS, REDIS_CLIENT],
  useFactory: (options: AuthModuleOptions, client: RedisClient | null): LoginAttemptStore =>
    client && options.redis
      ? new RedisLoginAttemptStore(client, options.redis.keyPrefix)
      : new MemoryLoginAttemptStore(),
};
