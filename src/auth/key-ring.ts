import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  KeyObject,
  type JsonWebKey,
} from 'node:crypto';
import { AuthOptionsError } from './auth-options.error.js';

/** Signature algorithms access tokens can be signed and verified with. */
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

/** The key options as given (PEM text or `KeyObject`s), with the option path used in errors. */
export interface KeyRingSource {
  algorithm: JwtAlgorithm;
  secret?: string;
  privateKey?: string | KeyObject;
  publicKey?: string | KeyObject;
  previousPublicKeys?: string | ReadonlyArray<string | KeyObject>;
  /** Refuse placeholder-looking secrets. */
  production?: boolean;
}

const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
const HMAC_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };
const PLACEHOLDER = /change.?me|changeit|example|placeholder|your.?secret|^secret$|^(.)\1+$/i;

/**
 * Builds the key ring from the `jwt` options; throws {@link AuthOptionsError} naming the option
 * that is missing, malformed or too weak for the algorithm.
 *
 * @example const ring = loadKeyRing({ algorithm: 'ES256', privateKey: pem });
 */
export function loadKeyRing(source: KeyRingSource): KeyRing {
  if (!(JWT_ALGORITHMS as readonly string[]).includes(source.algorithm)) {
    throw new AuthOptionsError('jwt.algorithm', `must be one of ${JWT_ALGORITHMS.join(', ')}`);
  }
  return source.algorithm.startsWith('HS') ? hmacKeyRing(source) : asymmetricKeyRing(source);
}

function hmacKeyRing(source: KeyRingSource): KeyRing {
  const minBytes = HMAC_MIN_BYTES[source.algorithm]!;
  const secret = source.secret;
  if (secret === undefined || secret === '') {
    throw new AuthOptionsError('jwt.secret', `is required with algorithm ${source.algorithm}`);
  }
  if (Buffer.byteLength(secret, 'utf8') < minBytes) {
    throw new AuthOptionsError('jwt.secret', `must be at least ${minBytes} bytes for ${source.algorithm}`);
  }
  if (source.production && PLACEHOLDER.test(secret)) {
    throw new AuthOptionsError('jwt.secret', 'looks like a placeholder; generate one with `openssl rand -base64 48`');
  }
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  // The kid must not reveal the secret: an HMAC of a fixed label under it does not.
  const kid = createHmac('sha256', key).update('nest-refresh-auth kid').digest('base64url').slice(0, 16);
  return { algorithm: source.algorithm, kid, signingKey: key, verificationKeys: new Map([[kid, key]]), jwks: [] };
}

function asymmetricKeyRing(source: KeyRingSource): KeyRing {
  if (source.privateKey === undefined || source.privateKey === '') {
    throw new AuthOptionsError('jwt.privateKey', `is required with algorithm ${source.algorithm}`);
  }
  const signingKey = toKey('jwt.privateKey', source.privateKey, 'private');
  checkKeyFits('jwt.privateKey', signingKey, source.algorithm);
  const derivedPublic = createPublicKey(signingKey);
  if (source.publicKey !== undefined && source.publicKey !== '') {
    const given = toKey('jwt.publicKey', source.publicKey, 'public');
    if (thumbprint(given) !== thumbprint(derivedPublic)) {
      throw new AuthOptionsError('jwt.publicKey', 'does not belong to jwt.privateKey');
    }
  }
  const current = publicEntry(derivedPublic, source.algorithm);
  const previous = previousKeys(source.previousPublicKeys).map((given) => {
    const key = toKey('jwt.previousPublicKeys', given, 'public');
    checkKeyFits('jwt.previousPublicKeys', key, source.algorithm);
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

function previousKeys(given: KeyRingSource['previousPublicKeys']): Array<string | KeyObject> {
  if (given === undefined) return [];
  if (typeof given !== 'string') return [...given];
  if (given.trim() === '') return [];
  const blocks = splitPems(given);
  if (blocks.length === 0) {
    throw new AuthOptionsError(
      'jwt.previousPublicKeys',
      'must hold one or more PEM public keys (-----BEGIN PUBLIC KEY----- …)',
    );
  }
  return blocks;
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

function checkKeyFits(option: string, key: KeyObject, algorithm: JwtAlgorithm): void {
  if (algorithm.startsWith('RS')) {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (key.asymmetricKeyType !== 'rsa' || bits < 2048) {
      throw new AuthOptionsError(option, `must be an RSA key of at least 2048 bits for ${algorithm}`);
    }
  } else if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== EC_CURVES[algorithm]) {
    throw new AuthOptionsError(option, `must be an EC key on curve ${EC_CURVES[algorithm]} for ${algorithm}`);
  }
}

function toKey(option: string, given: string | KeyObject, kind: 'private' | 'public'): KeyObject {
  if (given instanceof KeyObject) {
    if (kind === 'private' && given.type !== 'private') throw new AuthOptionsError(option, 'must be a private key');
    // A private KeyObject given as a public key still verifies; publish only its public half.
    return kind === 'public' && given.type === 'private' ? createPublicKey(given) : given;
  }
  try {
    return kind === 'private' ? createPrivateKey(pem(given)) : createPublicKey(pem(given));
  } catch {
    throw new AuthOptionsError(option, 'is not a valid PEM key (PKCS#8 private key or SPKI public key)');
  }
}

/** Accepts PEM with real newlines or with `\n` escapes, as env files often carry it. */
function pem(text: string): string {
  return text.replace(/\\n/g, '\n').trim();
}

function splitPems(text: string): string[] {
  return pem(text).match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
}
