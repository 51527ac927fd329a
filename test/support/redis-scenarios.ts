import { refresh, register, uniqueEmail, waitUntil, type Tokens } from './auth-helpers.js';
import { attemptLogin, expectInvalidCredentials, expectRateLimited } from './login-attempts.js';
import {
  expectAccessLive,
  expectError,
  expectRevokedEverywhere,
  isAccessRevoked,
  loginAs,
  primeAsLive,
  REVOCATION_BOUND_MS,
} from './revocation-helpers.js';
import type { TestInstance } from './test-context.js';

/** A wrong password for the brute-force checks. */
export const WRONG_PASSWORD = 'not the right password';

/** `/health`'s view of one dependency (terminus puts it under `info`, and under `details` too). */
export async function healthOf(instance: TestInstance): Promise<{ status: number; database?: string; redis?: string }> {
  const response = await instance.http().get('/health');
  const body = response.body ?? {};
  return {
    status: response.status,
    database: (body.info?.database ?? body.details?.database ?? body.error?.database)?.status,
    redis: (body.info?.redis ?? body.details?.redis)?.status,
  };
}

/** Polls every instance's `/health` until each reports Redis in `status`; true when they all did within `timeoutMs`. */
export async function waitForRedis(
  instances: TestInstance[],
  status: 'up' | 'down',
  timeoutMs: number,
): Promise<boolean> {
  const waited = await waitUntil(
    async () => (await Promise.all(instances.map(healthOf))).every((health) => health.redis === status),
    timeoutMs,
  );
  return waited >= 0;
}

/** Expects `/health` 200 with the database up and Redis as given, on every instance. */
export async function expectHealth(instances: TestInstance[], redis: 'up' | 'down'): Promise<void> {
  for (const instance of instances) {
    expect(await healthOf(instance)).toEqual({ status: 200, database: 'up', redis });
  }
}

/**
 * A session logged out on `a` (held live in `b`'s cache first) is refused at once on `a` and on
 * `b` within one second; another session of the same user keeps working on both. Returns the
 * revoked session, for later checks that it stays revoked.
 */
export async function expectRevocationFansOut(a: TestInstance, b: TestInstance): Promise<Tokens> {
  const account = await register(a, uniqueEmail('fan-out'));
  const revoked = await loginAs(a, account);
  const kept = await loginAs(b, account);
  await primeAsLive(b, [revoked, kept]);
  await a.http().post('/auth/logout').send({ refresh_token: revoked.refresh_token }).expect(204);
  await expectRevokedEverywhere(a, b, Date.now(), [revoked]);
  await expectAccessLive(a, kept);
  await expectAccessLive(b, kept);
  return revoked;
}

/**
 * Reuse detection across instances: a chain rotated on `a` then on `b`, its first token presented
 * again on `b`, is theft: 401 `refresh_token_reused`, and the session's access token is refused
 * on `a` within one second.
 */
export async function expectReuseDetected(a: TestInstance, b: TestInstance): Promise<void> {
  const account = await register(a, uniqueEmail('reuse'));
  const first = await loginAs(a, account);
  const second = (await refresh(a, first.refresh_token).expect(200)).body as Tokens;
  const third = (await refresh(b, second.refresh_token).expect(200)).body as Tokens;
  await primeAsLive(a, [third]);
  expectError(await refresh(b, first.refresh_token), 401, 'refresh_token_reused');
  const detectedAt = Date.now();
  const waited = await waitUntil(
    () => isAccessRevoked(a, third.access_token),
    Math.max(0, detectedAt + REVOCATION_BOUND_MS - Date.now()),
  );
  expect({ revokedOnOtherInstanceWithin1s: waited >= 0 }).toEqual({ revokedOnOtherInstanceWithin1s: true });
  expectError(await refresh(a, third.refresh_token), 401, 'refresh_token_revoked');
}

/** Refreshes a chain on each instance in turn; the new access token works on both. */
export async function expectChainContinues(instances: TestInstance[], chain: { tokens: Tokens }): Promise<void> {
  for (const instance of instances) {
    const response = await refresh(instance, chain.tokens.refresh_token);
    expect({ status: response.status, code: response.body?.code }).toEqual({ status: 200, code: undefined });
    chain.tokens = response.body as Tokens;
    for (const each of instances) await expectAccessLive(each, chain.tokens);
  }
}

/**
 * Failures of one account spread over both instances add up (`max - 1` on `a`, one on `b`): then
 * both answer 429 with `Retry-After`, the right password included.
 */
export async function expectSharedAccountLimit(
  a: TestInstance,
  b: TestInstance,
  max: number,
  windowSeconds: number,
): Promise<void> {
  const account = await register(a, uniqueEmail('limit'));
  for (let i = 0; i < max - 1; i++) expectInvalidCredentials(await attemptLogin(a, account.email, WRONG_PASSWORD));
  expectInvalidCredentials(await attemptLogin(b, account.email, WRONG_PASSWORD));
  expectRateLimited(await attemptLogin(a, account.email, account.password), windowSeconds);
  expectRateLimited(await attemptLogin(b, account.email, account.password), windowSeconds);
}

/**
 * Each instance holds the limit by itself (its in-process fallback while Redis is unreachable):
 * `max` failures on one instance and it answers 429, the right password included.
 */
export async function expectLocalAccountLimit(
  instances: TestInstance[],
  max: number,
  windowSeconds: number,
): Promise<void> {
  for (const instance of instances) {
    const account = await register(instance, uniqueEmail('limit-local'));
    for (let i = 0; i < max; i++) {
      expectInvalidCredentials(await attemptLogin(instance, account.email, WRONG_PASSWORD));
    }
    expectRateLimited(await attemptLogin(instance, account.email, account.password), windowSeconds);
  }
}

/** A client of the test's own on the deployment (any topology), to watch and forge channel messages. */
export interface ChannelClient {
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
}

/**
 * The revocation channel works both ways, which the database poll alone would hide: a logout on
 * `a` is published on `<prefix>revocations`, and a message alone (the database still has the
 * session live) makes `b` refuse the session's access token within a second while its refresh
 * token, checked against the database, still works.
 */
export async function expectRevocationChannelWorks(
  a: TestInstance,
  b: TestInstance,
  keyPrefix: string,
  client: ChannelClient,
): Promise<void> {
  const channel = `${keyPrefix}revocations`;
  const heard: string[] = [];
  await client.subscribe(channel, (message) => heard.push(...message.split(',')));
  const account = await register(a, uniqueEmail('channel'));
  const ended = await loginAs(a, account);
  await a.http().post('/auth/logout').send({ refresh_token: ended.refresh_token }).expect(204);
  const published = await waitUntil(() => Promise.resolve(heard.includes(ended.session_id)), REVOCATION_BOUND_MS);
  expect({ publishedOnTheChannel: published >= 0 }).toEqual({ publishedOnTheChannel: true });

  const live = await loginAs(a, account);
  await primeAsLive(b, [live]);
  await client.publish(channel, live.session_id);
  const refused = await waitUntil(() => isAccessRevoked(b, live.access_token), REVOCATION_BOUND_MS);
  expect({ refusedOnTheMessageAlone: refused >= 0 }).toEqual({ refusedOnTheMessageAlone: true });
  await refresh(b, live.refresh_token).expect(200);
}
