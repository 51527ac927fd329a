import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { refresh, register, registerAndLogin, sleep, type Tokens } from './support/auth-helpers.js';
import {
  basicAuth,
  expectOAuthError,
  jwtHeader,
  jwtPayload,
  oauthIntrospect,
  oauthRevoke,
  oauthToken,
} from './support/oauth-helpers.js';
import { TestContext, type TestInstance } from './support/test-context.js';

const ISSUER = 'https://auth.test';
const SESSION_SCOPE = 'notes:read notes:write';
const CLIENT = { id: 'rs', secret: '0123456789abcdef' };
const INTROSPECTION_CLIENTS = `${CLIENT.id}:${CLIENT.secret}`;
const BASIC = basicAuth(CLIENT.id, CLIENT.secret);
/** Seconds a rotated token is answered idempotently on the main instance: short, so tests can outwait it. */
const GRACE_SECONDS = 2;
/** Every request comes from 127.0.0.1: keep the per-IP login limit out of the way. */
const LIMITS = { LOGIN_MAX_FAILURES_PER_IP: '100000' };

/** A refresh token of our format that no database row has. */
function unknownRefreshToken(): string {
  return `${randomUUID()}.${'A'.repeat(43)}`;
}

/** The same row id with another secret: genuine-looking, not genuine. */
function tamperedRefreshToken(token: string): string {
  const [id, secret] = token.split('.') as [string, string];
  return `${id}.${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`;
}

function expectError(response: Response, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(response.body).toMatchObject({ statusCode: status, code, message: expect.any(String) });
}

function expectTokenResponse(response: Response): Tokens {
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({
    access_token: expect.any(String),
    token_type: 'Bearer',
    expires_in: expect.any(Number),
    refresh_token: expect.any(String),
    refresh_expires_in: expect.any(Number),
    session_id: expect.any(String),
  });
  return response.body as Tokens;
}

function me(instance: TestInstance, accessToken: string) {
  return instance.http().get('/auth/me').set('Authorization', `Bearer ${accessToken}`);
}

