import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AuthError } from '../../common/auth.error.js';
import { verificationError } from '../access-token.service.js';
import type { AuthUser } from '../auth-user.interface.js';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator.js';

/**
 * The global guard: every route needs a valid, unrevoked bearer access token unless it is
 * `@Public()`. Failures become coded errors (`token_missing`, `token_invalid`, …).
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    if (this.isPublic(context)) return true;
    return super.canActivate(context);
  }

  override handleRequest<TUser = AuthUser>(error: unknown, user: TUser | false, info: unknown): TUser {
    // `error` comes from validate() (revoked session, database down): pass it on unchanged;
    // verification failures arrive as `info`.
    if (error) throw error;
    if (user) return user;
    if (info instanceof Error && info.message === 'No auth token') throw new AuthError('token_missing');
    throw verificationError(info);
  }

  /** Whether the route is open; handler metadata wins over the controller's. */
  protected isPublic(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]) === true
    );
  }
}
