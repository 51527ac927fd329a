import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuthError } from '../../common/auth.error.js';
import { verificationError } from '../access-token.service.js';
import type { AuthUser } from '../auth-user.interface.js';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator.js';
import { JwtStrategy } from '../jwt.strategy.js';

/** The callbacks passport gives a strategy for one authentication attempt. */
interface StrategyAttempt {
  success(user: AuthUser): void;
  fail(info?: unknown): void;
  error(error: unknown): void;
  pass(): void;
  redirect(): void;
  authenticate(request: Request, options: object): void;
}

/**
 * The global guard: every route needs a valid, unrevoked bearer access token unless it is
 * `@Public()`. Failures become coded errors (`token_missing`, `token_invalid`, …).
 *
 * It runs this app's own passport-jwt strategy instance rather than looking one up by name in
 * passport's process-wide registry, where a second app in the same process (a test, a worker)
 * would replace it with its own keys and database.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: JwtStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context)) return true;
    const request = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    request.user = await this.authenticate(request);
    return true;
  }

  /** Whether the route is open; handler metadata wins over the controller's. */
  protected isPublic(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]) === true
    );
  }

  /** Turns passport-jwt's "fail" information into our error. */
  protected failure(info: unknown): AuthError {
    if (info instanceof Error && info.message === 'No auth token') return new AuthError('token_missing');
    return verificationError(info);
  }

  private authenticate(request: Request): Promise<AuthUser> {
    return new Promise((resolve, reject) => {
      // Passport's own way of running a strategy: a per-attempt object with the callbacks.
      const attempt = Object.create(this.strategy) as StrategyAttempt;
      attempt.success = resolve;
      attempt.fail = (info) => reject(this.failure(info));
      // From validate(): a revoked session, or the database being down: passed on unchanged.
      attempt.error = reject;
      attempt.pass = () => reject(new AuthError('token_missing'));
      attempt.redirect = () => reject(new AuthError('token_invalid'));
      attempt.authenticate(request, {});
    });
  }
}
