import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthError } from './auth.error.js';
import { isDatabaseUnavailable } from './database-errors.js';
import { OAuthError, oauthErrorFor } from './oauth.error.js';

/** The OAuth endpoints, wherever they are mounted (a global prefix, `RouterModule`). */
const OAUTH_PATH = /(^|\/)oauth\/(token|revoke|introspect)\/?$/i;

/**
 * Turns every error into the contract's JSON (`{statusCode, code, message, details?}`) with its
 * headers (`WWW-Authenticate`, `Retry-After`); on the OAuth endpoints answers RFC 6749 §5.2
 * `{error, error_description}` instead. Our controllers carry it, so nothing needs registering in
 * a host app; the standalone service also registers it globally, so its own routes and 404s have
 * the same shape.
 *
 * @example app.useGlobalFilters(new AuthExceptionFilter());
 */
@Catch()
export class AuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    if (response.headersSent) return;
    if (this.isOAuth(request)) {
      this.sendOAuth(exception, request, response);
      return;
    }
    const error = this.toAuthError(exception, request);
    for (const [name, value] of Object.entries(error.headers())) response.setHeader(name, value);
    response.status(error.statusCode).json(error.body());
  }

  /** Whether the request is answered in RFC 6749 form. */
  protected isOAuth(request: Request): boolean {
    return OAUTH_PATH.test(request.path);
  }

  private sendOAuth(exception: unknown, request: Request, response: Response): void {
    const error =
      exception instanceof OAuthError
        ? exception
        : (() => {
            const known = this.toAuthError(exception, request);
            return oauthErrorFor(known.code, known.message);
          })();
    if (error.error === 'invalid_client') response.setHeader('WWW-Authenticate', 'Basic realm="oauth"');
    const retryAfter = exception instanceof AuthError ? exception.retryAfter : undefined;
    if (retryAfter !== undefined) response.setHeader('Retry-After', String(retryAfter));
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader('Pragma', 'no-cache');
    response.status(error.status).json({ error: error.error, error_description: error.description });
  }

  private toAuthError(exception: unknown, request: Request): AuthError {
    if (exception instanceof AuthError) return exception;
    if (exception instanceof OAuthError) {
      return new AuthError('validation_failed', exception.description, undefined, undefined, exception.status);
    }
    if (exception instanceof HttpException) return fromHttpException(exception);
    const status = (exception as { status?: number; statusCode?: number } | null)?.status;
    if (status === 413) return new AuthError('payload_too_large');
    if (isDatabaseUnavailable(exception)) {
      this.logger.error(
        `database unavailable during ${request.method} ${routeOf(request)}: ${(exception as Error).message}`,
      );
      return new AuthError('service_unavailable', 'The database cannot be reached; nothing was changed. Retry later.');
    }
    // Only the stack and the route: a request's body or headers may hold a password or token.
    this.logger.error(`unhandled error in ${request.method} ${routeOf(request)}`, (exception as Error)?.stack);
    return new AuthError('internal_error');
  }
}

/** The RFC 6749 filter of the OAuth controller: every error there is `{error, error_description}`. */
@Catch()
export class OAuthExceptionFilter extends AuthExceptionFilter {
  protected override isOAuth(): boolean {
    return true;
  }
}

/** The matched route pattern, never the raw URL (its query string may carry a token). */
function routeOf(request: Request): string {
  return (request.route as { path?: string } | undefined)?.path ?? request.path;
}

function fromHttpException(exception: HttpException): AuthError {
  const status = exception.getStatus();
  switch (status) {
    case 400:
      // A JSON parse error's message quotes the body, which may hold a password: never echo it. A
      // path parameter that is not valid percent-encoding (a URIError) is the path's fault.
      return new AuthError(
        'validation_failed',
        exception.cause instanceof URIError
          ? 'Request path is malformed'
          : exception.cause
            ? 'Request body is malformed'
            : exception.message,
      );
    case 401:
      // Another passport strategy or guard of the host app.
      return new AuthError('token_invalid');
    case 403:
      return new AuthError('insufficient_role', 'Access denied');
    case 404:
      return new AuthError(
        'not_found',
        exception.message === 'Not Found' || /^Cannot /.test(exception.message) ? undefined : exception.message,
      );
    case 413:
      return new AuthError('payload_too_large');
    case 429:
      return new AuthError('rate_limited');
    case 503:
      return new AuthError('service_unavailable');
    default:
      // Other client errors (405, 415, 422, …) keep their status; server errors say nothing more.
      return status >= 500
        ? new AuthError('internal_error')
        : new AuthError('validation_failed', exception.message, undefined, undefined, status);
  }
}
