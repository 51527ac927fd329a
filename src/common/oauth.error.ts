import type { AuthErrorCode } from './auth-error-code.js';

/** Error codes of RFC 6749 §5.2 and RFC 7009 §2.2.1 that the OAuth endpoints answer with. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'unsupported_token_type'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'slow_down';

/**
 * An error of the `/oauth/*` endpoints, answered as `{error, error_description}` so OAuth client
 * libraries understand it.
 *
 * @example throw new OAuthError('unsupported_grant_type', 'Only refresh_token is supported');
 */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status: number = error === 'invalid_client' ? 401 : 400,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

/** How our own error codes read on the OAuth endpoints. */
export function oauthErrorFor(code: AuthErrorCode, message: string): OAuthError {
  switch (code) {
    case 'refresh_token_invalid':
    case 'refresh_token_expired':
    case 'refresh_token_revoked':
    case 'refresh_token_reused':
      return new OAuthError('invalid_grant', message);
    case 'validation_failed':
      return new OAuthError('invalid_request', message);
    case 'payload_too_large':
      return new OAuthError('invalid_request', message, 413);
    case 'rate_limited':
      return new OAuthError('slow_down', message, 429);
    case 'service_unavailable':
      return new OAuthError('temporarily_unavailable', message, 503);
    case 'not_found':
      return new OAuthError('invalid_request', message, 404);
    default:
      return new OAuthError('server_error', 'Internal server error', 500);
  }
}
