import type { Response } from 'supertest';
import { login, register, type Account, type Tokens } from './support/auth-helpers.js';
import { cookieHeader, isCleared, setCookies, type SetCookie } from './support/cookies.js';
import { TestContext, type TestInstance } from './support/test-context.js';

const REFRESH_TOKEN_FORMAT =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.\d+\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/;
const APP_ORIGIN = 'https://app.example';
const OTHER_ORIGIN = 'https://evil.example';
/** Every request comes from 127.0.0.1: keep the per-IP login limit out of the way. */
const LIMITS = { LOGIN_MAX_FAILURES_PER_IP: '100000' };

/** What a browser holds after a cookie-mode login or refresh. */
interface BrowserSession {
  body: Record<string, unknown>;
  refreshCookie: SetCookie;
  csrfCookie: SetCookie;
  /** The two cookies as a `Cookie` request header. */
  cookie: string;
  csrf: string;
}

function expectError(response: Response, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(response.body).toMatchObject({ statusCode: status, code, message: expect.any(String) });
}

/** Reads the cookie pair a login or refresh answered with; fails when either is missing. */
function browserSession(response: Response): BrowserSession {
  const cookies = setCookies(response);
  const refreshCookie = cookies['refresh_token'];
  const csrfCookie = cookies['csrf_token'];
  if (!refreshCookie || !csrfCookie) {
    throw new Error(
      `expected refresh_token and csrf_token cookies, got ${JSON.stringify(response.headers['set-cookie'])}`,
    );
  }
  return {
    body: response.body as Record<string, unknown>,
    refreshCookie,
    csrfCookie,
    cookie: cookieHeader({ refresh_token: refreshCookie.value, csrf_token: csrfCookie.value }),
    csrf: csrfCookie.value,
  };
}

async function cookieLogin(instance: TestInstance, account: Account): Promise<BrowserSession> {
  const response = await instance
    .http()
    .post('/auth/login')
    .set('X-Token-Transport', 'cookie')
    .send({ email: account.email, password: account.password })
    .expect(200);
  return browserSession(response);
}

/** A refresh that carries the refresh token only in the cookie; `csrf` is the header, if any. */
function cookieRefresh(instance: TestInstance, cookie: string, csrf?: string) {
  const request = instance.http().post('/auth/refresh').set('Cookie', cookie);
  return csrf === undefined ? request.send() : request.set('X-CSRF-Token', csrf).send();
}

function cookieLogout(instance: TestInstance, cookie: string, csrf?: string) {
  const request = instance.http().post('/auth/logout').set('Cookie', cookie);
  return csrf === undefined ? request.send() : request.set('X-CSRF-Token', csrf).send();
}

function me(instance: TestInstance, accessToken: unknown) {
  return instance
    .http()
    .get('/auth/me')
    .set('Authorization', `Bearer ${String(accessToken)}`);
}

function expectTokenBodyWithoutRefreshToken(body: Record<string, unknown>): void {
  expect(body).not.toHaveProperty('refresh_token');
  expect(body).toMatchObject({
    access_token: expect.any(String),
    token_type: 'Bearer',
    expires_in: expect.any(Number),
    refresh_expires_in: expect.any(Number),
    session_id: expect.any(String),
  });
}

