import type { DataSource } from 'typeorm';
import type { PgPool } from '../tokens/postgres-session.store.js';
import type { SqliteDatabase } from '../tokens/sqlite-session.store.js';

/** The connection TypeORM opened, for the statements of the hot paths. */
export type RawDriver = { kind: 'postgres'; pool: PgPool } | { kind: 'sqlite'; db: SqliteDatabase };

/**
 * The pool (PostgreSQL) or the connection (better-sqlite3) under a TypeORM data source; `null`
 * for any other driver.
 *
 * @example const driver = rawDriver(dataSource);
 */
export function rawDriver(dataSource: DataSource): RawDriver | null {
  const driver = dataSource.driver as unknown as { master?: PgPool; databaseConnection?: SqliteDatabase };
  if (dataSource.options.type === 'postgres' && driver.master) return { kind: 'postgres', pool: driver.master };
  if (dataSource.options.type === 'better-sqlite3' && driver.databaseConnection) {
    return { kind: 'sqlite', db: driver.databaseConnection };
  }
  return null;
}
