import type { Response } from 'supertest';
import type { TestInstance } from './test-context.js';

/** `POST /auth/login` with any credentials; the raw response. */
export function attemptLogin(instance: TestInstance, email: string, password: string) {
  return instance.http().post('/auth/login').send({ email, password });
}

/** Expects 401 `invalid_credentials` in the contract's error shape. */
export function expectInvalidCredentials(response: Response): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code: 'invalid_credentials' });
  expect(response.body).toMatchObject({ statusCode: 401, message: expect.any(String) });
}

/**
 * Expects 429 `rate_limited` with a `Retry-After` of whole seconds, at least 1 and at most
 * `maxSeconds`; returns the seconds.
 */
export function expectRateLimited(response: Response, maxSeconds: number): number {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status: 429, code: 'rate_limited' });
  expect(response.body).toMatchObject({ statusCode: 429, message: expect.any(String) });
  const retryAfter = response.headers['retry-after'];
  expect(retryAfter).toMatch(/^[1-9]\d*$/);
  const seconds = Number(retryAfter);
  expect(seconds).toBeLessThanOrEqual(maxSeconds);
  return seconds;
}
