import type { IncomingHttpHeaders } from 'node:http';
import { AuthError } from '../common/auth.error.js';

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b68token; we take exactly one space and one token,
// nothing before or after, so the guard and logout read a header the same way.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The bearer token of the `Authorization` header, or `undefined` when there is none or the
 * header is not exactly `Bearer <token>`.
 *
 * @example const raw = bearerToken(request);
 */
export function bearerToken(request: { headers: IncomingHttpHeaders }): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  return BEARER.exec(header)?.[1];
}

/**
 * Whether the request carries an `Authorization` header at all (a malformed one is a bad token,
 * not a missing one).
 *
 * @example if (!bearerToken(request) && hasAuthorization(request)) throw new AuthError('token_invalid');
 */
export function hasAuthorization(request: { headers: IncomingHttpHeaders }): boolean {
  return request.headers.authorization !== undefined && request.headers.authorization !== '';
}

/**
 * The bearer token of a request for a route that also accepts other credentials (logout):
 * `undefined` without an `Authorization` header, and 401 `token_invalid` for a bearer header
 * that is not exactly `Bearer <token>`, as the guard answers.
 *
 * @example const accessToken = optionalBearerToken(request);
 */
export function optionalBearerToken(request: { headers: IncomingHttpHeaders }): string | undefined {
  const token = bearerToken(request);
  if (token === undefined && hasAuthorization(request) && /^bearer(\s|$)/i.test(request.headers.authorization!)) {
    throw new AuthError('token_invalid');
  }
  return token;
}
