import type { Response } from 'supertest';
import {
  login,
  refresh,
  register,
  sleep,
  uniqueEmail,
  waitUntil,
  type Account,
  type Tokens,
} from './support/auth-helpers.js';
import { DatabaseProbe } from './support/postgres-checks.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { OwnRedis } from './support/redis-helpers.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { TestContext, type TestInstance } from './support/test-context.js';

// PostgreSQL only (test/postgres-*): a cluster of this file's own, stopped and started with
// pg_ctl while requests keep coming, and reached through a proxy that is cut.

/** A request is called hung past this (the pool gives up connecting after 3 s). */
const HUNG_MS = 8000;
const FAST_HASHING = { ARGON2_MEMORY_COST: '7168', ARGON2_TIME_COST: '1' };

/** `before`, then `down <n>` and `up <n>` for each stop and start. */
type Phase = string;
const CYCLES = 3;

/** One answer the load got. */
interface Observed {
  phase: Phase;
  route: string;
  status: number | 'hung' | 'network error';
  code?: string;
  contractShape: boolean;
}

/** What a 503 must look like: the contract's error shape. */
function hasContractShape(response: Response): boolean {
  const body = response.body ?? {};
  return body.statusCode === response.status && typeof body.code === 'string' && typeof body.message === 'string';
}

let cluster: PrivatePostgres;
let redis: OwnRedis;

beforeAll(async () => {
  cluster = await PrivatePostgres.start();
  redis = await OwnRedis.start();
}, 60_000);
afterAll(async () => {
  await redis?.kill();
  await cluster?.destroy();
});

