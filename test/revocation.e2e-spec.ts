import { randomUUID } from 'node:crypto';
import { register, type Account, type Tokens } from './support/auth-helpers.js';
import {
  expectAccessLive,
  expectError,
  expectRevokedEverywhere,
  getMe,
  loginAs,
  primeAsLive,
} from './support/revocation-helpers.js';
import { TestContext, type TestInstance } from './support/test-context.js';

const ADMIN = { email: 'admin@example.com', password: 'admin password 123' };

/** Every way a session ends, seen by the instance that ended it and by a second one. */
describe('revocation', () => {
  let context: TestContext;
  /** The instance the revoking requests go to. */
  let a: TestInstance;
  /** Another instance of the same deployment, which must see every revocation within 1 s. */
  let b: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('revocation');
    const env = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };
    a = await context.start(env);
    b = await context.start(env);
  });
  afterAll(() => context.close());

  const bearer = (tokens: Tokens) => `Bearer ${tokens.access_token}`;

  async function sessionsOf(account: Account, count: number, instance = a): Promise<Tokens[]> {
    const sessions: Tokens[] = [];
    for (let i = 1; i <= count; i += 1) sessions.push(await loginAs(instance, account, `nra-e2e/${i}`));
    return sessions;
  }

  describe('POST /auth/logout', () => {
    it('with {refresh_token}: 204, that session is revoked everywhere, the other sessions of the user are not', async () => {
      const account = await register(a);
      const [ended, kept] = await sessionsOf(account, 2);
      await primeAsLive(b, [ended!, kept!]);

      await a.http().post('/auth/logout').send({ refresh_token: ended!.refresh_token }).expect(204);
      await expectRevokedEverywhere(a, b, Date.now(), [ended!]);

      await expectAccessLive(a, kept!);
      await expectAccessLive(b, kept!);
      const refreshed = await b.http().post('/auth/refresh').send({ refresh_token: kept!.refresh_token }).expect(200);
      expect(refreshed.body.session_id).toBe(kept!.session_id);
    });

    it('with only a bearer access token: 204 and that session is revoked everywhere', async () => {
      const account = await register(a);
      const [ended, kept] = await sessionsOf(account, 2);
      await primeAsLive(b, [ended!]);

      await a.http().post('/auth/logout').set('Authorization', bearer(ended!)).expect(204);
      await expectRevokedEverywhere(a, b, Date.now(), [ended!]);

      await expectAccessLive(a, kept!);
      await expectAccessLive(b, kept!);
    });

    it('with neither: 401 token_missing', async () => {
      expectError(await a.http().post('/auth/logout').send({}), 401, 'token_missing');
    });

    it('with a bad refresh token: 401 refresh_token_invalid, and a tampered one revokes nothing', async () => {
      const account = await register(a);
      const [tokens] = await sessionsOf(account, 1);
      const [id, secret] = tokens!.refresh_token.split('.') as [string, string];
      const tampered = `${id}.${secret.startsWith('A') ? 'B' : 'A'}${secret.slice(1)}`;
      const unknown = `${randomUUID()}.${secret}`;

      for (const bad of ['not-a-refresh-token', unknown, tampered]) {
        expectError(await a.http().post('/auth/logout').send({ refresh_token: bad }), 401, 'refresh_token_invalid');
      }
      await expectAccessLive(a, tokens!);
      await expectAccessLive(b, tokens!);
      await a.http().post('/auth/refresh').send({ refresh_token: tokens!.refresh_token }).expect(200);
    });
  });

  describe('POST /auth/logout-all', () => {
    it('revokes every session of the user everywhere and leaves other users alone', async () => {
      const account = await register(a);
      const bystander = await register(a);
      const sessions = await sessionsOf(account, 3);
      const [bystanderSession] = await sessionsOf(bystander, 1);
      await primeAsLive(b, [...sessions, bystanderSession!]);

      await a.http().post('/auth/logout-all').set('Authorization', bearer(sessions[1]!)).expect(204);
      await expectRevokedEverywhere(a, b, Date.now(), sessions);

      await expectAccessLive(a, bystanderSession!);
      await expectAccessLive(b, bystanderSession!);
      await b.http().post('/auth/refresh').send({ refresh_token: bystanderSession!.refresh_token }).expect(200);
    });
  });

  describe('GET /auth/sessions and DELETE /auth/sessions/:id', () => {
    let owner: Account;
    let stranger: Account;
    let ownerSessions: Tokens[];
    let strangerSession: Tokens;

    beforeAll(async () => {
      owner = await register(a);
      stranger = await register(a);
      ownerSessions = await sessionsOf(owner, 3);
      [strangerSession] = (await sessionsOf(stranger, 1)) as [Tokens];
    });

    it('lists the live sessions, with current true only for the caller', async () => {
      const response = await b.http().get('/auth/sessions').set('Authorization', bearer(ownerSessions[0]!)).expect(200);
      const list = response.body as Array<Record<string, unknown>>;

      expect(list.map((session) => session.id).sort()).toEqual(ownerSessions.map((tokens) => tokens.session_id).sort());
      for (const session of list) {
        expect(Object.keys(session).sort()).toEqual(
          ['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'userAgent'].sort(),
        );
        const index = ownerSessions.findIndex((tokens) => tokens.session_id === session.id);
        expect(session.current).toBe(index === 0);
        expect(session.userAgent).toBe(`nra-e2e/${index + 1}`);
        expect(typeof session.ip).toBe('string');
        for (const field of ['createdAt', 'lastUsedAt', 'expiresAt']) {
          expect(Number.isNaN(Date.parse(session[field] as string))).toBe(false);
        }
        expect(Date.parse(session.expiresAt as string)).toBeGreaterThan(Date.now());
      }

      const ofSecond = await a.http().get('/auth/sessions').set('Authorization', bearer(ownerSessions[1]!)).expect(200);
      const current = (ofSecond.body as Array<{ id: string; current: boolean }>).filter((session) => session.current);
      expect(current.map((session) => session.id)).toEqual([ownerSessions[1]!.session_id]);
    });

    it("deleting one's own session: 204 (again 204), it is revoked everywhere and no longer listed", async () => {
      const target = ownerSessions[2]!;
      await primeAsLive(b, [target]);

      await a
        .http()
        .delete(`/auth/sessions/${target.session_id}`)
        .set('Authorization', bearer(ownerSessions[0]!))
        .expect(204);
      await expectRevokedEverywhere(a, b, Date.now(), [target]);
      await b
        .http()
        .delete(`/auth/sessions/${target.session_id}`)
        .set('Authorization', bearer(ownerSessions[0]!))
        .expect(204);

      for (const instance of [a, b]) {
        const response = await instance
          .http()
          .get('/auth/sessions')
          .set('Authorization', bearer(ownerSessions[0]!))
          .expect(200);
        const ids = (response.body as Array<{ id: string }>).map((session) => session.id).sort();
        expect(ids).toEqual([ownerSessions[0]!.session_id, ownerSessions[1]!.session_id].sort());
      }
    });

    it("another user's session: 404 not_found, and it stays live", async () => {
      const response = await a
        .http()
        .delete(`/auth/sessions/${strangerSession.session_id}`)
        .set('Authorization', bearer(ownerSessions[0]!));
      expectError(response, 404, 'not_found');

      await expectAccessLive(a, strangerSession);
      await expectAccessLive(b, strangerSession);
      const listed = await a.http().get('/auth/sessions').set('Authorization', bearer(strangerSession)).expect(200);
      expect((listed.body as Array<{ id: string }>).map((session) => session.id)).toEqual([strangerSession.session_id]);
    });

    it('a malformed id: 400 validation_failed', async () => {
      const response = await a
        .http()
        .delete('/auth/sessions/not-a-uuid')
        .set('Authorization', bearer(ownerSessions[0]!));
      expectError(response, 400, 'validation_failed');
    });
  });

  describe('POST /auth/password', () => {
    it('rejects a wrong currentPassword and a short newPassword with 400 validation_failed, revoking nothing', async () => {
      const account = await register(a);
      const [current, other] = await sessionsOf(account, 2);

      const wrong = await a
        .http()
        .post('/auth/password')
        .set('Authorization', bearer(current!))
        .send({ currentPassword: 'not the password', newPassword: 'a brand new passphrase' });
      expectError(wrong, 400, 'validation_failed');

      const short = await a
        .http()
        .post('/auth/password')
        .set('Authorization', bearer(current!))
        .send({ currentPassword: account.password, newPassword: 'short12' });
      expectError(short, 400, 'validation_failed');

      await expectAccessLive(a, other!);
      await expectAccessLive(b, other!);
      await loginAs(a, account);
    });

    it('204: the current session keeps working, every other one is revoked everywhere, only the new password logs in', async () => {
      const account = await register(a);
      const [current, second, third] = await sessionsOf(account, 3);
      await primeAsLive(b, [current!, second!, third!]);
      const newPassword = 'a brand new passphrase';

      await a
        .http()
        .post('/auth/password')
        .set('Authorization', bearer(current!))
        .send({ currentPassword: account.password, newPassword })
        .expect(204);
      await expectRevokedEverywhere(a, b, Date.now(), [second!, third!]);

      await expectAccessLive(a, current!);
      await expectAccessLive(b, current!);
      const refreshed = await b
        .http()
        .post('/auth/refresh')
        .send({ refresh_token: current!.refresh_token })
        .expect(200);
      expect(refreshed.body.session_id).toBe(current!.session_id);
      await getMe(a, refreshed.body.access_token).expect(200);

      const old = await a.http().post('/auth/login').send({ email: account.email, password: account.password });
      expectError(old, 401, 'invalid_credentials');
      await loginAs(b, { email: account.email, password: newPassword });
    });
  });

  describe('POST /admin/users/:id/revoke-sessions', () => {
    let admin: Tokens;

    beforeAll(async () => {
      admin = await loginAs(a, ADMIN, 'nra-e2e/admin');
    });

    it('by a non-admin: 403 insufficient_role, nothing revoked', async () => {
      const target = await register(a);
      const caller = await register(a);
      const [targetSession] = await sessionsOf(target, 1);
      const [callerSession] = await sessionsOf(caller, 1);

      const response = await a
        .http()
        .post(`/admin/users/${target.id}/revoke-sessions`)
        .set('Authorization', bearer(callerSession!));
      expectError(response, 403, 'insufficient_role');

      await expectAccessLive(a, targetSession!);
      await expectAccessLive(b, targetSession!);
    });

    it('by an admin: 204 and every session of the target is revoked everywhere; others are untouched', async () => {
      const target = await register(a);
      const bystander = await register(a);
      const targetSessions = await sessionsOf(target, 2);
      const [bystanderSession] = await sessionsOf(bystander, 1);
      await primeAsLive(b, [...targetSessions, bystanderSession!]);

      await a.http().post(`/admin/users/${target.id}/revoke-sessions`).set('Authorization', bearer(admin)).expect(204);
      await expectRevokedEverywhere(a, b, Date.now(), targetSessions);

      await expectAccessLive(b, bystanderSession!);
      await expectAccessLive(b, admin);
    });

    it('an unknown user id: 404 not_found', async () => {
      const response = await a
        .http()
        .post(`/admin/users/${randomUUID()}/revoke-sessions`)
        .set('Authorization', bearer(admin));
      expectError(response, 404, 'not_found');
    });
  });

  describe('GET /auth/events', () => {
    interface SecurityEventItem {
      id: string;
      type: string;
      createdAt: string;
      sessionId: string | null;
      ip: string | null;
      userAgent: string | null;
    }

    const REVOCATION_TYPES = new Set([
      'login',
      'login_failed',
      'logout',
      'logout_all',
      'session_revoked',
      'password_changed',
    ]);
    const userAgent = 'nra-e2e/events';
    let account: Account;
    let other: Account;
    let reader: Tokens;
    /** What happened, oldest first: the type and the session it names. */
    const expected: Array<{ type: string; sessionId: string | null }> = [];

    async function events(
      tokens: Tokens,
      query = '',
    ): Promise<{ items: SecurityEventItem[]; nextCursor: string | null }> {
      const response = await a.http().get(`/auth/events${query}`).set('Authorization', bearer(tokens)).expect(200);
      return response.body;
    }

    beforeAll(async () => {
      account = await register(a);
      other = await register(a);
      const newPassword = 'a brand new passphrase';

      const first = await loginAs(a, account, userAgent);
      expected.push({ type: 'login', sessionId: first.session_id });
      const failed = await a
        .http()
        .post('/auth/login')
        .set('User-Agent', userAgent)
        .send({ email: account.email, password: 'wrong password' });
      expectError(failed, 401, 'invalid_credentials');
      expected.push({ type: 'login_failed', sessionId: null });
      const second = await loginAs(a, account, userAgent);
      expected.push({ type: 'login', sessionId: second.session_id });
      const third = await loginAs(a, account, userAgent);
      expected.push({ type: 'login', sessionId: third.session_id });

      await a
        .http()
        .delete(`/auth/sessions/${third.session_id}`)
        .set('User-Agent', userAgent)
        .set('Authorization', bearer(first))
        .expect(204);
      expected.push({ type: 'session_revoked', sessionId: third.session_id });
      await a
        .http()
        .post('/auth/logout')
        .set('User-Agent', userAgent)
        .send({ refresh_token: second.refresh_token })
        .expect(204);
      expected.push({ type: 'logout', sessionId: second.session_id });
      await a
        .http()
        .post('/auth/password')
        .set('User-Agent', userAgent)
        .set('Authorization', bearer(first))
        .send({ currentPassword: account.password, newPassword })
        .expect(204);
      expected.push({ type: 'password_changed', sessionId: first.session_id });
      await a
        .http()
        .post('/auth/logout-all')
        .set('User-Agent', userAgent)
        .set('Authorization', bearer(first))
        .expect(204);
      expected.push({ type: 'logout_all', sessionId: first.session_id });
      reader = await loginAs(a, { email: account.email, password: newPassword }, userAgent);
      expected.push({ type: 'login', sessionId: reader.session_id });

      // Another user's activity, interleaved with nothing of the first user's but in the same table.
      const otherSession = await loginAs(a, other, 'nra-e2e/other');
      await a.http().post('/auth/logout').send({ refresh_token: otherSession.refresh_token }).expect(204);
    });

    it('shows every kind of event, newest first, with {id, type, createdAt, sessionId, ip, userAgent}', async () => {
      const { items, nextCursor } = await events(reader, '?limit=100');
      expect(nextCursor).toBeNull();

      const revocationEvents = items.filter((item) => REVOCATION_TYPES.has(item.type));
      expect(revocationEvents.map(({ type, sessionId }) => ({ type, sessionId }))).toEqual([...expected].reverse());

      for (const item of revocationEvents) {
        expect(Object.keys(item).sort()).toEqual(['createdAt', 'id', 'ip', 'sessionId', 'type', 'userAgent']);
        expect(typeof item.id).toBe('string');
        expect(typeof item.ip).toBe('string');
        expect(item.userAgent).toBe(userAgent);
      }
      const times = items.map((item) => Date.parse(item.createdAt));
      expect(times.every((time) => !Number.isNaN(time))).toBe(true);
      expect(times).toEqual([...times].sort((x, y) => y - x));
      expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
    });

    it('?limit=2 walks every page through nextCursor, without duplicates, ending with nextCursor null', async () => {
      const all = (await events(reader, '?limit=100')).items;
      const walked: SecurityEventItem[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 50; page += 1) {
        const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
        const body = await events(reader, query);
        expect(body.items.length).toBeLessThanOrEqual(2);
        walked.push(...body.items);
        cursor = body.nextCursor;
        if (cursor === null) break;
        expect(body.items).toHaveLength(2);
      }
      expect(cursor).toBeNull();
      expect(new Set(walked.map((item) => item.id)).size).toBe(walked.length);
      expect(walked).toEqual(all);
    });

    it("never shows another user's events", async () => {
      const mine = (await events(reader, '?limit=100')).items;
      const otherReader = await loginAs(a, other, 'nra-e2e/other');
      const theirs = (await events(otherReader, '?limit=100')).items;

      expect(theirs.length).toBeGreaterThan(0);
      const mineIds = new Set(mine.map((item) => item.id));
      expect(theirs.filter((item) => mineIds.has(item.id))).toEqual([]);
      expect(theirs.filter((item) => item.userAgent === userAgent)).toEqual([]);
      expect(mine.filter((item) => item.userAgent === 'nra-e2e/other')).toEqual([]);
      const ownSessions = new Set(expected.map((event) => event.sessionId).filter((id) => id !== null));
      expect(theirs.filter((item) => item.sessionId !== null && ownSessions.has(item.sessionId))).toEqual([]);
    });

    it('limit=0 and limit=1000: 400 validation_failed', async () => {
      for (const limit of ['0', '1000']) {
        const response = await a.http().get(`/auth/events?limit=${limit}`).set('Authorization', bearer(reader));
        expectError(response, 400, 'validation_failed');
      }
    });
  });
});
