import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Response } from 'supertest';
import { generatePrivateKeyPem, thumbprint } from '../src/index.js';
import { login, refresh, registerAndLogin, type Account, type Tokens } from './support/auth-helpers.js';
import { jwtHeader } from './support/oauth-helpers.js';
import { TestContext, type TestInstance } from './support/test-context.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The `kid` the service gives a key: the RFC 7638 thumbprint of its public half. */
function kidOf(privatePem: string): string {
  return thumbprint(createPublicKey(createPrivateKey(privatePem)));
}

/** The public half in SPKI PEM; `escaped` writes newlines as `\n`, as an env file carries them. */
function publicPem(privatePem: string, escaped: boolean): string {
  const pem = createPublicKey(createPrivateKey(privatePem)).export({ format: 'pem', type: 'spki' }).toString().trim();
  return escaped ? pem.replace(/\n/g, '\\n') : pem;
}

function me(instance: TestInstance, accessToken: string) {
  return instance.http().get('/auth/me').set('Authorization', `Bearer ${accessToken}`);
}

async function jwksKids(instance: TestInstance): Promise<string[]> {
  const response = await instance.http().get('/.well-known/jwks.json').expect(200);
  const keys = response.body.keys as Array<Record<string, unknown>>;
  for (const key of keys) {
    // Only public members are ever published.
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(secret);
  }
  return keys.map((key) => key.kid as string).sort();
}

function expectError(response: Response, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(response.body).toMatchObject({ statusCode: status, code, message: expect.any(String) });
}

/** The value of `NAME=...` in the generator's output, without the surrounding quotes. */
function envLine(output: string, name: string): string {
  const match = new RegExp(`^${name}=(.*)$`, 'm').exec(output);
  if (!match) throw new Error(`no ${name}= line in:\n${output}`);
  return match[1]!.replace(/^"(.*)"$/, '$1');
}

