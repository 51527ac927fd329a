import { randomBytes, randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { login, register, uniqueEmail, type Tokens } from './support/auth-helpers.js';
import { recordResponses, responseText, type ResponseLog } from './support/response-recorder.js';
import { SERVICES, TestContext, type TestInstance } from './support/test-context.js';

// The HTTP contract of API.md, endpoint by endpoint: status codes, bodies, headers, and what a
// response must never contain.

const ADMIN_EMAIL = 'admin@contract.test';
const ADMIN_PASSWORD = `admin-${randomBytes(8).toString('hex')}`;
const TOKEN_FIELDS = ['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'session_id', 'token_type'];
const USER_FIELDS = ['createdAt', 'email', 'id', 'name', 'roles'];
const NOTE_FIELDS = ['body', 'createdAt', 'id', 'title'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Asserts the one error shape: exactly `statusCode, code, message`, plus `details` only for validation. */
function expectError(response: Response, status: number, code: string): void {
  expect({ status: response.status, body: response.body }).toMatchObject({
    status,
    body: { statusCode: status, code },
  });
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof response.body.message).toBe('string');
  expect(response.body.message.length).toBeGreaterThan(0);
  const allowed =
    code === 'validation_failed' && 'details' in response.body
      ? ['code', 'details', 'message', 'statusCode']
      : ['code', 'message', 'statusCode'];
  expect(Object.keys(response.body).sort()).toEqual(allowed);
}

/** Asserts a 400 `validation_failed` whose `details` name `field` with at least one message. */
function expectValidation(response: Response, field: string): void {
  expectError(response, 400, 'validation_failed');
  expect(Array.isArray(response.body.details)).toBe(true);
  for (const detail of response.body.details) {
    expect(Object.keys(detail).sort()).toEqual(['field', 'messages']);
    expect(detail.messages.length).toBeGreaterThan(0);
    for (const message of detail.messages) expect(typeof message).toBe('string');
  }
  expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
}

function bearer(tokens: Tokens): string {
  return `Bearer ${tokens.access_token}`;
}

describe('API contract', () => {
  let context: TestContext;
  let instance: TestInstance;
  let responses: ResponseLog;
  /** Every password this file sends; none may come back in any response. */
  const passwords = new Set<string>([ADMIN_PASSWORD]);
  /** Tokens this file sends that are not issued in a recorded response (forged, tampered). */
  const sentTokens = new Set<string>();

  function newPassword(length = 24): string {
    const password = `pw-${randomBytes(length).toString('hex')}`.slice(0, length);
    passwords.add(password);
    return password;
  }

  async function newUser(tag = 'user'): Promise<{ id: string; email: string; password: string; tokens: Tokens }> {
    const account = await register(instance, uniqueEmail(tag), newPassword());
    return { ...account, tokens: await login(instance, account) };
  }

  beforeAll(async () => {
    context = await TestContext.create('api-contract');
    ({ instance, responses } = recordResponses(await context.start({ ADMIN_EMAIL, ADMIN_PASSWORD })));
  });
  afterAll(() => context.close());

  describe('POST /auth/register', () => {
    it('answers 201 with the user: id, email, name, roles, createdAt, and no password or hash', async () => {
      const email = uniqueEmail('ann');
      const password = newPassword();
      const response = await instance.http().post('/auth/register').send({ email, password, name: 'Ann' });
      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(Object.keys(response.body).sort()).toEqual(USER_FIELDS);
      expect(response.body).toEqual({
        id: expect.stringMatching(UUID),
        email,
        name: 'Ann',
        roles: ['user'],
        createdAt: expect.any(String),
      });
      expect(Number.isNaN(Date.parse(response.body.createdAt))).toBe(false);
      expect(response.text).not.toContain(password);
      expect(response.text).not.toMatch(/argon2|hash|password/i);
    });

    it('stores the email trimmed and lower-cased, and login accepts it in any case and spacing', async () => {
      const password = newPassword();
      const created = await instance
        .http()
        .post('/auth/register')
        .send({ email: '  Ann@Example.COM ', password })
        .expect(201);
      expect(created.body.email).toBe('ann@example.com');
      expect(created.body.name).toBeNull();
      for (const email of ['ann@example.com', 'ANN@EXAMPLE.COM', '  Ann@example.Com\t']) {
        const response = await instance.http().post('/auth/login').send({ email, password });
        expect({ email, status: response.status }).toEqual({ email, status: 200 });
        const me = await instance.http().get('/auth/me').set('Authorization', bearer(response.body)).expect(200);
        expect(me.body.id).toBe(created.body.id);
        expect(me.body.email).toBe('ann@example.com');
      }
    });

    it('answers 409 email_taken for an email that exists, whatever its case or spacing', async () => {
      const email = uniqueEmail('dup');
      await register(instance, email, newPassword());
      for (const again of [email, ` ${email.toUpperCase()} `]) {
        expectError(
          await instance.http().post('/auth/register').send({ email: again, password: newPassword() }),
          409,
          'email_taken',
        );
      }
    });

    it.each([7, 129])('rejects a password of %i characters with validation_failed naming password', async (length) => {
      const response = await instance
        .http()
        .post('/auth/register')
        .send({ email: uniqueEmail(), password: newPassword(length) });
      expectValidation(response, 'password');
      expect(response.body.details).toEqual([{ field: 'password', messages: expect.any(Array) }]);
    });

    it('accepts passwords of 8 and 128 characters', async () => {
      for (const length of [8, 128]) {
        const password = newPassword(length);
        expect(password).toHaveLength(length);
        await instance.http().post('/auth/register').send({ email: uniqueEmail(), password }).expect(201);
      }
    });

    it('rejects a malformed email with validation_failed naming email', async () => {
      const response = await instance
        .http()
        .post('/auth/register')
        .send({ email: 'not-an-email', password: newPassword() });
      expectValidation(response, 'email');
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toEqual(['email']);
    });

    it('rejects an unknown body field with 400 naming the field', async () => {
      const response = await instance
        .http()
        .post('/auth/register')
        .send({ email: uniqueEmail(), password: newPassword(), roles: ['admin'] });
      expectValidation(response, 'roles');
    });
  });

  describe('POST /auth/login', () => {
    it('answers a wrong password and an unknown email with the same 401 invalid_credentials', async () => {
      const account = await register(instance, uniqueEmail('known'), newPassword());
      const wrongPassword = await instance
        .http()
        .post('/auth/login')
        .send({ email: account.email, password: newPassword() });
      const unknownEmail = await instance
        .http()
        .post('/auth/login')
        .send({ email: uniqueEmail('nobody'), password: newPassword() });
      expectError(wrongPassword, 401, 'invalid_credentials');
      expectError(unknownEmail, 401, 'invalid_credentials');
      expect(unknownEmail.status).toBe(wrongPassword.status);
      expect(unknownEmail.body).toEqual(wrongPassword.body);
      expect(unknownEmail.headers['www-authenticate']).toEqual(wrongPassword.headers['www-authenticate']);
    });

    it('answers the OAuth token response, exactly, with Cache-Control: no-store', async () => {
      const account = await register(instance, uniqueEmail('tokens'), newPassword());
      const response = await instance
        .http()
        .post('/auth/login')
        .send({ email: account.email, password: account.password });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(Object.keys(response.body).sort()).toEqual(TOKEN_FIELDS);
      const tokens = response.body as Tokens;
      expect(tokens.token_type).toBe('Bearer');
      expect(tokens.expires_in).toBe(900);
      expect(Math.abs(tokens.refresh_expires_in - 1_209_600)).toBeLessThanOrEqual(2);
      expect(tokens.access_token.split('.')).toHaveLength(3);
      expect(tokens.session_id).toEqual(expect.stringMatching(UUID));
      // Opaque: never a JWT the client could read.
      expect(tokens.refresh_token.split('.')).not.toHaveLength(3);

      const refreshed = await instance.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token });
      expect(refreshed.status).toBe(200);
      expect(refreshed.headers['cache-control']).toBe('no-store');
      expect(Object.keys(refreshed.body).sort()).toEqual(TOKEN_FIELDS);
      expect(refreshed.body.session_id).toBe(tokens.session_id);
    });
  });

  describe('errors', () => {
    it('answers a body over 16 KiB with 413 payload_too_large, and accepts one of exactly 16 KiB', async () => {
      const tooLarge = JSON.stringify({ email: uniqueEmail(), password: newPassword(), name: 'x'.repeat(17 * 1024) });
      expectError(
        await instance.http().post('/auth/register').set('Content-Type', 'application/json').send(tooLarge),
        413,
        'payload_too_large',
      );

      const base = JSON.stringify({ email: 'not-an-email', name: '' });
      const exact = JSON.stringify({ email: 'not-an-email', name: 'y'.repeat(16 * 1024 - base.length) });
      expect(Buffer.byteLength(exact)).toBe(16 * 1024);
      // Within the limit the body is parsed, so validation answers instead.
      expectValidation(
        await instance.http().post('/auth/register').set('Content-Type', 'application/json').send(exact),
        'email',
      );
    });

    it('answers malformed JSON with 400 validation_failed without echoing the body', async () => {
      const password = newPassword();
      const body = `{"email":"mallory@example.com","password":"${password}", oops-not-json`;
      const response = await instance.http().post('/auth/login').set('Content-Type', 'application/json').send(body);
      expectError(response, 400, 'validation_failed');
      expect(responseText(response)).not.toContain(password);
      expect(responseText(response)).not.toContain('oops-not-json');
      expect(responseText(response)).not.toContain('mallory');
    });

    it('answers an unknown route with 404 not_found', async () => {
      expectError(await instance.http().get('/no/such/route?x=1'), 404, 'not_found');
      expectError(await instance.http().post('/auth/no-such-endpoint').send({}), 404, 'not_found');
    });

    it('answers a protected route without a token with 401 token_missing and a bare Bearer challenge', async () => {
      const response = await instance.http().get('/auth/me');
      expectError(response, 401, 'token_missing');
      expect(response.headers['www-authenticate']).toBe('Bearer realm="api"');
    });
  });

  describe('secrets in responses', () => {
    it('never echoes an invalid refresh token in an error', async () => {
      const { tokens } = await newUser('leak');
      const [id, generation, secret, tag] = tokens.refresh_token.split('.') as [string, string, string, string];
      const tampered = `${id}.${generation}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}.${tag}`;
      const unknown = `${randomUUID()}.0.${randomBytes(32).toString('base64url')}.${randomBytes(16).toString('base64url')}`;
      for (const token of [unknown, tampered, 'not-a-refresh-token-at-all', tokens.access_token]) {
        sentTokens.add(token);
        for (const path of ['/auth/refresh', '/auth/logout']) {
          const response = await instance.http().post(path).send({ refresh_token: token });
          if (token === tokens.access_token) {
            // Longer than any refresh token: the field's length validation may answer first.
            expect([400, 401]).toContain(response.status);
            expectError(
              response,
              response.status,
              response.status === 400 ? 'validation_failed' : 'refresh_token_invalid',
            );
          } else {
            expectError(response, 401, 'refresh_token_invalid');
          }
          expect(responseText(response)).not.toContain(token);
          expect(responseText(response)).not.toContain(secret);
        }
      }
      // The tampered token changed nothing: the genuine one still rotates.
      await instance.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
    });

    it('never echoes an invalid access token, in the body or the WWW-Authenticate challenge', async () => {
      const { tokens } = await newUser('leak-at');
      const [header, payload, signature] = tokens.access_token.split('.') as [string, string, string];
      const forged = `${header}.${payload}.${signature.slice(0, -4)}AAAA`;
      sentTokens.add(forged);
      const response = await instance.http().get('/auth/me').set('Authorization', `Bearer ${forged}`);
      expectError(response, 401, 'token_invalid');
      expect(response.headers['www-authenticate']).toMatch(
        /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/,
      );
      expect(responseText(response)).not.toContain(forged);
      expect(responseText(response)).not.toContain(signature);
    });

    it('no response of this file contains a password, and no error response contains a token', async () => {
      // Make sure the password-bearing paths have been through here, whatever ran before.
      const { email, password, tokens } = await newUser('final');
      await instance.http().post('/auth/register').send({ email, password }).expect(409);
      await instance.http().post('/auth/login').send({ email, password: newPassword() }).expect(401);
      await instance
        .http()
        .post('/auth/register')
        .send({ email: 'bad', password: password.slice(0, 7) })
        .expect(400);
      await instance.http().get('/auth/me').set('Authorization', bearer(tokens)).expect(200);

      const issued = responses.flatMap((response) =>
        response.body && typeof response.body.access_token === 'string'
          ? [response.body.access_token, response.body.refresh_token]
          : [],
      );
      const tokensSeen = [...issued, ...sentTokens].filter((token): token is string => typeof token === 'string');
      expect(tokensSeen.length).toBeGreaterThan(4);
      for (const response of responses) {
        const text = responseText(response);
        for (const secret of passwords) {
          if (text.includes(secret)) throw new Error(`${response.status} response contains a password:\n${text}`);
        }
        if (response.status >= 400) {
          for (const token of tokensSeen) {
            if (text.includes(token)) throw new Error(`${response.status} error response contains a token:\n${text}`);
          }
        }
      }
    });
  });

  describe('GET /auth/me', () => {
    it('returns the current user, like registration did', async () => {
      const password = newPassword();
      const email = uniqueEmail('me');
      const created = await instance.http().post('/auth/register').send({ email, password, name: 'Me' }).expect(201);
      const tokens = await login(instance, { email, password });
      const me = await instance.http().get('/auth/me').set('Authorization', bearer(tokens)).expect(200);
      expect(Object.keys(me.body).sort()).toEqual(USER_FIELDS);
      expect(me.body).toEqual(created.body);
    });
  });

  describe('notes', () => {
    let owner: Awaited<ReturnType<typeof newUser>>;
    let other: Awaited<ReturnType<typeof newUser>>;

    beforeAll(async () => {
      owner = await newUser('owner');
      other = await newUser('other');
    });

    function createNote(user: { tokens: Tokens }, note: Record<string, unknown>) {
      return instance.http().post('/notes').set('Authorization', bearer(user.tokens)).send(note);
    }

    it('creates, lists, reads and deletes a note', async () => {
      const created = await createNote(owner, { title: 'Groceries', body: 'Milk, eggs' });
      expect(created.status).toBe(201);
      expect(Object.keys(created.body).sort()).toEqual(NOTE_FIELDS);
      expect(created.body).toEqual({
        id: expect.stringMatching(UUID),
        title: 'Groceries',
        body: 'Milk, eggs',
        createdAt: expect.any(String),
      });
      const id: string = created.body.id;

      const list = await instance.http().get('/notes').set('Authorization', bearer(owner.tokens)).expect(200);
      expect(list.body).toContainEqual(created.body);
      for (const note of list.body) expect(Object.keys(note).sort()).toEqual(NOTE_FIELDS);

      const read = await instance.http().get(`/notes/${id}`).set('Authorization', bearer(owner.tokens)).expect(200);
      expect(read.body).toEqual(created.body);

      const removed = await instance.http().delete(`/notes/${id}`).set('Authorization', bearer(owner.tokens));
      expect(removed.status).toBe(204);
      expect(removed.text).toBe('');
      expectError(
        await instance.http().get(`/notes/${id}`).set('Authorization', bearer(owner.tokens)),
        404,
        'not_found',
      );
      expectError(
        await instance.http().delete(`/notes/${id}`).set('Authorization', bearer(owner.tokens)),
        404,
        'not_found',
      );
      const after = await instance.http().get('/notes').set('Authorization', bearer(owner.tokens)).expect(200);
      expect(after.body.map((note: { id: string }) => note.id)).not.toContain(id);
    });

    it('accepts a title of 1 to 200 characters and a body of up to 10,000', async () => {
      for (const note of [
        { title: 't', body: '' },
        { title: 't'.repeat(200), body: 'b'.repeat(10_000) },
      ]) {
        const response = await createNote(owner, note);
        expect(response.status).toBe(201);
        expect(response.body).toMatchObject(note);
      }
    });

    it.each([
      ['an empty title', { title: '', body: 'x' }, 'title'],
      ['a title of 201 characters', { title: 't'.repeat(201), body: 'x' }, 'title'],
      ['no title', { body: 'x' }, 'title'],
      ['a body of 10,001 characters', { title: 'long', body: 'b'.repeat(10_001) }, 'body'],
      ['an unknown field', { title: 'x', userId: randomUUID() }, 'userId'],
    ])('rejects %s with validation_failed', async (_label, note, field) => {
      expectValidation(await createNote(owner, note), field);
    });

    it("answers another user's note with 404 not_found on GET and DELETE, and it stays its owner's", async () => {
      const created = await createNote(owner, { title: 'Private', body: 'mine' }).expect(201);
      const id: string = created.body.id;
      const missing = await instance.http().get(`/notes/${randomUUID()}`).set('Authorization', bearer(other.tokens));
      expectError(missing, 404, 'not_found');

      const read = await instance.http().get(`/notes/${id}`).set('Authorization', bearer(other.tokens));
      expectError(read, 404, 'not_found');
      // Indistinguishable from a note that does not exist.
      expect(read.body).toEqual(missing.body);
      const removed = await instance.http().delete(`/notes/${id}`).set('Authorization', bearer(other.tokens));
      expectError(removed, 404, 'not_found');
      expect(removed.body).toEqual(missing.body);

      const list = await instance.http().get('/notes').set('Authorization', bearer(other.tokens)).expect(200);
      expect(list.body.map((note: { id: string }) => note.id)).not.toContain(id);
      const still = await instance.http().get(`/notes/${id}`).set('Authorization', bearer(owner.tokens)).expect(200);
      expect(still.body).toEqual(created.body);
    });

    it('answers a malformed note id with 400 validation_failed naming id', async () => {
      expectValidation(await instance.http().get('/notes/not-a-uuid').set('Authorization', bearer(owner.tokens)), 'id');
      expectValidation(
        await instance.http().delete('/notes/not-a-uuid').set('Authorization', bearer(owner.tokens)),
        'id',
      );
    });

    it('needs an access token', async () => {
      expectError(await instance.http().get('/notes'), 401, 'token_missing');
      expectError(await instance.http().post('/notes').send({ title: 'x' }), 401, 'token_missing');
    });

    it("gives an admin every user's notes at GET /admin/notes, and anyone else 403 insufficient_role", async () => {
      const mine = await createNote(owner, { title: 'owner note', body: '' }).expect(201);
      const theirs = await createNote(other, { title: 'other note', body: '' }).expect(201);
      const admin = await login(instance, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });

      const all = await instance.http().get('/admin/notes').set('Authorization', bearer(admin)).expect(200);
      const ids = all.body.map((note: { id: string }) => note.id);
      expect(ids).toEqual(expect.arrayContaining([mine.body.id, theirs.body.id]));
      const ownerList = await instance.http().get('/notes').set('Authorization', bearer(owner.tokens)).expect(200);
      const otherList = await instance.http().get('/notes').set('Authorization', bearer(other.tokens)).expect(200);
      expect(ids).toHaveLength(ownerList.body.length + otherList.body.length);

      expectError(
        await instance.http().get('/admin/notes').set('Authorization', bearer(owner.tokens)),
        403,
        'insufficient_role',
      );
      expectError(await instance.http().get('/admin/notes'), 401, 'token_missing');
    });
  });

  describe('public endpoints', () => {
    it('GET /health answers 200 with the database up', async () => {
      const response = await instance.http().get('/health');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
      if (SERVICES) expect(response.body.info.redis).toEqual({ status: 'up' });
    });

    it('GET /docs serves the Swagger UI as HTML', async () => {
      const response = await instance.http().get('/docs');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.text).toMatch(/swagger-ui/i);
    });

    it('GET /docs-json is an OpenAPI document with every route of API.md and a bearer scheme', async () => {
      const response = await instance.http().get('/docs-json');
      expect(response.status).toBe(200);
      const document = response.body as {
        openapi: string;
        paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>>;
        components: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
      };
      expect(document.openapi).toMatch(/^3\./);
      const routes: Array<[string, string]> = [
        ['post', '/auth/register'],
        ['post', '/auth/login'],
        ['post', '/auth/refresh'],
        ['post', '/auth/logout'],
        ['post', '/auth/logout-all'],
        ['get', '/auth/me'],
        ['get', '/auth/sessions'],
        ['delete', '/auth/sessions/{id}'],
        ['post', '/auth/password'],
        ['get', '/auth/events'],
        ['post', '/admin/users/{id}/revoke-sessions'],
        ['get', '/admin/notes'],
        ['get', '/.well-known/jwks.json'],
        ['get', '/.well-known/oauth-authorization-server'],
        ['post', '/oauth/token'],
        ['post', '/oauth/revoke'],
        ['post', '/oauth/introspect'],
        ['get', '/health'],
        ['get', '/notes'],
        ['post', '/notes'],
        ['get', '/notes/{id}'],
        ['delete', '/notes/{id}'],
      ];
      const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(documented).toEqual(
        expect.arrayContaining(routes.map(([method, path]) => `${method.toUpperCase()} ${path}`)),
      );

      const schemes = Object.entries(document.components.securitySchemes ?? {});
      const bearerSchemes = schemes.filter(
        ([, scheme]) => scheme.type === 'http' && scheme.scheme?.toLowerCase() === 'bearer',
      );
      expect(bearerSchemes).toHaveLength(1);
      const [schemeName] = bearerSchemes[0]!;
      // Protected operations reference it, so "Authorize" applies to them.
      for (const [method, path] of [
        ['get', '/auth/me'],
        ['get', '/notes'],
        ['get', '/admin/notes'],
      ] as const) {
        expect(document.paths[path]![method]!.security).toContainEqual({ [schemeName]: [] });
      }
    });

    it('GET /.well-known/jwks.json is public and publishes the key that signs access tokens', async () => {
      const response = await instance.http().get('/.well-known/jwks.json');
      expect(response.status).toBe(200);
      const keys = response.body.keys as Array<Record<string, unknown>>;
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
        for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
          expect(key).not.toHaveProperty(privateMember);
      }
      const { tokens } = await newUser('jwks');
      const header = JSON.parse(Buffer.from(tokens.access_token.split('.')[0]!, 'base64url').toString('utf8'));
      expect(keys.map((key) => key.kid)).toContain(header.kid);
    });
  });
});