describe('browser (cookie) transport', () => {
  let context: TestContext;
  /** COOKIE_SECURE=false, as the test context sets it. */
  let plain: TestInstance;
  /** REFRESH_REUSE_GRACE=0: any replay of a rotated token is theft. */
  let noGrace: TestInstance;
  /** CORS_ORIGINS=https://app.example. */
  let cors: TestInstance;
  const secure: Record<string, TestInstance> = {};

  beforeAll(async () => {
    context = await TestContext.create('cookie-transport');
    noGrace = await context.start({ ...LIMITS, REFRESH_REUSE_GRACE: '0' });
    cors = await context.start({ ...LIMITS, CORS_ORIGINS: APP_ORIGIN });
    // `undefined` drops the context's COOKIE_SECURE=false, so the service's own default applies.
    secure['unset (the default)'] = await context.start({ ...LIMITS, COOKIE_SECURE: undefined });
    secure['true'] = await context.start({ ...LIMITS, COOKIE_SECURE: 'true' });
    // Started last on purpose: the JwtStrategy registers itself in passport's process-wide
    // registry, so the last app started authenticates bearer tokens for every app in this
    // process (reported as a src bug; key-rotation.e2e-spec.ts shows it). The logout tests
    // check an access token right after revoking its session on `plain`, and must meet
    // `plain`'s own revocation cache.
    plain = await context.start(LIMITS);
  });
  afterAll(() => context.close());

  describe('login', () => {
    it.each(['unset (the default)', 'true'])(
      'with COOKIE_SECURE %s sets an HttpOnly Secure SameSite=Strict refresh cookie on /auth and a readable Secure csrf cookie',
      async (variant) => {
        const instance = secure[variant]!;
        const account = await register(instance);
        const response = await instance
          .http()
          .post('/auth/login')
          .set('X-Token-Transport', 'cookie')
          .send({ email: account.email, password: account.password })
          .expect(200);

        expect(response.headers['cache-control']).toContain('no-store');
        expectTokenBodyWithoutRefreshToken(response.body);
        const { refreshCookie, csrfCookie } = browserSession(response);

        expect(refreshCookie.value).toMatch(REFRESH_TOKEN_FORMAT);
        expect(refreshCookie.attributes).toMatchObject({ path: '/auth', httponly: true, secure: true });
        expect(String(refreshCookie.attributes['samesite']).toLowerCase()).toBe('strict');
        const maxAge = Number(refreshCookie.attributes['max-age']);
        expect(Number.isInteger(maxAge)).toBe(true);
        expect(Math.abs(maxAge - (response.body.refresh_expires_in as number))).toBeLessThanOrEqual(1);

        expect(csrfCookie.value).not.toBe('');
        expect(csrfCookie.value).not.toBe(refreshCookie.value);
        expect(csrfCookie.attributes).not.toHaveProperty('httponly');
        expect(csrfCookie.attributes).toMatchObject({ path: '/', secure: true });
        expect(String(csrfCookie.attributes['samesite']).toLowerCase()).toBe('strict');

        await me(instance, response.body.access_token).expect(200);
      },
    );

    it('with COOKIE_SECURE=false sets the same cookies without Secure', async () => {
      const account = await register(plain);
      const session = await cookieLogin(plain, account);

      expectTokenBodyWithoutRefreshToken(session.body);
      expect(session.refreshCookie.attributes).toMatchObject({ path: '/auth', httponly: true });
      expect(String(session.refreshCookie.attributes['samesite']).toLowerCase()).toBe('strict');
      expect(session.refreshCookie.attributes).not.toHaveProperty('secure');
      expect(session.csrfCookie.attributes).not.toHaveProperty('httponly');
      expect(session.csrfCookie.attributes).not.toHaveProperty('secure');
    });

    it('without X-Token-Transport keeps the refresh token in the body and sets no cookie', async () => {
      const account = await register(plain);
      const response = await plain
        .http()
        .post('/auth/login')
        .send({ email: account.email, password: account.password })
        .expect(200);

      expect(response.body.refresh_token).toMatch(REFRESH_TOKEN_FORMAT);
      expect(setCookies(response)).not.toHaveProperty('refresh_token');
      expect(setCookies(response)).not.toHaveProperty('csrf_token');
    });
  });

  describe('refresh', () => {
    it('by cookie without X-CSRF-Token is 403 csrf_failed', async () => {
      const session = await cookieLogin(plain, await register(plain));
      expectError(await cookieRefresh(plain, session.cookie), 403, 'csrf_failed');
    });

    it('by cookie with a wrong X-CSRF-Token, or without the csrf_token cookie, is 403 csrf_failed', async () => {
      const session = await cookieLogin(plain, await register(plain));
      const wrong = `${session.csrf.slice(0, -1)}${session.csrf.endsWith('A') ? 'B' : 'A'}`;
      expectError(await cookieRefresh(plain, session.cookie, wrong), 403, 'csrf_failed');
      expectError(await cookieRefresh(plain, session.cookie, ''), 403, 'csrf_failed');
      const refreshOnly = cookieHeader({ refresh_token: session.refreshCookie.value });
      expectError(await cookieRefresh(plain, refreshOnly, session.csrf), 403, 'csrf_failed');
    });

    it('by cookie with the right X-CSRF-Token rotates the token and answers it as a cookie again', async () => {
      const first = await cookieLogin(plain, await register(plain));
      // The refused attempts above did not spend the token: it still rotates normally.
      expectError(await cookieRefresh(plain, first.cookie), 403, 'csrf_failed');

      const response = await cookieRefresh(plain, first.cookie, first.csrf).expect(200);
      expect(response.headers['cache-control']).toContain('no-store');
      expectTokenBodyWithoutRefreshToken(response.body);
      expect(response.body.session_id).toBe(first.body.session_id);
      const second = browserSession(response);
      expect(second.refreshCookie.value).toMatch(REFRESH_TOKEN_FORMAT);
      expect(second.refreshCookie.value).not.toBe(first.refreshCookie.value);
      expect(second.refreshCookie.attributes).toMatchObject({ path: '/auth', httponly: true });
      expect(String(second.refreshCookie.attributes['samesite']).toLowerCase()).toBe('strict');
      expect(second.csrfCookie.attributes).not.toHaveProperty('httponly');
      await me(plain, response.body.access_token).expect(200);

      // The new pair refreshes in turn.
      const third = browserSession(await cookieRefresh(plain, second.cookie, second.csrf).expect(200));
      expect(third.body.session_id).toBe(first.body.session_id);
      expect(third.refreshCookie.value).not.toBe(second.refreshCookie.value);
    });

    it('rotation by cookie spends the old cookie value: within the grace it yields the same successor', async () => {
      const first = await cookieLogin(plain, await register(plain));
      const second = browserSession(await cookieRefresh(plain, first.cookie, first.csrf).expect(200));

      // The old value, replayed (in the body) within REFRESH_REUSE_GRACE, is answered idempotently.
      const replay = await plain.http().post('/auth/refresh').send({ refresh_token: first.refreshCookie.value });
      expect(replay.status).toBe(200);
      expect(replay.body.refresh_token).toBe(second.refreshCookie.value);
      expect(replay.body.session_id).toBe(first.body.session_id);
    });

    it('rotation by cookie spends the old cookie value: after the grace it is refresh_token_reused', async () => {
      const first = await cookieLogin(noGrace, await register(noGrace));
      const second = browserSession(await cookieRefresh(noGrace, first.cookie, first.csrf).expect(200));

      expectError(await cookieRefresh(noGrace, first.cookie, first.csrf), 401, 'refresh_token_reused');
      // Theft revokes the whole session: the successor cookie and the access tokens are dead too.
      expectError(await cookieRefresh(noGrace, second.cookie, second.csrf), 401, 'refresh_token_revoked');
      expectError(await me(noGrace, second.body.access_token), 401, 'token_revoked');
    });

    it('with X-Token-Transport: cookie on a body-mode refresh moves the new token into the cookie', async () => {
      const tokens = await login(plain, await register(plain));
      const response = await plain
        .http()
        .post('/auth/refresh')
        .set('X-Token-Transport', 'cookie')
        .send({ refresh_token: tokens.refresh_token })
        .expect(200);
      expectTokenBodyWithoutRefreshToken(response.body);
      const session = browserSession(response);
      expect(session.refreshCookie.value).not.toBe(tokens.refresh_token);
      await cookieRefresh(plain, session.cookie, session.csrf).expect(200);
    });

    it('takes the refresh token from the body when both the body and the cookie carry one', async () => {
      const inCookie = await cookieLogin(plain, await register(plain));
      const inBody: Tokens = await login(plain, await register(plain));

      // No X-CSRF-Token: it guards the cookie only, and the cookie is not used here.
      const response = await plain
        .http()
        .post('/auth/refresh')
        .set('Cookie', inCookie.cookie)
        .send({ refresh_token: inBody.refresh_token })
        .expect(200);
      expect(response.body.session_id).toBe(inBody.session_id);
      expect(response.body.refresh_token).toMatch(REFRESH_TOKEN_FORMAT);
      expect(response.body.refresh_token).not.toBe(inBody.refresh_token);
      expect(setCookies(response)).not.toHaveProperty('refresh_token');

      // The cookie's token was not touched: it rotates normally, not as a replay.
      const cookieSide = await cookieRefresh(plain, inCookie.cookie, inCookie.csrf).expect(200);
      expect(cookieSide.body.session_id).toBe(inCookie.body.session_id);
      const next = browserSession(cookieSide);
      await cookieRefresh(plain, next.cookie, next.csrf).expect(200);
    });
  });

  describe('logout', () => {
    it('by cookie with X-CSRF-Token is 204, clears both cookies and revokes the session', async () => {
      const session = await cookieLogin(plain, await register(plain));
      await me(plain, session.body.access_token).expect(200);

      const response = await cookieLogout(plain, session.cookie, session.csrf);
      expect(response.status).toBe(204);
      const cleared = setCookies(response);
      expect(cleared['refresh_token']).toBeDefined();
      expect(cleared['csrf_token']).toBeDefined();
      expect(isCleared(cleared['refresh_token']!)).toBe(true);
      expect(isCleared(cleared['csrf_token']!)).toBe(true);
      // A cookie is only cleared by a Set-Cookie with its own path.
      expect(cleared['refresh_token']!.attributes['path']).toBe('/auth');
      expect(cleared['csrf_token']!.attributes['path']).toBe('/');
      expect(cleared['refresh_token']!.value).toBe('');

      const denied = await me(plain, session.body.access_token);
      expectError(denied, 401, 'token_revoked');
      expectError(await cookieRefresh(plain, session.cookie, session.csrf), 401, 'refresh_token_revoked');
    });

    it('by cookie without (or with a wrong) X-CSRF-Token is 403 csrf_failed and changes nothing', async () => {
      const session = await cookieLogin(plain, await register(plain));

      const missing = await cookieLogout(plain, session.cookie);
      expectError(missing, 403, 'csrf_failed');
      expect(setCookies(missing)).not.toHaveProperty('refresh_token');
      expect(setCookies(missing)).not.toHaveProperty('csrf_token');
      expectError(await cookieLogout(plain, session.cookie, 'not-the-csrf-token'), 403, 'csrf_failed');

      await me(plain, session.body.access_token).expect(200);
      await cookieRefresh(plain, session.cookie, session.csrf).expect(200);
    });
  });

  describe('CORS', () => {
    it('answers a preflight from an allowed origin with credentials and the transport headers', async () => {
      const response = await cors
        .http()
        .options('/auth/refresh')
        .set('Origin', APP_ORIGIN)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type,x-csrf-token,x-token-transport');
      expect(response.status).toBeGreaterThanOrEqual(200);
      expect(response.status).toBeLessThan(300);
      expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(response.headers['access-control-allow-credentials']).toBe('true');
      expect(response.headers['access-control-allow-methods']).toMatch(/\bPOST\b/);
      const allowed = String(response.headers['access-control-allow-headers']).toLowerCase();
      expect(allowed).toContain('x-csrf-token');
      expect(allowed).toContain('x-token-transport');
      expect(allowed).toContain('content-type');
    });

    it('answers a request from an allowed origin with that origin and credentials', async () => {
      const response = await cors.http().get('/.well-known/jwks.json').set('Origin', APP_ORIGIN).expect(200);
      expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(response.headers['access-control-allow-credentials']).toBe('true');
      // The answer depends on Origin, so caches must key on it.
      expect(String(response.headers['vary'])).toMatch(/\borigin\b/i);

      const account = await register(cors);
      const loggedIn = await cors
        .http()
        .post('/auth/login')
        .set('Origin', APP_ORIGIN)
        .set('X-Token-Transport', 'cookie')
        .send({ email: account.email, password: account.password })
        .expect(200);
      expect(loggedIn.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(loggedIn.headers['access-control-allow-credentials']).toBe('true');
      browserSession(loggedIn);
    });

    it('gives another origin no Access-Control-Allow-Origin, on preflight or request', async () => {
      const preflight = await cors
        .http()
        .options('/auth/refresh')
        .set('Origin', OTHER_ORIGIN)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'x-csrf-token');
      expect(preflight.headers).not.toHaveProperty('access-control-allow-origin');

      const request = await cors.http().get('/.well-known/jwks.json').set('Origin', OTHER_ORIGIN);
      expect(request.headers).not.toHaveProperty('access-control-allow-origin');
    });

    it('allows no origin at all when CORS_ORIGINS is unset', async () => {
      const response = await plain.http().get('/.well-known/jwks.json').set('Origin', APP_ORIGIN).expect(200);
      expect(response.headers).not.toHaveProperty('access-control-allow-origin');
    });
  });
});
