import { login, register, uniqueEmail, type Account, type Tokens } from './support/auth-helpers.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { countKeys, flushAll, openChannelClient, OwnRedis } from './support/redis-helpers.js';
import {
  expectChainContinues,
  expectHealth,
  expectLocalAccountLimit,
  expectReuseDetected,
  expectRevocationChannelWorks,
  expectRevocationFansOut,
  expectSharedAccountLimit,
  waitForRedis,
} from './support/redis-scenarios.js';
import {
  expectAccessLive,
  expectError,
  expectRevokedEverywhere,
  expectRevokedNow,
  getMe,
  loginAs,
  primeAsLive,
} from './support/revocation-helpers.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { TestContext, type TestInstance } from './support/test-context.js';

// Services only (test/redis-*): a PostgreSQL cluster and a redis-server of this file's own; both
// instances reach Redis through a proxy that can stall. Redis is a cache in front of the
// database: killed, flushed, restarted or hung, a revoked token must stay revoked (and be
// refused everywhere within a second), requests keep being served, /health tells the truth, and
// login limits hold (shared through Redis, per instance while it is unreachable).

const MAX_FAILURES = 3;
const WINDOW_SECONDS = 60;

describe('Redis killed, flushed, restarted and stalled under two instances', () => {
  let cluster: PrivatePostgres;
  let redis: OwnRedis;
  let proxy: TcpProxy;
  let context: TestContext;
  let a: TestInstance;
  let b: TestInstance;
  let account: Account;
  /** A refresh chain that lives through every situation. */
  const chain = {} as { tokens: Tokens };
  /** Sessions revoked so far: they must stay refused whatever happens to Redis. */
  const revoked: Tokens[] = [];
  const env = {
    LOGIN_MAX_FAILURES: String(MAX_FAILURES),
    LOGIN_FAILURE_WINDOW: String(WINDOW_SECONDS),
    LOGIN_MAX_FAILURES_PER_IP: '100000',
    ARGON2_MEMORY_COST: '7168',
    ARGON2_TIME_COST: '1',
  };

  /** Everything revoked so far is still refused by both instances. */
  async function expectStillRevoked(): Promise<void> {
    for (const tokens of revoked) {
      await expectRevokedNow(a, tokens);
      await expectRevokedNow(b, tokens);
    }
  }

  beforeAll(async () => {
    cluster = await PrivatePostgres.start();
    redis = await OwnRedis.start();
    proxy = await TcpProxy.start('127.0.0.1', redis.port);
    context = await TestContext.create('redis-faults', {
      postgresAdminUrl: cluster.url(),
      redisUrl: `redis://127.0.0.1:${proxy.port}`,
    });
    a = await context.start(env);
    b = await context.start(env);
    account = await register(a, uniqueEmail('redis-faults'));
    chain.tokens = await login(a, account);
  }, 60_000);
  afterAll(async () => {
    proxy?.unstall();
    await context?.close();
    await proxy?.cut();
    await redis?.kill();
    await cluster?.destroy();
  });

  it('up: /health reports both up; revocations fan out, reuse is detected, chains rotate, limits are shared', async () => {
    expect(await waitForRedis([a, b], 'up', 5000)).toBe(true);
    await expectHealth([a, b], 'up');
    revoked.push(await expectRevocationFansOut(a, b));
    await expectReuseDetected(a, b);
    await expectChainContinues([a, b], chain);
    await expectSharedAccountLimit(a, b, MAX_FAILURES, WINDOW_SECONDS);
    const channel = await openChannelClient(redis.url);
    try {
      await expectRevocationChannelWorks(a, b, context.redisKeyPrefix, channel);
    } finally {
      await channel.close();
    }
  });

  it('flushed (FLUSHALL): a revoked token does not come back, live sessions keep working, the cache works again', async () => {
    const ended = await loginAs(a, account);
    const live = await loginAs(a, account);
    await primeAsLive(b, [ended, live]);
    await primeAsLive(a, [live]);
    await a.http().post('/auth/logout').send({ refresh_token: ended.refresh_token }).expect(204);
    await expectRevokedEverywhere(a, b, Date.now(), [ended]);
    revoked.push(ended);

    expect(await countKeys(redis.url, context.redisKeyPrefix)).toBeGreaterThan(0);
    await flushAll(redis.url);
    expect(await countKeys(redis.url, context.redisKeyPrefix)).toBe(0);

    await expectStillRevoked();
    for (const instance of [a, b]) await expectAccessLive(instance, live);
    await expectHealth([a, b], 'up');
    revoked.push(await expectRevocationFansOut(b, a));
    await expectReuseDetected(b, a);
    await expectChainContinues([b, a], chain);
    await expectSharedAccountLimit(a, b, MAX_FAILURES, WINDOW_SECONDS);
  });

  it('killed: served from the database, /health 200 with Redis down, revocations still reach the other instance, limits held per instance', async () => {
    const live = await loginAs(a, account);
    await redis.kill();

    for (const instance of [a, b]) await expectAccessLive(instance, live);
    expect(await waitForRedis([a, b], 'down', 3000)).toBe(true);
    await expectHealth([a, b], 'down');

    await expectChainContinues([b, a], chain);
    const duringOutage = await loginAs(b, account);
    await expectAccessLive(a, duringOutage);
    revoked.push(await expectRevocationFansOut(a, b));
    revoked.push(await expectRevocationFansOut(b, a));
    await expectReuseDetected(a, b);
    await expectStillRevoked();
    await expectLocalAccountLimit([a, b], MAX_FAILURES, WINDOW_SECONDS);
  });

  it('started again (empty): once reconnected, what was revoked stays revoked, the cache and the shared limits work again', async () => {
    await redis.restart();
    expect(await waitForRedis([a, b], 'up', 5000)).toBe(true);
    await expectHealth([a, b], 'up');
    await expectStillRevoked();

    // A logout by access token on B reaches A through Redis again.
    const ended = await loginAs(a, account);
    await primeAsLive(a, [ended]);
    await b.http().post('/auth/logout').set('Authorization', `Bearer ${ended.access_token}`).expect(204);
    await expectRevokedEverywhere(b, a, Date.now(), [ended]);
    revoked.push(ended);

    await expectChainContinues([a, b], chain);
    await expectReuseDetected(b, a);
    await expectSharedAccountLimit(b, a, MAX_FAILURES, WINDOW_SECONDS);
  });

  it('stalled (connections open, nothing answers): requests do not hang, /health 200 with Redis down, revocations reach the other instance, limits held per instance', async () => {
    proxy.stall();
    const live = await loginAs(a, account);
    for (const instance of [a, b]) await expectAccessLive(instance, live);
    expect(await waitForRedis([a, b], 'down', 5000)).toBe(true);
    await expectHealth([a, b], 'down');

    await expectChainContinues([a, b], chain);
    revoked.push(await expectRevocationFansOut(a, b));
    revoked.push(await expectRevocationFansOut(b, a));
    await expectReuseDetected(b, a);
    await expectStillRevoked();
    await expectLocalAccountLimit([a, b], MAX_FAILURES, WINDOW_SECONDS);
    expectError(await getMe(a, revoked[0]!.access_token), 401, 'token_revoked');
  });

  it('no longer stalled: Redis is reported up again, revocations and shared limits go through it', async () => {
    proxy.unstall();
    expect(await waitForRedis([a, b], 'up', 10_000)).toBe(true);
    await expectHealth([a, b], 'up');
    await expectStillRevoked();
    revoked.push(await expectRevocationFansOut(b, a));
    await expectChainContinues([b, a], chain);
    await expectSharedAccountLimit(a, b, MAX_FAILURES, WINDOW_SECONDS);
    const channel = await openChannelClient(redis.url);
    try {
      await expectRevocationChannelWorks(b, a, context.redisKeyPrefix, channel);
    } finally {
      await channel.close();
    }
  });

  it('an instance started while Redis is down serves without it, then connects and subscribes once it is up', async () => {
    await redis.kill();
    const late = await context.start(env);
    expect(await waitForRedis([late], 'down', 5000)).toBe(true);
    await expectHealth([late], 'down');
    revoked.push(await expectRevocationFansOut(a, late));

    await redis.restart();
    expect(await waitForRedis([late, a, b], 'up', 10_000)).toBe(true);
    const channel = await openChannelClient(redis.url);
    try {
      await expectRevocationChannelWorks(a, late, context.redisKeyPrefix, channel);
      await expectRevocationChannelWorks(late, b, context.redisKeyPrefix, channel);
    } finally {
      await channel.close();
    }
    await expectSharedAccountLimit(late, a, MAX_FAILURES, WINDOW_SECONDS);
  });
});
