import { login, refresh, register, sleep, waitUntil } from './support/auth-helpers.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { TestContext, type TestInstance } from './support/test-context.js';

// PostgreSQL only (jest.config.js runs `test/postgres-*` in `npm run test:services`): the
// database is reached through a proxy that the test cuts, as if the server had gone away.
describe('database unreachable', () => {
  let context: TestContext;
  let proxy: TcpProxy;
  let instance: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('pg-outage');
    const direct = new URL(context.baseEnv().DATABASE_URL!);
    proxy = await TcpProxy.start(direct.hostname, Number(direct.port || 5432));
    direct.host = `127.0.0.1:${proxy.port}`;
    instance = await context.start({ DATABASE_URL: direct.toString(), LOGIN_MAX_FAILURES_PER_IP: '1000' });
  });
  afterAll(async () => {
    await proxy.listen();
    await context.close();
    await proxy.cut();
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
    await sleep(1100);
    const me = await instance.http().get('/auth/me').set('Authorization', bearer);
    expect(me.status).toBe(503);

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
