import type { Session, SessionRevokedReason } from './session.entity.js';
import {
  PURGE_BATCH,
  REVOCATION_POLL_OVERLAP_MS,
  SESSION_COLUMNS,
  sessionFromRow,
  sessionValues,
  type NewSecurityEvent,
  type OwnerJoin,
  type RevocationTarget,
  type Rotation,
  type SessionStore,
} from './session-store.interface.js';

/** The part of a better-sqlite3 database (the one TypeORM opened) this store uses. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
}

/** A prepared better-sqlite3 statement. */
export interface SqliteStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}

const INSERT_SESSION = `INSERT INTO sessions (${SESSION_COLUMNS.join(', ')}) VALUES (${SESSION_COLUMNS.map(() => '?').join(', ')})`;
const INSERT_EVENT =
  'INSERT INTO security_events (user_id, type, session_id, ip, user_agent, created_at) VALUES (?, ?, ?, ?, ?, ?)';

/**
 * {@link SessionStore} on the embedded SQLite file, straight on the better-sqlite3 connection
 * TypeORM opened. better-sqlite3 is synchronous, so a multi-statement write runs as one
 * synchronous transaction: nothing else on the (single, shared) connection can run in between,
 * and nothing is left half-written if a statement fails.
 */
export class SqliteSessionStore implements SessionStore {
  private readonly statements = new Map<string, SqliteStatement>();

  /** Present with an owner join: see {@link SessionStore.findWithOwner}. */
  readonly findWithOwner?: (id: string) => Promise<{ session: Session; owner: unknown } | null>;

  constructor(
    private readonly db: SqliteDatabase,
    owner?: OwnerJoin,
  ) {
    if (owner) {
      const sql = `SELECT s.*, ${owner.select} FROM sessions s ${owner.join} WHERE s.id = ?`;
      this.findWithOwner = async (id) => {
        const row = this.statement(sql).get(id) as Record<string, unknown> | undefined;
        return row ? { session: sessionFromRow(row, fromSqliteDate), owner: owner.read(row) } : null;
      };
    }
  }

