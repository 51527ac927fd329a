/** Every machine-readable error code the service answers with; mirrored in API.md's error table. */
export type AuthErrorCode =
  | 'validation_failed'
  | 'invalid_credentials'
  | 'token_missing'
  | 'token_invalid'
  | 'token_expired'
  | 'token_revoked'
  | 'refresh_token_invalid'
  | 'refresh_token_expired'
  | 'refresh_token_revoked'
  | 'refresh_token_reused'
  | 'insufficient_role'
  | 'insufficient_scope'
  | 'csrf_failed'
  | 'account_disabled'
  | 'not_found'
  | 'email_taken'
  | 'payload_too_large'
  | 'rate_limited'
  | 'service_unavailable'
  | 'internal_error';

/** HTTP status of each code; one table so a code can never drift from its status. */
export const AUTH_ERROR_STATUS: Readonly<Record<AuthErrorCode, number>> = {
  validation_failed: 400,
  invalid_credentials: 401,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  token_revoked: 401,
  refresh_token_invalid: 401,
  refresh_token_expired: 401,
  refresh_token_revoked: 401,
  refresh_token_reused: 401,
  insufficient_role: 403,
  insufficient_scope: 403,
  csrf_failed: 403,
  account_disabled: 403,
  not_found: 404,
  email_taken: 409,
  payload_too_large: 413,
  rate_limited: 429,
  service_unavailable: 503,
  internal_error: 500,
};

/** Default human-readable message of each code. */
export const AUTH_ERROR_MESSAGE: Readonly<Record<AuthErrorCode, string>> = {
  validation_failed: 'Request validation failed',
  invalid_credentials: 'Invalid email or password',
  token_missing: 'Access token is missing',
  token_invalid: 'Access token is invalid',
  token_expired: 'Access token has expired',
  token_revoked: 'Access token has been revoked',
  refresh_token_invalid: 'Refresh token is invalid',
  refresh_token_expired: 'Refresh token has expired',
  refresh_token_revoked: 'Refresh token has been revoked',
  refresh_token_reused: 'Refresh token was already used; the session has been revoked',
  insufficient_role: 'Your role does not allow this',
  insufficient_scope: 'Your token scope does not allow this',
  csrf_failed: 'CSRF token missing or does not match',
  account_disabled: 'This account is disabled',
  not_found: 'Not found',
  email_taken: 'Email is already registered',
  payload_too_large: 'Request body is too large',
  rate_limited: 'Too many requests',
  service_unavailable: 'Service temporarily unavailable',
  internal_error: 'Internal server error',
};
