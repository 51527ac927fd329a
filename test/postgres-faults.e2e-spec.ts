import pg from 'pg';
import type { Response } from 'supertest';
import { login, refresh, register, uniqueEmail, waitUntil, type Account, type Tokens } from './support/auth-helpers.js';
import { PgFaultProxy, type CutMode } from './support/pg-fault-proxy.js';
import { DatabaseProbe } from './support/postgres-checks.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { OwnRedis } from './support/redis-helpers.js';
import { expectError, isAccessRevoked, REVOCATION_BOUND_MS } from './support/revocation-helpers.js';
import { TestContext, type TestInstance } from './support/test-context.js';

// PostgreSQL only (test/postgres-*): a cluster, a redis-server and a wire-protocol proxy of this
// file's own. The proxy names every statement a request sends; each case below cuts the
// connection at one of them, before it reaches the server or after the server committed it (the
// answer lost on the way back), expects 503, retries the same request, and checks the answer and
// what the database holds.

const ADMIN = { email: 'faults-admin@example.com', password: 'admin password for faults' };
const NEW_PASSWORD = 'a brand new password';

/** The state one run of a request starts from: fresh accounts and sessions. */
interface World {
  account: Account;
  /** The session the request is about (its tokens are what the request sends). */
  subject: Tokens;
  /** Another live session of the same account. */
  other: Tokens;
  /** An older refresh token of `subject`'s chain (two rotations back), for reuse detection. */
  ancestor?: string;
  /** An admin's session, for the admin route. */
  admin?: Tokens;
}

/** Where the first attempt died: the statement (its `occurrence`-th of that name) and the side of it. */
interface Cut {
  statement: string;
  occurrence: number;
  mode: CutMode;
}

/** One multi-statement request: the statements it sends and what a retry after a 503 must get. */
interface Case {
  name: string;
  /** The statements it sends in order, as {@link PgFaultProxy} names them. */
  statements: string[];
  /** The answer without a fault. */
  status: number;
  /** The statement that writes what the request is for (its first occurrence). */
  writes: string;
  /** Whether that write is in the database. */
  written(db: DatabaseProbe, world: World): Promise<boolean>;
  /** The request is a theft: its session is revoked as reused. */
  reuse?: boolean;
  setup(instance: TestInstance): Promise<World>;
  send(instance: TestInstance, world: World): Promise<Response>;
  /**
   * Checks the answer of the retry (or of the request itself when `cut` is null) and the
   * database; `cut` says where the first attempt died.
   */
  verify(
    context: { instance: TestInstance; db: DatabaseProbe },
    world: World,
    answer: Response,
    cut: Cut | null,
  ): Promise<void>;
}

const bearer = (tokens: Tokens) => `Bearer ${tokens.access_token}`;

/** A fresh account with two sessions (`subject`, `other`). */
async function twoSessions(instance: TestInstance): Promise<World> {
  const account = await register(instance, uniqueEmail('fault'));
  return { account, subject: await login(instance, account), other: await login(instance, account) };
}

/** The generation a refresh token carries (`<session>.<generation>.<secret>.<tag>`). */
function generationOf(refreshToken: string): number {
  return Number(refreshToken.split('.')[1]);
}

/**
 * Expects the session ended: its refresh token refused at once (the database decides), its access
 * token within the contract's bound (a retry that finds the session revoked already leaves the
 * instance to learn it from its poll).
 */
async function expectSessionEnded(instance: TestInstance, tokens: Tokens): Promise<void> {
  expectError(await refresh(instance, tokens.refresh_token), 401, 'refresh_token_revoked');
  const waited = await waitUntil(() => isAccessRevoked(instance, tokens.access_token), REVOCATION_BOUND_MS);
  expect({ session: tokens.session_id, accessRevokedWithin1s: waited >= 0 }).toEqual({
    session: tokens.session_id,
    accessRevokedWithin1s: true,
  });
}

