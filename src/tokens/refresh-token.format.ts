import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const SECRET = '[A-Za-z0-9_-]{43}';
const TAG = '[A-Za-z0-9_-]{22}';
/** `<session id>.<generation>.<secret>.<tag>` */
const FORMAT = new RegExp(`^(${UUID})\\.(0|[1-9][0-9]{0,9})\\.(${SECRET})\\.(${TAG})$`);
/** The first format, `<row id>.<secret>`, still accepted for sessions that began before the upgrade. */
const LEGACY_FORMAT = new RegExp(`^(${UUID})\\.(${SECRET})$`);
/** Generations fit PostgreSQL's `integer`. */
export const MAX_GENERATION = 2_147_483_647;

/** A refresh token taken apart. */
export type ParsedRefreshToken =
  | { format: 'v2'; sessionId: string; generation: number; secret: string; tag: string }
  | { format: 'legacy'; tokenId: string; secret: string };

/**
 * Makes a new 256-bit secret, base64url without padding (43 characters).
 *
 * @example const secret = newRefreshSecret();
 */
export function newRefreshSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Makes a new per-session key (hex) under which the session's tokens are tagged.
 *
 * @example const key = newTokenKey();
 */
export function newTokenKey(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Writes a refresh token: the session it belongs to, its generation (0 at login, +1 per
 * rotation), 256 random bits, and a 128-bit tag under the session's key. The tag lets the
 * server recognise any genuine ancestor of the session's live token without keeping a row for
 * it, so reuse of an old token is detected with two hashes stored per session.
 *
 * @example formatRefreshToken(session.id, 0, newRefreshSecret(), session.tokenKey)
 */
export function formatRefreshToken(sessionId: string, generation: number, secret: string, tokenKey: string): string {
  return `${sessionId}.${generation}.${secret}.${tagOf(sessionId, generation, secret, tokenKey)}`;
}

/**
 * Takes a presented refresh token apart; `null` when it is of neither format.
 *
 * @example parseRefreshToken(token)?.format
 */
export function parseRefreshToken(token: unknown): ParsedRefreshToken | null {
  if (typeof token !== 'string' || token.length > 200) return null;
  const match = FORMAT.exec(token);
  if (match) {
    const generation = Number(match[2]);
    if (generation > MAX_GENERATION) return null;
    return { format: 'v2', sessionId: match[1]!, generation, secret: match[3]!, tag: match[4]! };
  }
  const legacy = LEGACY_FORMAT.exec(token);
  return legacy ? { format: 'legacy', tokenId: legacy[1]!, secret: legacy[2]! } : null;
}

/**
 * Whether a v2 token's tag is the session key's: the token was issued by us for that
 * session and generation (compared in constant time).
 *
 * @example tagMatches(parsed, session.tokenKey)
 */
export function tagMatches(
  token: { sessionId: string; generation: number; secret: string; tag: string },
  tokenKey: string,
): boolean {
  const expected = Buffer.from(tagOf(token.sessionId, token.generation, token.secret, tokenKey), 'base64url');
  const given = Buffer.from(token.tag, 'base64url');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * SHA-256 of the whole token, hex. A fast hash is right here: the input holds a 256-bit random
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
 * @example hashesMatch(session.tokenHash, hashRefreshToken(presented))
 */
export function hashesMatch(expected: string | null, actual: string): boolean {
  if (!expected) return false;
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(actual, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

/**
 * The successor's secret, derived from the rotated token's secret and a random salt kept on the
 * session: whoever presents the rotated token again within the grace window gets the very same
 * successor, yet computing it needs both the client's secret and the database's salt, and no
 * plaintext token is stored anywhere.
 *
 * @example deriveSuccessorSecret(parsed.secret, session.successorSalt)
 */
export function deriveSuccessorSecret(parentSecret: string, salt: string): string {
  return createHmac('sha256', Buffer.from(parentSecret, 'base64url')).update(salt).digest('base64url');
}

function tagOf(sessionId: string, generation: number, secret: string, tokenKey: string): string {
  return createHmac('sha256', Buffer.from(tokenKey, 'hex'))
    .update(`${sessionId}.${generation}.${secret}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}
