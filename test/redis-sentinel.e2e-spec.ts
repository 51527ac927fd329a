import { createSentinel } from 'redis';
import { login, register, uniqueEmail, type Tokens } from './support/auth-helpers.js';
import { describeBruteForceAcrossInstances } from './support/brute-force-cases.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { OwnRedisSentinel } from './support/redis-cluster.js';
import {
  expectChainContinues,
  expectHealth,
  expectLocalAccountLimit,
  expectReuseDetected,
  expectRevocationChannelWorks,
  expectRevocationFansOut,
  expectSharedAccountLimit,
  waitForRedis,
  type ChannelClient,
} from './support/redis-scenarios.js';
import { expectRevokedNow } from './support/revocation-helpers.js';
import { TestContext, type TestInstance } from './support/test-context.js';

// Services only (test/redis-*): one master watched by one sentinel, and a PostgreSQL cluster, all
// of this file's own. Two instances find the master through REDIS_SENTINELS + REDIS_SENTINEL_NAME.

let sentinel: OwnRedisSentinel;
let postgres: PrivatePostgres;

beforeAll(async () => {
  [sentinel, postgres] = await Promise.all([OwnRedisSentinel.start('nra-master'), PrivatePostgres.start()]);
}, 60_000);
afterAll(async () => {
  await sentinel?.stop();
  await postgres?.destroy();
});

/** A context on the private PostgreSQL, and the env that points an instance at the sentinel. */
async function open(name: string) {
  const context = await TestContext.create(name, { postgresAdminUrl: postgres.url() });
  return {
    context,
    env: {
      REDIS_URL: undefined,
      REDIS_SENTINELS: sentinel.sentinels,
      REDIS_SENTINEL_NAME: sentinel.name,
      REDIS_KEY_PREFIX: context.redisKeyPrefix,
      ARGON2_MEMORY_COST: '7168',
      ARGON2_TIME_COST: '1',
    },
  };
}

/** A channel client of the test's own through the sentinel, for `fn`. */
async function withSentinelClient(fn: (client: ChannelClient) => Promise<void>) {
  const client = createSentinel({
    name: sentinel.name,
    sentinelRootNodes: [{ host: '127.0.0.1', port: sentinel.sentinel.port }],
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.close();
  }
}

describe('Redis Sentinel: revocation and login limits across instances', () => {
  let context: TestContext;
  let env: Record<string, string | undefined>;
  let a: TestInstance;
  let b: TestInstance;

  beforeAll(async () => {
    const opened = await open('redis-sentinel');
    context = opened.context;
    env = { ...opened.env, LOGIN_MAX_FAILURES: '5', LOGIN_FAILURE_WINDOW: '60', LOGIN_MAX_FAILURES_PER_IP: '100000' };
    a = await context.start(env);
    b = await context.start(env);
  });
  afterAll(() => context?.close());

  it('/health reports Redis up on both instances', async () => {
    expect(await waitForRedis([a, b], 'up', 5000)).toBe(true);
    await expectHealth([a, b], 'up');
  });

  it('a session revoked on A is refused by B within 1 s, and the other way round; the channel works both ways', async () => {
    const first = await expectRevocationFansOut(a, b);
    const second = await expectRevocationFansOut(b, a);
    for (const tokens of [first, second]) {
      await expectRevokedNow(a, tokens);
      await expectRevokedNow(b, tokens);
    }
    await withSentinelClient((client) => expectRevocationChannelWorks(a, b, context.redisKeyPrefix, client));
  });

  it('reuse detection and refresh chains across instances', async () => {
    await expectReuseDetected(a, b);
    const account = await register(a, uniqueEmail('sentinel-chain'));
    const chain: { tokens: Tokens } = { tokens: await login(a, account) };
    await expectChainContinues([a, b], chain);
  });

  it('5 failures of one account, spread over both instances, lock it on both (429, Retry-After)', async () => {
    await expectSharedAccountLimit(a, b, 5, 60);
  });

  it('master killed: served from the database, /health 200 with Redis down, limits per instance; started again: shared again', async () => {
    await sentinel.master.kill();
    expect(await waitForRedis([a, b], 'down', 5000)).toBe(true);
    await expectHealth([a, b], 'down');
    await expectRevocationFansOut(a, b);
    await expectLocalAccountLimit([a, b], 5, 60);

    await sentinel.master.restart();
    expect(await waitForRedis([a, b], 'up', 10_000)).toBe(true);
    await withSentinelClient((client) => expectRevocationChannelWorks(b, a, context.redisKeyPrefix, client));
    await expectSharedAccountLimit(b, a, 5, 60);
  });

  it('an instance started while the sentinel is down connects once it is up', async () => {
    await sentinel.sentinel.kill();
    const late = await context.start(env);
    expect(await waitForRedis([late, a, b], 'down', 5000)).toBe(true);
    await expectHealth([late, a, b], 'down');
    await expectRevocationFansOut(a, late);
    await expectLocalAccountLimit([late], 5, 60);
    await sentinel.sentinel.restart();
    // node-redis's Sentinel client stops sending commands while it has no sentinel, master up or
    // not: every instance is down without it, and up again once it reconnects.
    expect(await waitForRedis([late, a, b], 'up', 10_000)).toBe(true);
    await withSentinelClient((client) => expectRevocationChannelWorks(a, late, context.redisKeyPrefix, client));
    await expectSharedAccountLimit(late, a, 5, 60);
  });
});

describeBruteForceAcrossInstances('Redis Sentinel', open, 5);
