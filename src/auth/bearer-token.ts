import type { Request } from 'express';

/**
 * The bearer token of the `Authorization` header (RFC 6750 §2.1), or `undefined`.
 *
 * @example const raw = bearerToken(request);
 */
export function bearerToken(request: Request): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(request.get('authorization') ?? '');
  return match?.[1];
}
