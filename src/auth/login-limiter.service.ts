import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuthError } from '../common/auth.error.js';
import { AuthMetrics } from '../metrics/auth-metrics.service.js';
import { AUTH_CONFIG } from './auth.constants.js';
import type { AuthConfig } from './auth-options.js';
import { RateLimitStore } from './rate-limit.store.interface.js';

/** A place held by a login attempt in flight, in the account's and the IP's counters. */
export interface LoginAttempt {
  /** Ends the attempt: a wrong password counts as a failure; anything else counts nothing. */
  settle(outcome: 'failed' | 'succeeded' | 'aborted'): Promise<void>;
}

/** A place not settled within this long (its instance died) lapses by itself. */
const HOLD_MS = 30_000;
/** How long an attempt waits for a place while others for the same account are in flight. */
const MAX_WAIT_MS = 10_000;

/**
 * Brute-force limits on login, per account and per client IP, counting failures only.
 *
 * Before its password is checked, an attempt takes a place, and gets one only while failures
 * plus attempts in flight are below the limit; otherwise it waits for one to settle. A right
 * password gives its place back uncounted, a wrong one turns it into a failure. So parallel
 * guesses can never exceed the limit (each needs a free place), while parallel logins with the
 * right password all succeed, the later ones a moment later. Once failures fill a window, every
 * attempt gets 429 until the window ends, the right password included (else the limit would
 * tell which password is right). Nothing resets a window early.
 */
@Injectable()
export class LoginLimiter {
  private readonly limits: AuthConfig['login'];

  constructor(
    @Inject(AUTH_CONFIG) config: AuthConfig,
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
    private readonly metrics: AuthMetrics,
  ) {
    this.limits = config.login;
  }

  /** Takes places for an attempt, waiting while others are in flight, or throws 429 `rate_limited`. */
  async begin(email: string, ip: string | null): Promise<LoginAttempt> {
    const counters = [
      {
        name: 'account',
        key: accountKey(email),
        max: this.limits.maxFailures,
        windowMs: this.limits.failureWindow * 1000,
      },
      ...(ip
        ? [
            {
              name: 'ip',
              key: `login-ip:${ip}`,
              max: this.limits.maxFailuresPerIp,
              windowMs: this.limits.ipWindow * 1000,
            },
          ]
        : []),
    ];
    const deadline = Date.now() + MAX_WAIT_MS;
    for (let round = 0; ; round++) {
      const held: Array<{ counter: (typeof counters)[number]; token: string }> = [];
      let busy = false;
      for (const counter of counters) {
        const reservation = await this.store.reserve(counter.key, counter.max, HOLD_MS);
        if (reservation.status === 'taken') {
          held.push({ counter, token: reservation.token });
          continue;
        }
        await Promise.all(held.map(({ counter: c, token }) => this.store.settle(c.key, token, false, c.windowMs)));
        if (reservation.status === 'full') {
          this.metrics.loginLimitRejections.labels(counter.name).inc();
          throw new AuthError(
            'rate_limited',
            'Too many failed logins; retry later',
            undefined,
            Math.max(1, Math.ceil(reservation.retryInMs / 1000)),
          );
        }
        busy = true;
        break;
      }
      if (!busy) return this.attempt(held);
      if (Date.now() > deadline) {
        this.metrics.loginLimitRejections.labels('in_flight').inc();
        throw new AuthError(
          'rate_limited',
          'Too many login attempts in flight for this account; retry later',
          undefined,
          1,
        );
      }
      // Back off a little more each round, with jitter, so waiting attempts do not move in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.min(20 * (round + 1), 200) + Math.random() * 20));
    }
  }

  private attempt(held: Array<{ counter: { key: string; windowMs: number }; token: string }>): LoginAttempt {
    let settled = false;
    return {
      settle: async (outcome) => {
        if (settled) return;
        settled = true;
        await Promise.all(
          held.map(({ counter, token }) =>
            this.store.settle(counter.key, token, outcome === 'failed', counter.windowMs),
          ),
        );
      },
    };
  }
}

// Hashed so that Redis keys never hold an email address.
function accountKey(email: string): string {
  return `login-account:${createHash('sha256').update(email).digest('base64url')}`;
}
