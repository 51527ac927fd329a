import { DataSource } from 'typeorm';
import { AccessTokenService, MaintenanceService, RevocationService } from '../src/index.js';
import { login, register, registerAndLogin, waitUntil } from './support/auth-helpers.js';
import { SERVICES, TestContext, type TestInstance } from './support/test-context.js';

function me(instance: TestInstance, accessToken: string) {
  return instance.http().get('/auth/me').set('Authorization', `Bearer ${accessToken}`);
}

// Issue 8: the near cache answers guarded requests from memory and still honours every
// revocation within the contract's second, on every instance.
describe('the revocation near cache', () => {
  let context: TestContext;
  let a: TestInstance;
  let b: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('revocation-cache');
    a = await context.start();
    b = await context.start();
  });
  afterAll(() => context.close());

  it('answers repeated checks of a session from memory', async () => {
    const { tokens } = await registerAndLogin(a);
    const revocation = b.app.get(RevocationService);
    await me(b, tokens.access_token).expect(200);
    const before = revocation.stats().entries;
    for (let i = 0; i < 20; i++) await me(b, tokens.access_token).expect(200);
    expect(revocation.stats()).toMatchObject({ entries: before, trusted: true });
  });

  it('rejects a token on instance B within a second of its revocation on A, while B serves it under load', async () => {
    const { tokens } = await registerAndLogin(a);
    let running = true;
    const statuses: number[] = [];
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (running) statuses.push((await me(b, tokens.access_token)).status);
      }),
    );
    await waitUntil(async () => statuses.length > 50, 5000);
    expect(new Set(statuses)).toEqual(new Set([200]));
    const revokedAt = Date.now();
    await a.http().post('/auth/logout').set('Authorization', `Bearer ${tokens.access_token}`).expect(204);
    const seen = await waitUntil(async () => (await me(b, tokens.access_token)).status === 401, 1000, 10);
    running = false;
    await load;
    expect(seen).toBeGreaterThanOrEqual(0);
    expect(Date.now() - revokedAt).toBeLessThan(2000);
    // Once refused, it stays refused on every instance.
    for (const instance of [a, b]) expect((await me(instance, tokens.access_token)).body.code).toBe('token_revoked');
  });

  it('sees a revocation written straight into the database (no message at all) through the poll', async () => {
    const { tokens } = await registerAndLogin(a);
    await me(b, tokens.access_token).expect(200);
    await b.app
      .get(DataSource)
      .query(
        SERVICES
          ? `UPDATE sessions SET revoked_at = clock_timestamp(), revoked_reason = 'admin_revoked' WHERE id = $1`
          : `UPDATE sessions SET revoked_at = ?, revoked_reason = 'admin_revoked' WHERE id = ?`,
        SERVICES ? [tokens.session_id] : [new Date().toISOString().slice(0, 23).replace('T', ' '), tokens.session_id],
      );
    const seen = await waitUntil(async () => (await me(b, tokens.access_token)).status === 401, 1000, 10);
    expect(seen).toBeGreaterThanOrEqual(0);
  });

  (SERVICES ? it : it.skip)(
    'PostgreSQL: keeps answering from memory, and keeps polling, while every connection of the pool waits',
    async () => {
      const { tokens } = await registerAndLogin(a);
      const other = await registerAndLogin(a);
      for (const t of [tokens, other.tokens]) await me(b, t.access_token).expect(200);
      const dataSource = b.app.get(DataSource);
      // Every connection of B's pool (10) busy for 3 s, as a slow WAL flush would hold them.
      const busy = Promise.all(Array.from({ length: 10 }, () => dataSource.query('SELECT pg_sleep(3)')));
      await new Promise((resolve) => setTimeout(resolve, 200));
      // A revocation B hears of only through its poll (written straight into the database by A).
      await a.app
        .get(DataSource)
        .query(`UPDATE sessions SET revoked_at = clock_timestamp(), revoked_reason = 'admin_revoked' WHERE id = $1`, [
          other.tokens.session_id,
        ]);
      // The guard's check (signature and session status: what a guarded route with no database
      // work of its own costs) answered from memory, without a connection of the pool.
      const guard = b.app.get(AccessTokenService);
      const started = Date.now();
      for (let i = 0; i < 10; i++) await expect(guard.verify(tokens.access_token)).resolves.toBeDefined();
      expect(Date.now() - started).toBeLessThan(500);
      expect(b.app.get(RevocationService).stats().trusted).toBe(true);
      // And the poll, on its own connection, still brings the revocation in within the second.
      const seen = await waitUntil(
        () =>
          guard.verify(other.tokens.access_token).then(
            () => false,
            (error: { code?: string }) => error.code === 'token_revoked',
          ),
        1000,
        10,
      );
      expect(seen).toBeGreaterThanOrEqual(0);
      expect(Date.now() - started).toBeLessThan(1500);
      await busy;
    },
    20_000,
  );

  it('stays within its bound, evicting the least recently used session', async () => {
    const small = await context.start({ SESSION_CACHE_SIZE: '3', ACCESS_TOKEN_CACHE_SIZE: '2' });
    const account = await register(small);
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await login(small, account));
    for (const tokens of sessions) await me(small, tokens.access_token).expect(200);
    const revocation = small.app.get(RevocationService);
    expect(revocation.stats()).toMatchObject({ entries: 3, capacity: 3 });
    expect(revocation.stats().evictions).toBeGreaterThanOrEqual(2);
    // An evicted session is read again, and a revoked one is refused all the same.
    await small.http().post('/auth/logout').set('Authorization', `Bearer ${sessions[0]!.access_token}`).expect(204);
    expect((await me(small, sessions[0]!.access_token)).body.code).toBe('token_revoked');
    for (const tokens of sessions.slice(1)) await me(small, tokens.access_token).expect(200);
    expect(revocation.stats().entries).toBe(3);
  });
});

// Issue 7: security events are kept for SECURITY_EVENT_RETENTION, ended sessions a day; the
// clean-up runs on one instance at a time.
describe('retention', () => {
  let context: TestContext;
  let instance: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('retention');
    instance = await context.start({ SECURITY_EVENT_RETENTION: '30d' });
  });
  afterAll(() => context.close());

  it('drops ended sessions a day after they end, security events after the retention, and keeps the rest', async () => {
    const { tokens } = await registerAndLogin(instance);
    const fresh = await registerAndLogin(instance);
    await instance.http().post('/auth/logout').set('Authorization', `Bearer ${tokens.access_token}`).expect(204);
    const maintenance = instance.app.get(MaintenanceService);
    expect(await maintenance.run()).toEqual({ sessions: 0, events: 0 });

    const twoDaysOn = await maintenance.run(new Date(Date.now() + 2 * 86_400_000));
    expect(twoDaysOn).toMatchObject({ sessions: 1, events: 0 });
    await instance.http().get('/auth/me').set('Authorization', `Bearer ${fresh.tokens.access_token}`).expect(200);
    const log = await instance
      .http()
      .get('/auth/events')
      .set('Authorization', `Bearer ${fresh.tokens.access_token}`)
      .expect(200);
    expect(log.body.items.map((item: { type: string }) => item.type)).toEqual(['login', 'register']);

    const monthOn = await maintenance.run(new Date(Date.now() + 31 * 86_400_000));
    // register + login of both users, and the logout.
    expect(monthOn!.events).toBe(5);
  });
});
