import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AuthError } from '../../common/auth.error.js';
import { clientContext } from '../../common/client-context.js';
import type { AuthModuleOptions } from '../auth-module-options.interface.js';
import { AUTH_MODULE_OPTIONS } from '../auth.module-definition.js';
import { RateLimitStore } from '../rate-limit.store.interface.js';

const WINDOW_MS = 60_000;

/**
 * Caps requests per client IP per minute to a route that hashes a password (register, login),
 * so nobody can keep the server busy with argon2. Counted per route, in Redis when configured.
 *
 * (`@nestjs/throttler` 6 would fit, but it is CommonJS requiring the ESM-only `@nestjs/common`
 * 12, which Jest cannot load; the counters the login limits already use serve as well.)
 */
@Injectable()
export class CredentialRateLimitGuard implements CanActivate {
  private readonly limit: number;

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
  ) {
    this.limit = options.credentialRateLimit ?? 60;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const route = `${context.getClass().name}.${context.getHandler().name}`;
    const count = await this.store.increment(`requests:${route}:${clientContext(request).ip ?? 'unknown'}`, WINDOW_MS);
    if (count.count > this.limit) {
      throw new AuthError('rate_limited', undefined, undefined, Math.max(1, Math.ceil(count.resetInMs / 1000)));
    }
    return true;
  }
}
