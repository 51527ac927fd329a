import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthUser } from '../auth-user.interface.js';

/**
 * Injects the authenticated caller ({@link AuthUser}), or one of its fields.
 *
 * @example me(@CurrentUser() user: AuthUser) {}
 * @example list(@CurrentUser('id') userId: string) {}
 */
export const CurrentUser = createParamDecorator((field: keyof AuthUser | undefined, context: ExecutionContext) => {
  const user = context.switchToHttp().getRequest<Request & { user?: AuthUser }>().user;
  return field ? user?.[field] : user;
});
