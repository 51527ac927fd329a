import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthError, applyErrorHeaders } from '../../common/auth.error.js';
import { clientContext } from '../../common/client-context.js';
import { AUTH_CONFIG } from '../auth.constants.js';
import type { AuthConfig } from '../auth-options.js';
import { RateLimitStore } from '../rate-limit.store.interface.js';

const WINDOW_MS = 60_000;

/**
 * Caps requests per client IP per minute to a route that hashes a password (register, login,
 * password change), so nobody can keep the server busy with argon2. Counted per route, in Redis
 * when configured.
 *
 * (`@nestjs/throttler` 6 would fit, but it is CommonJS requiring the ESM-only `@nestjs/common`
 * 12, which Jest cannot load; the counters the login limits already use serve as well.)
 */
@Injectable()
export class CredentialRateLimitGuard implements CanActivate {
  private readonly limit: number;

  constructor(
    @Inject(AUTH_CONFIG) config: AuthConfig,
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
  ) {
    this.limit = config.credentialRateLimit;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const route = `${context.getClass().name}.${context.getHandler().name}`;
    const count = await this.store.increment(`requests:${route}:${clientContext(request).ip ?? 'unknown'}`, WINDOW_MS);
    if (count.count > this.limit) {
      const error = new AuthError('rate_limited', undefined, undefined, Math.max(1, Math.ceil(count.resetInMs / 1000)));
      applyErrorHeaders(context.switchToHttp().getResponse<Response>(), error);
      throw error;
    }
    return true;
  }
}
