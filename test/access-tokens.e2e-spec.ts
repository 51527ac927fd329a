import {
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type { Response } from 'supertest';
import { decodeJwt, nowSeconds, readDevelopmentKey, signJwt, type JwtSigner } from './support/access-tokens-jwt.js';
import { login, register, sleep, type Account, type Tokens } from './support/auth-helpers.js';
import { TestContext, type TestInstance } from './support/test-context.js';

const ISSUER = 'https://auth.test';
const AUDIENCE = 'nra-test';
/** `WWW-Authenticate` of a 401 for a token that came but is not accepted (RFC 6750 §3). */
const INVALID_TOKEN_CHALLENGE = /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/;

interface Jwk {
  kid: string;
  kty: string;
  alg?: string;
  use?: string;
  [member: string]: unknown;
}

function me(instance: TestInstance, accessToken?: string) {
  const request = instance.http().get('/auth/me');
  return accessToken === undefined ? request : request.set('Authorization', `Bearer ${accessToken}`);
}

/** Asserts a 401 with the contract's body and the RFC 6750 challenge for a rejected token. */
function expectRejected(response: Response, code: 'token_invalid' | 'token_expired' | 'token_revoked'): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code });
  expect(response.body).toMatchObject({ statusCode: 401, code, message: expect.any(String) });
  expect(response.headers['www-authenticate']).toMatch(INVALID_TOKEN_CHALLENGE);
}

function expectForbidden(response: Response, code: 'insufficient_role' | 'insufficient_scope'): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status: 403, code });
  expect(response.body).toMatchObject({ statusCode: 403, code, message: expect.any(String) });
}

async function jwksOf(instance: TestInstance): Promise<Jwk[]> {
  const response = await instance.http().get('/.well-known/jwks.json').expect(200);
  return response.body.keys as Jwk[];
}

/** Verifies a token's signature with a published JWK, as a resource server would. */
function verifiesWith(token: string, jwk: Jwk): boolean {
  const [header, payload, signature] = token.split('.');
  const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  return verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(signature!, 'base64url'),
  );
}