describe('signing key rotation', () => {
  let context: TestContext;
  const keyA = generatePrivateKeyPem('ES256');
  const keyB = generatePrivateKeyPem('ES256');
  const keyC = generatePrivateKeyPem('ES256');
  /** Output of `npm run -s keys:generate -- RS256`. */
  let generated: string;

  // Shared along the rotation: an account and a session that started under key A.
  let account: Account;
  let tokensA: Tokens;

  beforeAll(async () => {
    context = await TestContext.create('key-rotation');
    // The script compiles the project first, then prints the key; the child does not need Jest's VM flag.
    const { NODE_OPTIONS: _jestOnly, ...env } = process.env;
    try {
      const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'keys:generate', '--', 'RS256'], {
        cwd: PROJECT_ROOT,
        env,
        timeout: 120_000,
      });
      generated = stdout;
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`npm run keys:generate -- RS256 failed: ${String(error)}\n${stdout ?? ''}\n${stderr ?? ''}`, {
        cause: error,
      });
    }
  }, 150_000);
  afterAll(() => context.close());

  it('signs with key A and its kid while A is the only key', async () => {
    const instance = await context.start({ JWT_PRIVATE_KEY: keyA });
    ({ account, tokens: tokensA } = await registerAndLogin(instance));
    expect(jwtHeader(tokensA.access_token)).toMatchObject({ alg: 'ES256', kid: kidOf(keyA) });
    await me(instance, tokensA.access_token).expect(200);
    expect(await jwksKids(instance)).toEqual([kidOf(keyA)]);
    await instance.close();
  });

  it('after the switch to key B with A as a previous key, accepts A tokens and signs with B', async () => {
    const instance = await context.start({ JWT_PRIVATE_KEY: keyB, JWT_PREVIOUS_PUBLIC_KEYS: publicPem(keyA, true) });

    const user = await me(instance, tokensA.access_token).expect(200);
    expect(user.body.id).toBe(account.id);

    const fresh = await login(instance, account);
    expect(jwtHeader(fresh.access_token)).toMatchObject({ alg: 'ES256', kid: kidOf(keyB) });
    await me(instance, fresh.access_token).expect(200);
    // The refresh token is opaque and outlives the key: refreshing a session begun under A yields a B token.
    const refreshed = await refresh(instance, tokensA.refresh_token).expect(200);
    expect(jwtHeader(refreshed.body.access_token).kid).toBe(kidOf(keyB));
    tokensA = { ...tokensA, refresh_token: refreshed.body.refresh_token };

    expect(await jwksKids(instance)).toEqual([kidOf(keyA), kidOf(keyB)].sort());
    await instance.close();
  });

  it('once A is dropped, rejects A tokens with token_invalid and keeps accepting B tokens', async () => {
    const instance = await context.start({ JWT_PRIVATE_KEY: keyB });

    const denied = await me(instance, tokensA.access_token);
    expectError(denied, 401, 'token_invalid');
    expect(denied.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);

    const fresh = await login(instance, account);
    await me(instance, fresh.access_token).expect(200);
    expect(await jwksKids(instance)).toEqual([kidOf(keyB)]);
    await instance.close();
  });

  it('accepts several previous keys given with real newlines', async () => {
    const previous = `${publicPem(keyA, false)}\n${publicPem(keyC, false)}\n`;
    const instance = await context.start({ JWT_PRIVATE_KEY: keyB, JWT_PREVIOUS_PUBLIC_KEYS: previous });
    expect(await jwksKids(instance)).toEqual([kidOf(keyA), kidOf(keyB), kidOf(keyC)].sort());
    const { tokens } = await registerAndLogin(instance);
    expect(jwtHeader(tokens.access_token).kid).toBe(kidOf(keyB));
    await me(instance, tokens.access_token).expect(200);
    await instance.close();
  });

  it('starts with the RS256 key printed by npm run keys:generate', async () => {
    expect(envLine(generated, 'JWT_ALGORITHM')).toBe('RS256');
    const privateKey = envLine(generated, 'JWT_PRIVATE_KEY');
    const publicKey = envLine(generated, 'JWT_PUBLIC_KEY');
    expect(privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\\n[\s\S]+\\n-----END PRIVATE KEY-----$/);
    expect(publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----\\n[\s\S]+\\n-----END PUBLIC KEY-----$/);
    const kid = /kid ([A-Za-z0-9_-]+)/.exec(generated)?.[1];
    expect(kid).toBe(kidOf(privateKey.replace(/\\n/g, '\n')));

    const instance = await context.start({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: privateKey });
    const { tokens } = await registerAndLogin(instance);
    expect(jwtHeader(tokens.access_token)).toMatchObject({ alg: 'RS256', kid });
    await me(instance, tokens.access_token).expect(200);
    const jwks = await instance.http().get('/.well-known/jwks.json').expect(200);
    expect(jwks.body.keys).toEqual([expect.objectContaining({ kty: 'RSA', kid, alg: 'RS256', use: 'sig' })]);
    expect(await jwksKids(instance)).toEqual([kid]);
    await instance.close();

    // The printed public key is the private key's own: the service checks that they belong together.
    const paired = await context.start({
      JWT_ALGORITHM: 'RS256',
      JWT_PRIVATE_KEY: privateKey,
      JWT_PUBLIC_KEY: publicKey,
    });
    const again = await registerAndLogin(paired);
    await me(paired, again.tokens.access_token).expect(200);
    await paired.close();
  });

  // Two replicas mid-rotation, in one process as the test context runs them: each must verify
  // with its own key ring. Last in the file: it leaves two instances running.
  it('lets each running instance verify with its own key ring (a rolling rotation)', async () => {
    const rotated = await context.start({ JWT_PRIVATE_KEY: keyB, JWT_PREVIOUS_PUBLIC_KEYS: publicPem(keyA, true) });
    const onRotated = await login(rotated, account);
    const legacy = await context.start({ JWT_PRIVATE_KEY: keyA });
    const onLegacy = await login(legacy, account);

    // An instance accepts the tokens it signs itself, and those of its previous keys.
    const results = {
      rotatedOwnToken: (await me(rotated, onRotated.access_token)).status,
      rotatedPreviousKeyToken: (await me(rotated, onLegacy.access_token)).status,
      legacyOwnToken: (await me(legacy, onLegacy.access_token)).status,
      // The legacy instance has never been given key B.
      legacyUnknownKeyToken: (await me(legacy, onRotated.access_token)).status,
    };
    expect(results).toEqual({
      rotatedOwnToken: 200,
      rotatedPreviousKeyToken: 200,
      legacyOwnToken: 200,
      legacyUnknownKeyToken: 401,
    });
  });
});
