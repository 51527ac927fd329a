import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config.error.js';

/** Signature algorithms the service can sign and verify access tokens with. */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
] as const;

/** One of {@link JWT_ALGORITHMS}. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** A public JWK as published at `/.well-known/jwks.json`. */
export type PublicJwk = JsonWebKey & { kid: string; alg: JwtAlgorithm; use: 'sig' };

/** Parsed key material, built once at boot so no request re-parses a PEM or secret. */
export interface KeyRing {
  /** The pinned algorithm: tokens with any other `alg` are rejected. */
  algorithm: JwtAlgorithm;
  /** Key id of the signing key, written in every token's header. */
  kid: string;
  /** Private key (RS/ES) or secret key (HS) used to sign. */
  signingKey: KeyObject;
  /** Every key accepted for verification, by `kid`: the current one and previous ones. */
  verificationKeys: ReadonlyMap<string, KeyObject>;
  /** Public keys to publish; empty for HMAC. */
  jwks: PublicJwk[];
}

/** What the key ring is made from: the raw variables plus where development keys live. */
export interface KeyRingSource {
  algorithm: JwtAlgorithm;
  secret?: string;
  privateKey?: string;
  publicKey?: string;
  previousPublicKeys?: string;
  dataDir: string;
  production: boolean;
}

const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
const HMAC_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };
const PLACEHOLDER = /change.?me|changeit|example|placeholder|your.?secret|^secret$|^(.)\1+$/i;

/**
 * Builds the key ring from configuration, or in development from keys kept in `dataDir`
 * (made on first start, so tokens survive a restart).
 *
 * @example const ring = loadKeyRing({ algorithm: 'ES256', dataDir: './data', production: false });
 */
export function loadKeyRing(source: KeyRingSource): KeyRing {
  return source.algorithm.startsWith('HS') ? hmacKeyRing(source) : asymmetricKeyRing(source);
}

function hmacKeyRing(source: KeyRingSource): KeyRing {
  const minBytes = HMAC_MIN_BYTES[source.algorithm]!;
  let secret = source.secret;
  if (secret === undefined) {
    if (source.production) {
      throw new ConfigError('JWT_SECRET', `is required with JWT_ALGORITHM=${source.algorithm} in production`);
    }
    secret = developmentFile(source.dataDir, `jwt-${source.algorithm.toLowerCase()}.secret`, () =>
      randomBytes(minBytes).toString('base64url'),
    );
  }
  if (Buffer.byteLength(secret, 'utf8') < minBytes) {
    throw new ConfigError('JWT_SECRET', `must be at least ${minBytes} bytes for ${source.algorithm}`);
  }
  if (source.production && PLACEHOLDER.test(secret)) {
    throw new ConfigError('JWT_SECRET', 'looks like a placeholder; generate one with `openssl rand -base64 48`');
  }
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  // The kid must not reveal the secret: an HMAC of a fixed label under it does not.
  const kid = createHmac('sha256', key).update('nest-refresh-auth kid').digest('base64url').slice(0, 16);
  return { algorithm: source.algorithm, kid, signingKey: key, verificationKeys: new Map([[kid, key]]), jwks: [] };
}

function asymmetricKeyRing(source: KeyRingSource): KeyRing {
  let privatePem = source.privateKey;
  if (privatePem === undefined) {
    if (source.production) {
      throw new ConfigError('JWT_PRIVATE_KEY', `is required with JWT_ALGORITHM=${source.algorithm} in production`);
    }
    privatePem = developmentFile(source.dataDir, `jwt-${source.algorithm.toLowerCase()}.pem`, () =>
      generatePrivateKeyPem(source.algorithm),
    );
  }
  const signingKey = parseKey('JWT_PRIVATE_KEY', () => createPrivateKey(pem(privatePem)));
  checkKeyFits('JWT_PRIVATE_KEY', signingKey, source.algorithm);
  const derivedPublic = createPublicKey(signingKey);
  if (source.publicKey !== undefined) {
    const given = parseKey('JWT_PUBLIC_KEY', () => createPublicKey(pem(source.publicKey!)));
    if (thumbprint(given) !== thumbprint(derivedPublic)) {
      throw new ConfigError('JWT_PUBLIC_KEY', 'does not belong to JWT_PRIVATE_KEY');
    }
  }
  const current = publicEntry(derivedPublic, source.algorithm);
  const previousBlocks = splitPems(source.previousPublicKeys ?? '');
  if (source.previousPublicKeys?.trim() && previousBlocks.length === 0) {
    throw new ConfigError(
      'JWT_PREVIOUS_PUBLIC_KEYS',
      'must hold one or more PEM public keys (-----BEGIN PUBLIC KEY----- …)',
    );
  }
  const previous = previousBlocks.map((block) => {
    const key = parseKey('JWT_PREVIOUS_PUBLIC_KEYS', () => createPublicKey(block));
    checkKeyFits('JWT_PREVIOUS_PUBLIC_KEYS', key, source.algorithm);
    return publicEntry(key, source.algorithm);
  });
  const entries = [current, ...previous.filter((entry) => entry.jwk.kid !== current.jwk.kid)];
  return {
    algorithm: source.algorithm,
    kid: current.jwk.kid,
    signingKey,
    verificationKeys: new Map(entries.map((entry) => [entry.jwk.kid, entry.key])),
    jwks: entries.map((entry) => entry.jwk),
  };
}

/**
 * Makes a new private key in PKCS#8 PEM for an asymmetric algorithm.
 *
 * @example const pem = generatePrivateKeyPem('ES256');
 */
export function generatePrivateKeyPem(algorithm: JwtAlgorithm): string {
  const { privateKey } = algorithm.startsWith('RS')
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: EC_CURVES[algorithm]! });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * RFC 7638 JWK thumbprint of a public key, used as its `kid`.
 *
 * @example thumbprint(createPublicKey(pem)) // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 */
export function thumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const members =
    jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function publicEntry(key: KeyObject, algorithm: JwtAlgorithm): { key: KeyObject; jwk: PublicJwk } {
  const jwk = { ...key.export({ format: 'jwk' }), kid: thumbprint(key), alg: algorithm, use: 'sig' as const };
  return { key, jwk };
}

function checkKeyFits(variable: string, key: KeyObject, algorithm: JwtAlgorithm): void {
  if (algorithm.startsWith('RS')) {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (key.asymmetricKeyType !== 'rsa' || bits < 2048) {
      throw new ConfigError(variable, `must be an RSA key of at least 2048 bits for ${algorithm}`);
    }
  } else if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== EC_CURVES[algorithm]) {
    throw new ConfigError(variable, `must be an EC key on curve ${EC_CURVES[algorithm]} for ${algorithm}`);
  }
}

function parseKey(variable: string, parse: () => KeyObject): KeyObject {
  try {
    return parse();
  } catch {
    throw new ConfigError(variable, 'is not a valid PEM key (PKCS#8 private key or SPKI public key)');
  }
}

/** Accepts PEM with real newlines or with `\n` escapes, as env files often carry it. */
function pem(text: string): string {
  return text.replace(/\\n/g, '\n').trim();
}

function splitPems(text: string): string[] {
  return pem(text).match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
}

function developmentFile(dataDir: string, name: string, make: () => string): string {
  const path = join(dataDir, name);
  if (existsSync(path)) return readFileSync(path, 'utf8');
  mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx' so two processes starting at once on one folder agree on a single key.
    writeFileSync(path, make(), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(path, 'utf8');
}
