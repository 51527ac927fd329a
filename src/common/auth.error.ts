import { HttpException } from '@nestjs/common';
import { AUTH_ERROR_MESSAGE, AUTH_ERROR_STATUS, type AuthErrorCode } from './auth-error-code.js';

/** One field's validation failures, as returned in `details`. */
export interface FieldError {
  field: string;
  messages: string[];
}

/** The contract's error body: `{statusCode, code, message, details?}`. */
export interface AuthErrorBody {
  statusCode: number;
  code: AuthErrorCode;
  message: string;
  details?: FieldError[];
}

const BEARER_CHALLENGE_CODES: ReadonlySet<AuthErrorCode> = new Set(['token_invalid', 'token_expired', 'token_revoked']);

/**
 * The one error type the library throws. It is an `HttpException` whose response is the
 * contract's body, so a host app's own (or Nest's default) exception filter answers it with the
 * right status and body even without our filter; {@link AuthError.headers} are the headers that
 * go with it (`WWW-Authenticate`, `Retry-After`).
 *
 * @example throw new AuthError('refresh_token_reused');
 */
export class AuthError extends HttpException {
  /** HTTP status that goes with `code` (also `getStatus()`). */
  readonly statusCode: number;

  constructor(
    readonly code: AuthErrorCode,
    message: string = AUTH_ERROR_MESSAGE[code],
    readonly details?: FieldError[],
    /** Seconds until a retry may succeed; sent as `Retry-After` with `rate_limited`. */
    readonly retryAfter?: number,
    /** Overrides the code's usual status, for framework errors without a code of their own. */
    status?: number,
  ) {
    const httpStatus = status ?? AUTH_ERROR_STATUS[code];
    const body: AuthErrorBody = { statusCode: httpStatus, code, message, ...(details ? { details } : {}) };
    super(body, httpStatus);
    this.name = 'AuthError';
    this.message = message;
    this.statusCode = httpStatus;
  }

  /** The contract's JSON body. */
  body(): AuthErrorBody {
    return this.getResponse() as AuthErrorBody;
  }

  /** Response headers of this error: the RFC 6750 challenge of a bearer failure, `Retry-After`. */
  headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.code === 'token_missing') headers['WWW-Authenticate'] = 'Bearer realm="api"';
    else if (BEARER_CHALLENGE_CODES.has(this.code) || this.code === 'insufficient_scope') {
      const error = this.code === 'insufficient_scope' ? 'insufficient_scope' : 'invalid_token';
      headers['WWW-Authenticate'] = `Bearer realm="api", error="${error}", error_description="${this.message}"`;
    }
    if (this.retryAfter !== undefined) headers['Retry-After'] = String(this.retryAfter);
    return headers;
  }
}

/**
 * Sets an error's headers on a response before it is thrown, so they go out whichever exception
 * filter answers (the host's own routes are answered by the host's filter).
 *
 * @example applyErrorHeaders(response, error); throw error;
 */
export function applyErrorHeaders(
  response: { setHeader?(name: string, value: string): unknown } | undefined,
  error: AuthError,
): void {
  // Outside HTTP (a GraphQL or RPC context) there may be no response to set them on.
  if (typeof response?.setHeader !== 'function' || (response as { headersSent?: boolean }).headersSent) return;
  for (const [name, value] of Object.entries(error.headers())) response.setHeader(name, value);
}
