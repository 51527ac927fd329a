import type { Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AUTH_CONFIG } from '../auth/auth.constants.js';
import type { AuthConfig } from '../auth/auth-options.js';
import { AuthOptionsError } from '../auth/auth-options.error.js';
import { RedisConnection } from '../common/redis-connection.js';
import { rawDriver } from '../database/raw-driver.js';
import { TypeOrmUserStore } from '../users/typeorm-user.store.js';
import { UserStore } from '../users/user-store.interface.js';
import { MemoryRevocationBus } from './memory-revocation.bus.js';
import { RedisRevocationBus } from './redis-revocation.bus.js';
import { RevocationBus } from './revocation-bus.interface.js';
import { PostgresSessionStore } from './postgres-session.store.js';
import { SessionStore } from './session-store.interface.js';
import { Session } from './session.entity.js';
import { SqliteSessionStore } from './sqlite-session.store.js';

/** Injection token of the shared {@link RedisConnection}, or `null` without Redis. */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');

/** The one place the session store is chosen: from the data source's driver. */
export const sessionStoreProvider: Provider = {
  provide: SessionStore,
  inject: [getDataSourceToken(), UserStore],
  useFactory: (dataSource: DataSource, users: UserStore): SessionStore => {
    if (!dataSource.hasMetadata(Session)) {
      throw new AuthOptionsError(
        'TypeOrmModule',
        'does not know the auth entities: add ...AUTH_ENTITIES to its entities and ...AUTH_MIGRATIONS to its migrations',
      );
    }
    const driver = rawDriver(dataSource);
    // With the built-in users in the same database, a refresh reads the user with its session.
    const owner = users instanceof TypeOrmUserStore ? (users.ownerJoin(dataSource) ?? undefined) : undefined;
    if (driver?.kind === 'postgres') return new PostgresSessionStore(driver.pool, owner);
    if (driver?.kind === 'sqlite') return new SqliteSessionStore(driver.db, owner);
    throw new AuthOptionsError(
      'TypeOrmModule',
      `uses driver "${dataSource.options.type}": AuthModule supports "postgres" and "better-sqlite3"`,
    );
  },
};

/** Connects to Redis when it is configured. */
export const redisConnectionProvider: Provider = {
  provide: REDIS_CONNECTION,
  inject: [AUTH_CONFIG],
  useFactory: (config: AuthConfig) => (config.redis ? RedisConnection.open(config.redis) : null),
};

/** The one place the revocation bus is chosen: Redis pub/sub when configured, else none. */
export const revocationBusProvider: Provider = {
  provide: RevocationBus,
  inject: [REDIS_CONNECTION],
  useFactory: (redis: RedisConnection | null): RevocationBus =>
    redis ? new RedisRevocationBus(redis) : new MemoryRevocationBus(),
};

/** Providers of the tokens folder (sessions, rotation, revocation). */
export const TOKENS_PROVIDERS: Provider[] = [sessionStoreProvider, redisConnectionProvider, revocationBusProvider];