function grant(instance: TestInstance, refreshToken: string, extra: Record<string, string> = {}) {
  return oauthToken(instance, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

describe('OAuth 2.0 endpoints', () => {
  let context: TestContext;
  /** The main instance: introspection client configured, a short reuse grace. */
  let oauth: TestInstance;
  /** ACCESS_TOKEN_TTL=1, JWT_CLOCK_TOLERANCE=0. */
  let shortAccess: TestInstance;
  /** REFRESH_TOKEN_TTL=1. */
  let shortRefresh: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('oauth');
    shortAccess = await context.start({
      ...LIMITS,
      OAUTH_INTROSPECTION_CLIENTS: INTROSPECTION_CLIENTS,
      ACCESS_TOKEN_TTL: '1',
      JWT_CLOCK_TOLERANCE: '0',
    });
    shortRefresh = await context.start({ ...LIMITS, REFRESH_TOKEN_TTL: '1' });
    // Started last: passport's JwtStrategy registry is process-wide and the last app started
    // authenticates bearer tokens for all (a src bug, see key-rotation.e2e-spec.ts); the
    // /auth/me checks here are meant for this instance.
    oauth = await context.start({
      ...LIMITS,
      OAUTH_INTROSPECTION_CLIENTS: INTROSPECTION_CLIENTS,
      REFRESH_REUSE_GRACE: String(GRACE_SECONDS),
    });
  });
  afterAll(() => context.close());

  describe('GET /.well-known/oauth-authorization-server', () => {
    it('publishes RFC 8414 metadata under JWT_ISSUER', async () => {
      const response = await oauth.http().get('/.well-known/oauth-authorization-server').expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toMatchObject({
        issuer: ISSUER,
        token_endpoint: `${ISSUER}/oauth/token`,
        revocation_endpoint: `${ISSUER}/oauth/revoke`,
        introspection_endpoint: `${ISSUER}/oauth/introspect`,
        jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      });
      expect(response.body.grant_types_supported).toEqual(expect.arrayContaining(['refresh_token']));
    });

    it('points jwks_uri at the keys that verify the access tokens', async () => {
      const { body } = await oauth.http().get('/.well-known/oauth-authorization-server').expect(200);
      const path = new URL(body.jwks_uri as string).pathname;
      const jwks = await oauth.http().get(path).expect(200);
      const { tokens } = await registerAndLogin(oauth);
      const kids = (jwks.body.keys as Array<{ kid: string }>).map((key) => key.kid);
      expect(kids).toContain(jwtHeader(tokens.access_token).kid);
    });
  });

  describe('POST /oauth/token', () => {
    it('answers a form body over 16 KiB with 413 in the RFC 6749 error form', async () => {
      const response = await oauthToken(oauth, { grant_type: 'refresh_token', refresh_token: 'x'.repeat(17 * 1024) });
      expectOAuthError(response, 413, 'invalid_request');
    });

    it('refreshes: a token response with Cache-Control no-store, rotated like /auth/refresh', async () => {
      const { account, tokens } = await registerAndLogin(oauth);
      const response = await grant(oauth, tokens.refresh_token);
      const next = expectTokenResponse(response);
      expect(response.headers['cache-control']).toContain('no-store');
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(next.session_id).toBe(tokens.session_id);
      expect(next.refresh_token).not.toBe(tokens.refresh_token);
      expect(next.access_token).not.toBe(tokens.access_token);

      const user = await me(oauth, next.access_token).expect(200);
      expect(user.body.id).toBe(account.id);
      // The two endpoints serve one family: the successor refreshes on /auth/refresh.
      const viaAuth = await refresh(oauth, next.refresh_token).expect(200);
      expect(viaAuth.body.session_id).toBe(tokens.session_id);
    });

    it('answers a replay within the grace with the same successor, on either endpoint', async () => {
      const { tokens } = await registerAndLogin(oauth);
      const first = expectTokenResponse(await grant(oauth, tokens.refresh_token));

      const replayOAuth = expectTokenResponse(await grant(oauth, tokens.refresh_token));
      expect(replayOAuth.refresh_token).toBe(first.refresh_token);
      const replayAuth = await refresh(oauth, tokens.refresh_token).expect(200);
      expect(replayAuth.body.refresh_token).toBe(first.refresh_token);
      await me(oauth, replayOAuth.access_token).expect(200);

      // And the other way round: rotated on /auth/refresh, replayed on /oauth/token.
      const second = (await refresh(oauth, first.refresh_token).expect(200)).body as Tokens;
      const replayed = expectTokenResponse(await grant(oauth, first.refresh_token));
      expect(replayed.refresh_token).toBe(second.refresh_token);

      // The successor is still the one live token.
      expectTokenResponse(await grant(oauth, second.refresh_token));
    });

    it('treats a replay after the grace as theft whichever endpoint rotated and whichever replays', async () => {
      const a = (await registerAndLogin(oauth)).tokens;
      const b = (await registerAndLogin(oauth)).tokens;
      const aNext = expectTokenResponse(await grant(oauth, a.refresh_token)); // rotated by /oauth/token
      const bNext = (await refresh(oauth, b.refresh_token).expect(200)).body as Tokens; // rotated by /auth/refresh

      await sleep(GRACE_SECONDS * 1000 + 300);

      expectError(await refresh(oauth, a.refresh_token), 401, 'refresh_token_reused');
      expectOAuthError(await grant(oauth, b.refresh_token), 400, 'invalid_grant');

      // Both sessions are revoked as a whole: successors and access tokens are dead.
      expectOAuthError(await grant(oauth, aNext.refresh_token), 400, 'invalid_grant');
      expectError(await refresh(oauth, bNext.refresh_token), 401, 'refresh_token_revoked');
      expectError(await me(oauth, aNext.access_token), 401, 'token_revoked');
      expectError(await me(oauth, bNext.access_token), 401, 'token_revoked');
    });

    it('treats a replay after the grace as theft also when it asks for a scope', async () => {
      const { tokens } = await registerAndLogin(oauth);
      const next = expectTokenResponse(await grant(oauth, tokens.refresh_token));

      await sleep(GRACE_SECONDS * 1000 + 300);

      // A rotated token presented after the grace is theft, whatever else the request asks for.
      expectOAuthError(await grant(oauth, tokens.refresh_token, { scope: 'notes:read admin' }), 400, 'invalid_grant');
      expectError(await refresh(oauth, next.refresh_token), 401, 'refresh_token_revoked');
      expectError(await me(oauth, next.access_token), 401, 'token_revoked');
    });

    it('answers a missing grant_type with invalid_request', async () => {
      const { tokens } = await registerAndLogin(oauth);
      expectOAuthError(await oauthToken(oauth, { refresh_token: tokens.refresh_token }), 400, 'invalid_request');
      expectOAuthError(await oauthToken(oauth, {}), 400, 'invalid_request');
    });

    it.each(['password', 'authorization_code', 'client_credentials'])(
      'answers grant_type=%s with unsupported_grant_type',
      async (grantType) => {
        const account = await register(oauth);
        const response = await oauthToken(oauth, {
          grant_type: grantType,
          username: account.email,
          password: account.password,
          code: 'x',
        });
        expectOAuthError(response, 400, 'unsupported_grant_type');
      },
    );

    it('answers a missing refresh_token with invalid_request', async () => {
      expectOAuthError(await oauthToken(oauth, { grant_type: 'refresh_token' }), 400, 'invalid_request');
      expectOAuthError(await grant(oauth, ''), 400, 'invalid_request');
    });

    it('answers a parameter given twice with invalid_request (RFC 6749 §3.2)', async () => {
      const { tokens } = await registerAndLogin(oauth);
      const body = new URLSearchParams([
        ['grant_type', 'refresh_token'],
        ['grant_type', 'refresh_token'],
        ['refresh_token', tokens.refresh_token],
      ]).toString();
      const response = await oauth.http().post('/oauth/token').type('form').send(body);
      expectOAuthError(response, 400, 'invalid_request');
    });

    it.each([
      ['garbage', () => 'not-a-refresh-token'],
      ['of our format but unknown', unknownRefreshToken],
      ['a JWT', () => 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
    ])('answers a refresh token that is %s with invalid_grant', async (_label, token) => {
      expectOAuthError(await grant(oauth, token()), 400, 'invalid_grant');
    });

    it('answers a tampered refresh token with invalid_grant and leaves the genuine one alone', async () => {
      const { tokens } = await registerAndLogin(oauth);
      expectOAuthError(await grant(oauth, tamperedRefreshToken(tokens.refresh_token)), 400, 'invalid_grant');
      const next = expectTokenResponse(await grant(oauth, tokens.refresh_token));
      await me(oauth, next.access_token).expect(200);
    });

    it('answers an expired refresh token with invalid_grant', async () => {
      const { tokens } = await registerAndLogin(shortRefresh);
      await sleep(1500);
      expectOAuthError(await grant(shortRefresh, tokens.refresh_token), 400, 'invalid_grant');
    });

    it('answers the refresh token of a logged-out session with invalid_grant', async () => {
      const { tokens } = await registerAndLogin(oauth);
      await oauth.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
      expectOAuthError(await grant(oauth, tokens.refresh_token), 400, 'invalid_grant');
    });

    it('answers a dead refresh token with invalid_grant whatever scope it asks for', async () => {
      const { tokens } = await registerAndLogin(oauth);
      await oauth.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
      expectOAuthError(await grant(oauth, tokens.refresh_token, { scope: 'notes:read admin' }), 400, 'invalid_grant');
    });

    it('narrows the access token to a requested subset of the session scope', async () => {
      const { tokens } = await registerAndLogin(oauth);
      const narrow = expectTokenResponse(await grant(oauth, tokens.refresh_token, { scope: 'notes:read' }));
      expect(jwtPayload(narrow.access_token).scope).toBe('notes:read');
      await oauth.http().get('/notes').set('Authorization', `Bearer ${narrow.access_token}`).expect(200);
      const write = await oauth
        .http()
        .post('/notes')
        .set('Authorization', `Bearer ${narrow.access_token}`)
        .send({ title: 'narrowed', body: 'no write scope' });
      expectError(write, 403, 'insufficient_scope');

      // The refresh token keeps the session's scope: asking for nothing gives all of it back.
      const full = expectTokenResponse(await grant(oauth, narrow.refresh_token));
      expect(jwtPayload(full.access_token).scope).toBe(SESSION_SCOPE);
      const same = expectTokenResponse(await grant(oauth, full.refresh_token, { scope: 'notes:write notes:read' }));
      expect((jwtPayload(same.access_token).scope as string).split(' ').sort()).toEqual(
        SESSION_SCOPE.split(' ').sort(),
      );
    });

    it('answers a scope wider than the session with invalid_scope, without spending the token', async () => {
      const { tokens } = await registerAndLogin(oauth);
      expectOAuthError(await grant(oauth, tokens.refresh_token, { scope: 'notes:read admin' }), 400, 'invalid_scope');
      expectOAuthError(await grant(oauth, tokens.refresh_token, { scope: 'admin' }), 400, 'invalid_scope');

      const state = await oauthIntrospect(oauth, { token: tokens.refresh_token }, BASIC).expect(200);
      expect(state.body).toMatchObject({ active: true, token_type: 'refresh_token' });
      const next = expectTokenResponse(await grant(oauth, tokens.refresh_token));
      expect(jwtPayload(next.access_token).scope).toBe(SESSION_SCOPE);
    });

    it('ignores unknown parameters (RFC 6749 §3.2)', async () => {
      const { tokens } = await registerAndLogin(oauth);
      const response = await grant(oauth, tokens.refresh_token, {
        client_id: 'some-public-client',
        resource: 'https://api.example',
        foo: 'bar',
      });
      const next = expectTokenResponse(response);
      expect(next.session_id).toBe(tokens.session_id);
    });
  });

  describe('POST /oauth/revoke', () => {
    it('revokes the session of a refresh token', async () => {
      const { tokens } = await registerAndLogin(oauth);
      await me(oauth, tokens.access_token).expect(200);

      const response = await oauthRevoke(oauth, { token: tokens.refresh_token, token_type_hint: 'refresh_token' });
      expect(response.status).toBe(200);

      expectError(await me(oauth, tokens.access_token), 401, 'token_revoked');
      expectError(await refresh(oauth, tokens.refresh_token), 401, 'refresh_token_revoked');
    });

    it('revokes the session of an access token', async () => {
      const { tokens } = await registerAndLogin(oauth);
      await me(oauth, tokens.access_token).expect(200);

      expect((await oauthRevoke(oauth, { token: tokens.access_token, token_type_hint: 'access_token' })).status).toBe(
        200,
      );

      expectError(await me(oauth, tokens.access_token), 401, 'token_revoked');
      expectError(await refresh(oauth, tokens.refresh_token), 401, 'refresh_token_revoked');
    });

    it('revokes whatever the token is when token_type_hint is wrong or absent (RFC 7009 §2.1)', async () => {
      const first = (await registerAndLogin(oauth)).tokens;
      expect((await oauthRevoke(oauth, { token: first.access_token, token_type_hint: 'refresh_token' })).status).toBe(
        200,
      );
      expectError(await me(oauth, first.access_token), 401, 'token_revoked');

      const second = (await registerAndLogin(oauth)).tokens;
      expect((await oauthRevoke(oauth, { token: second.refresh_token })).status).toBe(200);
      expectError(await refresh(oauth, second.refresh_token), 401, 'refresh_token_revoked');
    });

    it('answers 200 for an unknown, invalid or already revoked token', async () => {
      const { tokens } = await registerAndLogin(oauth);
      await oauthRevoke(oauth, { token: tokens.refresh_token }).expect(200);
      const tokensToRevoke = [
        'garbage',
        unknownRefreshToken(),
        tamperedRefreshToken(tokens.refresh_token),
        'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
        tokens.refresh_token,
        tokens.access_token,
      ];
      for (const token of tokensToRevoke) {
        const response = await oauthRevoke(oauth, { token });
        expect({ token, status: response.status }).toEqual({ token, status: 200 });
      }
    });

    it('does not revoke anything for an unknown token', async () => {
      const { tokens } = await registerAndLogin(oauth);
      await oauthRevoke(oauth, { token: tamperedRefreshToken(tokens.refresh_token) }).expect(200);
      await me(oauth, tokens.access_token).expect(200);
      expectTokenResponse(await grant(oauth, tokens.refresh_token));
    });

    it('answers a missing token with invalid_request', async () => {
      expectOAuthError(await oauthRevoke(oauth, {}), 400, 'invalid_request');
      expectOAuthError(
        await oauthRevoke(oauth, { token: '', token_type_hint: 'refresh_token' }),
        400,
        'invalid_request',
      );
    });
  });

  describe('POST /oauth/introspect', () => {
    it('describes a live access token', async () => {
      const { account, tokens } = await registerAndLogin(oauth);
      const response = await oauthIntrospect(oauth, { token: tokens.access_token }, BASIC).expect(200);
      expect(response.headers['cache-control']).toContain('no-store');
      const claims = jwtPayload(tokens.access_token);
      expect(response.body).toMatchObject({
        active: true,
        token_type: 'access_token',
        sub: account.id,
        sid: tokens.session_id,
        scope: SESSION_SCOPE,
        iat: claims.iat,
        exp: claims.exp,
      });
    });

    it('describes a live refresh token', async () => {
      const { account, tokens } = await registerAndLogin(oauth);
      const before = Math.floor(Date.now() / 1000);
      const response = await oauthIntrospect(
        oauth,
        { token: tokens.refresh_token, token_type_hint: 'refresh_token' },
        BASIC,
      ).expect(200);
      expect(response.body).toMatchObject({
        active: true,
        token_type: 'refresh_token',
        sub: account.id,
        sid: tokens.session_id,
        scope: SESSION_SCOPE,
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect(response.body.iat).toBeLessThanOrEqual(before + 1);
      expect(Math.abs(response.body.exp - (before + tokens.refresh_expires_in))).toBeLessThanOrEqual(5);
    });

    it('answers exactly {active: false} for an expired access token', async () => {
      const { tokens } = await registerAndLogin(shortAccess);
      await sleep(2100);
      const response = await oauthIntrospect(shortAccess, { token: tokens.access_token }, BASIC).expect(200);
      expect(response.body).toEqual({ active: false });
    });

    it('answers exactly {active: false} for the tokens of a revoked session', async () => {
      const { tokens } = await registerAndLogin(oauth);
      await oauth.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
      for (const token of [tokens.access_token, tokens.refresh_token]) {
        const response = await oauthIntrospect(oauth, { token }, BASIC).expect(200);
        expect(response.body).toEqual({ active: false });
      }
    });

    it('answers exactly {active: false} for a rotated refresh token, and active for its successor', async () => {
      const { tokens } = await registerAndLogin(oauth);
      const next = expectTokenResponse(await grant(oauth, tokens.refresh_token));
      const rotated = await oauthIntrospect(oauth, { token: tokens.refresh_token }, BASIC).expect(200);
      expect(rotated.body).toEqual({ active: false });
      const live = await oauthIntrospect(oauth, { token: next.refresh_token }, BASIC).expect(200);
      expect(live.body).toMatchObject({ active: true, token_type: 'refresh_token', sid: tokens.session_id });
    });

    it.each([
      ['garbage', () => 'garbage'],
      ['an unknown refresh token', unknownRefreshToken],
      ['a forged JWT', () => 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
    ])('answers exactly {active: false} for %s', async (_label, token) => {
      const response = await oauthIntrospect(oauth, { token: token() }, BASIC).expect(200);
      expect(response.body).toEqual({ active: false });
    });

    it.each([
      ['no credentials', undefined],
      ['a wrong secret', basicAuth(CLIENT.id, 'fedcba9876543210')],
      ['an unknown client', basicAuth('other', CLIENT.secret)],
      ['an empty secret', basicAuth(CLIENT.id, '')],
      ['a bearer token instead of Basic', `Bearer ${CLIENT.secret}`],
      ['malformed Basic credentials', 'Basic !!!not-base64!!!'],
    ])('refuses %s with 401 invalid_client and a Basic challenge', async (_label, authorization) => {
      const { tokens } = await registerAndLogin(oauth);
      const response = await oauthIntrospect(oauth, { token: tokens.access_token }, authorization);
      expectOAuthError(response, 401, 'invalid_client');
      expect(response.headers['www-authenticate']).toMatch(/^Basic\b/);
    });

    it('answers a missing token with invalid_request', async () => {
      expectOAuthError(await oauthIntrospect(oauth, {}, BASIC), 400, 'invalid_request');
    });
  });
});
