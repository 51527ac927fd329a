import type { Provider } from '@nestjs/common';
import { AUTH_MODULE_OPTIONS } from '../auth/auth.module-definition.js';
import type { AuthModuleOptions } from '../auth/auth-module-options.interface.js';
import { MemoryRevocationStore } from './memory-revocation.store.js';
import { REDIS_CLIENT, type RedisClient } from './redis-client.provider.js';
import { RedisRevocationStore } from './redis-revocation.store.js';
import { RevocationStore } from './revocation-store.interface.js';

/** The one place the revocation store is chosen: Redis when configured, else in-process. */
export const revocationStoreProvider: Provider = {
  provide: RevocationStore,
  inject: [AUTH_MODULE_OPTIONS, REDIS_CLIENT],
  useFactory: (options: AuthModuleOptions, client: RedisClient | null): RevocationStore =>
    client && options.redis ? new RedisRevocationStore(client, options.redis.keyPrefix) : new MemoryRevocationStore(),
};
