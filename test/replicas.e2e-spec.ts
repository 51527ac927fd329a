import { register, sleep, type Tokens } from './support/auth-helpers.js';
import {
  expectAccessLive,
  expectError,
  expectRevokedEverywhere,
  getMe,
  loginAs,
  primeAsLive,
} from './support/revocation-helpers.js';
import { SERVICES, TestContext, type TestInstance } from './support/test-context.js';

/**
 * Two instances of one deployment: one database (the SQLite file in `npm test`, PostgreSQL with
 * services) and, with services, one Redis prefix. A client may hit either on every request.
 */
describe(`replicas (${SERVICES ? 'PostgreSQL + Redis' : 'shared SQLite file, no Redis'})`, () => {
  let context: TestContext;
  let a: TestInstance;
  let b: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('replicas');
    // A one-second grace keeps the reuse test short.
    a = await context.start({ REFRESH_REUSE_GRACE: '1' });
    b = await context.start({ REFRESH_REUSE_GRACE: '1' });
  });
  afterAll(() => context.close());

  it('a login on A is refreshed on B, and the new pair works on both', async () => {
    const account = await register(a);
    const login = await loginAs(a, account);
    await expectAccessLive(b, login);

    const response = await b.http().post('/auth/refresh').send({ refresh_token: login.refresh_token }).expect(200);
    const refreshed = response.body as Tokens;
    expect(refreshed.session_id).toBe(login.session_id);
    expect(refreshed.refresh_token).not.toBe(login.refresh_token);
    await expectAccessLive(a, refreshed);
    await expectAccessLive(b, refreshed);

    const next = await a.http().post('/auth/refresh').send({ refresh_token: refreshed.refresh_token }).expect(200);
    expect(next.body.session_id).toBe(login.session_id);
  });

  it('rotation reuse is detected across instances: within the grace B answers the same successor, after it the session is revoked', async () => {
    const account = await register(a);
    const login = await loginAs(a, account);
    const rotated = (await a.http().post('/auth/refresh').send({ refresh_token: login.refresh_token }).expect(200))
      .body as Tokens;

    // A retry of the same refresh on the other instance, within the grace: idempotent.
    const retried = await b.http().post('/auth/refresh').send({ refresh_token: login.refresh_token }).expect(200);
    expect(retried.body.refresh_token).toBe(rotated.refresh_token);
    expect(retried.body.session_id).toBe(login.session_id);
    await primeAsLive(a, [rotated]);

    await sleep(1200);
    const reused = await b.http().post('/auth/refresh').send({ refresh_token: login.refresh_token });
    const revokedAt = Date.now();
    expectError(reused, 401, 'refresh_token_reused');
    await expectRevokedEverywhere(b, a, revokedAt, [rotated, { ...login, refresh_token: rotated.refresh_token }]);

    const events = await b
      .http()
      .post('/auth/login')
      .send({ email: account.email, password: account.password })
      .expect(200);
    const log = await a
      .http()
      .get('/auth/events')
      .set('Authorization', `Bearer ${events.body.access_token}`)
      .expect(200);
    const reuse = (log.body.items as Array<{ type: string; sessionId: string | null }>).filter(
      (item) => item.type === 'refresh_token_reused',
    );
    expect(reuse.map((item) => item.sessionId)).toEqual([login.session_id]);
  });

  it('a revocation on A is rejected by B within 1 s, and one on B by A', async () => {
    const account = await register(a);
    const onA = await loginAs(a, account, 'nra-e2e/a');
    const onB = await loginAs(b, account, 'nra-e2e/b');
    await primeAsLive(b, [onA]);
    await a.http().post('/auth/logout').send({ refresh_token: onA.refresh_token }).expect(204);
    await expectRevokedEverywhere(a, b, Date.now(), [onA]);

    await primeAsLive(a, [onB]);
    await b.http().post('/auth/logout').set('Authorization', `Bearer ${onB.access_token}`).expect(204);
    await expectRevokedEverywhere(b, a, Date.now(), [onB]);

    const third = await loginAs(b, account, 'nra-e2e/b');
    await getMe(a, third.access_token).expect(200);
  });
});
