import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AuthError, applyErrorHeaders } from '../../common/auth.error.js';
import type { AuthUser } from '../auth-user.interface.js';
import { SCOPES_KEY } from '../decorators/scopes.decorator.js';

/** Enforces `@Scopes()`: the token needs every listed scope. */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<string[] | undefined>(SCOPES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required || required.length === 0) return true;
    const user = context.switchToHttp().getRequest<Request & { user?: AuthUser }>().user;
    const refusal = !user
      ? new AuthError('token_missing')
      : !required.every((scope) => user.scopes.includes(scope))
        ? new AuthError('insufficient_scope')
        : null;
    if (refusal) {
      applyErrorHeaders(context.switchToHttp().getResponse<Response>(), refusal);
      throw refusal;
    }
    return true;
  }
}
