import { register, waitUntil, type Tokens } from './support/auth-helpers.js';
import { countKeys, deleteKeys, OwnRedis } from './support/redis-helpers.js';
import {
  expectAccessLive,
  expectError,
  expectRevokedEverywhere,
  getMe,
  loginAs,
  primeAsLive,
} from './support/revocation-helpers.js';
import { REDIS_URL, TestContext, type TestInstance } from './support/test-context.js';

/** `/health`'s view of one dependency (terminus puts it under `info`, and under `details` too). */
async function healthOf(instance: TestInstance): Promise<{ status: number; database?: string; redis?: string }> {
  const response = await instance.http().get('/health');
  const body = response.body ?? {};
  return {
    status: response.status,
    database: (body.info?.database ?? body.details?.database)?.status,
    redis: (body.info?.redis ?? body.details?.redis)?.status,
  };
}

/** Polls every instance's `/health` until each reports Redis in `status`; true when they all did within `timeoutMs`. */
async function waitForRedis(instances: TestInstance[], status: 'up' | 'down', timeoutMs: number): Promise<boolean> {
  const waited = await waitUntil(
    async () => (await Promise.all(instances.map(healthOf))).every((health) => health.redis === status),
    timeoutMs,
  );
  return waited >= 0;
}

/**
 * Redis is only a cache in front of the database: a flush or a restart must not bring a revoked
 * token back, and requests keep being served while Redis is down.
 */
describe('Redis outage', () => {
  let context: TestContext;
  let ownRedis: OwnRedis | undefined;

  beforeAll(async () => {
    context = await TestContext.create('redis-outage');
  });
  afterAll(async () => {
    try {
      await context.close();
    } finally {
      await ownRedis?.kill();
    }
  });

  describe('on the shared Redis', () => {
    let a: TestInstance;
    let b: TestInstance;

    beforeAll(async () => {
      a = await context.start();
      b = await context.start();
    });

    it('/health: 200 with the database and Redis up', async () => {
      for (const instance of [a, b]) {
        expect(await healthOf(instance)).toEqual({ status: 200, database: 'up', redis: 'up' });
      }
    });

    it('a flush of our keys does not bring a revoked token back, and live sessions keep working', async () => {
      const account = await register(a);
      const revoked = await loginAs(a, account);
      const live = await loginAs(a, account);
      await primeAsLive(b, [revoked, live]);
      await primeAsLive(a, [live]);
      await a.http().post('/auth/logout').send({ refresh_token: revoked.refresh_token }).expect(204);
      await expectRevokedEverywhere(a, b, Date.now(), [revoked]);

      expect(await countKeys(REDIS_URL, context.redisKeyPrefix)).toBeGreaterThan(0);
      await deleteKeys(REDIS_URL, context.redisKeyPrefix);
      expect(await countKeys(REDIS_URL, context.redisKeyPrefix)).toBe(0);

      for (const instance of [a, b]) {
        expectError(await getMe(instance, revoked.access_token), 401, 'token_revoked');
        const refreshed = await instance.http().post('/auth/refresh').send({ refresh_token: revoked.refresh_token });
        expectError(refreshed, 401, 'refresh_token_revoked');
        await expectAccessLive(instance, live);
      }
      const rotated = (await b.http().post('/auth/refresh').send({ refresh_token: live.refresh_token }).expect(200))
        .body as Tokens;
      await expectAccessLive(a, rotated);

      // The cache works again after the flush: a new revocation still reaches the other instance.
      await primeAsLive(a, [rotated]);
      await b.http().post('/auth/logout').send({ refresh_token: rotated.refresh_token }).expect(204);
      await expectRevokedEverywhere(b, a, Date.now(), [rotated, live]);
    });
  });

  describe('on a Redis of its own that dies and comes back', () => {
    let c: TestInstance;
    let d: TestInstance;
    let sessions: { revokedDuringOutage: Tokens; live: Tokens; revokedAfterRestart: Tokens };
    let account: { email: string; password: string };

    beforeAll(async () => {
      ownRedis = await OwnRedis.start();
      c = await context.start({ REDIS_URL: ownRedis.url });
      d = await context.start({ REDIS_URL: ownRedis.url });
      account = await register(c);
      sessions = {
        revokedDuringOutage: await loginAs(c, account),
        live: await loginAs(c, account),
        revokedAfterRestart: await loginAs(c, account),
      };
    });

    it('while it runs: /health reports Redis up', async () => {
      expect(await waitForRedis([c, d], 'up', 5000)).toBe(true);
      expect(await healthOf(c)).toEqual({ status: 200, database: 'up', redis: 'up' });
      for (const tokens of Object.values(sessions)) {
        await expectAccessLive(c, tokens);
        await expectAccessLive(d, tokens);
      }
    });

    it('killed: requests are served from the database, /health is 200 with Redis down, logout still revokes', async () => {
      await ownRedis!.kill();

      for (const instance of [c, d]) await expectAccessLive(instance, sessions.live);
      expect(await waitForRedis([c, d], 'down', 3000)).toBe(true);
      expect(await healthOf(c)).toEqual({ status: 200, database: 'up', redis: 'down' });
      expect(await healthOf(d)).toEqual({ status: 200, database: 'up', redis: 'down' });

      const rotated = (
        await d.http().post('/auth/refresh').send({ refresh_token: sessions.live.refresh_token }).expect(200)
      ).body as Tokens;
      sessions.live = rotated;
      await expectAccessLive(c, rotated);
      const duringOutage = await loginAs(d, account);
      await expectAccessLive(c, duringOutage);

      await c
        .http()
        .post('/auth/logout')
        .send({ refresh_token: sessions.revokedDuringOutage.refresh_token })
        .expect(204);
      await expectRevokedEverywhere(c, d, Date.now(), [sessions.revokedDuringOutage]);
    });

    it('started again (empty): once reconnected, the token revoked during the outage stays revoked and the cache works again', async () => {
      await ownRedis!.restart();
      expect(await waitForRedis([c, d], 'up', 5000)).toBe(true);

      for (const instance of [c, d]) {
        expectError(await getMe(instance, sessions.revokedDuringOutage.access_token), 401, 'token_revoked');
        const refreshed = await instance
          .http()
          .post('/auth/refresh')
          .send({ refresh_token: sessions.revokedDuringOutage.refresh_token });
        expectError(refreshed, 401, 'refresh_token_revoked');
        await expectAccessLive(instance, sessions.live);
      }

      await primeAsLive(c, [sessions.revokedAfterRestart]);
      await d
        .http()
        .post('/auth/logout')
        .set('Authorization', `Bearer ${sessions.revokedAfterRestart.access_token}`)
        .expect(204);
      await expectRevokedEverywhere(d, c, Date.now(), [sessions.revokedAfterRestart]);
      await expectAccessLive(c, sessions.live);
    });
  });
});