/** Expects exactly one event of `type` in the user's log as `GET /auth/events` shows it. */
async function expectOneEventInLog(instance: TestInstance, reader: Tokens, type: string, sessionId?: string) {
  const response = await instance.http().get('/auth/events?limit=100').set('Authorization', bearer(reader)).expect(200);
  const matching = (response.body.items as Array<{ type: string; sessionId: string | null }>).filter(
    (item) => item.type === type && (sessionId === undefined || item.sessionId === sessionId),
  );
  expect({ type, count: matching.length }).toEqual({ type, count: 1 });
}

const CASES: Case[] = [
  {
    name: 'refresh (body)',
    statements: ['nra_session_find_owner', 'nra_session_rotate'],
    status: 200,
    writes: 'nra_session_rotate',
    written: async (db, world) => (await db.session(world.subject.session_id))?.generation === 1,
    setup: twoSessions,
    send: (instance, world) => refresh(instance, world.subject.refresh_token),
    async verify({ instance, db }, world, answer) {
      // Never refresh_token_reused: a rotation that committed is answered again (grace window).
      expect({ status: answer.status, code: answer.body?.code }).toEqual({ status: 200, code: undefined });
      const rotated = answer.body as Tokens;
      expect(generationOf(rotated.refresh_token)).toBe(1);
      await instance.http().get('/auth/me').set('Authorization', bearer(rotated)).expect(200);
      expect(await db.session(world.subject.session_id)).toMatchObject({ generation: 1, revoked: false });
      // The chain goes on from the answer the client finally got.
      const next = await refresh(instance, rotated.refresh_token).expect(200);
      expect(generationOf(next.body.refresh_token)).toBe(2);
      await db.expectConsistent(world.account.id);
    },
  },
  {
    name: 'logout (refresh token)',
    statements: ['nra_session_find', 'nra_revoke_sc'],
    status: 204,
    writes: 'nra_revoke_sc',
    written: async (db, world) => (await db.session(world.subject.session_id))?.revoked === true,
    setup: twoSessions,
    send: (instance, world) =>
      instance.http().post('/auth/logout').send({ refresh_token: world.subject.refresh_token }),
    async verify({ instance, db }, world, answer) {
      expect(answer.status).toBe(204);
      await expectSessionEnded(instance, world.subject);
      expect(await db.session(world.subject.session_id)).toMatchObject({ revoked: true, revoked_reason: 'logout' });
      await expectOneEventInLog(instance, world.other, 'logout', world.subject.session_id);
      await db.expectConsistent(world.account.id);
    },
  },
  {
    name: 'logout (access token)',
    // No revocation check of its own: a revoked session is logged out again (204), see verify.
    statements: ['nra_revoke_sc'],
    status: 204,
    writes: 'nra_revoke_sc',
    written: async (db, world) => (await db.session(world.subject.session_id))?.revoked === true,
    setup: twoSessions,
    send: (instance, world) => instance.http().post('/auth/logout').set('Authorization', bearer(world.subject)),
    async verify({ instance, db }, world, answer) {
      expect(answer.status).toBe(204);
      await expectSessionEnded(instance, world.subject);
      expect(await db.session(world.subject.session_id)).toMatchObject({ revoked: true, revoked_reason: 'logout' });
      await expectOneEventInLog(instance, world.other, 'logout', world.subject.session_id);
      await db.expectConsistent(world.account.id);
    },
  },
  {
    name: 'logout-all',
    statements: ['nra_session_revoked', 'nra_revoke_uc'],
    status: 204,
    writes: 'nra_revoke_uc',
    written: async (db, world) => (await db.session(world.subject.session_id))?.revoked === true,
    setup: twoSessions,
    send: (instance, world) => instance.http().post('/auth/logout-all').set('Authorization', bearer(world.subject)),
    async verify({ instance, db }, world, answer, cut) {
      // Once the first attempt committed, the retry's token belongs to a revoked session: it may be
      // told so (token_revoked), or, while the instance still holds it live, be answered 204.
      if (cut?.statement === 'nra_revoke_uc' && cut.mode === 'after' && answer.status === 401) {
        expectError(answer, 401, 'token_revoked');
      } else {
        expect(answer.status).toBe(204);
      }
      await expectSessionEnded(instance, world.subject);
      await expectSessionEnded(instance, world.other);
      expect((await db.sessions(world.account.id)).map((session) => session.revoked_reason)).toEqual([
        'logout_all',
        'logout_all',
      ]);
      expect(await db.countEvents(world.account.id, 'logout_all')).toBe(1);
      await db.expectConsistent(world.account.id);
    },
  },
  {
    name: 'DELETE /auth/sessions/:id',
    statements: ['nra_session_revoked', 'nra_session_find', 'nra_revoke_sc'],
    status: 204,
    writes: 'nra_revoke_sc',
    written: async (db, world) => (await db.session(world.other.session_id))?.revoked === true,
    setup: twoSessions,
    send: (instance, world) =>
      instance.http().delete(`/auth/sessions/${world.other.session_id}`).set('Authorization', bearer(world.subject)),
    async verify({ instance, db }, world, answer) {
      expect(answer.status).toBe(204);
      await expectSessionEnded(instance, world.other);
      await instance.http().get('/auth/me').set('Authorization', bearer(world.subject)).expect(200);
      expect(await db.session(world.other.session_id)).toMatchObject({
        revoked: true,
        revoked_reason: 'session_revoked',
      });
      await expectOneEventInLog(instance, world.subject, 'session_revoked', world.other.session_id);
      await db.expectConsistent(world.account.id);
    },
  },
  {
    name: 'POST /auth/password',
    statements: ['nra_session_revoked', 'nra_user_by_id', 'UPDATE users', 'nra_revoke_ue'],
    status: 204,
    writes: 'nra_revoke_ue',
    written: async (db, world) => (await db.session(world.other.session_id))?.revoked === true,
    setup: twoSessions,
    send: (instance, world) =>
      instance
        .http()
        .post('/auth/password')
        .set('Authorization', bearer(world.subject))
        .send({ currentPassword: world.account.password, newPassword: NEW_PASSWORD }),
    async verify({ instance, db }, world, answer) {
      expect(answer.status).toBe(204);
      // The caller's session is kept, every other one ends; the new password works, the old one not.
      await instance.http().get('/auth/me').set('Authorization', bearer(world.subject)).expect(200);
      await expectSessionEnded(instance, world.other);
      expect(await db.session(world.other.session_id)).toMatchObject({ revoked_reason: 'password_changed' });
      await expectOneEventInLog(instance, world.subject, 'password_changed');
      const old = await instance
        .http()
        .post('/auth/login')
        .send({ email: world.account.email, password: world.account.password });
      expectError(old, 401, 'invalid_credentials');
      await login(instance, { email: world.account.email, password: NEW_PASSWORD });
      await db.expectConsistent(world.account.id);
    },
  },
  {
    name: 'POST /admin/users/:id/revoke-sessions',
    statements: ['nra_session_revoked', 'nra_user_by_id', 'nra_revoke_ue'],
    status: 204,
    writes: 'nra_revoke_ue',
    written: async (db, world) => (await db.session(world.subject.session_id))?.revoked === true,
    setup: async (instance) => ({ ...(await twoSessions(instance)), admin: await login(instance, ADMIN) }),
    send: (instance, world) =>
      instance
        .http()
        .post(`/admin/users/${world.account.id}/revoke-sessions`)
        .set('Authorization', bearer(world.admin!)),
    async verify({ instance, db }, world, answer, cut) {
      expect(answer.status).toBe(204);
      await expectSessionEnded(instance, world.subject);
      await expectSessionEnded(instance, world.other);
      await instance.http().get('/auth/me').set('Authorization', bearer(world.admin!)).expect(200);
      expect((await db.sessions(world.account.id)).map((session) => session.revoked_reason)).toEqual([
        'admin_revoked',
        'admin_revoked',
      ]);
      // The admin's log entry goes with its revocation: one per request that committed, so a
      // retry of a request whose answer was lost adds the second admin action.
      const committed = cut?.statement === 'nra_revoke_ue' && cut.mode === 'after' ? 2 : 1;
      expect(await db.countEvents(world.account.id, 'admin_revoked')).toBe(committed);
      await db.expectConsistent(world.account.id);
    },
  },
  {
    name: 'reuse detection (an older ancestor comes back)',
    reuse: true,
    statements: ['nra_session_find_owner', 'nra_revoke_sc'],
    status: 401,
    writes: 'nra_revoke_sc',
    written: async (db, world) => (await db.session(world.subject.session_id))?.revoked === true,
    async setup(instance) {
      const world = await twoSessions(instance);
      const first = await refresh(instance, world.subject.refresh_token).expect(200);
      const second = await refresh(instance, first.body.refresh_token).expect(200);
      return { ...world, ancestor: world.subject.refresh_token, subject: second.body as Tokens };
    },
    send: (instance, world) => refresh(instance, world.ancestor!),
    async verify({ instance, db }, world, answer, cut) {
      // The theft is judged once: the retry of a request whose revocation committed finds the
      // session revoked already.
      const committed = cut?.statement === 'nra_revoke_sc' && cut.mode === 'after';
      expectError(answer, 401, committed ? 'refresh_token_revoked' : 'refresh_token_reused');
      await expectSessionEnded(instance, world.subject);
      expect(await db.session(world.subject.session_id)).toMatchObject({ revoked_reason: 'refresh_token_reused' });
      await expectOneEventInLog(instance, world.other, 'refresh_token_reused', world.subject.session_id);
      await db.expectConsistent(world.account.id, { reuseExpected: true });
    },
  },
  {
    name: 'login',
    statements: ['nra_user_by_email', 'nra_session_create', 'nra_user_by_id'],
    status: 200,
    writes: 'nra_session_create',
    written: async (db, world) => (await db.sessions(world.account.id)).length === 3,
    setup: twoSessions,
    send: (instance, world) =>
      instance.http().post('/auth/login').send({ email: world.account.email, password: world.account.password }),
    async verify({ instance, db }, world, answer, cut) {
      expect(answer.status).toBe(200);
      const tokens = answer.body as Tokens;
      await instance.http().get('/auth/me').set('Authorization', bearer(tokens)).expect(200);
      await refresh(instance, tokens.refresh_token).expect(200);
      // A session whose answer was lost stays behind, whole (with its login event) and unknown to
      // anyone; it lapses like any other. That is the case once the insert committed.
      const committed =
        (cut?.statement === 'nra_session_create' && cut.mode === 'after') || cut?.statement === 'nra_user_by_id';
      const sessions = await db.sessions(world.account.id);
      expect(sessions.filter((session) => session.revoked)).toEqual([]);
      expect(sessions.length).toBe(committed ? 4 : 3);
      await db.expectConsistent(world.account.id);
    },
  },
];

