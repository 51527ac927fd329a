import type { SecurityEventType } from '../security-events/security-event.entity.js';
import type { Session, SessionRevokedReason } from './session.entity.js';

/** A security-log entry written in the same atomic step as the change it records. */
export interface NewSecurityEvent {
  userId: string;
  type: SecurityEventType;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** One rotation: the live token of generation `fromGeneration` (hash `fromHash`) is replaced. */
export interface Rotation {
  sessionId: string;
  fromGeneration: number;
  fromHash: string;
  tokenHash: string;
  successorSalt: string;
  at: Date;
  idleExpiresAt: Date;
  expiresAt: Date;
  scope: string;
}

/** Which sessions a revocation ends. */
export type RevocationTarget = { sessionIds: readonly string[] } | { userId: string; exceptSessionId?: string };

/**
 * The sessions table as the hot paths use it, in as few statements as each database allows:
 * every write is one atomic step (a single statement on PostgreSQL, a synchronous transaction on
 * SQLite, whose TypeORM driver shares one connection), and a security-log entry that goes with a
 * change is written in the same step, so a failure never leaves half of it.
 */
export interface SessionStore {
  /** The session row, or `null`. */
  find(id: string): Promise<Session | null>;
  /** Whether the session is revoked or gone: the revocation check of an access token. */
  isRevoked(id: string): Promise<boolean>;
  /** A token of the first format, by its row id. */
  findLegacyToken(tokenId: string): Promise<{ sessionId: string; tokenHash: string } | null>;
  /** Inserts a new session together with its `login` event. */
  create(session: Session, event: NewSecurityEvent): Promise<void>;
  /** Rotates the live token if it is still the one read (one conditional UPDATE); false when another request won. */
  rotate(rotation: Rotation): Promise<boolean>;
  /**
   * Revokes the live sessions of the target and writes `event` with them (always, or only when
   * something was revoked); returns the ids revoked by this call.
   */
  revoke(
    target: RevocationTarget,
    reason: SessionRevokedReason,
    event: NewSecurityEvent | null,
    options?: { eventOnlyIfRevoked?: boolean },
  ): Promise<string[]>;
  /**
   * Sessions revoked since `cursor` (with an overlap for commits in flight), and the cursor for
   * the next call in the database's own clock; `null` starts from now.
   */
  revokedSince(cursor: Date | null): Promise<{ ids: string[]; cursor: Date }>;
  /** The user's sessions that can still be refreshed, most recently used first. */
  liveSessions(userId: string, now: Date): Promise<Session[]>;
  /** Deletes sessions that ended before `sessionsBefore` and security events older than `eventsBefore`. */
  purge(sessionsBefore: Date, eventsBefore: Date): Promise<{ sessions: number; events: number }>;
  /**
   * The session and its owner's record read in one statement; present only when the store was
   * given an {@link OwnerJoin}.
   */
  findWithOwner?(id: string): Promise<{ session: Session; owner: unknown } | null>;
  /** Releases what the store opened of its own (not the data source's connections). */
  close?(): Promise<void>;
  /** Runs `work` unless another instance is running it (PostgreSQL advisory lock); `undefined` when skipped. */
  exclusive<T>(work: () => Promise<T>): Promise<T | undefined>;
}

/**
 * How a store reads a session's owner with the session, in one statement, when the users live
 * in the same database (the built-in user store): the SQL of the join (the session table is `s`)
 * and the record made from the row's `owner_*` columns.
 */
export interface OwnerJoin {
  /** Select list of the owner's columns, each aliased `owner_<column>`. */
  select: string;
  /** `LEFT JOIN … ON … = s.user_id`. */
  join: string;
  /** The owner's record from a joined row, `null` when the session has no owner any more. */
  read(row: Record<string, unknown>): unknown;
}

/** Injection token of the {@link SessionStore}. */
export const SessionStore = Symbol('SessionStore');

/** How far back each poll of revocations looks past the previous one, for commits in flight. */
export const REVOCATION_POLL_OVERLAP_MS = 5000;

/** Rows deleted per statement by the purge, so it never holds a long lock. */
export const PURGE_BATCH = 5000;

/** Column list of `sessions` in the order the stores write it. */
export const SESSION_COLUMNS = [
  'id',
  'user_id',
  'scope',
  'created_at',
  'last_used_at',
  'idle_expires_at',
  'expires_at',
  'revoked_at',
  'revoked_reason',
  'ip',
  'user_agent',
  'generation',
  'token_hash',
  'previous_token_hash',
  'rotated_at',
  'successor_salt',
  'token_key',
  'legacy_token_id',
] as const;

/** The values of a session in {@link SESSION_COLUMNS} order, dates through `date`. */
export function sessionValues(session: Session, date: (value: Date | null) => unknown): unknown[] {
  return [
    session.id,
    session.userId,
    session.scope,
    date(session.createdAt),
    date(session.lastUsedAt),
    date(session.idleExpiresAt),
    date(session.expiresAt),
    date(session.revokedAt),
    session.revokedReason,
    session.ip,
    session.userAgent,
    session.generation,
    session.tokenHash,
    session.previousTokenHash,
    date(session.rotatedAt),
    session.successorSalt,
    session.tokenKey,
    session.legacyTokenId,
  ];
}

/** A `sessions` row (snake_case, as drivers return it) as a {@link Session}, dates through `date`. */
export function sessionFromRow(row: Record<string, unknown>, date: (value: unknown) => Date | null): Session {
  return {
    id: row.id as string,
    userId: row.user_id as string,
    scope: row.scope as string,
    createdAt: date(row.created_at)!,
    lastUsedAt: date(row.last_used_at)!,
    idleExpiresAt: date(row.idle_expires_at)!,
    expiresAt: date(row.expires_at)!,
    revokedAt: date(row.revoked_at),
    revokedReason: (row.revoked_reason as Session['revokedReason']) ?? null,
    ip: (row.ip as string | null) ?? null,
    userAgent: (row.user_agent as string | null) ?? null,
    generation: Number(row.generation),
    tokenHash: (row.token_hash as string | null) ?? null,
    previousTokenHash: (row.previous_token_hash as string | null) ?? null,
    rotatedAt: date(row.rotated_at),
    successorSalt: (row.successor_salt as string | null) ?? null,
    tokenKey: row.token_key as string,
    legacyTokenId: (row.legacy_token_id as string | null) ?? null,
  };
}