describe('PostgreSQL stopped and started under load (pg_ctl stop -m fast, then start)', () => {
  let context: TestContext;
  let instance: TestInstance;
  let db: DatabaseProbe;

  beforeAll(async () => {
    context = await TestContext.create('pg-restart', { postgresAdminUrl: cluster.url(), redisUrl: redis.url });
    instance = await context.start({ ...FAST_HASHING, LOGIN_MAX_FAILURES_PER_IP: '100000' });
    db = new DatabaseProbe(context.postgresUrl!);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await context?.close();
  });

  it('answers 503 service_unavailable meanwhile, leaves nothing half-written, and recovers without a restart', async () => {
    let phase: Phase = 'before';
    let running = true;
    const observed: Observed[] = [];
    const send = async (route: string, request: () => Promise<Response>): Promise<Response | null> => {
      const at = phase;
      try {
        const response = await request();
        observed.push({
          phase: at,
          route,
          status: response.status,
          code: response.body?.code,
          contractShape: response.status < 400 || hasContractShape(response),
        });
        return response;
      } catch (error) {
        const hung = (error as { timeout?: unknown }).timeout !== undefined;
        observed.push({ phase: at, route, status: hung ? 'hung' : 'network error', contractShape: false });
        return null;
      }
    };
    const countOf = (where: Phase, status: number, route?: string) =>
      observed.filter((o) => o.phase === where && o.status === status && (!route || o.route === route)).length;

    // Refresh chains: each keeps the last token it was given and retries the same one after a 503.
    const chains: Array<{ account: Account; tokens: Tokens }> = [];
    for (let i = 0; i < 3; i++) {
      const account = await register(instance, uniqueEmail('restart'));
      chains.push({ account, tokens: await login(instance, account) });
    }
    const refreshLoop = async (chain: (typeof chains)[number]) => {
      while (running) {
        const response = await send('refresh', () =>
          refresh(instance, chain.tokens.refresh_token)
            .timeout(HUNG_MS)
            .then((r) => r),
        );
        if (response?.status === 200) chain.tokens = response.body as Tokens;
        await sleep(20);
      }
    };
    const meLoop = async (chain: (typeof chains)[number]) => {
      while (running) {
        await send('me', () =>
          instance
            .http()
            .get('/auth/me')
            .set('Authorization', `Bearer ${chain.tokens.access_token}`)
            .timeout(HUNG_MS)
            .then((r) => r),
        );
        await sleep(20);
      }
    };
    // Logins feed a queue of sessions that the logout loops end one by one, each retrying its
    // session until the logout is answered; the queue starts full so that logouts are in flight
    // at every stop.
    const logoutAccount = await register(instance, uniqueEmail('restart-logout'));
    const queue: Tokens[] = [];
    for (let i = 0; i < 12; i++) queue.push(await login(instance, logoutAccount));
    const loggedOut: string[] = [];
    const loginLoop = async () => {
      while (running) {
        const response = await send('login', () =>
          instance
            .http()
            .post('/auth/login')
            .send({ email: logoutAccount.email, password: logoutAccount.password })
            .timeout(HUNG_MS)
            .then((r) => r),
        );
        if (response?.status === 200) queue.push(response.body as Tokens);
        await sleep(50);
      }
    };
    const logoutLoop = async () => {
      let pending: Tokens | undefined;
      while (running) {
        pending ??= queue.shift();
        const session = pending;
        if (session) {
          const response = await send('logout', () =>
            instance
              .http()
              .post('/auth/logout')
              .send({ refresh_token: session.refresh_token })
              .timeout(HUNG_MS)
              .then((r) => r),
          );
          if (response?.status === 204) {
            loggedOut.push(session.session_id);
            pending = undefined;
            // Slower than the logins, so the queue never runs dry.
            await sleep(200);
          }
        }
        await sleep(20);
      }
    };
    const loops = [...chains.map(refreshLoop), ...chains.map(meLoop), loginLoop(), logoutLoop(), logoutLoop()];

    /** Counts by phase, route and answer, for failure messages. */
    const summary = () => {
      const counts: Record<string, number> = {};
      for (const o of observed) {
        const key = `${o.phase} ${o.route} ${o.status}${o.code ? ` ${o.code}` : ''}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    };
    /** Waits up to `ms` for `check`; on time-out the expectation shows what the load saw. */
    const expectWithin = async (check: () => Promise<boolean>, ms: number, what: string) => {
      const waited = await waitUntil(check, ms);
      if (waited < 0) expect({ what, observed: summary() }).toEqual({ what, observed: 'within the bound' });
    };
    const everyRouteAnswered = (where: Phase, status: number, routes: string[], times: number) => () =>
      Promise.resolve(routes.every((route) => countOf(where, status, route) >= times));
    try {
      await expectWithin(everyRouteAnswered('before', 200, ['refresh', 'me', 'login'], 3), 15_000, 'served before');
      // Three stops: more requests caught at the moment the server goes, in every state.
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        phase = `down ${cycle}`;
        await cluster.stop('fast');
        // Every route gets its 503s while the server is down (GET /auth/me first from the cache,
        // for up to a second, then from the database like the rest).
        const down = everyRouteAnswered(phase, 503, ['refresh', 'me', 'login', 'logout'], 3);
        await expectWithin(down, 15_000, `503s while down (${cycle})`);
        const health = await instance.http().get('/health').timeout(HUNG_MS);
        expect(health.status).toBe(503);
        expect(health.body.error?.database?.status ?? health.body.details?.database?.status).toBe('down');

        await cluster.resume();
        phase = `up ${cycle}`;
        expect(
          await waitUntil(async () => (await instance.http().get('/health')).status === 200, 15_000, 100),
        ).toBeGreaterThanOrEqual(0);
        const up = everyRouteAnswered(phase, 200, ['refresh', 'me', 'login'], 3);
        await expectWithin(up, 15_000, `served after (${cycle})`);
        await expectWithin(async () => countOf(phase, 204, 'logout') >= 2, 15_000, `logouts after (${cycle})`);
      }
    } finally {
      running = false;
      await Promise.all(loops);
    }

    // Nothing but success and 503 in the contract's shape; no hang, no 500, no false verdict.
    const unexpected = observed.filter(
      (o) => !(o.status === 200 || o.status === 204 || (o.status === 503 && o.code === 'service_unavailable')),
    );
    expect(unexpected).toEqual([]);
    expect(observed.filter((o) => !o.contractShape)).toEqual([]);

    // Nothing half-written: every chain refreshes on, never judged reused; every session has its
    // login event; each session logged out has exactly one logout event.
    for (const chain of chains) {
      const next = await refresh(instance, chain.tokens.refresh_token);
      expect({ status: next.status, code: next.body?.code }).toEqual({ status: 200, code: undefined });
      await db.expectConsistent(chain.account.id);
      expect(await db.countEvents(chain.account.id, 'refresh_token_reused')).toBe(0);
    }
    await db.expectConsistent(logoutAccount.id);
    for (const sessionId of loggedOut) {
      expect({ sessionId, logouts: await db.countEvents(logoutAccount.id, 'logout', sessionId) }).toEqual({
        sessionId,
        logouts: 1,
      });
    }
  });
});

// The database reached through a proxy that the test cuts, as if the network to the server had gone.
describe('database unreachable', () => {
  let context: TestContext;
  let proxy: TcpProxy;
  let instance: TestInstance;

  beforeAll(async () => {
    // The test above may have failed with the cluster stopped.
    if (!cluster.isRunning) await cluster.resume();
    context = await TestContext.create('pg-outage', { postgresAdminUrl: cluster.url(), redisUrl: redis.url });
    const direct = new URL(context.postgresUrl!);
    proxy = await TcpProxy.start(direct.hostname, Number(direct.port));
    direct.host = `127.0.0.1:${proxy.port}`;
    instance = await context.start({ DATABASE_URL: direct.toString(), LOGIN_MAX_FAILURES_PER_IP: '1000' });
  }, 60_000);
  afterAll(async () => {
    await proxy?.listen();
    await context?.close();
    await proxy?.cut();
  });

  it('answers 503 service_unavailable while the database is down, changes nothing, and recovers', async () => {
    const account = await register(instance);
    const tokens = await login(instance, account);
    const bearer = `Bearer ${tokens.access_token}`;

    await proxy.cut();

    const refused = await refresh(instance, tokens.refresh_token);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({
      statusCode: 503,
      code: 'service_unavailable',
      message: expect.any(String),
    });
    const loginDuringOutage = await instance
      .http()
      .post('/auth/login')
      .send({ email: account.email, password: account.password });
    expect(loginDuringOutage.status).toBe(503);
    expect(loginDuringOutage.body.code).toBe('service_unavailable');

    // Past the 1 s live-cache window the revocation check needs the database too.
    expect(
      await waitUntil(
        async () => (await instance.http().get('/auth/me').set('Authorization', bearer)).status === 503,
        3000,
      ),
    ).toBeGreaterThanOrEqual(0);

    const health = await instance.http().get('/health');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('error');

    await proxy.listen();
    expect(
      await waitUntil(async () => (await instance.http().get('/health')).status === 200, 10_000, 200),
    ).toBeGreaterThanOrEqual(0);

    // Nothing was half-written: the refresh token refused during the outage was not consumed.
    const after = await refresh(instance, tokens.refresh_token);
    expect(after.status).toBe(200);
    await instance.http().get('/auth/me').set('Authorization', `Bearer ${after.body.access_token}`).expect(200);
  });
});