describe('PostgreSQL cut at each statement of a multi-statement request', () => {
  let cluster: PrivatePostgres;
  let redis: OwnRedis;
  let context: TestContext;
  let proxy: PgFaultProxy;
  let instance: TestInstance;
  let db: DatabaseProbe;

  beforeAll(async () => {
    cluster = await PrivatePostgres.start();
    redis = await OwnRedis.start();
    context = await TestContext.create('pg-faults', { postgresAdminUrl: cluster.url(), redisUrl: redis.url });
    proxy = await PgFaultProxy.start(cluster.port);
    const throughProxy = new URL(context.postgresUrl!);
    throughProxy.port = String(proxy.port);
    instance = await context.start({
      DATABASE_URL: throughProxy.toString(),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      // Each case logs in a few times: cheap hashing keeps the file fast (the cost is not under test).
      ARGON2_MEMORY_COST: '7168',
      ARGON2_TIME_COST: '1',
    });
    db = new DatabaseProbe(context.postgresUrl!);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await context?.close();
    await proxy?.close();
    await redis?.kill();
    await cluster?.destroy();
  });

  for (const testCase of CASES) {
    describe(testCase.name, () => {
      it(`sends ${testCase.statements.join(' → ')} and answers ${testCase.status} without a fault`, async () => {
        const world = await testCase.setup(instance);
        proxy.record();
        const answer = await testCase.send(instance, world);
        expect(proxy.recorded()).toEqual(testCase.statements);
        expect(answer.status).toBe(testCase.status);
        if (testCase.status < 400) await testCase.verify({ instance, db }, world, answer, null);
      });

      const points = testCase.statements.flatMap((statement, index) => {
        const occurrence = testCase.statements.slice(0, index + 1).filter((each) => each === statement).length;
        return (['before', 'after'] as const).map((mode) => ({ statement, occurrence, mode }));
      });
      it.each(points)(
        'cut $mode $statement (#$occurrence): 503, then the retry gets what the client expects',
        async ({ statement, occurrence, mode }) => {
          const world = await testCase.setup(instance);
          const trap = proxy.arm(statement, occurrence, mode);
          let first: Response;
          try {
            first = await testCase.send(instance, world);
          } finally {
            proxy.disarm();
          }
          expect({ fired: trap.hasFired, status: first.status }).toEqual({ fired: true, status: 503 });
          expect(first.body).toEqual({ statusCode: 503, code: 'service_unavailable', message: expect.any(String) });
          // The cut fell where it was meant to: the write is in the database once the server ran it.
          const writer = testCase.statements.indexOf(testCase.writes);
          const at = points.findIndex((point) => point.statement === statement && point.occurrence === occurrence) / 2;
          const expectWritten = at > writer || (at === writer && mode === 'after');
          expect({ written: await testCase.written(db, world) }).toEqual({ written: expectWritten });
          await db.expectConsistent(world.account.id, { reuseExpected: testCase.reuse });
          const retry = await testCase.send(instance, world);
          await testCase.verify({ instance, db }, world, retry, { statement, occurrence, mode });
        },
      );
    });
  }
});

