import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';

// Any fixed number works: it only has to be the same for every instance of this service.
const MIGRATION_LOCK_ID = 742_311_901;

/**
 * Runs pending migrations. On PostgreSQL an advisory lock makes instances that start together
 * take turns, so none sees a half-made schema.
 *
 * @example await runMigrations(dataSource);
 */
export async function runMigrations(dataSource: DataSource): Promise<void> {
  const logger = new Logger('Migrations');
  if (dataSource.options.type !== 'postgres') {
    await applyPending(dataSource, logger);
    return;
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await applyPending(dataSource, logger);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await runner.release();
  }
}

async function applyPending(dataSource: DataSource, logger: Logger): Promise<void> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  for (const migration of applied) logger.log(`applied ${migration.name}`);
}
