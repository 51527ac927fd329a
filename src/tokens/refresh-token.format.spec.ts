import { randomUUID } from 'node:crypto';
import {
  deriveSuccessorSecret,
  formatRefreshToken,
  hashesMatch,
  hashRefreshToken,
  MAX_GENERATION,
  newRefreshSecret,
  newTokenKey,
  parseRefreshToken,
  tagMatches,
} from './refresh-token.format.js';

describe('refresh token format', () => {
  const sessionId = randomUUID();
  const secret = newRefreshSecret();
  const key = newTokenKey();
  const token = formatRefreshToken(sessionId, 7, secret, key);

  it('carries 256 bits of randomness and a 128-bit tag', () => {
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(newRefreshSecret()).not.toBe(secret);
    expect(Buffer.from(token.split('.')[3]!, 'base64url')).toHaveLength(16);
  });

  it('parses what it formats', () => {
    const parsed = parseRefreshToken(token);
    expect(parsed).toEqual({ format: 'v2', sessionId, generation: 7, secret, tag: token.split('.')[3] });
  });

  it('still reads the first format', () => {
    const id = randomUUID();
    expect(parseRefreshToken(`${id}.${secret}`)).toEqual({ format: 'legacy', tokenId: id, secret });
  });

  it.each([
    undefined,
    42,
    '',
    'not-a-token',
    `${randomUUID()}.`,
    `${randomUUID()}.${newRefreshSecret()}x`,
    `${randomUUID()}.01.${newRefreshSecret()}.${'A'.repeat(22)}`,
    `${randomUUID()}.-1.${newRefreshSecret()}.${'A'.repeat(22)}`,
    `${randomUUID()}.${MAX_GENERATION + 1}.${newRefreshSecret()}.${'A'.repeat(22)}`,
    `${randomUUID()}.1.${newRefreshSecret()}.${'A'.repeat(21)}`,
    `${randomUUID().toUpperCase()}.1.${newRefreshSecret()}.${'A'.repeat(22)}`,
    'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln',
  ])('rejects %p', (value) => {
    expect(parseRefreshToken(value)).toBeNull();
  });

  it('tags each session, generation and secret under the session key, and nothing else', () => {
    const parsed = parseRefreshToken(token) as Extract<ReturnType<typeof parseRefreshToken>, { format: 'v2' }>;
    expect(tagMatches(parsed, key)).toBe(true);
    expect(tagMatches(parsed, newTokenKey())).toBe(false);
    expect(tagMatches({ ...parsed, generation: 8 }, key)).toBe(false);
    expect(tagMatches({ ...parsed, secret: newRefreshSecret() }, key)).toBe(false);
    expect(tagMatches({ ...parsed, sessionId: randomUUID() }, key)).toBe(false);
  });

  it('hashes to 64 hex characters and compares in constant time', () => {
    const hash = hashRefreshToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashesMatch(hash, hashRefreshToken(token))).toBe(true);
    expect(hashesMatch(hash, hashRefreshToken(formatRefreshToken(sessionId, 7, newRefreshSecret(), key)))).toBe(false);
    expect(hashesMatch(hash, '')).toBe(false);
    expect(hashesMatch(null, hash)).toBe(false);
    expect(hashesMatch('', '')).toBe(false);
  });

  it('derives the same successor from the same parent and salt, and another from another salt', () => {
    const salt = newRefreshSecret();
    const successor = deriveSuccessorSecret(secret, salt);
    expect(successor).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(deriveSuccessorSecret(secret, salt)).toBe(successor);
    expect(deriveSuccessorSecret(secret, newRefreshSecret())).not.toBe(successor);
    expect(deriveSuccessorSecret(newRefreshSecret(), salt)).not.toBe(successor);
  });
});
