import { randomBytes, randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { login, refresh, register, sleep, waitUntil, type Account, type Tokens } from './support/auth-helpers.js';
import { hashRefreshToken } from '../src/tokens/refresh-token.format.js';
import { SERVICES, TestContext, type TestInstance } from './support/test-context.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** `<session uuid>.<generation>.<43 base64url characters>.<22>`: where, which, 256 random bits, and a tag. */
const REFRESH_TOKEN_FORMAT = new RegExp(`^(${UUID})\\.(\\d+)\\.([A-Za-z0-9_-]{43})\\.([A-Za-z0-9_-]{22})$`);
const TOKEN_RESPONSE_FIELDS = [
  'access_token',
  'expires_in',
  'refresh_expires_in',
  'refresh_token',
  'session_id',
  'token_type',
];

/** Asserts the contract's error shape: status, stable code, a message for people. */
function expectError(response: Response, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(response.body).toMatchObject({ statusCode: status, code, message: expect.any(String) });
}

function me(instance: TestInstance, accessToken: string) {
  return instance.http().get('/auth/me').set('Authorization', `Bearer ${accessToken}`);
}

/** Refreshes and expects a 200 token response. */
async function rotate(instance: TestInstance, refreshToken: string): Promise<Tokens> {
  const response = await refresh(instance, refreshToken);
  if (response.status !== 200) throw new Error(`refresh answered ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as Tokens;
}

/** Waits (up to the contract's 1 s) until the access token is refused as revoked. */
async function expectAccessTokenRevoked(instance: TestInstance, accessToken: string): Promise<void> {
  const elapsed = await waitUntil(async () => (await me(instance, accessToken)).body?.code === 'token_revoked', 1000);
  expect(elapsed).toBeGreaterThanOrEqual(0);
  expectError(await me(instance, accessToken), 401, 'token_revoked');
}

/** The raw rows of a table for one session, read through the app's own TypeORM connection. */
function rowsOf(instance: TestInstance, table: 'refresh_tokens' | 'sessions', column: string, sessionId: string) {
  return instance.app
    .get(DataSource)
    .createQueryBuilder()
    .select('*')
    .from(table, 't')
    .where(`t.${column} = :sessionId`, { sessionId })
    .getRawMany<Record<string, unknown>>();
}

async function sessionRevokedAt(instance: TestInstance, sessionId: string): Promise<unknown> {
  const [session] = await rowsOf(instance, 'sessions', 'id', sessionId);
  return session?.revoked_at;
}

describe('refresh tokens', () => {
  let context: TestContext;
  let instance: TestInstance;
  let account: Account;

  beforeAll(async () => {
    context = await TestContext.create('refresh-tokens');
    instance = await context.start();
    account = await register(instance);
  });
  afterAll(() => context.close());

  describe('the account as the built-in store has it now (read with the session, in one statement)', () => {
    const sql = (postgres: string) => (SERVICES ? postgres : postgres.replace(/\$\d+/g, '?'));
    const claims = (accessToken: string) =>
      JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

    it('carries roles and scopes changed since login into the next access token', async () => {
      const owner = await register(instance);
      const tokens = await login(instance, owner);
      expect(claims(tokens.access_token)).toMatchObject({ roles: ['user'] });
      await instance.app
        .get(DataSource)
        .query(sql(`UPDATE users SET roles = $1, scopes = $2 WHERE id = $3`), ['user,auditor', 'notes:read', owner.id]);
      const next = await rotate(instance, tokens.refresh_token);
      expect(claims(next.access_token)).toMatchObject({ roles: ['user', 'auditor'], scope: 'notes:read' });
    });

    it('refuses a disabled account at refresh (401) and serves it again once enabled', async () => {
      const owner = await register(instance);
      const tokens = await login(instance, owner);
      const db = instance.app.get(DataSource);
      await db.query(sql(`UPDATE users SET disabled = $1 WHERE id = $2`), [SERVICES ? true : 1, owner.id]);
      expectError(await refresh(instance, tokens.refresh_token), 401, 'refresh_token_revoked');
      await db.query(sql(`UPDATE users SET disabled = $1 WHERE id = $2`), [SERVICES ? false : 0, owner.id]);
      await rotate(instance, tokens.refresh_token);
    });

    it('refuses a deleted account at refresh (401) and ends the session', async () => {
      const owner = await register(instance);
      const tokens = await login(instance, owner);
      const db = instance.app.get(DataSource);
      await db.query(sql(`DELETE FROM users WHERE id = $1`), [owner.id]);
      expectError(await refresh(instance, tokens.refresh_token), 401, 'refresh_token_revoked');
      const [row] = (await db.query(sql(`SELECT revoked_reason FROM sessions WHERE id = $1`), [
        tokens.session_id,
      ])) as Array<{
        revoked_reason: string | null;
      }>;
      expect(row?.revoked_reason).toBe('user_removed');
      await expectAccessTokenRevoked(instance, tokens.access_token);
    });
  });

  describe('rotation', () => {
    it('answers a new token pair with the OAuth 2.0 field names', async () => {
      const first = await login(instance, account);
      const response = await refresh(instance, first.refresh_token).expect(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(Object.keys(response.body).sort()).toEqual(TOKEN_RESPONSE_FIELDS);
      const next = response.body as Tokens;
      expect(next).toMatchObject({ token_type: 'Bearer', expires_in: 900, session_id: first.session_id });
      expect(next.refresh_expires_in).toBeGreaterThan(14 * 86400 - 10);
      expect(next.refresh_expires_in).toBeLessThanOrEqual(14 * 86400);
      expect(next.refresh_token).not.toBe(first.refresh_token);
      expect(next.access_token).not.toBe(first.access_token);
    });

    it('moves the session to the next generation and hands out a successor that works', async () => {
      const first = await login(instance, account);
      const next = await rotate(instance, first.refresh_token);
      const [, firstSession, firstGeneration] = REFRESH_TOKEN_FORMAT.exec(first.refresh_token)!;
      const [, nextSession, nextGeneration] = REFRESH_TOKEN_FORMAT.exec(next.refresh_token)!;
      expect([firstSession, nextSession]).toEqual([first.session_id, first.session_id]);
      expect([Number(firstGeneration), Number(nextGeneration)]).toEqual([0, 1]);

      const [session] = await rowsOf(instance, 'sessions', 'id', first.session_id);
      expect(Number(session!.generation)).toBe(1);
      expect(session!.token_hash).toBe(hashRefreshToken(next.refresh_token));
      expect(session!.previous_token_hash).toBe(hashRefreshToken(first.refresh_token));
      expect(session!.rotated_at).toBeTruthy();
      expect(await rowsOf(instance, 'refresh_tokens', 'session_id', first.session_id)).toEqual([]);

      await me(instance, next.access_token).expect(200);
      const third = await rotate(instance, next.refresh_token);
      expect(third.session_id).toBe(first.session_id);
      expect(third.refresh_token).not.toBe(next.refresh_token);
    });

    it('issues opaque refresh tokens: <session>.<generation>.<256-bit base64url secret>.<tag>, never a JWT', async () => {
      const first = await login(instance, account);
      const next = await rotate(instance, first.refresh_token);
      const secrets = new Set<string>();
      for (const token of [first.refresh_token, next.refresh_token]) {
        const match = REFRESH_TOKEN_FORMAT.exec(token);
        expect(match).not.toBeNull();
        const secret = match![3]!;
        const bytes = Buffer.from(secret, 'base64url');
        expect(bytes).toHaveLength(32);
        expect(bytes.toString('base64url')).toBe(secret);
        secrets.add(secret);
        // Not a JWS: four segments, and the first is a UUID, not base64url JSON a client could read.
        expect(token.split('.')).toHaveLength(4);
        expect(() => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))).toThrow();
      }
      expect(secrets.size).toBe(2);
    });
  });

  describe('reuse within the grace window (default 10 s)', () => {
    it('answers the same successor, with a fresh working access token, every time', async () => {
      const first = await login(instance, account);
      const successor = await rotate(instance, first.refresh_token);
      const accessTokens = new Set([first.access_token, successor.access_token]);

      for (let attempt = 0; attempt < 3; attempt++) {
        const replay = await rotate(instance, first.refresh_token);
        expect(replay.refresh_token).toBe(successor.refresh_token);
        expect(replay.session_id).toBe(first.session_id);
        expect(replay.refresh_expires_in).toBeGreaterThan(0);
        expect(accessTokens.has(replay.access_token)).toBe(false);
        accessTokens.add(replay.access_token);
        await me(instance, replay.access_token).expect(200);
      }

      // The session was not disturbed: the successor rotates normally and every access token still works.
      const next = await rotate(instance, successor.refresh_token);
      expect(next.refresh_token).not.toBe(successor.refresh_token);
      for (const accessToken of accessTokens) await me(instance, accessToken).expect(200);
      await me(instance, next.access_token).expect(200);
    });

    it('treats an older ancestor as theft: only the immediate predecessor gets the grace', async () => {
      const a = await login(instance, account);
      const b = await rotate(instance, a.refresh_token);
      const c = await rotate(instance, b.refresh_token);

      // B is the live token's immediate predecessor: still answered idempotently.
      expect((await rotate(instance, b.refresh_token)).refresh_token).toBe(c.refresh_token);

      expectError(await refresh(instance, a.refresh_token), 401, 'refresh_token_reused');
      expectError(await refresh(instance, c.refresh_token), 401, 'refresh_token_revoked');
      await expectAccessTokenRevoked(instance, c.access_token);
      expect(await sessionRevokedAt(instance, a.session_id)).toBeTruthy();
    });
  });

  describe('reuse after the grace window (REFRESH_REUSE_GRACE=1)', () => {
    let graceful: TestInstance;

    beforeAll(async () => {
      graceful = await context.start({ REFRESH_REUSE_GRACE: '1' });
    });

    it('is theft: 401 refresh_token_reused, the session revoked, a security event written', async () => {
      const first = await login(graceful, account);
      const successor = await rotate(graceful, first.refresh_token);
      await me(graceful, first.access_token).expect(200);
      await sleep(1500);

      const reuse = await refresh(graceful, first.refresh_token);
      expectError(reuse, 401, 'refresh_token_reused');
      expect(JSON.stringify(reuse.body)).not.toContain(first.refresh_token);

      // The live successor is dead too, and so is every access token of the session.
      expectError(await refresh(graceful, successor.refresh_token), 401, 'refresh_token_revoked');
      await expectAccessTokenRevoked(graceful, first.access_token);
      await expectAccessTokenRevoked(graceful, successor.access_token);

      const fresh = await login(graceful, account);
      const events = await graceful
        .http()
        .get('/auth/events?limit=100')
        .set('Authorization', `Bearer ${fresh.access_token}`)
        .expect(200);
      const reused = (events.body.items as Array<{ type: string; sessionId: string | null }>).filter(
        (event) => event.type === 'refresh_token_reused',
      );
      expect(reused.map((event) => event.sessionId)).toContain(first.session_id);

      const sessions = await graceful
        .http()
        .get('/auth/sessions')
        .set('Authorization', `Bearer ${fresh.access_token}`)
        .expect(200);
      expect((sessions.body as Array<{ id: string }>).map((session) => session.id)).not.toContain(first.session_id);
    });
  });

  describe('no grace (REFRESH_REUSE_GRACE=0)', () => {
    let strict: TestInstance;

    beforeAll(async () => {
      strict = await context.start({ REFRESH_REUSE_GRACE: '0' });
    });

    it('treats any reuse as theft at once', async () => {
      const first = await login(strict, account);
      const successor = await rotate(strict, first.refresh_token);

      expectError(await refresh(strict, first.refresh_token), 401, 'refresh_token_reused');
      expectError(await refresh(strict, successor.refresh_token), 401, 'refresh_token_revoked');
      await expectAccessTokenRevoked(strict, successor.access_token);
      expect(await sessionRevokedAt(strict, first.session_id)).toBeTruthy();
    });

    it('lets at most one of 20 concurrent refreshes win, and the session ends revoked', async () => {
      const first = await login(strict, account);
      const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(strict, first.refresh_token)));

      const winners = responses.filter((response) => response.status === 200);
      const losers = responses.filter((response) => response.status !== 200);
      // Never two live branches of one family.
      expect(winners.length).toBeLessThanOrEqual(1);
      for (const loser of losers) {
        expect(loser.status).toBe(401);
        expect(['refresh_token_reused', 'refresh_token_revoked']).toContain(loser.body.code);
      }
      expect(losers.map((loser) => loser.body.code)).toContain('refresh_token_reused');

      expect(await sessionRevokedAt(strict, first.session_id)).toBeTruthy();
      await expectAccessTokenRevoked(strict, first.access_token);
      for (const winner of winners) {
        expectError(await refresh(strict, winner.body.refresh_token), 401, 'refresh_token_revoked');
        await expectAccessTokenRevoked(strict, winner.body.access_token);
      }
    });
  });

  describe('concurrent refreshes with the default grace', () => {
    it('answers all 20 with 200 and one single successor, which alone stays live', async () => {
      const first = await login(instance, account);
      const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(instance, first.refresh_token)));

      expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
      const successors = new Set(responses.map((response) => response.body.refresh_token as string));
      expect(successors.size).toBe(1);
      const [successor] = [...successors];
      expect(successor).not.toBe(first.refresh_token);

      const [session] = await rowsOf(instance, 'sessions', 'id', first.session_id);
      expect(Number(session!.generation)).toBe(1);
      expect(session!.token_hash).toBe(hashRefreshToken(successor!));

      const next = await rotate(instance, successor!);
      expect(next.session_id).toBe(first.session_id);
      await me(instance, next.access_token).expect(200);
      expect(await sessionRevokedAt(instance, first.session_id)).toBeNull();
    });
  });

  describe('tampered and malformed tokens', () => {
    let tokens: Tokens;

    beforeAll(async () => {
      tokens = await login(instance, account);
    });

    it('refuses the right session with a wrong secret, tag or generation, and leaves the real token working', async () => {
      const [, id, generation, secret, tag] = REFRESH_TOKEN_FORMAT.exec(tokens.refresh_token)!;
      const flip = (text: string) => `${text[0] === 'A' ? 'B' : 'A'}${text.slice(1)}`;
      const forgeries = [
        `${id}.${generation}.${flip(secret!)}.${tag}`,
        `${id}.${generation}.${randomBytes(32).toString('base64url')}.${tag}`,
        `${id}.${generation}.${secret}.${flip(tag!)}`,
        // An "ancestor" nobody issued must not get the session revoked as stolen.
        `${id}.${Number(generation) + 7}.${secret}.${tag}`,
        `${id}.${secret}`,
      ];
      for (const forged of forgeries) {
        const response = await refresh(instance, forged);
        expectError(response, 401, 'refresh_token_invalid');
        expect(JSON.stringify(response.body)).not.toContain(forged);
      }

      const next = await rotate(instance, tokens.refresh_token);
      expect(next.session_id).toBe(tokens.session_id);
      expect(next.refresh_token).not.toBe(tokens.refresh_token);
      tokens = next;
    });

    it.each([
      ['garbage', () => 'garbage'],
      ['three dotted words', () => 'not.a.token'],
      ['an access token (a JWT of some 500 characters)', () => tokens.access_token],
      ['an unsigned JWT', () => 'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIn0.'],
      ['an empty string', () => ''],
      [
        'a well-formed token nobody issued',
        () => `${randomUUID()}.0.${randomBytes(32).toString('base64url')}.${randomBytes(16).toString('base64url')}`,
      ],
      [
        'a well-formed first-format token nobody issued',
        () => `${randomUUID()}.${randomBytes(32).toString('base64url')}`,
      ],
      ['the real token with a trailing character', () => `${tokens.refresh_token}x`],
    ])('refuses %s with refresh_token_invalid', async (_label, make) => {
      expectError(await refresh(instance, make()), 401, 'refresh_token_invalid');
    });

    it('refuses a body without refresh_token with refresh_token_invalid', async () => {
      expectError(await instance.http().post('/auth/refresh').send({}), 401, 'refresh_token_invalid');
    });

    it.each([
      ['a number', 12345],
      ['an array', ['x']],
    ])('refuses %s as refresh_token with validation_failed', async (_label, value) => {
      const response = await instance.http().post('/auth/refresh').send({ refresh_token: value });
      expectError(response, 400, 'validation_failed');
      expect(response.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: 'refresh_token' })]),
      );
    });

    it('still refreshes the session after all of the above', async () => {
      const next = await rotate(instance, tokens.refresh_token);
      expect(next.session_id).toBe(tokens.session_id);
    });
  });

  describe('idle expiry', () => {
    it('REFRESH_TOKEN_TTL=1: an unused token is refresh_token_expired after 1.5 s', async () => {
      const short = await context.start({ REFRESH_TOKEN_TTL: '1' });
      const tokens = await login(short, account);
      expect(tokens.refresh_expires_in).toBe(1);
      await sleep(1500);
      expectError(await refresh(short, tokens.refresh_token), 401, 'refresh_token_expired');
    });

    it('REFRESH_TOKEN_TTL=2: refreshing every 0.9 s keeps the session alive past 2 s (sliding)', async () => {
      const sliding = await context.start({ REFRESH_TOKEN_TTL: '2' });
      let tokens = await login(sliding, account);
      const loggedInAt = Date.now();
      for (let round = 0; round < 3; round++) {
        await sleep(900);
        tokens = await rotate(sliding, tokens.refresh_token);
        expect(tokens.refresh_expires_in).toBe(2);
      }
      expect(Date.now() - loggedInAt).toBeGreaterThan(2000);
      await me(sliding, tokens.access_token).expect(200);
    });
  });

  describe('absolute expiry (SESSION_MAX_AGE=2, REFRESH_TOKEN_TTL=2)', () => {
    it('ends the session 2 s after login however often it is refreshed; refresh_expires_in never outlives it', async () => {
      const capped = await context.start({ SESSION_MAX_AGE: '2', REFRESH_TOKEN_TTL: '2' });
      let tokens = await login(capped, account);
      const loggedInAt = Date.now();
      // The session ends at most 2 s after the login response; expires_in is whole seconds, so
      // allow the half second of rounding to the nearest second, no more.
      const remainingSeconds = (sentAt: number) => (loggedInAt + 2000 - sentAt) / 1000;
      expect(tokens.refresh_expires_in).toBeLessThanOrEqual(2);

      for (const at of [700, 1400]) {
        await sleep(loggedInAt + at - Date.now());
        const sentAt = Date.now();
        tokens = await rotate(capped, tokens.refresh_token);
        expect(tokens.refresh_expires_in).toBeLessThanOrEqual(remainingSeconds(sentAt) + 0.5);
      }

      await sleep(loggedInAt + 2200 - Date.now());
      expectError(await refresh(capped, tokens.refresh_token), 401, 'refresh_token_expired');
    });
  });

  describe('storage', () => {
    it('keeps only a hash of each refresh token: no column holds a token or its secret', async () => {
      const first = await login(instance, account);
      const next = await rotate(instance, first.refresh_token);
      const secrets = [first.refresh_token, next.refresh_token].map((token) => REFRESH_TOKEN_FORMAT.exec(token)![3]!);

      const rows = await rowsOf(instance, 'sessions', 'id', first.session_id);
      expect(rows).toHaveLength(1);
      for (const row of rows) {
        expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
        expect(row.previous_token_hash).toMatch(/^[0-9a-f]{64}$/);
        for (const [column, value] of Object.entries(row)) {
          const text = value instanceof Date ? value.toISOString() : String(value);
          for (const needle of [first.refresh_token, next.refresh_token, ...secrets]) {
            expect({ column, leaks: text.includes(needle) }).toEqual({ column, leaks: false });
          }
        }
      }
      expect(rows[0]!.token_hash).not.toBe(rows[0]!.previous_token_hash);
    });
  });
});
