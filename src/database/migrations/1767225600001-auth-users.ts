import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columnTypes } from './1767225600000-auth-sessions.js';

/**
 * The built-in user store's `users` table (only for apps that use it: `USER_MIGRATIONS`), with
 * per-user scopes and a disabled flag; on the service's first schema it adds those columns and
 * lets `password_hash` be empty (an account without password login).
 */
export class AuthUsers1767225600001 implements MigrationInterface {
  name = 'AuthUsers1767225600001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { timestamp } = columnTypes(queryRunner);
    if (!(await queryRunner.hasTable('users'))) {
      await queryRunner.createTable(
        new Table({
          name: 'users',
          columns: [
            { name: 'id', type: 'varchar', length: '36', isPrimary: true },
            { name: 'email', type: 'varchar', length: '320', isUnique: true },
            { name: 'password_hash', type: 'varchar', length: '255', isNullable: true },
            { name: 'name', type: 'varchar', length: '200', isNullable: true },
            { name: 'roles', type: 'text' },
            { name: 'scopes', type: 'text', isNullable: true },
            { name: 'disabled', type: 'boolean', default: false },
            { name: 'created_at', type: timestamp },
            { name: 'password_changed_at', type: timestamp },
          ],
        }),
      );
      return;
    }
    if (!(await queryRunner.hasColumn('users', 'scopes'))) {
      await queryRunner.addColumns('users', [
        new TableColumn({ name: 'scopes', type: 'text', isNullable: true }),
        new TableColumn({ name: 'disabled', type: 'boolean', default: false }),
      ]);
    }
    const hash = (await queryRunner.getTable('users'))?.findColumnByName('password_hash');
    if (hash && !hash.isNullable) {
      // In place on PostgreSQL: TypeORM's changeColumn may drop and re-add a column there.
      if (queryRunner.connection.driver.options.type === 'postgres') {
        await queryRunner.query('ALTER TABLE "users" ALTER COLUMN "password_hash" DROP NOT NULL');
      } else {
        await queryRunner.changeColumn(
          'users',
          'password_hash',
          new TableColumn({ name: 'password_hash', type: 'varchar', length: '255', isNullable: true }),
        );
      }
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('users', true);
  }
}