describe('PostgreSQL backend terminated while a write waits on a row lock', () => {
  let cluster: PrivatePostgres;
  let redis: OwnRedis;
  let context: TestContext;
  let instance: TestInstance;
  let db: DatabaseProbe;

  beforeAll(async () => {
    cluster = await PrivatePostgres.start();
    redis = await OwnRedis.start();
    context = await TestContext.create('pg-locks', { postgresAdminUrl: cluster.url(), redisUrl: redis.url });
    instance = await context.start({ ARGON2_MEMORY_COST: '7168', ARGON2_TIME_COST: '1' });
    db = new DatabaseProbe(context.postgresUrl!);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await context?.close();
    await redis?.kill();
    await cluster?.destroy();
  });

  /**
   * Holds `lock` (a `SELECT … FOR UPDATE`) in a transaction of its own, sends the request, waits
   * until one backend of the instance waits on that lock, terminates that backend and returns
   * the request's answer; the lock is released before returning.
   */
  async function terminatedWhileBlocked(
    lock: { sql: string; values: unknown[] },
    send: () => Promise<Response>,
  ): Promise<Response> {
    const locker = new pg.Client({ connectionString: context.postgresUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      expect((await locker.query(lock.sql, lock.values)).rowCount).toBeGreaterThan(0);
      const answer = send();
      let blocked: number | undefined;
      const waited = await waitUntil(async () => {
        const rows = await db.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        blocked = rows[0]?.pid;
        return blocked !== undefined;
      }, 10_000);
      expect(waited).toBeGreaterThanOrEqual(0);
      await db.query('SELECT pg_terminate_backend($1)', [blocked]);
      return await answer;
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  }

  const sessionLock = (sessionId: string) => ({
    sql: 'SELECT id FROM sessions WHERE id = $1 FOR UPDATE',
    values: [sessionId],
  });

  it('refresh: the rotation is killed while it waits; 503, nothing changed, the retry rotates', async () => {
    const world = await twoSessions(instance);
    const first = await terminatedWhileBlocked(sessionLock(world.subject.session_id), () =>
      refresh(instance, world.subject.refresh_token).then((response) => response),
    );
    expectError(first, 503, 'service_unavailable');
    expect(await db.session(world.subject.session_id)).toMatchObject({ generation: 0, revoked: false });
    const retry = await refresh(instance, world.subject.refresh_token).expect(200);
    expect(generationOf(retry.body.refresh_token)).toBe(1);
    await refresh(instance, retry.body.refresh_token).expect(200);
    await db.expectConsistent(world.account.id);
  });

  it('logout: the revocation is killed while it waits; 503, no event, the retry logs out once', async () => {
    const world = await twoSessions(instance);
    const send = () =>
      instance
        .http()
        .post('/auth/logout')
        .send({ refresh_token: world.subject.refresh_token })
        .then((response) => response);
    expectError(await terminatedWhileBlocked(sessionLock(world.subject.session_id), send), 503, 'service_unavailable');
    expect(await db.session(world.subject.session_id)).toMatchObject({ revoked: false });
    expect(await db.countEvents(world.account.id, 'logout')).toBe(0);
    expect((await send()).status).toBe(204);
    await expectSessionEnded(instance, world.subject);
    await expectOneEventInLog(instance, world.other, 'logout', world.subject.session_id);
    await db.expectConsistent(world.account.id);
  });

  it('logout-all: one locked session holds the whole statement; killed, nothing is revoked; the retry revokes all', async () => {
    const world = await twoSessions(instance);
    const send = () =>
      instance
        .http()
        .post('/auth/logout-all')
        .set('Authorization', bearer(world.subject))
        .then((response) => response);
    expectError(await terminatedWhileBlocked(sessionLock(world.other.session_id), send), 503, 'service_unavailable');
    expect((await db.sessions(world.account.id)).filter((session) => session.revoked)).toEqual([]);
    expect(await db.countEvents(world.account.id, 'logout_all')).toBe(0);
    expect((await send()).status).toBe(204);
    await expectSessionEnded(instance, world.subject);
    await expectSessionEnded(instance, world.other);
    expect(await db.countEvents(world.account.id, 'logout_all')).toBe(1);
    await db.expectConsistent(world.account.id);
  });

  it('password change: the update of the user is killed while it waits; 503, the old password still works; the retry changes it', async () => {
    const world = await twoSessions(instance);
    const send = () =>
      instance
        .http()
        .post('/auth/password')
        .set('Authorization', bearer(world.subject))
        .send({ currentPassword: world.account.password, newPassword: NEW_PASSWORD })
        .then((response) => response);
    const lock = { sql: 'SELECT id FROM users WHERE id = $1 FOR UPDATE', values: [world.account.id] };
    expectError(await terminatedWhileBlocked(lock, send), 503, 'service_unavailable');
    expect((await db.sessions(world.account.id)).filter((session) => session.revoked)).toEqual([]);
    await login(instance, world.account);
    expect((await send()).status).toBe(204);
    await expectSessionEnded(instance, world.other);
    await login(instance, { email: world.account.email, password: NEW_PASSWORD });
    await expectOneEventInLog(instance, world.subject, 'password_changed');
    await db.expectConsistent(world.account.id);
  });
});
