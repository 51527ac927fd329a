import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthError } from '../../common/auth.error.js';
import type { AuthUser } from '../auth-user.interface.js';
import { Roles } from '../decorators/roles.decorator.js';
import { RolesGuard } from './roles.guard.js';

@Roles('admin')
class AdminOnly {
  inherited(): void {}

  @Roles('support')
  supportOnly(): void {}

  @Roles()
  opened(): void {}
}

class Undecorated {
  open(): void {}

  @Roles('admin', 'editor')
  adminOrEditor(): void {}
}

function user(roles: string[]): AuthUser {
  return { id: 'u1', sessionId: 's1', roles, scopes: [], tokenId: 't1', issuedAt: 0, expiresAt: 0 };
}

/** The few parts of an ExecutionContext the guard reads: handler, class and the request's user. */
function contextFor(controller: { prototype: object }, method: string, caller?: AuthUser): ExecutionContext {
  const handler = (controller.prototype as Record<string, () => void>)[method]!;
  const request = { user: caller };
  return {
    getHandler: () => handler,
    getClass: () => controller,
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}), getNext: () => undefined }),
    getType: () => 'http',
  } as unknown as ExecutionContext;
}

function denial(guard: RolesGuard, context: ExecutionContext): AuthError {
  try {
    guard.canActivate(context);
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('the guard allowed the request');
}

describe('RolesGuard', () => {
  const guard = new RolesGuard(new Reflector());

  it('allows a route without @Roles, even with no user', () => {
    expect(guard.canActivate(contextFor(Undecorated, 'open'))).toBe(true);
    expect(guard.canActivate(contextFor(Undecorated, 'open', user([])))).toBe(true);
  });

  it("applies the controller's roles to a handler without its own", () => {
    expect(guard.canActivate(contextFor(AdminOnly, 'inherited', user(['user', 'admin'])))).toBe(true);
    expect(denial(guard, contextFor(AdminOnly, 'inherited', user(['user']))).code).toBe('insufficient_role');
  });

  it("lets a handler's roles replace the controller's", () => {
    expect(guard.canActivate(contextFor(AdminOnly, 'supportOnly', user(['support'])))).toBe(true);
    // The controller's admin role no longer suffices there.
    expect(denial(guard, contextFor(AdminOnly, 'supportOnly', user(['admin']))).code).toBe('insufficient_role');
  });

  it('lets an empty @Roles() on a handler open it to any authenticated caller', () => {
    expect(guard.canActivate(contextFor(AdminOnly, 'opened', user(['user'])))).toBe(true);
  });

  it('needs any one of the listed roles', () => {
    expect(guard.canActivate(contextFor(Undecorated, 'adminOrEditor', user(['editor'])))).toBe(true);
    expect(guard.canActivate(contextFor(Undecorated, 'adminOrEditor', user(['admin'])))).toBe(true);
    const error = denial(guard, contextFor(Undecorated, 'adminOrEditor', user(['user', 'viewer'])));
    expect(error).toMatchObject({ code: 'insufficient_role', status: 403 });
  });

  it('refuses a caller with no roles at all', () => {
    expect(denial(guard, contextFor(Undecorated, 'adminOrEditor', user([]))).code).toBe('insufficient_role');
  });

  it('answers token_missing when no user was authenticated', () => {
    expect(denial(guard, contextFor(AdminOnly, 'inherited')).code).toBe('token_missing');
  });
});
