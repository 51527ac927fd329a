import pg from 'pg';
import { MaintenanceService } from '../src/index.js';
import { TestContext, type TestInstance } from './support/test-context.js';

// PostgreSQL only: the hourly clean-up runs on one instance at a time, under an advisory lock.
describe('clean-up on one instance at a time', () => {
  let context: TestContext;
  let instance: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('pg-maintenance');
    instance = await context.start();
  });
  afterAll(() => context.close());

  it('skips while another instance holds the lock, and runs once it is free', async () => {
    const holder = new pg.Client({ connectionString: context.baseEnv().DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(742311902)');
      expect(await instance.app.get(MaintenanceService).run()).toBeNull();
      await holder.query('SELECT pg_advisory_unlock(742311902)');
      expect(await instance.app.get(MaintenanceService).run()).toEqual({ sessions: 0, events: 0 });
    } finally {
      await holder.end();
    }
  });
});