  async find(id: string): Promise<Session | null> {
    const row = this.statement('SELECT * FROM sessions WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return row ? sessionFromRow(row, fromSqliteDate) : null;
  }

  async isRevoked(id: string): Promise<boolean> {
    const row = this.statement('SELECT revoked_at FROM sessions WHERE id = ?').get(id) as
      { revoked_at: unknown } | undefined;
    return row === undefined || row.revoked_at !== null;
  }

  async findLegacyToken(tokenId: string): Promise<{ sessionId: string; tokenHash: string } | null> {
    const row = this.statement('SELECT session_id, token_hash FROM refresh_tokens WHERE id = ?').get(tokenId) as
      { session_id: string; token_hash: string } | undefined;
    return row ? { sessionId: row.session_id, tokenHash: row.token_hash } : null;
  }

  async create(session: Session, event: NewSecurityEvent): Promise<void> {
    this.db.transaction(() => {
      this.statement(INSERT_SESSION).run(...sessionValues(session, toSqliteDate));
      this.insertEvent(event, session.createdAt);
    })();
  }

  async rotate(rotation: Rotation): Promise<boolean> {
    const at = toSqliteDate(rotation.at);
    const result = this.statement(
      `UPDATE sessions SET generation = generation + 1, token_hash = ?, previous_token_hash = token_hash,
         rotated_at = ?, successor_salt = ?, last_used_at = ?, idle_expires_at = ?, expires_at = ?, scope = ?
       WHERE id = ? AND generation = ? AND token_hash = ? AND revoked_at IS NULL`,
    ).run(
      rotation.tokenHash,
      at,
      rotation.successorSalt,
      at,
      toSqliteDate(rotation.idleExpiresAt),
      toSqliteDate(rotation.expiresAt),
      rotation.scope,
      rotation.sessionId,
      rotation.fromGeneration,
      rotation.fromHash,
    );
    return result.changes === 1;
  }

  async revoke(
    target: RevocationTarget,
    reason: SessionRevokedReason,
    event: NewSecurityEvent | null,
    options: { eventOnlyIfRevoked?: boolean } = {},
  ): Promise<string[]> {
    const now = new Date();
    return this.db.transaction(() => {
      const update =
        'sessionIds' in target
          ? this.statement(
              `UPDATE sessions SET revoked_at = ?, revoked_reason = ?
               WHERE id IN (SELECT value FROM json_each(?)) AND revoked_at IS NULL RETURNING id`,
            ).all(toSqliteDate(now), reason, JSON.stringify(target.sessionIds))
          : this.statement(
              `UPDATE sessions SET revoked_at = ?, revoked_reason = ?
               WHERE user_id = ? AND (? IS NULL OR id <> ?) AND revoked_at IS NULL RETURNING id`,
            ).all(
              toSqliteDate(now),
              reason,
              target.userId,
              target.exceptSessionId ?? null,
              target.exceptSessionId ?? null,
            );
      const ids = (update as Array<{ id: string }>).map((row) => row.id);
      if (event && (ids.length > 0 || !options.eventOnlyIfRevoked)) this.insertEvent(event, now);
      return ids;
    })();
  }

  async revokedSince(cursor: Date | null): Promise<{ ids: string[]; cursor: Date }> {
    // One file on one machine: every process writing it shares this clock.
    const now = new Date();
    if (cursor === null) return { ids: [], cursor: now };
    const rows = this.statement('SELECT id FROM sessions WHERE revoked_at > ?').all(
      toSqliteDate(new Date(cursor.getTime() - REVOCATION_POLL_OVERLAP_MS)),
    ) as Array<{ id: string }>;
    return { ids: rows.map((row) => row.id), cursor: now };
  }

  async liveSessions(userId: string, now: Date): Promise<Session[]> {
    const at = toSqliteDate(now);
    const rows = this.statement(
      `SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND idle_expires_at > ? AND expires_at > ?
       ORDER BY last_used_at DESC`,
    ).all(userId, at, at) as Array<Record<string, unknown>>;
    return rows.map((row) => sessionFromRow(row, fromSqliteDate));
  }

  async purge(sessionsBefore: Date, eventsBefore: Date): Promise<{ sessions: number; events: number }> {
    const cutoff = toSqliteDate(sessionsBefore);
    const sessions = this.deleteInBatches(
      `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions
         WHERE expires_at < ? OR idle_expires_at < ? OR revoked_at < ? LIMIT ${PURGE_BATCH})`,
      [cutoff, cutoff, cutoff],
    );
    this.statement('DELETE FROM refresh_tokens WHERE session_id NOT IN (SELECT id FROM sessions)').run();
    const events = this.deleteInBatches(
      `DELETE FROM security_events WHERE id IN (SELECT id FROM security_events WHERE created_at < ? LIMIT ${PURGE_BATCH})`,
      [toSqliteDate(eventsBefore)],
    );
    return { sessions, events };
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T | undefined> {
    return work();
  }

  private insertEvent(event: NewSecurityEvent, at: Date): void {
    this.statement(INSERT_EVENT).run(
      event.userId,
      event.type,
      event.sessionId,
      event.ip,
      event.userAgent,
      toSqliteDate(at),
    );
  }

  private deleteInBatches(sql: string, params: unknown[]): number {
    let total = 0;
    for (;;) {
      const { changes } = this.statement(sql).run(...params);
      total += changes;
      if (changes < PURGE_BATCH) return total;
    }
  }

  private statement(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/**
 * A date as TypeORM writes SQLite `datetime` columns (`YYYY-MM-DD HH:MM:SS.SSS`, UTC), so rows
 * written here and through TypeORM compare and read alike.
 *
 * @example toSqliteDate(new Date('2026-12-01T10:00:00Z')) // '2026-12-01 10:00:00.000'
 */
export function toSqliteDate(value: Date | null): string | null {
  return value === null ? null : value.toISOString().slice(0, 23).replace('T', ' ');
}

/** Reads a SQLite `datetime` column written by {@link toSqliteDate} or TypeORM. */
export function fromSqliteDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}
