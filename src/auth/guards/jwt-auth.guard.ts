import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AuthError, applyErrorHeaders } from '../../common/auth.error.js';
import { isDatabaseUnavailable } from '../../common/database-errors.js';
import { AuthMetrics } from '../../metrics/auth-metrics.service.js';
import { AccessTokenService, verificationError } from '../access-token.service.js';
import type { AuthUser } from '../auth-user.interface.js';
import { bearerToken, hasAuthorization } from '../bearer-token.js';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator.js';
import { ROLES_KEY } from '../decorators/roles.decorator.js';
import { SCOPES_KEY } from '../decorators/scopes.decorator.js';
import { JwtStrategy } from '../jwt.strategy.js';

/** What a route asks of its caller, read once per handler. */
interface RouteRules {
  open: boolean;
  roles?: string[];
  scopes?: string[];
}

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
 * The caller as this guard hands it to one request: that request's own copy (the remembered
 * caller is shared by every request with the token), and, being of a class no one else can
 * construct, the mark that the guard admitted it, so a second run (global and per-controller) is
 * free. A class rather than a mark on the request: Express gives each request a new prototype,
 * after which every property added to it costs a microsecond or more.
 */
class AdmittedUser implements AuthUser {
  readonly id: string;
  readonly sessionId: string;
  readonly roles: string[];
  readonly scopes: string[];
  readonly tokenId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;

  constructor(user: AuthUser) {
    this.id = user.id;
    this.sessionId = user.sessionId;
    this.roles = user.roles.slice();
    this.scopes = user.scopes.slice();
    this.tokenId = user.tokenId;
    this.issuedAt = user.issuedAt;
    this.expiresAt = user.expiresAt;
  }
}

/**
 * Authenticates bearer access tokens and enforces `@Roles()` and `@Scopes()`: registered for
 * every route by default (`globalGuard`), or put where the host wants it with
 * `@UseGuards(JwtAuthGuard)`. `@Public()` routes pass. Failures are coded errors with their
 * RFC 6750 `WWW-Authenticate` header, whichever exception filter answers them.
 *
 * A token seen before is not verified again (its `exp` is); the session's revocation is checked
 * on every request, answered from memory in the common case. It runs this app's own
 * passport-jwt strategy instance rather than one from passport's process-wide registry, where a
 * second app in the same process would replace it with its own keys and database.
 *
 * @example @UseGuards(JwtAuthGuard) @Get('me') me(@CurrentUser() user: AuthUser) {}
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly rules = new WeakMap<object, Map<object, RouteRules>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: JwtStrategy,
    private readonly accessTokens: AccessTokenService,
    private readonly metrics: AuthMetrics,
  ) {}

  /**
   * Synchronous when the answer is in memory (an open route, or a token seen before whose
   * session's revocation state is cached): Nest then skips the promise of an async guard.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const rules = this.rulesOf(context);
    if (rules.open) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<Request & { user?: AuthUser }>();
    try {
      if (request.user instanceof AdmittedUser) {
        this.authorize(request.user, rules);
        return true;
      }
      const user = this.authenticate(request);
      if (user instanceof Promise) {
        return user
          .then((caller) => {
            this.admit(request, caller, rules);
            return true;
          })
          .catch((thrown: unknown) => this.fail(http.getResponse<Response>(), thrown));
      }
      this.admit(request, user, rules);
      return true;
    } catch (thrown) {
      return this.fail(http.getResponse<Response>(), thrown);
    }
  }

  /** Counts the failure and throws it as a coded error with its RFC 6750 headers on the response. */
  private fail(response: Response, thrown: unknown): never {
    const error = this.toAuthError(thrown);
    this.metrics.authFailures.labels(error.code).inc();
    applyErrorHeaders(response, error);
    throw error;
  }

  /** Whether the route is open; handler metadata wins over the controller's. */
  protected isPublic(context: ExecutionContext): boolean {
    return this.rulesOf(context).open;
  }

  /** Checks `@Roles()` (any of) and `@Scopes()` (all of) against the caller. */
  protected authorize(user: AuthUser, rules: RouteRules): void {
    if (rules.roles && rules.roles.length > 0 && !rules.roles.some((role) => user.roles.includes(role))) {
      throw new AuthError('insufficient_role');
    }
    if (rules.scopes && rules.scopes.length > 0 && !rules.scopes.every((scope) => user.scopes.includes(scope))) {
      throw new AuthError('insufficient_scope');
    }
  }

  /** The caller, checked and authorized; the request remembers it for a second run of the guard. */
  private admit(request: Request & { user?: AuthUser }, user: AuthUser, rules: RouteRules): void {
    const admitted = new AdmittedUser(user);
    request.user = admitted;
    this.authorize(admitted, rules);
  }

  /** The caller of the bearer token, not revoked; a promise only when something is not in memory. */
  private authenticate(request: Request): AuthUser | Promise<AuthUser> {
    const raw = bearerToken(request);
    if (raw === undefined) {
      // A bearer header in a shape RFC 6750 does not allow is a bad token, not a missing one.
      throw new AuthError(
        hasAuthorization(request) && /^bearer(\s|$)/i.test(request.headers.authorization!)
          ? 'token_invalid'
          : 'token_missing',
      );
    }
    const known = this.accessTokens.recall(raw);
    if (known === undefined) return this.verify(request).then((user) => this.accessTokens.unlessRevoked(user));
    return this.accessTokens.unlessRevoked(known);
  }

  private verify(request: Request): Promise<AuthUser> {
    return new Promise((resolve, reject) => {
      // Passport's own way of running a strategy: a per-attempt object with the callbacks.
      const attempt = Object.create(this.strategy) as StrategyAttempt;
      attempt.success = resolve;
      attempt.fail = (info) =>
        reject(
          info instanceof Error && info.message === 'No auth token'
            ? new AuthError('token_missing')
            : verificationError(info),
        );
      attempt.error = reject;
      attempt.pass = () => reject(new AuthError('token_missing'));
      attempt.redirect = () => reject(new AuthError('token_invalid'));
      attempt.authenticate(request, {});
    });
  }

  private toAuthError(thrown: unknown): AuthError {
    if (thrown instanceof AuthError) return thrown;
    if (isDatabaseUnavailable(thrown)) {
      return new AuthError('service_unavailable', 'The session store cannot be reached; retry later.');
    }
    throw thrown;
  }

  private rulesOf(context: ExecutionContext): RouteRules {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byClass = this.rules.get(handler);
    let rules = byClass?.get(controller);
    if (rules) return rules;
    const targets = [handler, controller];
    rules = {
      open: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets) === true,
      roles: this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, targets),
      scopes: this.reflector.getAllAndOverride<string[] | undefined>(SCOPES_KEY, targets),
    };
    if (!byClass) this.rules.set(handler, (byClass = new Map()));
    byClass.set(controller, rules);
    return rules;
  }
}
