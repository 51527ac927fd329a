import { randomUUID } from 'node:crypto';
import {
  deriveSuccessorSecret,
  formatRefreshToken,
  hashesMatch,
  hashRefreshToken,
  newRefreshSecret,
  parseRefreshToken,
} from './refresh-token.format.js';

describe('refresh token format', () => {
  const id = randomUUID();
  const secret = newRefreshSecret();
  const token = formatRefreshToken(id, secret);

  it('carries 256 bits of randomness', () => {
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(newRefreshSecret()).not.toBe(secret);
  });

  it('parses what it formats', () => {
    expect(parseRefreshToken(token)).toEqual({ id, secret });
  });

  it.each([
    undefined,
    42,
    '',
    'not-a-token',
    `${id}.`,
    `${id}.${secret}x`,
    `${id}.${secret.slice(1)}`,
    `${id}${secret}`,
    `${id.toUpperCase()}.${secret}`,
    `${id}.${secret}.${secret}`,
    'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln',
  ])('rejects %p', (value) => {
    expect(parseRefreshToken(value)).toBeNull();
  });

  it('hashes to 64 hex characters and compares in constant time', () => {
    const hash = hashRefreshToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashesMatch(hash, hashRefreshToken(token))).toBe(true);
    expect(hashesMatch(hash, hashRefreshToken(formatRefreshToken(id, newRefreshSecret())))).toBe(false);
    expect(hashesMatch(hash, '')).toBe(false);
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
