import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { AuthOptionsError } from './auth-options.error.js';
import { generatePrivateKeyPem, loadKeyRing, thumbprint, type KeyRingSource } from './key-ring.js';

/** RFC 7638 §3.1: the example RSA key and its SHA-256 JWK thumbprint. */
const RFC7638_KEY = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
};
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

function spki(key: KeyObject | string): string {
  const publicKey = typeof key === 'string' ? createPublicKey(createPrivateKey(key)) : key;
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

/** RFC 7638 computed here independently: required members only, in lexicographic order, no whitespace. */
function rfc7638(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const canonical =
    jwk.kty === 'EC'
      ? `{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`
      : `{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

function source(overrides: Partial<KeyRingSource>): KeyRingSource {
  return { algorithm: 'ES256', production: true, ...overrides };
}

/** The AuthOptionsError loadKeyRing throws; fails the test when it throws none. */
function refusal(overrides: Partial<KeyRingSource>): AuthOptionsError {
  try {
    loadKeyRing(source(overrides));
  } catch (error) {
    if (error instanceof AuthOptionsError) return error;
    throw error;
  }
  throw new Error('loadKeyRing accepted the keys');
}

function expectRefused(overrides: Partial<KeyRingSource>, option: string): AuthOptionsError {
  const error = refusal(overrides);
  expect(error.option).toBe(option);
  expect(error.message).toContain(option);
  return error;
}

/** Whether a signature by the ring's signing key verifies with its verification key of `kid`. */
function signsAndVerifies(ring: ReturnType<typeof loadKeyRing>): boolean {
  const data = Buffer.from('payload');
  const key = ring.verificationKeys.get(ring.kid);
  return key !== undefined && verify('sha256', data, key, sign('sha256', data, ring.signingKey));
}

let rsaPem: string;
let ecPem: string;

beforeAll(() => {
  rsaPem = generatePrivateKeyPem('RS256');
  ecPem = generatePrivateKeyPem('ES256');
});

describe('key ids', () => {
  it('thumbprint() gives the RFC 7638 §3.1 vector', () => {
    expect(thumbprint(createPublicKey({ key: RFC7638_KEY, format: 'jwk' }))).toBe(RFC7638_THUMBPRINT);
  });

  it('gives a previous key the RFC 7638 thumbprint as kid, in the JWKS and the verification keys', () => {
    const rfcPem = spki(createPublicKey({ key: RFC7638_KEY, format: 'jwk' }));
    const ring = loadKeyRing(source({ algorithm: 'RS256', privateKey: rsaPem, previousPublicKeys: rfcPem }));
    expect(ring.jwks.map((jwk) => jwk.kid)).toContain(RFC7638_THUMBPRINT);
    expect(ring.verificationKeys.has(RFC7638_THUMBPRINT)).toBe(true);
    expect(ring.jwks.find((jwk) => jwk.kid === RFC7638_THUMBPRINT)).toMatchObject({
      n: RFC7638_KEY.n,
      e: 'AQAB',
      alg: 'RS256',
    });
  });

  it.each(['RS256', 'ES256'] as const)('uses the RFC 7638 thumbprint of the public key as the %s kid', (algorithm) => {
    const pem = algorithm === 'RS256' ? rsaPem : ecPem;
    const ring = loadKeyRing(source({ algorithm, privateKey: pem }));
    const publicKey = createPublicKey(createPrivateKey(pem));
    expect(ring.kid).toBe(rfc7638(publicKey));
    expect(ring.jwks).toHaveLength(1);
    expect(ring.jwks[0]).toMatchObject({
      kid: ring.kid,
      alg: algorithm,
      use: 'sig',
      kty: algorithm === 'RS256' ? 'RSA' : 'EC',
    });
    expect(ring.jwks[0]).not.toHaveProperty('d');
    expect(signsAndVerifies(ring)).toBe(true);
  });
});

describe('key checks', () => {
  it('accepts a JWT_PUBLIC_KEY of the private key and refuses one of another key', () => {
    expect(loadKeyRing(source({ privateKey: ecPem, publicKey: spki(ecPem) })).kid).toBe(
      rfc7638(createPublicKey(createPrivateKey(ecPem))),
    );
    expectRefused({ privateKey: ecPem, publicKey: spki(generatePrivateKeyPem('ES256')) }, 'jwt.publicKey');
  });

  it('refuses an RSA key of 1024 bits, as the signing key or a previous key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weakPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expectRefused({ algorithm: 'RS256', privateKey: weakPem }, 'jwt.privateKey');
    expectRefused(
      { algorithm: 'RS256', privateKey: rsaPem, previousPublicKeys: spki(publicKey) },
      'jwt.previousPublicKeys',
    );
  });

  it('refuses a key of the wrong type or curve for the algorithm', () => {
    expectRefused({ algorithm: 'RS256', privateKey: ecPem }, 'jwt.privateKey');
    expectRefused({ algorithm: 'ES256', privateKey: rsaPem }, 'jwt.privateKey');
    expectRefused({ algorithm: 'ES256', privateKey: generatePrivateKeyPem('ES384') }, 'jwt.privateKey');
    expectRefused(
      { algorithm: 'ES256', privateKey: ecPem, previousPublicKeys: spki(rsaPem) },
      'jwt.previousPublicKeys',
    );
  });

  it('refuses a key that is not PEM, without quoting it', () => {
    const broken = ecPem.replace(/\n[A-Za-z0-9+/]{20}/, '\n');
    const error = expectRefused({ privateKey: broken }, 'jwt.privateKey');
    expect(error.message).not.toContain(broken.split('\n')[1]!);
    expectRefused({ privateKey: ecPem, publicKey: 'not a key' }, 'jwt.publicKey');
    expectRefused(
      { privateKey: ecPem, previousPublicKeys: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' },
      'jwt.previousPublicKeys',
    );
  });

  it('refuses JWT_PREVIOUS_PUBLIC_KEYS that holds no PEM block at all', () => {
    // Silently dropping it would end every session signed by the old key at the next deploy.
    expectRefused(
      { privateKey: ecPem, previousPublicKeys: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE' },
      'jwt.previousPublicKeys',
    );
  });
});

describe('previous public keys', () => {
  it('adds each as a verification key and a JWKS entry after the current one', () => {
    const previous = [generatePrivateKeyPem('ES256'), generatePrivateKeyPem('ES256')].map((pem) => spki(pem));
    const ring = loadKeyRing(source({ privateKey: ecPem, previousPublicKeys: previous.join('\n') }));
    const previousKids = previous.map((pem) => rfc7638(createPublicKey(pem)));
    expect(ring.jwks.map((jwk) => jwk.kid)).toEqual([ring.kid, ...previousKids]);
    expect([...ring.verificationKeys.keys()].sort()).toEqual([ring.kid, ...previousKids].sort());
    for (const jwk of ring.jwks) {
      expect(jwk).toMatchObject({ alg: 'ES256', use: 'sig' });
      expect(jwk).not.toHaveProperty('d');
    }
    // Signing stays with the current key.
    expect(signsAndVerifies(ring)).toBe(true);
  });

  it('does not list the current key twice', () => {
    const ring = loadKeyRing(source({ privateKey: ecPem, previousPublicKeys: spki(ecPem) }));
    expect(ring.jwks).toHaveLength(1);
    expect(ring.verificationKeys.size).toBe(1);
  });
});

describe('PEM with \\n escapes', () => {
  it('reads private, public and previous keys written on one line', () => {
    const oneLine = (pem: string) => pem.trim().replace(/\n/g, '\\n');
    const previous = spki(generatePrivateKeyPem('ES256'));
    const plain = loadKeyRing(source({ privateKey: ecPem, publicKey: spki(ecPem), previousPublicKeys: previous }));
    const escaped = loadKeyRing(
      source({ privateKey: oneLine(ecPem), publicKey: oneLine(spki(ecPem)), previousPublicKeys: oneLine(previous) }),
    );
    expect(oneLine(ecPem)).not.toContain('\n');
    expect(escaped.kid).toBe(plain.kid);
    expect(escaped.jwks).toEqual(plain.jwks);
  });
});

describe('HMAC', () => {
  it('derives a kid that does not reveal the secret, and publishes no key', () => {
    const secret = randomBytes(48).toString('base64url');
    const ring = loadKeyRing(source({ algorithm: 'HS256', secret }));
    expect(ring.jwks).toEqual([]);
    expect(ring.kid.length).toBeGreaterThan(0);
    expect(secret).not.toContain(ring.kid);
    expect(ring.kid).not.toContain(secret.slice(0, 8));
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      expect(Buffer.from(secret, 'utf8').toString(encoding)).not.toContain(ring.kid);
    }
    expect(loadKeyRing(source({ algorithm: 'HS256', secret })).kid).toBe(ring.kid);
    expect(loadKeyRing(source({ algorithm: 'HS256', secret: randomBytes(48).toString('base64url') })).kid).not.toBe(
      ring.kid,
    );
    expect(ring.verificationKeys.get(ring.kid)).toBe(ring.signingKey);
  });

  it('refuses a missing or short secret, and a placeholder in production', () => {
    expectRefused({ algorithm: 'HS256' }, 'jwt.secret');
    expectRefused({ algorithm: 'HS256', secret: randomBytes(16).toString('hex').slice(0, 31) }, 'jwt.secret');
    expectRefused({ algorithm: 'HS256', secret: 'a'.repeat(48) }, 'jwt.secret');
    expect(loadKeyRing({ algorithm: 'HS256', secret: 'a'.repeat(48), production: false }).jwks).toEqual([]);
  });
});

describe('KeyObjects', () => {
  it('takes a private KeyObject as it is, and a public half of a private one as a previous key', () => {
    const fromPem = loadKeyRing(source({ privateKey: ecPem }));
    const fromObject = loadKeyRing(
      source({
        privateKey: createPrivateKey(ecPem),
        previousPublicKeys: [createPrivateKey(generatePrivateKeyPem('ES256'))],
      }),
    );
    expect(fromObject.kid).toBe(fromPem.kid);
    expect(fromObject.jwks).toHaveLength(2);
    for (const jwk of fromObject.jwks) expect(jwk).not.toHaveProperty('d');
    expectRefused({ privateKey: createPublicKey(createPrivateKey(ecPem)) }, 'jwt.privateKey');
  });
});
