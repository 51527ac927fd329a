/** What the revocation cache knows of a session. */
export type SessionStatus = 'live' | 'revoked';

/**
 * A cache of session status in front of the database, shared by every instance when it is
 * Redis. It is never the truth: an unknown session (`null`) is looked up in the database.
 * Implementations swallow their own outages and answer `null`, so the caller falls through.
 */
export interface RevocationStore {
  /** The cached status, or `null` when unknown or the store is unreachable. */
  get(sessionId: string): Promise<SessionStatus | null>;
  /** Caches a session as live for `ttlMs`, unless something is cached already (a revocation wins). */
  markLive(sessionId: string, ttlMs: number): Promise<void>;
  /** Caches sessions as revoked for `ttlMs`, overriding anything cached. */
  markRevoked(sessionIds: readonly string[], ttlMs: number): Promise<void>;
  /** Whether the store answers; for `/health`. */
  ping(): Promise<boolean>;
}

/** Injection token of the {@link RevocationStore}. */
export const RevocationStore = Symbol('RevocationStore');
