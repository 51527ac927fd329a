import {
  Table,
  TableForeignKey,
  TableIndex,
  type MigrationInterface,
  type QueryRunner,
  type TableColumnOptions,
} from 'typeorm';

/** Column types that differ between PostgreSQL and SQLite, picked from the running driver. */
export function columnTypes(queryRunner: QueryRunner): { timestamp: string } {
  return { timestamp: queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime' };
}

/** Users, sessions (refresh-token families), refresh tokens and the security log. */
export class AuthSchema1764057600000 implements MigrationInterface {
  name = 'AuthSchema1764057600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { timestamp } = columnTypes(queryRunner);
    const id = (name: string, nullable = false): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: '36',
      isNullable: nullable,
    });
    const time = (name: string, nullable = false): TableColumnOptions => ({
      name,
      type: timestamp,
      isNullable: nullable,
    });
    const text = (name: string, length: number, nullable = true): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      isNullable: nullable,
    });

    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          { ...id('id'), isPrimary: true },
          { ...text('email', 320, false), isUnique: true },
          text('password_hash', 255, false),
          text('name', 200),
          { name: 'roles', type: 'text', isNullable: false },
          time('created_at'),
          time('password_changed_at'),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { ...id('id'), isPrimary: true },
          id('user_id'),
          text('scope', 1000, false),
          time('created_at'),
          time('last_used_at'),
          time('idle_expires_at'),
          time('expires_at'),
          time('revoked_at', true),
          text('revoked_reason', 40),
          text('ip', 64),
          text('user_agent', 512),
        ],
        indices: [new TableIndex({ columnNames: ['user_id'] })],
        foreignKeys: [
          new TableForeignKey({
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'refresh_tokens',
        columns: [
          { ...id('id'), isPrimary: true },
          id('session_id'),
          id('parent_id', true),
          text('token_hash', 64, false),
          time('created_at'),
          time('expires_at'),
          time('used_at', true),
          id('replaced_by_id', true),
          text('successor_salt', 64),
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

    await queryRunner.createTable(
      new Table({
        name: 'security_events',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          id('user_id'),
          text('type', 40, false),
          id('session_id', true),
          text('ip', 64),
          text('user_agent', 512),
          time('created_at'),
        ],
        indices: [new TableIndex({ columnNames: ['user_id', 'id'] })],
        foreignKeys: [
          new TableForeignKey({
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['security_events', 'refresh_tokens', 'sessions', 'users']) {
      await queryRunner.dropTable(table);
    }
  }
}
