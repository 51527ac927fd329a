import { jest } from '@jest/globals';
import { AuthError } from '../common/auth.error.js';
import { AuthMetrics } from '../metrics/auth-metrics.service.js';
import type { AuthConfig } from './auth-options.js';
import { LoginLimiter } from './login-limiter.service.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';

const config = { login: { maxFailures: 3, failureWindow: 60, maxFailuresPerIp: 5, ipWindow: 60 } } as AuthConfig;
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

  /** `count` failed guesses, one after the other. */
  async function fail(email: string, ip: string | null, count: number): Promise<void> {
    for (let i = 0; i < count; i++) await (await limiter.begin(email, ip)).settle('failed');
  }

  function build(): void {
    store = new MemoryRateLimitStore();
    limiter = new LoginLimiter(config, store, new AuthMetrics());
  }

  afterEach(() => {
    store.onApplicationShutdown();
    jest.useRealTimers();
  });

  describe('sequential attempts', () => {
    beforeEach(() => {
      jest.useFakeTimers({ now: 1_000_000 });
      // Built after the clock is faked, so its windows run on the fake clock.
      build();
    });

    it('lets three failures through and refuses the fourth with 429 rate_limited and Retry-After', async () => {
      await fail('ann@example.com', IP, 3);
      const error = await refusal(limiter.begin('ann@example.com', IP));
      expect(error).toMatchObject({ code: 'rate_limited', statusCode: 429 });
      expect(error.retryAfter).toBeGreaterThanOrEqual(1);
      expect(error.retryAfter).toBeLessThanOrEqual(60);
    });

    it('refuses the right password too once the failures fill the window, until it ends', async () => {
      await fail('ann@example.com', IP, 3);
      jest.advanceTimersByTime(20_000);
      expect((await refusal(limiter.begin('ann@example.com', IP))).retryAfter).toBe(40);
      jest.advanceTimersByTime(40_000);
      await (await limiter.begin('ann@example.com', IP)).settle('succeeded');
    });

    it('counts neither successes nor aborted attempts (an outage), only failures', async () => {
      for (let i = 0; i < 10; i++) await (await limiter.begin('ann@example.com', IP)).settle('succeeded');
      for (let i = 0; i < 10; i++) await (await limiter.begin('ann@example.com', IP)).settle('aborted');
      await fail('ann@example.com', IP, 3);
      await expect(limiter.begin('ann@example.com', IP)).rejects.toMatchObject({ code: 'rate_limited' });
      await fail('bob@example.com', IP, 2);
    });

    it('does not count a refused attempt', async () => {
      await fail('ann@example.com', IP, 3);
      for (let i = 0; i < 5; i++) {
        await expect(limiter.begin('ann@example.com', IP)).rejects.toMatchObject({ code: 'rate_limited' });
      }
      // The IP holds Ann's three failures only, not her five refusals: two places are left.
      await fail('bob@example.com', IP, 2);
      await expect(limiter.begin('carol@example.com', IP)).rejects.toMatchObject({ code: 'rate_limited' });
    });

    it('limits an IP across different emails, and no other IP', async () => {
      for (let i = 0; i < 5; i++) await fail(`user${i}@example.com`, IP, 1);
      const error = await refusal(limiter.begin('someone-else@example.com', IP));
      expect(error).toMatchObject({ code: 'rate_limited', statusCode: 429 });
      await (await limiter.begin('someone-else@example.com', '198.51.100.9')).settle('failed');
    });

    it('counts only the account when the client IP is unknown', async () => {
      for (let i = 0; i < 6; i++) await fail(`user${i}@example.com`, null, 1);
      await fail('ann@example.com', null, 3);
      await expect(limiter.begin('ann@example.com', null)).rejects.toMatchObject({ code: 'rate_limited' });
      for (let i = 0; i < 5; i++) await fail(`other${i}@example.com`, IP, 1);
    });

    it('settles an attempt once, whatever is called twice', async () => {
      const attempt = await limiter.begin('ann@example.com', IP);
      await attempt.settle('failed');
      await attempt.settle('failed');
      await fail('ann@example.com', IP, 2);
      await expect(limiter.begin('ann@example.com', IP)).rejects.toMatchObject({ code: 'rate_limited' });
    });
  });

  describe('attempts in parallel (real time: the later ones wait for a place)', () => {
    beforeEach(build);

    it('lets eight parallel logins with the right password all through', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const attempt = await limiter.begin('ann@example.com', IP);
          await new Promise((resolve) => setTimeout(resolve, 20)); // the password check
          await attempt.settle('succeeded');
          return 'ok';
        }),
      );
      expect(results).toEqual(Array(8).fill('ok'));
    });

    it('evaluates at most three of ten parallel wrong guesses; the rest get 429', async () => {
      let evaluated = 0;
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, async () => {
          const attempt = await limiter.begin('ann@example.com', IP);
          evaluated++;
          await new Promise((resolve) => setTimeout(resolve, 10));
          await attempt.settle('failed');
        }),
      );
      expect(evaluated).toBe(3);
      const refused = results.filter((result) => result.status === 'rejected');
      expect(refused).toHaveLength(7);
      for (const result of refused) expect(result.reason).toMatchObject({ code: 'rate_limited', statusCode: 429 });
      // The refusals gave the IP its places back: it holds the three failures, two are left.
      await fail('bob@example.com', IP, 2);
      await expect(limiter.begin('carol@example.com', IP)).rejects.toMatchObject({ code: 'rate_limited' });
    });

    it('lets the right password in after two failures while other guesses are in flight', async () => {
      await fail('ann@example.com', IP, 2);
      const guess = await limiter.begin('ann@example.com', IP);
      // Failures + attempts in flight fill the window: the next one waits instead of being refused.
      const waiting = limiter.begin('ann@example.com', IP);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await guess.settle('succeeded');
      await (await waiting).settle('succeeded');
    });
  });
});
