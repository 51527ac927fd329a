import type { Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AUTH_CONFIG } from '../auth/auth.constants.js';
import type { AuthConfig } from '../auth/auth-options.js';
import { AuthOptionsError } from '../auth/auth-options.error.js';
import { PasswordHasher } from './password-hasher.service.js';
import { TypeOrmUserStore } from './typeorm-user.store.js';
import { User } from './user.entity.js';
import { UserStore } from './user-store.interface.js';

/** The one place the user store is chosen: the host's `users` option, else the built-in table. */
export const userStoreProvider: Provider = {
  provide: UserStore,
  inject: [AUTH_CONFIG, getDataSourceToken()],
  useFactory: (config: AuthConfig, dataSource: DataSource): UserStore => {
    if (config.users) return config.users;
    if (!dataSource.hasMetadata(User)) {
      throw new AuthOptionsError(
        'users',
        'is not set, so the built-in users table is used, but its entity is not in the data source: ' +
          'add ...USER_ENTITIES to TypeORM entities and ...USER_MIGRATIONS to migrations, or pass your own UserStore',
      );
    }
    return new TypeOrmUserStore(dataSource.getRepository(User));
  },
};

/** Providers of the users folder. */
export const USERS_PROVIDERS: Provider[] = [PasswordHasher, userStoreProvider];
