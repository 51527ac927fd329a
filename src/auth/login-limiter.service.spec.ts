import { jest } from '@jest/globals';
import { AuthError } from '../common/auth.error.js';
import type { AuthModuleOptions } from './auth-module-options.interface.js';
import { LoginLimiter } from './login-limiter.service.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';

const options = {
  login: { maxFailures: 3, failureWindow: 60, maxFailuresPerIp: 5, ipWindow: 60 },
} as AuthModuleOptions;

const IP = '203.0.113.7';

/** Awaits an attempt that must be refused and returns the error it was refused with. */
async function refusal(attempt: Promise<unknown>): Promise<AuthError> {
  try {
    await attempt;
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('the limiter let the attempt through');
}

describe('LoginLimiter', () => {
  let store: MemoryRateLimitStore;
  let limiter: LoginLimiter;

  /** Begins `count` attempts one after the other and never releases them: failed guesses. */
  async function fail(email: string, ip: string | null, count: number): Promise<void> {
    for (let i = 0; i < count; i++) await limiter.begin(email, ip);
  }

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    // Built after the clock is faked, so its windows and sweep run on the fake clock.
    store = new MemoryRateLimitStore();
    limiter = new LoginLimiter(options, store);
  });
  afterEach(() => {
    store.onModuleDestroy();
    jest.useRealTimers();
  });

  it('lets three failures through and refuses the fourth with 429 rate_limited and Retry-After', async () => {
    await fail('ann@example.com', IP, 3);
    const error = await refusal(limiter.begin('ann@example.com', IP));
    expect(error).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(error.retryAfter).toBeLessThanOrEqual(60);
  });

  it('answers Retry-After with what is left of the window', async () => {
    await fail('ann@example.com', IP, 3);
    jest.advanceTimersByTime(20_000);
    expect((await refusal(limiter.begin('ann@example.com', IP))).retryAfter).toBe(40);
  });

  it('does not count a released attempt (the right password)', async () => {
    for (let i = 0; i < 10; i++) await (await limiter.begin('ann@example.com', IP)).release();
    // Neither the account's nor the IP's counter kept anything.
    await fail('ann@example.com', IP, 3);
    await expect(limiter.begin('ann@example.com', IP)).rejects.toMatchObject({ code: 'rate_limited' });
    await fail('bob@example.com', IP, 2);
  });

  it('does not count a refused attempt, and lets attempts in again once the window ends', async () => {
    await fail('ann@example.com', IP, 3);
    for (let i = 0; i < 5; i++) {
      await expect(limiter.begin('ann@example.com', IP)).rejects.toMatchObject({ code: 'rate_limited' });
    }
    // The IP holds Ann's three failures only, not her five refusals: two places are left.
    await fail('bob@example.com', IP, 2);
    await expect(limiter.begin('carol@example.com', IP)).rejects.toMatchObject({ code: 'rate_limited' });

    jest.advanceTimersByTime(60_000);
    await fail('ann@example.com', IP, 3);
    await expect(limiter.begin('ann@example.com', IP)).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('limits an IP across different emails', async () => {
    for (let i = 0; i < 5; i++) await limiter.begin(`user${i}@example.com`, IP);
    const error = await refusal(limiter.begin('someone-else@example.com', IP));
    expect(error).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(error.retryAfter).toBeLessThanOrEqual(60);
    // Another IP is not held back by it.
    await limiter.begin('someone-else@example.com', '198.51.100.9');
  });

  it('lets exactly three of ten parallel attempts on one account through', async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => limiter.begin('ann@example.com', IP)));
    const passed = results.filter((result) => result.status === 'fulfilled');
    const refused = results.filter((result) => result.status === 'rejected');
    expect(passed).toHaveLength(3);
    expect(refused).toHaveLength(7);
    for (const result of refused) expect(result.reason).toMatchObject({ code: 'rate_limited', status: 429 });
    // The seven refusals gave the IP its places back: it holds three, two are left.
    await fail('bob@example.com', IP, 2);
    await expect(limiter.begin('carol@example.com', IP)).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('counts only the account when the client IP is unknown', async () => {
    // No shared bucket for "no IP": six accounts fail more than the per-IP limit allows.
    for (let i = 0; i < 6; i++) await limiter.begin(`user${i}@example.com`, null);
    await fail('ann@example.com', null, 3);
    await expect(limiter.begin('ann@example.com', null)).rejects.toMatchObject({ code: 'rate_limited', status: 429 });
    // Nor did those attempts take any place of a real IP's five.
    for (let i = 0; i < 5; i++) await limiter.begin(`other${i}@example.com`, IP);
  });
});
