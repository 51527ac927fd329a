import { uniqueEmail } from './support/auth-helpers.js';
import { TestContext, type TestInstance } from './support/test-context.js';

// AUTH_RATE_LIMIT caps requests per client IP per minute to the endpoints that hash a password,
// so nobody can keep the server busy with argon2 (counted per route; in Redis when configured).
describe('request limit on the credential endpoints', () => {
  let context: TestContext;
  let first: TestInstance;
  let second: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('request-limit');
    first = await context.start({ AUTH_RATE_LIMIT: '3' });
    second = await context.start({ AUTH_RATE_LIMIT: '3' });
  });
  afterAll(() => context.close());

  const registerOn = (instance: TestInstance) =>
    instance.http().post('/auth/register').send({ email: uniqueEmail(), password: 'correct horse battery' });

  it('answers 429 rate_limited with Retry-After past the limit, then keeps refusing', async () => {
    for (let i = 0; i < 3; i += 1) await registerOn(first).expect(201);
    const refused = await registerOn(first);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ statusCode: 429, code: 'rate_limited', message: expect.any(String) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await registerOn(first)).status).toBe(429);
  });

  it('counts login separately from register', async () => {
    const response = await first.http().post('/auth/login').send({ email: uniqueEmail(), password: 'wrong password' });
    expect(response.status).toBe(401);
  });

  it('is shared by every instance when Redis is configured, and per instance otherwise', async () => {
    const other = await registerOn(second);
    expect(other.status).toBe(context.baseEnv().REDIS_URL ? 429 : 201);
  });
});
