import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app.config.js';
import { Note } from '../notes/note.entity.js';
import { SecurityEvent } from '../security-events/security-event.entity.js';
import { RefreshToken } from '../tokens/refresh-token.entity.js';
import { Session } from '../tokens/session.entity.js';
import { User } from '../users/user.entity.js';
import { AuthSchema1764057600000 } from './migrations/1764057600000-auth-schema.js';
import { Notes1764057600001 } from './migrations/1764057600001-notes.js';

/** Entities of the auth modules, for apps that import `AuthModule` into their own data source. */
export const AUTH_ENTITIES = [User, Session, RefreshToken, SecurityEvent];

/** Migrations of the auth modules, in order. */
export const AUTH_MIGRATIONS = [AuthSchema1764057600000];

/**
 * TypeORM options for the configured database. Schema changes come only from migrations.
 *
 * @example new DataSource(dataSourceOptions({ type: 'sqlite', path: './data/auth.sqlite' }))
 */
export function dataSourceOptions(database: DatabaseConfig): DataSourceOptions {
  const common = {
    entities: [...AUTH_ENTITIES, Note],
    migrations: [...AUTH_MIGRATIONS, Notes1764057600001],
    migrationsTableName: 'migrations',
    synchronize: false as const,
    // Failed queries are reported by the exception filter without their parameters (hashes).
    logging: false as const,
  };
  if (database.type === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: database.url,
      // Fail fast when the server is unreachable, so requests answer 503 instead of hanging.
      extra: { max: 10, connectionTimeoutMillis: 3000 },
    };
  }
  return {
    ...common,
    type: 'better-sqlite3',
    database: database.path,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
    },
  };
}
