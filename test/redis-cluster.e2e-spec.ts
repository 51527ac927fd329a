import { createCluster } from 'redis';
import { login, register, uniqueEmail, type Tokens } from './support/auth-helpers.js';
import { describeBruteForceAcrossInstances } from './support/brute-force-cases.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { OwnRedisCluster } from './support/redis-cluster.js';
import {
  expectChainContinues,
  expectHealth,
  expectLocalAccountLimit,
  expectRevocationChannelWorks,
  expectReuseDetected,
  expectRevocationFansOut,
  expectSharedAccountLimit,
  healthOf,
  waitForRedis,
  type ChannelClient,
} from './support/redis-scenarios.js';
import { expectAccessLive, expectRevokedNow, loginAs } from './support/revocation-helpers.js';
import { TestContext, type TestInstance } from './support/test-context.js';

// Services only (test/redis-*): a 3-master Redis Cluster and a PostgreSQL cluster of this file's
// own. Two instances point REDIS_CLUSTER_NODES at it: revocations fan out through the cluster's
// pub/sub, the login limits' scripts run on the slot of their hash tag.

let cluster: OwnRedisCluster;
let postgres: PrivatePostgres;

beforeAll(async () => {
  [cluster, postgres] = await Promise.all([OwnRedisCluster.start(3), PrivatePostgres.start()]);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  await postgres?.destroy();
});

/** A context on the private PostgreSQL, and the env that points an instance at the cluster. */
async function open(name: string) {
  const context = await TestContext.create(name, { postgresAdminUrl: postgres.url() });
  return {
    context,
    env: {
      REDIS_URL: undefined,
      REDIS_CLUSTER_NODES: cluster.nodeList,
      REDIS_KEY_PREFIX: context.redisKeyPrefix,
      ARGON2_MEMORY_COST: '7168',
      ARGON2_TIME_COST: '1',
    },
  };
}

describe('Redis Cluster: revocation across instances', () => {
  let context: TestContext;
  let a: TestInstance;
  let b: TestInstance;

  beforeAll(async () => {
    const opened = await open('redis-cluster');
    context = opened.context;
    const env = {
      ...opened.env,
      LOGIN_MAX_FAILURES: '5',
      LOGIN_FAILURE_WINDOW: '60',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
    };
    a = await context.start(env);
    b = await context.start(env);
  });
  afterAll(() => context?.close());

  it('/health reports the cluster up on both instances', async () => {
    expect(await waitForRedis([a, b], 'up', 5000)).toBe(true);
    await expectHealth([a, b], 'up');
  });

  it('a session revoked on A is refused by B within 1 s, and the other way round', async () => {
    const first = await expectRevocationFansOut(a, b);
    const second = await expectRevocationFansOut(b, a);
    for (const tokens of [first, second]) {
      await expectRevokedNow(a, tokens);
      await expectRevokedNow(b, tokens);
    }
  });

  it("the revocation channel goes through the cluster's pub/sub both ways", async () => {
    const client = createCluster({ rootNodes: cluster.nodes.map((node) => ({ url: node.url })) });
    await client.connect();
    try {
      await expectRevocationChannelWorks(a, b, context.redisKeyPrefix, client);
    } finally {
      await client.close();
    }
  });

  it('reuse detection: an old token presented on B revokes the session, refused by A within 1 s', async () => {
    await expectReuseDetected(a, b);
    await expectReuseDetected(b, a);
  });

  it('refresh chains rotate across instances', async () => {
    const account = await register(a, uniqueEmail('cluster-chain'));
    const chain: { tokens: Tokens } = { tokens: await login(a, account) };
    for (let i = 0; i < 3; i++) await expectChainContinues([a, b], chain);
  });

  it('5 failures of one account, spread over both instances, lock it on both (429, Retry-After); the counters sit in the cluster', async () => {
    await expectSharedAccountLimit(a, b, 5, 60);
    expect(await cluster.countKeys(context.redisKeyPrefix)).toBeGreaterThan(0);
  });
});

describeBruteForceAcrossInstances('Redis Cluster', open, 5);

// Last: it kills nodes of the shared cluster.
describe('Redis Cluster: nodes killed and started again', () => {
  let context: TestContext;
  let env: Record<string, string | undefined>;
  let a: TestInstance;
  let b: TestInstance;

  beforeAll(async () => {
    const opened = await open('redis-cluster-faults');
    context = opened.context;
    env = { ...opened.env, LOGIN_MAX_FAILURES: '5', LOGIN_FAILURE_WINDOW: '60', LOGIN_MAX_FAILURES_PER_IP: '100000' };
    a = await context.start(env);
    b = await context.start(env);
    expect(await waitForRedis([a, b], 'up', 5000)).toBe(true);
  });
  afterAll(() => context?.close());

  /** A channel client of the test's own on the cluster, for `fn`. */
  async function withClusterClient(fn: (client: ChannelClient) => Promise<void>) {
    const client = createCluster({ rootNodes: cluster.nodes.map((node) => ({ url: node.url })) });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await fn(client);
    } finally {
      await client.close();
    }
  }

  it('one master killed: logins, refreshes and revocations go on, /health stays 200; started again, the limits are shared again', async () => {
    const account = await register(a, uniqueEmail('cluster-node'));
    const chain: { tokens: Tokens } = { tokens: await login(a, account) };
    await cluster.nodes[0]!.kill();

    // Its slots' counters fall back in process, the other slots' stay shared.
    for (const instance of [a, b]) {
      const health = await healthOf(instance);
      expect({ status: health.status, database: health.database }).toEqual({ status: 200, database: 'up' });
      await loginAs(instance, account);
    }
    await expectChainContinues([a, b], chain);
    await expectRevocationFansOut(a, b);
    await expectReuseDetected(b, a);

    await cluster.restart();
    expect(await waitForRedis([a, b], 'up', 10_000)).toBe(true);
    await expectSharedAccountLimit(a, b, 5, 60);
    await expectChainContinues([b, a], chain);
  });

  it('every node killed: served from the database, /health 200 with Redis down; started again (empty): up, the channel and the shared limits work again', async () => {
    const account = await register(a, uniqueEmail('cluster-down'));
    const live = await loginAs(a, account);
    await cluster.kill();

    expect(await waitForRedis([a, b], 'down', 5000)).toBe(true);
    await expectHealth([a, b], 'down');
    for (const instance of [a, b]) await expectAccessLive(instance, live);
    const revoked = await expectRevocationFansOut(b, a);
    await expectReuseDetected(a, b);
    await expectLocalAccountLimit([a, b], 5, 60);

    await cluster.restart();
    expect(await waitForRedis([a, b], 'up', 10_000)).toBe(true);
    await expectHealth([a, b], 'up');
    await expectRevokedNow(a, revoked);
    await expectRevokedNow(b, revoked);
    await withClusterClient((client) => expectRevocationChannelWorks(a, b, context.redisKeyPrefix, client));
    await expectSharedAccountLimit(b, a, 5, 60);
  });

  it('an instance started while the cluster is down connects once it is up', async () => {
    await cluster.kill();
    const late = await context.start(env);
    expect(await waitForRedis([late], 'down', 5000)).toBe(true);
    await expectRevocationFansOut(a, late);

    await cluster.restart();
    expect(await waitForRedis([late, a], 'up', 10_000)).toBe(true);
    await withClusterClient((client) => expectRevocationChannelWorks(a, late, context.redisKeyPrefix, client));
    await withClusterClient((client) => expectRevocationChannelWorks(late, a, context.redisKeyPrefix, client));
    await expectSharedAccountLimit(late, a, 5, 60);
  });
});