describe('access tokens', () => {
  let context: TestContext;
  let instance: TestInstance;
  let account: Account;
  let tokens: Tokens;
  let serverKey: KeyObject;
  let kid: string;

  beforeAll(async () => {
    context = await TestContext.create('access-tokens');
    instance = await context.start();
    account = await register(instance);
    tokens = await login(instance, account);
    serverKey = readDevelopmentKey(context.dataDir);
    kid = decodeJwt(tokens.access_token).header.kid as string;
  });
  afterAll(() => context.close());

  /** Claims like the server's own, fresh, for the logged-in session; `overrides` change or drop (undefined) some. */
  function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = nowSeconds();
    const base = {
      ...decodeJwt(tokens.access_token).payload,
      jti: `forged-${randomBytes(6).toString('hex')}`,
      iat: now,
      exp: now + 300,
    };
    return Object.fromEntries(Object.entries({ ...base, ...overrides }).filter(([, value]) => value !== undefined));
  }

  function header(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries({ alg: 'ES256', typ: 'at+jwt', kid, ...overrides }).filter(([, value]) => value !== undefined),
    );
  }

  describe('format', () => {
    it('has alg ES256, typ at+jwt and a kid published at /.well-known/jwks.json', async () => {
      const { header: jose } = decodeJwt(tokens.access_token);
      expect(jose).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });

      const keys = await jwksOf(instance);
      const published = keys.find((key) => key.kid === jose.kid);
      expect(published).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(published).not.toHaveProperty('d');
      expect(verifiesWith(tokens.access_token, published!)).toBe(true);
    });

    it('carries iss, aud, sub, sid, jti, iat, exp, roles and scope; 900 s by default', async () => {
      const { payload } = decodeJwt(tokens.access_token);
      expect(payload).toMatchObject({
        iss: ISSUER,
        sub: account.id,
        sid: tokens.session_id,
        jti: expect.any(String),
        iat: expect.any(Number),
        exp: expect.any(Number),
        roles: ['user'],
        scope: 'notes:read notes:write',
      });
      expect([payload.aud].flat()).toContain(AUDIENCE);
      expect((payload.exp as number) - (payload.iat as number)).toBe(900);
      expect(tokens.expires_in).toBe(900);
      expect(Math.abs((payload.iat as number) - nowSeconds())).toBeLessThanOrEqual(5);

      const again = await login(instance, account);
      expect(decodeJwt(again.access_token).payload.jti).not.toBe(payload.jti);
      await me(instance, tokens.access_token).expect(200);
    });

    it('accepts a token the test signs exactly like the server (the forgery tests below are meaningful)', async () => {
      const genuineCopy = signJwt(header(), claims(), { kind: 'key', key: serverKey });
      const response = await me(instance, genuineCopy).expect(200);
      expect(response.body.id).toBe(account.id);
    });
  });

  describe('forged and malformed tokens are token_invalid', () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig' };
    const asAttacker: JwtSigner = { kind: 'key', key: attacker.privateKey };

    const cases: Array<[string, () => string]> = [
      ['alg none, no signature', () => signJwt(header({ alg: 'none' }), claims(), { kind: 'none' })],
      ['alg NONE, no signature', () => signJwt(header({ alg: 'NONE' }), claims(), { kind: 'none' })],
      [
        'HS256 keyed with the public key PEM (key confusion)',
        () =>
          signJwt(header({ alg: 'HS256' }), claims(), {
            kind: 'hmac',
            secret: createPublicKey(serverKey).export({ format: 'pem', type: 'spki' }).toString(),
          }),
      ],
      [
        'HS256 keyed with the public JWK JSON (key confusion)',
        () =>
          signJwt(header({ alg: 'HS256' }), claims(), {
            kind: 'hmac',
            secret: JSON.stringify(createPublicKey(serverKey).export({ format: 'jwk' })),
          }),
      ],
      ['ES256 signed by another key under our kid', () => signJwt(header(), claims(), asAttacker)],
      [
        'an unknown kid (server key)',
        () => signJwt(header({ kid: 'unknown-kid' }), claims(), { kind: 'key', key: serverKey }),
      ],
      ['no kid (server key)', () => signJwt(header({ kid: undefined }), claims(), { kind: 'key', key: serverKey })],
      ['typ JWT (server key)', () => signJwt(header({ typ: 'JWT' }), claims(), { kind: 'key', key: serverKey })],
      ['no typ (server key)', () => signJwt(header({ typ: undefined }), claims(), { kind: 'key', key: serverKey })],
      [
        'a wrong iss (server key)',
        () => signJwt(header(), claims({ iss: 'https://evil.test' }), { kind: 'key', key: serverKey }),
      ],
      ['no iss (server key)', () => signJwt(header(), claims({ iss: undefined }), { kind: 'key', key: serverKey })],
      [
        'a wrong aud (server key)',
        () => signJwt(header(), claims({ aud: 'other-api' }), { kind: 'key', key: serverKey }),
      ],
      ['no aud (server key)', () => signJwt(header(), claims({ aud: undefined }), { kind: 'key', key: serverKey })],
      [
        'a jwk header with the attacker key, under our kid',
        () => signJwt(header({ jwk: { ...attackerJwk, kid } }), claims(), asAttacker),
      ],
      [
        'a jwk header with the attacker key, under its own kid',
        () => signJwt(header({ kid: 'attacker', jwk: { ...attackerJwk, kid: 'attacker' } }), claims(), asAttacker),
      ],
      [
        'a jku header pointing at the attacker JWKS',
        () => signJwt(header({ jku: 'https://attacker.example/jwks.json' }), claims(), asAttacker),
      ],
      [
        'a jku header with the attacker kid',
        () => signJwt(header({ kid: 'attacker', jku: 'https://attacker.example/jwks.json' }), claims(), asAttacker),
      ],
      [
        'an x5u header pointing at the attacker',
        () => signJwt(header({ x5u: 'https://attacker.example/cert.pem' }), claims(), asAttacker),
      ],
      ['a refresh token', () => tokens.refresh_token],
      ['a word', () => 'garbage'],
      ['three dotted words', () => 'a.b.c'],
      ['two segments', () => tokens.access_token.split('.').slice(0, 2).join('.')],
      ['a fourth segment', () => `${tokens.access_token}.e30`],
      ['a truncated signature', () => tokens.access_token.slice(0, -4)],
      [
        'a changed payload under the original signature',
        () => {
          const [jose, , signature] = tokens.access_token.split('.');
          const payload = Buffer.from(JSON.stringify(claims({ roles: ['user', 'admin'] }))).toString('base64url');
          return `${jose}.${payload}.${signature}`;
        },
      ],
      ['a non-JSON header', () => `bm90IGpzb24.${tokens.access_token.split('.').slice(1).join('.')}`],
    ];

    it.each(cases)('refuses %s', async (_label, make) => {
      expectRejected(await me(instance, make()), 'token_invalid');
    });

    it('answers no token with token_missing and a bare Bearer challenge', async () => {
      const response = await me(instance);
      expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code: 'token_missing' });
      expect(response.body).toMatchObject({ statusCode: 401, message: expect.any(String) });
      expect(response.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('never echoes the token in the error body', async () => {
      const forged = signJwt(header(), claims(), asAttacker);
      const response = await me(instance, forged);
      expect(JSON.stringify(response.body)).not.toContain(forged.split('.')[2]);
      expect(response.headers['www-authenticate']).not.toContain(forged.split('.')[2]);
    });
  });

  describe('expiry', () => {
    let strict: TestInstance;
    let tolerant: TestInstance;

    beforeAll(async () => {
      strict = await context.start({ ACCESS_TOKEN_TTL: '1', JWT_CLOCK_TOLERANCE: '0' });
      tolerant = await context.start({ JWT_CLOCK_TOLERANCE: '5' });
    });

    it('ACCESS_TOKEN_TTL=1, tolerance 0: token_expired 2 s later; a 5 s tolerance still accepts it', async () => {
      const short = await login(strict, account);
      expect(short.expires_in).toBe(1);
      const { payload } = decodeJwt(short.access_token);
      expect((payload.exp as number) - (payload.iat as number)).toBe(1);

      await sleep(2100);
      expectRejected(await me(strict, short.access_token), 'token_expired');
      await me(tolerant, short.access_token).expect(200);
    });

    it('honours the clock tolerance for a token that expired 3 s ago, and only within it', async () => {
      const now = nowSeconds();
      const sign = (exp: number) => signJwt(header(), claims({ iat: exp - 60, exp }), { kind: 'key', key: serverKey });
      const expired3s = sign(now - 3);
      expectRejected(await me(strict, expired3s), 'token_expired');
      await me(tolerant, expired3s).expect(200);
      expectRejected(await me(tolerant, sign(now - 10)), 'token_expired');
    });
  });

  describe('other algorithms', () => {
    it('HS256 with a 40-character JWT_SECRET works end to end and publishes {"keys": []}', async () => {
      const hmac = await context.start({ JWT_ALGORITHM: 'HS256', JWT_SECRET: randomBytes(30).toString('base64url') });
      const issued = await login(hmac, account);
      const { header: jose } = decodeJwt(issued.access_token);
      expect(jose).toMatchObject({ alg: 'HS256', typ: 'at+jwt', kid: expect.any(String) });
      await me(hmac, issued.access_token).expect(200);

      const jwks = await hmac.http().get('/.well-known/jwks.json').expect(200);
      expect(jwks.body).toEqual({ keys: [] });

      // The algorithm is pinned both ways.
      expectRejected(await me(hmac, tokens.access_token), 'token_invalid');
      expectRejected(await me(instance, issued.access_token), 'token_invalid');
    });

    it('RS256 with a 2048-bit JWT_PRIVATE_KEY in \\n escapes works and publishes the RSA key by kid', async () => {
      const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString();
      const rsa = await context.start({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: pem.trim().replace(/\n/g, '\\n') });
      const issued = await login(rsa, account);
      const { header: jose } = decodeJwt(issued.access_token);
      expect(jose).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: expect.any(String) });
      await me(rsa, issued.access_token).expect(200);

      const published = (await jwksOf(rsa)).find((key) => key.kid === jose.kid);
      expect(published).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', n: expect.any(String), e: 'AQAB' });
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(published).not.toHaveProperty(secret);
      expect(verifiesWith(issued.access_token, published!)).toBe(true);
    });
  });

  describe('restart', () => {
    it('keeps the other instances verifying tokens while one instance shuts down', async () => {
      const replica = await context.start();
      await replica.http().get('/health').expect(200);
      await replica.close();
      await me(instance, tokens.access_token).expect(200);
      await me(instance, (await login(instance, account)).access_token).expect(200);
    });

    it('keeps accepting a token after the instance is replaced (same data folder key, same database)', async () => {
      const before = await context.start();
      const issued = await login(before, account);
      await me(before, issued.access_token).expect(200);
      const keysBefore = await jwksOf(before);
      await before.close();

      const after = await context.start();
      await me(after, issued.access_token).expect(200);
      expect(await jwksOf(after)).toEqual(keysBefore);
    });
  });

  describe('roles and scopes', () => {
    const adminEmail = `admin-${randomBytes(4).toString('hex')}@example.com`;
    const adminPassword = 'admin password 123';
    let admin: TestInstance;

    beforeAll(async () => {
      admin = await context.start({ ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: adminPassword });
    });

    it('refuses admin routes to a normal user with 403 insufficient_role', async () => {
      const bearer = `Bearer ${tokens.access_token}`;
      expectForbidden(await admin.http().get('/admin/notes').set('Authorization', bearer), 'insufficient_role');
      expectForbidden(
        await admin.http().post(`/admin/users/${account.id}/revoke-sessions`).set('Authorization', bearer),
        'insufficient_role',
      );
      // Refused without side effects: the user's own session is untouched.
      await me(admin, tokens.access_token).expect(200);
    });

    it('lets the ADMIN_EMAIL account made at start-up use them', async () => {
      const adminTokens = await login(admin, { email: adminEmail, password: adminPassword });
      expect(decodeJwt(adminTokens.access_token).payload.roles).toEqual(expect.arrayContaining(['admin']));
      const bearer = `Bearer ${adminTokens.access_token}`;

      const notes = await admin.http().get('/admin/notes').set('Authorization', bearer).expect(200);
      expect(Array.isArray(notes.body)).toBe(true);

      const victim = await register(admin);
      const victimTokens = await login(admin, victim);
      await admin.http().post(`/admin/users/${victim.id}/revoke-sessions`).set('Authorization', bearer).expect(204);
      expectRejected(await me(admin, victimTokens.access_token), 'token_revoked');
    });

    it("DEFAULT_SCOPES='notes:read': GET /notes is 200, POST /notes is 403 insufficient_scope", async () => {
      const readOnly = await context.start({ DEFAULT_SCOPES: 'notes:read' });
      const issued = await login(readOnly, account);
      expect(decodeJwt(issued.access_token).payload.scope).toBe('notes:read');
      const bearer = `Bearer ${issued.access_token}`;

      await readOnly.http().get('/notes').set('Authorization', bearer).expect(200);
      expectForbidden(
        await readOnly.http().post('/notes').set('Authorization', bearer).send({ title: 'not allowed', body: '' }),
        'insufficient_scope',
      );
    });
  });
});
