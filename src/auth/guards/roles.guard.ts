import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AuthError, applyErrorHeaders } from '../../common/auth.error.js';
import type { AuthUser } from '../auth-user.interface.js';
import { ROLES_KEY } from '../decorators/roles.decorator.js';

/** Enforces `@Roles()`: the caller needs one of the listed roles. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required || required.length === 0) return true;
    const user = context.switchToHttp().getRequest<Request & { user?: AuthUser }>().user;
    const refusal = !user
      ? new AuthError('token_missing')
      : !required.some((role) => user.roles.includes(role))
        ? new AuthError('insufficient_role')
        : null;
    if (refusal) {
      applyErrorHeaders(context.switchToHttp().getResponse<Response>(), refusal);
      throw refusal;
    }
    return true;
  }
}
