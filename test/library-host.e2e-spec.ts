import { AuthMetrics } from '../src/index.js';
import { decodeJwt } from './support/access-tokens-jwt.js';
import { setCookies } from './support/cookies.js';
import { sleep, uniqueEmail, waitUntil } from './support/auth-helpers.js';
import { startHost, type HostApp } from './support/library-host.js';
import { TestContext } from './support/test-context.js';

const PASSWORD = 'a host users passphrase';

async function signup(host: HostApp, plan = 'pro', prefix = ''): Promise<{ id: string; email: string }> {
  const email = uniqueEmail('host');
  const response = await host.http().post(`${prefix}/signup`).send({ email, password: PASSWORD, plan }).expect(201);
  return { id: response.body.id, email };
}

function login(host: HostApp, email: string) {
  return host.http().post('/auth/login').send({ email, password: PASSWORD });
}

// LIBRARY.md: AuthModule in a Nest team's own app, with its own users table, routes, guards and
// error format, and nothing of ours in its bootstrap.
describe('AuthModule in a host app', () => {
  let context: TestContext;
  const hosts: HostApp[] = [];

  beforeAll(async () => {
    context = await TestContext.create('library-host');
  });
  afterAll(async () => {
    for (const host of hosts) await host.app.close();
    await context.close();
  });

  async function host(
    ...args: Parameters<typeof startHost> extends [unknown, ...infer Rest] ? Rest : never
  ): Promise<HostApp> {
    const started = await startHost(context, ...args);
    hosts.push(started);
    return started;
  }

  describe('globalGuard: false, routes.register: false, the host store', () => {
    let app: HostApp;

    beforeAll(async () => {
      app = await host({
        extras: { globalGuard: false, routes: { register: false } },
        options: { refreshReuseGrace: 1 },
        // A host's own login of another kind, which puts its caller on the request first.
        middleware: (request, _response, next) => {
          if (request.headers['x-host-user']) {
            request.user = { id: 'host-user', sessionId: 'host', roles: ['staff'], scopes: ['reports:read'] };
          }
          next();
        },
      });
    });

    it('signs up through AuthService.register into the host table, and logs in', async () => {
      const account = await signup(app, 'team');
      expect(account.id).toMatch(/^acct_/);
      expect((await app.store.accounts.findOneByOrFail({ id: account.id })).plan).toBe('team');
      const response = await login(app, account.email).expect(200);
      expect(decodeJwt(response.body.access_token).payload).toMatchObject({
        sub: account.id,
        roles: ['member'],
        scope: 'reports:read',
      });
      await app.http().post('/signup').send({ email: account.email, password: PASSWORD }).expect(409);
    });

    it('lets the host read our counters and cache gauges through the exported AuthMetrics', async () => {
      const account = await signup(app);
      const tokens = (await login(app, account.email).expect(200)).body;
      await app.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
      await app.http().get('/private/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
      const text = await app.app.get(AuthMetrics).registry.metrics();
      expect(text).toMatch(/^nra_logins_total [1-9]/m);
      expect(text).toMatch(/^nra_refresh_rotations_total [1-9]/m);
      expect(text).toMatch(/^nra_cache_entries\{cache="sessions"\} [1-9]/m);
      expect(text).toMatch(/^nra_cache_entries\{cache="access_tokens"\} [1-9]/m);
      expect(text).toMatch(/^nra_cache_capacity\{cache="sessions"\} [1-9]/m);
    });

    it('maps no /auth/register', async () => {
      await app.http().post('/auth/register').send({ email: uniqueEmail(), password: PASSWORD }).expect(404);
    });

    it('leaves host routes open and guards only where the host put JwtAuthGuard, with our challenge', async () => {
      await app.http().get('/healthz').expect(200, { ok: true });
      const missing = await app.http().get('/private/me').expect(401);
      expect(missing.body).toEqual({ statusCode: 401, code: 'token_missing', message: expect.any(String) });
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="api"');
      const bad = await app.http().get('/private/me').set('Authorization', 'Bearer not.a.jwt').expect(401);
      expect(bad.body.code).toBe('token_invalid');
      expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      const account = await signup(app);
      const tokens = (await login(app, account.email).expect(200)).body;
      const me = await app.http().get('/private/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
      expect(me.body).toEqual({ id: account.id, roles: ['member'], scopes: ['reports:read'] });
      const denied = await app
        .http()
        .get('/private/staff')
        .set('Authorization', `Bearer ${tokens.access_token}`)
        .expect(403);
      expect(denied.body.code).toBe('insufficient_role');
      await app.http().get('/private/reports').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
      // A caller another middleware put on the request is not one this guard admitted.
      const preset = await app.http().get('/private/staff').set('x-host-user', '1').expect(401);
      expect(preset.body.code).toBe('token_missing');
      const replaced = await app
        .http()
        .get('/private/me')
        .set('x-host-user', '1')
        .set('Authorization', `Bearer ${tokens.access_token}`)
        .expect(200);
      expect(replaced.body.id).toBe(account.id);
      // Our own routes stay protected without the global guard.
      expect((await app.http().get('/auth/me').expect(401)).body.code).toBe('token_missing');
      await app.http().get('/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
    });

    it('validates our routes and answers our errors without any filter or pipe of ours', async () => {
      const invalid = await app
        .http()
        .post('/auth/login')
        .send({ email: 'not-an-email', password: '', extra: 1 })
        .expect(400);
      expect(invalid.body).toMatchObject({ statusCode: 400, code: 'validation_failed', details: expect.any(Array) });
      expect(invalid.body.details.map((detail: { field: string }) => detail.field).sort()).toEqual([
        'email',
        'extra',
        'password',
      ]);
      const wrong = await app
        .http()
        .post('/auth/login')
        .send({ email: uniqueEmail(), password: 'wrong password' })
        .expect(401);
      expect(wrong.body).toEqual({ statusCode: 401, code: 'invalid_credentials', message: expect.any(String) });
      const deep = JSON.stringify(JSON.parse('['.repeat(1500) + ']'.repeat(1500)));
      const nested = await app
        .http()
        .post('/auth/refresh')
        .set('content-type', 'application/json')
        .send(`{"refresh_token":${deep}}`);
      expect(nested.status).toBe(400);
      expect(nested.body.code).toBe('validation_failed');
      const oauth = await app.http().post('/oauth/token').type('form').send({ grant_type: 'password' }).expect(400);
      expect(oauth.body).toEqual({ error: 'unsupported_grant_type', error_description: expect.any(String) });
      // The host's own 404 keeps Nest's shape.
      const notFound = await app.http().get('/nowhere').expect(404);
      expect(notFound.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      expect(notFound.body.code).toBeUndefined();
    });

    it('re-reads roles and scopes from the store at every refresh, and detects reuse', async () => {
      const account = await signup(app);
      const first = (await login(app, account.email).expect(200)).body;
      await app.store.accounts.update(
        { id: account.id },
        { roles: 'member,staff', scopes: 'reports:read billing:read' },
      );
      const next = (await app.http().post('/auth/refresh').send({ refresh_token: first.refresh_token }).expect(200))
        .body;
      expect(decodeJwt(next.access_token).payload).toMatchObject({
        roles: ['member', 'staff'],
        scope: 'reports:read billing:read',
      });
      await app.http().get('/private/staff').set('Authorization', `Bearer ${next.access_token}`).expect(200);
      await sleep(1200);
      const reused = await app.http().post('/auth/refresh').send({ refresh_token: first.refresh_token }).expect(401);
      expect(reused.body.code).toBe('refresh_token_reused');
      expect(
        (await app.http().post('/auth/refresh').send({ refresh_token: next.refresh_token }).expect(401)).body.code,
      ).toBe('refresh_token_revoked');
    });

    it('refuses a disabled user: 403 account_disabled at login, 401 refresh_token_revoked at refresh', async () => {
      const account = await signup(app);
      const tokens = (await login(app, account.email).expect(200)).body;
      await app.store.accounts.update({ id: account.id }, { disabled: true });
      const refused = await login(app, account.email).expect(403);
      expect(refused.body).toEqual({ statusCode: 403, code: 'account_disabled', message: expect.any(String) });
      expect(
        (await app.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(401)).body.code,
      ).toBe('refresh_token_revoked');
      // Enabled again, the session goes on: the host decides, with revokeUserSessions, to end it.
      await app.store.accounts.update({ id: account.id }, { disabled: false });
      await app.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
    });

    it('refuses a deleted user at refresh and ends the session', async () => {
      const account = await signup(app);
      const tokens = (await login(app, account.email).expect(200)).body;
      await app.store.accounts.delete({ id: account.id });
      expect(
        (await app.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(401)).body.code,
      ).toBe('refresh_token_revoked');
      const revoked = await waitUntil(
        async () =>
          (await app.http().get('/private/me').set('Authorization', `Bearer ${tokens.access_token}`)).status === 401,
        1000,
      );
      expect(revoked).toBeGreaterThanOrEqual(0);
    });

    it('refuses a remembered access token once its session is logged out, with the RFC 6750 challenge', async () => {
      const account = await signup(app);
      const tokens = (await login(app, account.email).expect(200)).body;
      const bearer = `Bearer ${tokens.access_token}`;
      // Twice: the second is answered from memory, the token verified before and its session cached.
      await app.http().get('/private/me').set('Authorization', bearer).expect(200);
      await app.http().get('/private/me').set('Authorization', bearer).expect(200);
      await app.http().post('/auth/logout').set('Authorization', bearer).expect(204);
      const refused = await app.http().get('/private/me').set('Authorization', bearer).expect(401);
      expect(refused.body).toEqual({ statusCode: 401, code: 'token_revoked', message: expect.any(String) });
      expect(refused.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
    });

    it('emits events after the write, with no secret, and a listener that throws fails nothing', async () => {
      app.events.events.length = 0;
      const account = await signup(app);
      await login(app, uniqueEmail('nobody')).expect(401);
      await app.http().post('/auth/login').send({ email: account.email, password: 'not the passphrase' }).expect(401);
      const tokens = (await login(app, account.email).expect(200)).body;
      await app.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
      await app.http().post('/auth/logout').set('Authorization', `Bearer ${tokens.access_token}`).expect(204);
      const types = app.events.events.map((event) => event.type);
      expect(types).toEqual(expect.arrayContaining(['registered', 'login_failed', 'login', 'refresh', 'logout']));
      for (const event of app.events.events) {
        expect(event.at).toBeInstanceOf(Date);
        const text = JSON.stringify(event);
        for (const secret of [PASSWORD, tokens.access_token, tokens.refresh_token]) expect(text).not.toContain(secret);
      }
      expect(app.events.events.find((event) => event.type === 'login')).toMatchObject({
        userId: account.id,
        sessionId: tokens.session_id,
      });
    });
  });

  describe('mounted under a global prefix', () => {
    let app: HostApp;

    beforeAll(async () => {
      app = await host({ globalPrefix: 'api' });
    });

    it('sets the refresh cookie on the mounted path and refreshes by cookie there', async () => {
      const account = await signup(app, 'pro', '/api');
      const response = await app
        .http()
        .post('/api/auth/login')
        .set('X-Token-Transport', 'cookie')
        .send({ email: account.email, password: PASSWORD })
        .expect(200);
      const cookies = setCookies(response);
      expect(cookies.refresh_token!.attributes.path).toBe('/api/auth');
      const refreshed = await app
        .http()
        .post('/api/auth/refresh')
        .set('Cookie', `refresh_token=${cookies.refresh_token!.value}; csrf_token=${cookies.csrf_token!.value}`)
        .set('X-CSRF-Token', cookies.csrf_token!.value)
        .send({})
        .expect(200);
      expect(setCookies(refreshed).refresh_token!.attributes.path).toBe('/api/auth');
    });

    it('advertises absolute metadata URLs that answer', async () => {
      const metadata = (
        await app.http().get('/api/.well-known/oauth-authorization-server').set('Host', 'auth.example.com').expect(200)
      ).body;
      expect(metadata.token_endpoint).toBe('http://auth.example.com/api/oauth/token');
      expect(metadata.jwks_uri).toBe('http://auth.example.com/api/.well-known/jwks.json');
      for (const key of ['token_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
        const path = new URL(metadata[key]).pathname;
        const answer = await app.http().post(path).type('form').send({});
        expect(answer.status).not.toBe(404);
        expect(answer.body.error).toEqual(expect.any(String));
      }
      await app.http().get(new URL(metadata.jwks_uri).pathname).expect(200);
    });
  });

  describe('mounted with RouterModule', () => {
    it('serves the routes, the cookie path and the metadata under the module path', async () => {
      const app = await host({ routerPath: 'identity', extras: { routes: { jwks: false } } });
      const account = await signup(app);
      const response = await app
        .http()
        .post('/identity/auth/login')
        .set('X-Token-Transport', 'cookie')
        .send({ email: account.email, password: PASSWORD })
        .expect(200);
      expect(setCookies(response).refresh_token!.attributes.path).toBe('/identity/auth');
      await app.http().post('/auth/login').send({ email: account.email, password: PASSWORD }).expect(404);
      const metadata = (await app.http().get('/identity/.well-known/oauth-authorization-server').expect(200)).body;
      expect(new URL(metadata.token_endpoint).pathname).toBe('/identity/oauth/token');
      expect(metadata.jwks_uri).toBeUndefined();
      await app.http().get('/identity/.well-known/jwks.json').expect(404);
    });
  });

  describe('lifetimes by role', () => {
    it('gives the strictest matching role its shorter idle and absolute lifetimes', async () => {
      const app = await host({
        options: { refreshTokenTtlByRole: { staff: '1h', auditor: '2h' }, sessionMaxAgeByRole: { staff: '1d' } },
      });
      const plain = await signup(app);
      const staff = await signup(app);
      await app.store.accounts.update({ id: staff.id }, { roles: 'member,auditor,staff' });
      expect((await login(app, plain.email).expect(200)).body.refresh_expires_in).toBeGreaterThan(13 * 86_400);
      const tokens = (await login(app, staff.email).expect(200)).body;
      expect(tokens.refresh_expires_in).toBeLessThanOrEqual(3600);
      expect(tokens.refresh_expires_in).toBeGreaterThan(3500);
      // A role gained mid-session applies at the next refresh.
      const later = (await login(app, plain.email).expect(200)).body;
      await app.store.accounts.update({ id: plain.id }, { roles: 'member,staff' });
      const refreshed = (
        await app.http().post('/auth/refresh').send({ refresh_token: later.refresh_token }).expect(200)
      ).body;
      expect(refreshed.refresh_expires_in).toBeLessThanOrEqual(3600);
    });
  });

  describe('without @nestjs/event-emitter registered', () => {
    it('emits nothing and breaks nothing', async () => {
      const app = await host({ events: false });
      const account = await signup(app);
      await login(app, account.email).expect(200);
    });
  });

  describe('a wrong option', () => {
    it('fails at boot with a message naming the option', async () => {
      await expect(
        startHost(context, { options: { jwt: { secret: 'short', issuer: 'x', audience: 'y' } } }),
      ).rejects.toThrow(/jwt\.secret/);
      await expect(startHost(context, { options: { refreshTokenTtl: '14 days' } })).rejects.toThrow(/refreshTokenTtl/);
    });
  });
});
