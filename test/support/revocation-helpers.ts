import type { Response } from 'supertest';
import { sleep, waitUntil, type Account, type Tokens } from './auth-helpers.js';
import type { TestInstance } from './test-context.js';

/** The contract's bound: a revoked access token is rejected on every instance within this. */
export const REVOCATION_BOUND_MS = 1000;

/** Logs in with a given `User-Agent` (200 expected), so sessions and events can be told apart. */
export async function loginAs(
  instance: TestInstance,
  account: Pick<Account, 'email' | 'password'>,
  userAgent = 'nra-e2e',
): Promise<Tokens> {
  const response = await instance
    .http()
    .post('/auth/login')
    .set('User-Agent', userAgent)
    .send({ email: account.email, password: account.password })
    .expect(200);
  return response.body as Tokens;
}

/** `GET /auth/me` with a bearer access token; the raw response. */
export function getMe(instance: TestInstance, accessToken: string) {
  return instance.http().get('/auth/me').set('Authorization', `Bearer ${accessToken}`);
}

/** Expects an error in the contract's shape: `{statusCode, code, message}` with the given status and code. */
export function expectError(response: Response, status: number, code: string): void {
  expect({ status: response.status, statusCode: response.body?.statusCode, code: response.body?.code }).toEqual({
    status,
    statusCode: status,
    code,
  });
  expect(typeof response.body.message).toBe('string');
}

/** Whether an access token is answered 401 `token_revoked` by an instance. */
export async function isAccessRevoked(instance: TestInstance, accessToken: string): Promise<boolean> {
  const response = await getMe(instance, accessToken);
  return response.status === 401 && response.body?.code === 'token_revoked';
}

/** Expects the session's access token to be accepted by the instance (`GET /auth/me` 200). */
export async function expectAccessLive(instance: TestInstance, tokens: Tokens): Promise<void> {
  const response = await getMe(instance, tokens.access_token);
  expect({ session: tokens.session_id, status: response.status }).toEqual({ session: tokens.session_id, status: 200 });
}

/** Expects the session to be revoked on this instance right now: access and refresh token both refused. */
export async function expectRevokedNow(instance: TestInstance, tokens: Tokens): Promise<void> {
  expectError(await getMe(instance, tokens.access_token), 401, 'token_revoked');
  const refreshed = await instance.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token });
  expectError(refreshed, 401, 'refresh_token_revoked');
}

/**
 * Makes an instance serve the sessions' access tokens, so that it holds them as live in whatever
 * cache it keeps: the revocation that follows must overcome that, not meet a cold cache. The short
 * pause puts the end of any one-second live entry at least one poll step inside the bound, so that
 * the 50 ms polling, not the service, can never be what decides.
 */
export async function primeAsLive(instance: TestInstance, sessions: readonly Tokens[]): Promise<void> {
  for (const tokens of sessions) await expectAccessLive(instance, tokens);
  await sleep(100);
}

/** What the access token of a session gets from an instance: the status and code of `GET /auth/me`. */
async function accessOutcome(instance: TestInstance, accessToken: string): Promise<string> {
  const response = await getMe(instance, accessToken);
  return `${response.status} ${response.body?.code ?? ''}`.trim();
}

/** What the refresh token of a session gets from an instance: the status and code of `POST /auth/refresh`. */
async function refreshOutcome(instance: TestInstance, refreshToken: string): Promise<string> {
  const response = await instance.http().post('/auth/refresh').send({ refresh_token: refreshToken });
  return `${response.status} ${response.body?.code ?? ''}`.trim();
}

/**
 * Expects sessions revoked by a request that returned at `revokedAt`: at once on the instance that
 * served it, and on the other instance within {@link REVOCATION_BOUND_MS} of `revokedAt` (polled
 * every 50 ms); the refresh tokens are refused on both. Every observation is made before anything
 * is asserted, so a failure shows the whole picture.
 */
export async function expectRevokedEverywhere(
  same: TestInstance,
  other: TestInstance,
  revokedAt: number,
  sessions: readonly Tokens[],
): Promise<void> {
  const onOther = Promise.all(
    sessions.map(async (tokens) => {
      const budget = revokedAt + REVOCATION_BOUND_MS - Date.now();
      const waited = await waitUntil(() => isAccessRevoked(other, tokens.access_token), Math.max(0, budget));
      return waited >= 0;
    }),
  );
  const observed = [];
  for (const tokens of sessions) {
    observed.push({
      session: tokens.session_id,
      accessOnSameInstanceAtOnce: await accessOutcome(same, tokens.access_token),
      refreshOnSameInstance: await refreshOutcome(same, tokens.refresh_token),
    });
  }
  const rejectedOnOther = await onOther;
  const report = [];
  for (const [index, tokens] of sessions.entries()) {
    report.push({
      ...observed[index],
      accessRejectedOnOtherInstanceWithin1s: rejectedOnOther[index],
      accessOnOtherInstance: await accessOutcome(other, tokens.access_token),
      refreshOnOtherInstance: await refreshOutcome(other, tokens.refresh_token),
    });
  }
  expect(report).toEqual(
    sessions.map((tokens) => ({
      session: tokens.session_id,
      accessOnSameInstanceAtOnce: '401 token_revoked',
      refreshOnSameInstance: '401 refresh_token_revoked',
      accessRejectedOnOtherInstanceWithin1s: true,
      accessOnOtherInstance: '401 token_revoked',
      refreshOnOtherInstance: '401 refresh_token_revoked',
    })),
  );
}
