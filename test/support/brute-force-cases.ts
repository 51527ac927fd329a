import { register, sleep, uniqueEmail, type Account } from './auth-helpers.js';
import { attemptLogin, expectInvalidCredentials, expectRateLimited } from './login-attempts.js';
import type { TestContext, TestInstance } from './test-context.js';

const WRONG = 'not the right password';

/** What a topology gives each group of cases: a fresh context, and the env that points at its Redis. */
export type OpenTopology = (name: string) => Promise<{ context: TestContext; env: Record<string, string | undefined> }>;

/**
 * The brute-force cases of two instances sharing one Redis (two instances of one context, as
 * replicas are), for whatever Redis `open` points them at: one server, a Cluster, a Sentinel
 * group. `maxFailures` failures of one account, spread over both, lock it on both.
 */
export function describeBruteForceAcrossInstances(topology: string, open: OpenTopology, maxFailures = 3): void {
  describe(`brute force across instances (${topology}): per account`, () => {
    let context: TestContext;
    let a: TestInstance;
    let b: TestInstance;

    beforeAll(async () => {
      const opened = await open('redis-brute-force');
      context = opened.context;
      const env = {
        ...opened.env,
        LOGIN_MAX_FAILURES: String(maxFailures),
        LOGIN_FAILURE_WINDOW: '60',
        LOGIN_MAX_FAILURES_PER_IP: '100000',
      };
      a = await context.start(env);
      b = await context.start(env);
    });
    afterAll(() => context?.close());

    it(`shares the account counter: ${maxFailures - 1} failures on A and 1 on B lock the account on both`, async () => {
      const account = await register(a);
      for (let i = 0; i < maxFailures - 1; i++) expectInvalidCredentials(await attemptLogin(a, account.email, WRONG));
      expectInvalidCredentials(await attemptLogin(b, account.email, WRONG));

      expectRateLimited(await attemptLogin(a, account.email, account.password), 60);
      expectRateLimited(await attemptLogin(b, account.email, account.password), 60);
    });

    it('shares the lock of an unknown email the same way', async () => {
      const email = uniqueEmail('nobody');
      for (let i = 0; i < maxFailures; i++) {
        expectInvalidCredentials(await attemptLogin(i % 2 === 0 ? b : a, email, WRONG));
      }

      expectRateLimited(await attemptLogin(a, email, WRONG), 60);
      expectRateLimited(await attemptLogin(b, email, WRONG), 60);
    });

    it('shares the count across a successful login on the other instance', async () => {
      const account = await register(a);
      expectInvalidCredentials(await attemptLogin(a, account.email, WRONG));
      expectInvalidCredentials(await attemptLogin(b, account.email, WRONG));
      await attemptLogin(b, account.email, account.password).expect(200);
      for (let i = 2; i < maxFailures; i++) expectInvalidCredentials(await attemptLogin(a, account.email, WRONG));

      expectRateLimited(await attemptLogin(b, account.email, account.password), 60);
    });
  });

  describe(`brute force across instances (${topology}): per client IP`, () => {
    let context: TestContext;
    let a: TestInstance;
    let b: TestInstance;

    beforeAll(async () => {
      const opened = await open('redis-brute-force-ip');
      context = opened.context;
      const env = { ...opened.env, LOGIN_MAX_FAILURES_PER_IP: '4', LOGIN_IP_WINDOW: '2', LOGIN_MAX_FAILURES: '100' };
      a = await context.start(env);
      b = await context.start(env);
    });
    afterAll(() => context?.close());

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

      // The window's end is what is under test: waiting it out is the point, not a synchronisation.
      await sleep(retryAfter * 1000 + 200);
      await attemptLogin(b, fifth.email, fifth.password).expect(200);
    });
  });
}
