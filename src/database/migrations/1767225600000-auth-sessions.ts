import {
  Table,
  TableColumn,
  TableForeignKey,
  TableIndex,
  type MigrationInterface,
  type QueryRunner,
  type TableColumnOptions,
} from 'typeorm';

/** Column types that differ between PostgreSQL and SQLite, picked from the running driver. */
export function columnTypes(queryRunner: QueryRunner): { timestamp: string; postgres: boolean } {
  const postgres = queryRunner.connection.driver.options.type === 'postgres';
  return { timestamp: postgres ? 'timestamptz' : 'datetime', postgres };
}

const varchar = (name: string, length: number, nullable = true): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});

/**
 * The library's tables: `sessions` (one row per login, holding its refresh-token chain in two
 * hashes), `security_events`, and `refresh_tokens`, where tokens of the first format live on.
 *
 * On a database of the service's first schema (one `refresh_tokens` row per rotation, foreign
 * keys to `users`) it moves every session over: its live token and that token's predecessor go
 * into the session row, which keeps them working (and the grace window for the predecessor);
 * the old rows stay to recognise older ancestors as reuse, and go with their sessions. User ids
 * widen to 255 characters and lose their foreign keys, since users may live in the host's store.
 */
export class AuthSessions1767225600000 implements MigrationInterface {
  name = 'AuthSessions1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { timestamp, postgres } = columnTypes(queryRunner);
    const time = (name: string, nullable = false): TableColumnOptions => ({
      name,
      type: timestamp,
      isNullable: nullable,
    });
    const tokenColumns: TableColumnOptions[] = [
      { name: 'generation', type: 'integer', isNullable: false, default: 0 },
      varchar('token_hash', 64),
      varchar('previous_token_hash', 64),
      time('rotated_at', true),
      varchar('successor_salt', 64),
      varchar('token_key', 64),
      varchar('legacy_token_id', 36),
    ];

    if (!(await queryRunner.hasTable('sessions'))) {
      await queryRunner.createTable(
        new Table({
          name: 'sessions',
          columns: [
            { ...varchar('id', 36, false), isPrimary: true },
            varchar('user_id', 255, false),
            varchar('scope', 1000, false),
            time('created_at'),
            time('last_used_at'),
            time('idle_expires_at'),
            time('expires_at'),
            time('revoked_at', true),
            varchar('revoked_reason', 40),
            varchar('ip', 64),
            varchar('user_agent', 512),
            ...tokenColumns.map((column) => (column.name === 'token_key' ? { ...column, isNullable: false } : column)),
          ],
        }),
      );
    } else if (!(await queryRunner.hasColumn('sessions', 'generation'))) {
      await queryRunner.addColumns(
        'sessions',
        tokenColumns.map((column) => new TableColumn(column)),
      );
      // The chain head: unrotated, and either the login's first token or its parent's recorded successor.
      await queryRunner.query(`UPDATE sessions SET legacy_token_id = (
        SELECT t.id FROM refresh_tokens t WHERE t.session_id = sessions.id AND t.used_at IS NULL
          AND (t.parent_id IS NULL OR EXISTS (SELECT 1 FROM refresh_tokens p WHERE p.id = t.parent_id AND p.replaced_by_id = t.id))
        ORDER BY t.created_at DESC LIMIT 1)`);
      await queryRunner.query(`UPDATE sessions SET
        token_hash = (SELECT t.token_hash FROM refresh_tokens t WHERE t.id = sessions.legacy_token_id),
        previous_token_hash = (SELECT p.token_hash FROM refresh_tokens p WHERE p.replaced_by_id = sessions.legacy_token_id),
        rotated_at = (SELECT p.used_at FROM refresh_tokens p WHERE p.replaced_by_id = sessions.legacy_token_id),
        successor_salt = (SELECT p.successor_salt FROM refresh_tokens p WHERE p.replaced_by_id = sessions.legacy_token_id)`);
      await queryRunner.query(
        postgres
          ? "UPDATE sessions SET token_key = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')"
          : 'UPDATE sessions SET token_key = lower(hex(randomblob(32)))',
      );
      // In place on PostgreSQL; SQLite would rebuild the table for it, and every row has a key now.
      if (postgres) await queryRunner.query('ALTER TABLE "sessions" ALTER COLUMN "token_key" SET NOT NULL');
      await this.loosenUserId(queryRunner, 'sessions');
    }
    await ensureIndex(queryRunner, 'sessions', ['user_id']);
    await ensureIndex(queryRunner, 'sessions', ['revoked_at']);
    await ensureIndex(queryRunner, 'sessions', ['legacy_token_id']);

