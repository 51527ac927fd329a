import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const SECRET = '[A-Za-z0-9_-]{43}';
const FORMAT = new RegExp(`^(${ID})\\.(${SECRET})$`);

/** A refresh token taken apart: the row id it names and its 256-bit secret. */
export interface ParsedRefreshToken {
  id: string;
  secret: string;
}

/**
 * Makes a new 256-bit secret, base64url without padding (43 characters).
 *
 * @example const secret = newRefreshSecret();
 */
export function newRefreshSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Writes a refresh token as `<id>.<secret>`: opaque to clients, the id only locates the row.
 *
 * @example formatRefreshToken(randomUUID(), newRefreshSecret())
 */
export function formatRefreshToken(id: string, secret: string): string {
  return `${id}.${secret}`;
}

/**
 * Takes a presented refresh token apart; `null` when it is not of our format.
 *
 * @example parseRefreshToken(token)?.id
 */
export function parseRefreshToken(token: unknown): ParsedRefreshToken | null {
  if (typeof token !== 'string' || token.length > 200) return null;
  const match = FORMAT.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

/**
 * SHA-256 of the whole token, hex. A fast hash is right here: the input is a 256-bit random
 * secret that no dictionary covers, and a slow hash would only cost CPU on every refresh.
 *
 * @example hashRefreshToken(token).length // 64
 */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Compares two hex hashes in constant time.
 *
 * @example hashesMatch(row.tokenHash, hashRefreshToken(presented))
 */
export function hashesMatch(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(actual, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

/**
 * The successor's secret, derived from the rotated token's secret and a random salt kept with
 * the rotated row: whoever presents the rotated token again within the grace window gets the
 * very same successor, yet the successor is computable only with both the client's secret and
 * the database's salt, and no plaintext token is stored anywhere.
 *
 * @example deriveSuccessorSecret(parsed.secret, row.successorSalt)
 */
export function deriveSuccessorSecret(parentSecret: string, salt: string): string {
  return createHmac('sha256', Buffer.from(parentSecret, 'base64url')).update(salt).digest('base64url');
}
