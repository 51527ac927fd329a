import { hashRefreshToken } from '../src/tokens/refresh-token.format.js';
import { login, refresh, register, sleep, uniqueEmail } from './support/auth-helpers.js';
import { CapturedLogger } from './support/captured-logger.js';
import { TestContext, type TestInstance } from './support/test-context.js';

// API.md: "No error body or log line ever contains a token, a password or a hash."
describe('what the service logs', () => {
  let context: TestContext;
  let instance: TestInstance;
  const logger = new CapturedLogger();

  beforeAll(async () => {
    context = await TestContext.create('logging');
    instance = await context.start({ REFRESH_REUSE_GRACE: '1', LOGIN_MAX_FAILURES: '2' }, { logger });
  });
  afterAll(() => context.close());

  it('never logs a password, a token or a token hash, on success or failure', async () => {
    const password = 'a very particular passphrase 7731';
    const account = await register(instance, uniqueEmail('logs'), password);
    const first = await login(instance, account);
    const second = (await refresh(instance, first.refresh_token).expect(200)).body;
    await sleep(1200);
    await refresh(instance, first.refresh_token).expect(401); // reuse after the grace: theft
    await instance
      .http()
      .post('/auth/login')
      .send({ email: account.email, password: `${password}x` });
    await instance
      .http()
      .post('/auth/login')
      .send({ email: account.email, password: `${password}y` });
    await instance.http().post('/auth/login').send({ email: account.email, password }).expect(429);
    await instance
      .http()
      .post('/auth/login')
      .set('content-type', 'application/json')
      .send(`{"email":"${account.email}","password":"${password}"`);
    await instance.http().get('/auth/me').set('Authorization', `Bearer ${first.access_token}x`).expect(401);
    await instance
      .http()
      .post('/auth/refresh')
      .send({ refresh_token: `${second.refresh_token}x` })
      .expect(401);

    const secrets = [
      password,
      first.access_token,
      first.refresh_token,
      first.refresh_token.split('.')[2]!,
      second.refresh_token,
      second.refresh_token.split('.')[2]!,
      hashRefreshToken(first.refresh_token),
      hashRefreshToken(second.refresh_token),
    ];
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const line of logger.lines) {
      for (const secret of secrets) expect(line).not.toContain(secret);
      expect(line).not.toMatch(/\$argon2id\$/);
    }
  });
});
