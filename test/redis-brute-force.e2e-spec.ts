import { register, sleep, uniqueEmail, type Account } from './support/auth-helpers.js';
import { attemptLogin, expectInvalidCredentials, expectRateLimited } from './support/login-attempts.js';
import { TestContext, type TestInstance } from './support/test-context.js';

// Services only (test/redis-*): two instances of one context share one Redis prefix, as replicas do.
const WRONG = 'not the right password';

describe('brute force across instances (Redis): per account', () => {
  let context: TestContext;
  let a: TestInstance;
  let b: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('redis-brute-force');
    const env = { LOGIN_MAX_FAILURES: '3', LOGIN_FAILURE_WINDOW: '60', LOGIN_MAX_FAILURES_PER_IP: '100000' };
    a = await context.start(env);
    b = await context.start(env);
  });
  afterAll(() => context.close());

  it('shares the account counter: 2 failures on A and 1 on B lock the account on both', async () => {
    const account = await register(a);
    expectInvalidCredentials(await attemptLogin(a, account.email, WRONG));
    expectInvalidCredentials(await attemptLogin(a, account.email, WRONG));
    expectInvalidCredentials(await attemptLogin(b, account.email, WRONG));

    expectRateLimited(await attemptLogin(a, account.email, account.password), 60);
    expectRateLimited(await attemptLogin(b, account.email, account.password), 60);
  });

  it('shares the lock of an unknown email the same way', async () => {
    const email = uniqueEmail('nobody');
    expectInvalidCredentials(await attemptLogin(b, email, WRONG));
    expectInvalidCredentials(await attemptLogin(a, email, WRONG));
    expectInvalidCredentials(await attemptLogin(b, email, WRONG));

    expectRateLimited(await attemptLogin(a, email, WRONG), 60);
    expectRateLimited(await attemptLogin(b, email, WRONG), 60);
  });

  it('shares the count across a successful login on the other instance', async () => {
    const account = await register(a);
    expectInvalidCredentials(await attemptLogin(a, account.email, WRONG));
    expectInvalidCredentials(await attemptLogin(b, account.email, WRONG));
    await attemptLogin(b, account.email, account.password).expect(200);
    expectInvalidCredentials(await attemptLogin(a, account.email, WRONG));

    expectRateLimited(await attemptLogin(b, account.email, account.password), 60);
  });
});

describe('brute force across instances (Redis): per client IP', () => {
  let context: TestContext;
  let a: TestInstance;
  let b: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('redis-brute-force-ip');
    const env = { LOGIN_MAX_FAILURES_PER_IP: '4', LOGIN_IP_WINDOW: '2', LOGIN_MAX_FAILURES: '100' };
    a = await context.start(env);
    b = await context.start(env);
  });
  afterAll(() => context.close());

  it('shares the IP counter: failures spread over both instances lock the IP on both, until the window ends', async () => {
    const accounts: Account[] = [];
    for (let i = 0; i < 5; i++) accounts.push(await register(a));

    expectInvalidCredentials(await attemptLogin(a, accounts[0]!.email, WRONG));
    expectInvalidCredentials(await attemptLogin(b, accounts[1]!.email, WRONG));
    expectInvalidCredentials(await attemptLogin(a, accounts[2]!.email, WRONG));
    expectInvalidCredentials(await attemptLogin(b, accounts[3]!.email, WRONG));

    const fifth = accounts[4]!;
    const retryAfter = expectRateLimited(await attemptLogin(a, fifth.email, fifth.password), 2);
    expectRateLimited(await attemptLogin(b, fifth.email, fifth.password), 2);

    await sleep(retryAfter * 1000 + 200);
    await attemptLogin(b, fifth.email, fifth.password).expect(200);
  });
});
