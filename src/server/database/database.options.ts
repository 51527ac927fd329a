import type { DataSourceOptions } from 'typeorm';
import { AUTH_ENTITIES, AUTH_MIGRATIONS, USER_ENTITIES, USER_MIGRATIONS } from '../../index.js';
import type { DatabaseConfig } from '../config/app.config.js';
import { Note } from '../notes/note.entity.js';
import { Notes1764057600001 } from './migrations/1764057600001-notes.js';

/**
 * TypeORM options of the service for the configured database: the library's tables, the
 * built-in users table and the notes example. Schema changes come only from migrations.
 *
 * @example new DataSource(dataSourceOptions({ type: 'sqlite', path: './data/auth.sqlite' }))
 */
export function dataSourceOptions(database: DatabaseConfig): DataSourceOptions {
  const common = {
    entities: [...AUTH_ENTITIES, ...USER_ENTITIES, Note],
    migrations: [...USER_MIGRATIONS, ...AUTH_MIGRATIONS, Notes1764057600001],
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
      // Fail fast when the server is unreachable, so requests answer 503 instead of hanging. The
      // revocation poll has one connection more of its own.
      extra: { max: database.poolSize, connectionTimeoutMillis: 3000 },
    };
  }
  return {
    ...common,
    type: 'better-sqlite3',
    database: database.path,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      // WAL keeps every commit durable across a crash of the process; NORMAL skips the fsync of
      // each commit that only a power loss would need (SQLite's recommended WAL setting).
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
    },
  };
}
