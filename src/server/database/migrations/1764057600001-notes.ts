import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The example feature module's notes. */
export class Notes1764057600001 implements MigrationInterface {
  name = 'Notes1764057600001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'notes',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'title', type: 'varchar', length: '200' },
          { name: 'body', type: 'text' },
          {
            name: 'created_at',
            type: queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime',
          },
        ],
        // No foreign key to users: TypeORM orders migrations by timestamp, and the users table's
        // migration is the library's, dated later.
        indices: [new TableIndex({ columnNames: ['user_id'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('notes');
  }
}
