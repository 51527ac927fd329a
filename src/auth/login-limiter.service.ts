import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuthError } from '../common/auth.error.js';
import type { AuthModuleOptions } from './auth-module-options.interface.js';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition.js';
import { LoginAttemptStore, type AttemptCount } from './login-attempts.store.interface.js';

/** API.md's defaults: 5 failures per account per 15 minutes, 20 per IP per minute. */
const DEFAULT_LIMITS = { maxFailures: 5, failureWindow: 15 * 60, maxFailuresPerIp: 20, ipWindow: 60 };

/**
 * Brute-force limits on login, per account and per client IP. Only failures count. Once a key
 * has reached its limit every attempt is refused with 429 until its window ends, the right
 * password included (else the limit would tell which password is right); nothing resets a
 * window early, so no login from elsewhere can clear an attacker's count, and a victim's lock
 * always ends with the window.
 */
@Injectable()
export class LoginLimiter {
  private readonly limits: typeof DEFAULT_LIMITS;

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
    @Inject(LoginAttemptStore) private readonly store: LoginAttemptStore,
  ) {
    this.limits = options.login ?? DEFAULT_LIMITS;
  }

  /** Throws 429 `rate_limited` (with `Retry-After`) when the account or the IP is over its limit. */
  async check(email: string, ip: string | null): Promise<void> {
    const [account, address] = await Promise.all([
      this.store.peek(accountKey(email)),
      ip ? this.store.peek(ipKey(ip)) : Promise.resolve({ count: 0, resetInMs: 0 }),
    ]);
    refuseIfOver(account, this.limits.maxFailures);
    refuseIfOver(address, this.limits.maxFailuresPerIp);
  }

  /** Counts a failed login against the account and the IP. */
  async recordFailure(email: string, ip: string | null): Promise<void> {
    await Promise.all([
      this.store.increment(accountKey(email), this.limits.failureWindow * 1000),
      ip ? this.store.increment(ipKey(ip), this.limits.ipWindow * 1000) : undefined,
    ]);
  }
}

function refuseIfOver(count: AttemptCount, limit: number): void {
  if (count.count >= limit) {
    throw new AuthError(
      'rate_limited',
      'Too many failed logins; retry later',
      undefined,
      Math.max(1, Math.ceil(count.resetInMs / 1000)),
    );
  }
}

// Hashed so that Redis keys never hold an email address.
function accountKey(email: string): string {
  return `account:${createHash('sha256').update(email).digest('base64url')}`;
}

function ipKey(ip: string): string {
  return `ip:${ip}`;
}
