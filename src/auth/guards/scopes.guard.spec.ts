import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthError } from '../../common/auth.error.js';
import type { AuthUser } from '../auth-user.interface.js';
import { Scopes } from '../decorators/scopes.decorator.js';
import { ScopesGuard } from './scopes.guard.js';

@Scopes('notes:read')
class ReadNotes {
  inherited(): void {}

  @Scopes('notes:write')
  write(): void {}

  @Scopes('notes:read', 'notes:write')
  readAndWrite(): void {}
}

class Undecorated {
  open(): void {}
}

function user(scopes: string[]): AuthUser {
  return { id: 'u1', sessionId: 's1', roles: ['user'], scopes, tokenId: 't1', issuedAt: 0, expiresAt: 0 };
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

function denial(guard: ScopesGuard, context: ExecutionContext): AuthError {
  try {
    guard.canActivate(context);
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('the guard allowed the request');
}

describe('ScopesGuard', () => {
  const guard = new ScopesGuard(new Reflector());

  it('allows a route without @Scopes, even with no user', () => {
    expect(guard.canActivate(contextFor(Undecorated, 'open'))).toBe(true);
    expect(guard.canActivate(contextFor(Undecorated, 'open', user([])))).toBe(true);
  });

  it("applies the controller's scopes to a handler without its own", () => {
    expect(guard.canActivate(contextFor(ReadNotes, 'inherited', user(['notes:read'])))).toBe(true);
    expect(denial(guard, contextFor(ReadNotes, 'inherited', user(['notes:write']))).code).toBe('insufficient_scope');
  });

  it("lets a handler's scopes replace the controller's", () => {
    expect(guard.canActivate(contextFor(ReadNotes, 'write', user(['notes:write'])))).toBe(true);
    expect(denial(guard, contextFor(ReadNotes, 'write', user(['notes:read']))).code).toBe('insufficient_scope');
  });

  it('needs every one of the listed scopes', () => {
    expect(guard.canActivate(contextFor(ReadNotes, 'readAndWrite', user(['notes:write', 'notes:read', 'x'])))).toBe(
      true,
    );
    for (const scopes of [['notes:read'], ['notes:write'], []]) {
      const error = denial(guard, contextFor(ReadNotes, 'readAndWrite', user(scopes)));
      expect(error).toMatchObject({ code: 'insufficient_scope', status: 403 });
    }
  });

  it('does not match a scope by prefix', () => {
    expect(denial(guard, contextFor(ReadNotes, 'inherited', user(['notes:read-only', 'notes']))).code).toBe(
      'insufficient_scope',
    );
  });

  it('answers token_missing when no user was authenticated', () => {
    expect(denial(guard, contextFor(ReadNotes, 'inherited')).code).toBe('token_missing');
  });
});
