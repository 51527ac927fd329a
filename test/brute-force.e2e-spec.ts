import { register, sleep, uniqueEmail, type Account } from './support/auth-helpers.js';
import { attemptLogin, expectInvalidCredentials, expectRateLimited } from './support/login-attempts.js';
import { TestContext, type TestInstance } from './support/test-context.js';

const WRONG = 'not the right password';

describe('brute force: per account', () => {
  let context: TestContext;
  /** 3 failures per account per 2 s: the lock tests that outwait the window. */
  let expiring: TestInstance;
  /** 3 failures per account per 60 s: the lock tests that must not race a 2 s window on a busy machine. */
  let locking: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('brute-force');
    // Every request comes from 127.0.0.1: the per-IP limit is kept out of the way here.
    expiring = await context.start({
      LOGIN_MAX_FAILURES: '3',
      LOGIN_FAILURE_WINDOW: '2',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
    });
    locking = await context.start({
      LOGIN_MAX_FAILURES: '3',
      LOGIN_FAILURE_WINDOW: '60',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
    });
  });
  afterAll(() => context.close());

  it('after LOGIN_MAX_FAILURES wrong passwords refuses even the right one with 429 and Retry-After', async () => {
    const account = await register(locking);
    for (let i = 0; i < 3; i++) expectInvalidCredentials(await attemptLogin(locking, account.email, WRONG));

    const right = await attemptLogin(locking, account.email, account.password);
    expectRateLimited(right, 60);
    expect(right.body).not.toHaveProperty('access_token');
    const wrong = await attemptLogin(locking, account.email, WRONG);
    expectRateLimited(wrong, 60);
    // The answer is the same whatever the password: the lock is no password oracle.
    expect(wrong.body).toEqual(right.body);

    // Only that account is locked.
    const other = await register(locking);
    await attemptLogin(locking, other.email, other.password).expect(200);
  });

  it('limits an unknown email exactly like an existing account, with the same bodies', async () => {
    const known = await register(locking);
    const unknown = uniqueEmail('nobody');

    for (let i = 0; i < 3; i++) {
      const knownFailure = await attemptLogin(locking, known.email, WRONG);
      const unknownFailure = await attemptLogin(locking, unknown, WRONG);
      expectInvalidCredentials(knownFailure);
      expectInvalidCredentials(unknownFailure);
      expect(unknownFailure.body).toEqual(knownFailure.body);
    }

    const knownLocked = await attemptLogin(locking, known.email, known.password);
    const unknownLocked = await attemptLogin(locking, unknown, WRONG);
    expectRateLimited(knownLocked, 60);
    expectRateLimited(unknownLocked, 60);
    expect(unknownLocked.body).toEqual(knownLocked.body);
  });

  it('counts an email the way login reads it: trimmed and lower-cased', async () => {
    const account = await register(locking);
    const [local, domain] = account.email.split('@') as [string, string];
    const variants = [account.email.toUpperCase(), `  ${account.email}  `, `${local}@${domain.toUpperCase()}`];
    for (const variant of variants) expectInvalidCredentials(await attemptLogin(locking, variant, WRONG));

    expectRateLimited(await attemptLogin(locking, account.email, account.password), 60);
  });

  it('does not reset the count on a successful login', async () => {
    const account = await register(locking);
    for (let i = 0; i < 2; i++) expectInvalidCredentials(await attemptLogin(locking, account.email, WRONG));
    await attemptLogin(locking, account.email, account.password).expect(200);
    expectInvalidCredentials(await attemptLogin(locking, account.email, WRONG));

    expectRateLimited(await attemptLogin(locking, account.email, account.password), 60);
  });

  it('holds under concurrency: parallel guesses get no more than LOGIN_MAX_FAILURES password checks', async () => {
    const account = await register(locking);
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => attemptLogin(locking, account.email, `${WRONG} ${i}`)),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    // Each 401 is a password the attacker got checked; the limit allows three per window.
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(3);
    expectRateLimited(await attemptLogin(locking, account.email, account.password), 60);
  });

  it('lifts the lock when the window has passed', async () => {
    const account: Account = await register(expiring);
    for (let i = 0; i < 3; i++) expectInvalidCredentials(await attemptLogin(expiring, account.email, WRONG));
    const locked = await attemptLogin(expiring, account.email, account.password);
    const retryAfter = expectRateLimited(locked, 2);

    // Retrying when Retry-After says (plus a margin) must work: the 2 s window began at the first failure.
    await sleep(retryAfter * 1000 + 200);
    await attemptLogin(expiring, account.email, account.password).expect(200);
    // A new window starts from zero: one failure is one failure, not a lock.
    expectInvalidCredentials(await attemptLogin(expiring, account.email, WRONG));
    await attemptLogin(expiring, account.email, account.password).expect(200);
  });
});

describe('brute force: per client IP', () => {
  let context: TestContext;
  let instance: TestInstance;

  beforeAll(async () => {
    // A context of its own: the IP counter (127.0.0.1) must start from zero.
    context = await TestContext.create('brute-force-ip');
    instance = await context.start({
      LOGIN_MAX_FAILURES_PER_IP: '4',
      LOGIN_IP_WINDOW: '2',
      LOGIN_MAX_FAILURES: '100',
    });
  });
  afterAll(() => context.close());

  it('refuses any login from an IP after LOGIN_MAX_FAILURES_PER_IP failures spread over accounts, until the window ends', async () => {
    const accounts: Account[] = [];
    for (let i = 0; i < 5; i++) accounts.push(await register(instance));

    // One failure on each of four accounts: no account is near its own limit.
    for (const account of accounts.slice(0, 4)) {
      expectInvalidCredentials(await attemptLogin(instance, account.email, WRONG));
    }

    const fifth = accounts[4]!;
    const locked = await attemptLogin(instance, fifth.email, fifth.password);
    const retryAfter = expectRateLimited(locked, 2);
    expectRateLimited(await attemptLogin(instance, uniqueEmail('nobody'), WRONG), 2);

    await sleep(retryAfter * 1000 + 200);
    await attemptLogin(instance, fifth.email, fifth.password).expect(200);
  });

  it('holds under concurrency: parallel guesses from one IP get no more than LOGIN_MAX_FAILURES_PER_IP checks', async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => attemptLogin(instance, uniqueEmail('spray'), WRONG)),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(4);
  });
});
