import { AUTH_ERROR_MESSAGE, AUTH_ERROR_STATUS, type AuthErrorCode } from './auth-error-code.js';

/** One field's validation failures, as returned in `details`. */
export interface FieldError {
  field: string;
  messages: string[];
}

/**
 * The one error type services throw; the exception filter turns it into the contract's JSON.
 *
 * @example throw new AuthError('refresh_token_reused');
 */
export class AuthError extends Error {
  /** HTTP status that goes with `code`. */
  readonly status: number;

  constructor(
    readonly code: AuthErrorCode,
    message: string = AUTH_ERROR_MESSAGE[code],
    readonly details?: FieldError[],
    /** Seconds until a retry may succeed; sent as `Retry-After` with `rate_limited`. */
    readonly retryAfter?: number,
    /** Overrides the code's usual status, for framework errors without a code of their own. */
    status?: number,
  ) {
    super(message);
    this.name = 'AuthError';
    this.status = status ?? AUTH_ERROR_STATUS[code];
  }
}
