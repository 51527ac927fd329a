import type { Response } from 'supertest';
import type { TestInstance } from './test-context.js';

/** `POST /oauth/token` with a form body, as an OAuth client library sends it. */
export function oauthToken(instance: TestInstance, parameters: Record<string, string>) {
  return instance.http().post('/oauth/token').type('form').send(parameters);
}

/** `POST /oauth/revoke` (RFC 7009) with a form body and no client authentication. */
export function oauthRevoke(instance: TestInstance, parameters: Record<string, string>) {
  return instance.http().post('/oauth/revoke').type('form').send(parameters);
}

/** `POST /oauth/introspect` (RFC 7662) with a form body and, when given, an `Authorization` header. */
export function oauthIntrospect(instance: TestInstance, parameters: Record<string, string>, authorization?: string) {
  const request = instance.http().post('/oauth/introspect').type('form');
  return (authorization === undefined ? request : request.set('Authorization', authorization)).send(parameters);
}

/** An HTTP Basic `Authorization` value (RFC 6749 §2.3.1: id and secret form-encoded first). */
export function basicAuth(id: string, secret: string): string {
  const encode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

/** Expects an RFC 6749 §5.2 error: the status, the `error` code, and no keys but `error` and `error_description`. */
export function expectOAuthError(response: Response, status: number, error: string): void {
  expect({ status: response.status, error: response.body?.error }).toEqual({ status, error });
  expect(Object.keys(response.body as object).sort()).toEqual(['error', 'error_description']);
  expect(typeof response.body.error_description).toBe('string');
}

/** The claims of a compact JWT, unverified. */
export function jwtPayload(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('not a compact JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The protected header of a compact JWT, unverified. */
export function jwtHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