    if (!(await queryRunner.hasTable('refresh_tokens'))) {
      await queryRunner.createTable(
        new Table({
          name: 'refresh_tokens',
          columns: [
            { ...varchar('id', 36, false), isPrimary: true },
            varchar('session_id', 36, false),
            varchar('parent_id', 36),
            varchar('token_hash', 64, false),
            time('created_at'),
            time('expires_at'),
            time('used_at', true),
            varchar('replaced_by_id', 36),
            varchar('successor_salt', 64),
          ],
          indices: [new TableIndex({ columnNames: ['session_id'] })],
          foreignKeys: [
            new TableForeignKey({
              columnNames: ['session_id'],
              referencedTableName: 'sessions',
              referencedColumnNames: ['id'],
              onDelete: 'CASCADE',
            }),
          ],
        }),
      );
    }

    if (!(await queryRunner.hasTable('security_events'))) {
      await queryRunner.createTable(
        new Table({
          name: 'security_events',
          columns: [
            { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
            varchar('user_id', 255, false),
            varchar('type', 40, false),
            varchar('session_id', 36),
            varchar('ip', 64),
            varchar('user_agent', 512),
            time('created_at'),
          ],
        }),
      );
    } else {
      await this.loosenUserId(queryRunner, 'security_events');
    }
    await ensureIndex(queryRunner, 'security_events', ['user_id', 'id']);
    await ensureIndex(queryRunner, 'security_events', ['created_at']);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['security_events', 'refresh_tokens', 'sessions']) await queryRunner.dropTable(table, true);
  }

  /**
   * On PostgreSQL, drops the foreign key to `users` and widens `user_id` to 255 characters, both
   * in place (TypeORM's changeColumn would drop and re-add the column, losing its values).
   * SQLite enforces no length, and its first-schema databases belong to the service, whose users
   * are the built-in table: rebuilding the table there would buy nothing.
   */
  private async loosenUserId(queryRunner: QueryRunner, tableName: string): Promise<void> {
    if (queryRunner.connection.driver.options.type !== 'postgres') return;
    const table = await queryRunner.getTable(tableName);
    for (const key of table?.foreignKeys ?? []) {
      if (key.referencedTableName === 'users' || key.referencedTableName.endsWith('.users')) {
        await queryRunner.dropForeignKey(tableName, key);
      }
    }
    await queryRunner.query(`ALTER TABLE "${tableName}" ALTER COLUMN "user_id" TYPE varchar(255)`);
  }
}

/** Creates an index on the columns unless the table has one on exactly them. */
export async function ensureIndex(queryRunner: QueryRunner, tableName: string, columnNames: string[]): Promise<void> {
  const table = await queryRunner.getTable(tableName);
  const name = queryRunner.connection.namingStrategy.indexName(tableName, columnNames);
  // Databases list an index's columns in their own order: compare them as a set, and by name.
  const wanted = [...columnNames].sort().join(',');
  const exists = table?.indices.some(
    (index) => index.name === name || [...index.columnNames].sort().join(',') === wanted,
  );
  if (!exists) await queryRunner.createIndex(tableName, new TableIndex({ name, columnNames }));
}
