import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuthError } from '../common/auth.error.js';
import type { AuthModuleOptions } from './auth-module-options.interface.js';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition.js';
import { RateLimitStore } from './rate-limit.store.interface.js';

/** API.md's defaults: 5 failures per account per 15 minutes, 20 per IP per minute. */
const DEFAULT_LIMITS = { maxFailures: 5, failureWindow: 15 * 60, maxFailuresPerIp: 20, ipWindow: 60 };

/** A login attempt that holds a place in the account's and the IP's counters. */
export interface LoginAttempt {
  /** Gives the places back: the attempt was not a failed guess (right password, or an outage). */
  release(): Promise<void>;
}

/**
 * Brute-force limits on login, per account and per client IP. Each attempt takes a place in both
 * counters atomically *before* the password is checked, so parallel guesses cannot all slip in;
 * a success gives its places back, so only failures stay counted. Once a counter is full every
 * attempt is refused with 429 until its window ends, the right password included (else the limit
 * would tell which password is right). Nothing resets a window early: no login from elsewhere
 * can clear an attacker's count, and a victim's lock always ends with the window.
 */
@Injectable()
export class LoginLimiter {
  private readonly limits: typeof DEFAULT_LIMITS;

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
  ) {
    this.limits = options.login ?? DEFAULT_LIMITS;
  }

  /** Takes a place for an attempt, or throws 429 `rate_limited` (with `Retry-After`). */
  async begin(email: string, ip: string | null): Promise<LoginAttempt> {
    const keys = [accountKey(email), ...(ip ? [ipKey(ip)] : [])];
    const counts = await Promise.all([
      this.store.increment(keys[0]!, this.limits.failureWindow * 1000),
      ...(ip ? [this.store.increment(keys[1]!, this.limits.ipWindow * 1000)] : []),
    ]);
    const limits = [this.limits.maxFailures, this.limits.maxFailuresPerIp];
    const release = () => Promise.all(keys.map((key) => this.store.decrement(key))).then(() => undefined);
    const over = counts.findIndex((count, index) => count.count > limits[index]!);
    if (over >= 0) {
      // A refused attempt was never tried: it does not count either.
      await release();
      const retryAfter = Math.max(1, Math.ceil(counts[over]!.resetInMs / 1000));
      throw new AuthError('rate_limited', 'Too many failed logins; retry later', undefined, retryAfter);
    }
    return { release };
  }
}

// Hashed so that Redis keys never hold an email address.
function accountKey(email: string): string {
  return `login-account:${createHash('sha256').update(email).digest('base64url')}`;
}

function ipKey(ip: string): string {
  return `login-ip:${ip}`;
}
