import { createHmac, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A JWT taken apart, without any verification. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signature: string;
}

/** How a forged token is signed: nothing (`alg: none`), an HMAC secret, or a private key. */
export type JwtSigner = { kind: 'none' } | { kind: 'hmac'; secret: string | Buffer } | { kind: 'key'; key: KeyObject };

/** Base64url of a JSON value, as in a JWT segment. */
export function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Decodes a compact JWT's header and payload; throws when it is not three segments of JSON. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`not a compact JWT: ${parts.length} segments`);
  const json = (segment: string) =>
    JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: json(parts[0]!), payload: json(parts[1]!), signature: parts[2]! };
}

/**
 * Signs a JWT by hand with node:crypto, whatever the header says: the test decides the `alg`
 * written in the header and, separately, how the bytes are really signed, so that key-confusion
 * and `alg: none` tokens can be built.
 */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, signer: JwtSigner): string {
  const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  if (signer.kind === 'none') return `${input}.`;
  if (signer.kind === 'hmac')
    return `${input}.${createHmac('sha256', signer.secret).update(input).digest('base64url')}`;
  const key = signer.key;
  // ES256 signatures in a JWT are r||s (IEEE P1363), not DER; RSA signatures are used as they are.
  const signature =
    key.asymmetricKeyType === 'ec'
      ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

/** The development ES256 key the service made in a context's data folder on its first start. */
export function readDevelopmentKey(dataDir: string): KeyObject {
  return createPrivateKey(readFileSync(join(dataDir, 'jwt-es256.pem'), 'utf8'));
}

/** Seconds since the epoch, as in `iat`/`exp`. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
