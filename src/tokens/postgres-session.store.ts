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

/** The part of a `pg` pool (the one TypeORM opened) this store uses. */
export interface PgPool {
  query(config: {
    name?: string;
    text: string;
    values?: unknown[];
  }): Promise<{ rows: Array<Record<string, unknown>>; rowCount: number | null }>;
  connect(): Promise<PgPoolClient>;
  /** What the pool was made with (pg-pool keeps them), to open a pool of the same kind. */
  options?: Record<string, unknown>;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  end?(): Promise<void>;
}

/** A client checked out of a {@link PgPool}. */
export interface PgPoolClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  release(error?: Error | boolean): void;
}

const INSERT_SESSION = `INSERT INTO sessions (${SESSION_COLUMNS.join(', ')}) VALUES (${SESSION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;
const EVENT_COLUMNS = 'user_id, type, session_id, ip, user_agent, created_at';
// Any fixed number works: it only has to be the same for every instance.
const MAINTENANCE_LOCK_ID = 742_311_902;

/**
 * {@link SessionStore} on PostgreSQL, through the pool TypeORM opened. Every statement is a
 * named prepared statement (parsed once per connection), and every write is one statement: a
 * change and its security event go together in one data-modifying CTE, so no transaction is
 * held open across round trips.
 */
export class PostgresSessionStore implements SessionStore {
  /**
   * The revocation poll's own connection, beside the shared pool: a poll that waits behind
   * writes (a slow WAL flush holds every connection of the pool) would stop the near cache from
   * being trusted and send every guarded request to the database. `null`: the shared pool.
   */
  private readonly pollPool: PgPool | null;

  /** Present with an owner join: see {@link SessionStore.findWithOwner}. */
  readonly findWithOwner?: (id: string) => Promise<{ session: Session; owner: unknown } | null>;

  constructor(
    private readonly pool: PgPool,
    owner?: OwnerJoin,
  ) {
    this.pollPool = pollPoolBeside(pool);
    if (owner) {
      const text = `SELECT s.*, ${owner.select} FROM sessions s ${owner.join} WHERE s.id = $1`;
      this.findWithOwner = async (id) => {
        const { rows } = await this.pool.query({ name: 'nra_session_find_owner', text, values: [id] });
        return rows[0] ? { session: sessionFromRow(rows[0], asDate), owner: owner.read(rows[0]) } : null;
      };
    }
  }

  async find(id: string): Promise<Session | null> {
    const { rows } = await this.pool.query({
      name: 'nra_session_find',
      text: 'SELECT * FROM sessions WHERE id = $1',
      values: [id],
    });
    return rows[0] ? sessionFromRow(rows[0], asDate) : null;
  }

  async isRevoked(id: string): Promise<boolean> {
    const { rows } = await this.pool.query({
      name: 'nra_session_revoked',
      text: 'SELECT revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1',
      values: [id],
    });
    return rows.length === 0 || rows[0]!.revoked === true;
  }

  async findLegacyToken(tokenId: string): Promise<{ sessionId: string; tokenHash: string } | null> {
    const { rows } = await this.pool.query({
      name: 'nra_legacy_token',
      text: 'SELECT session_id, token_hash FROM refresh_tokens WHERE id = $1',
      values: [tokenId],
    });
    return rows[0] ? { sessionId: rows[0].session_id as string, tokenHash: rows[0].token_hash as string } : null;
  }

  async create(session: Session, event: NewSecurityEvent): Promise<void> {
    const values = sessionValues(session, (value) => value);
    const n = values.length;
    await this.pool.query({
      name: 'nra_session_create',
      text: `WITH s AS (${INSERT_SESSION} RETURNING id)
             INSERT INTO security_events (${EVENT_COLUMNS})
             SELECT $${n + 1}, $${n + 2}, s.id, $${n + 3}, $${n + 4}, $${n + 5} FROM s`,
      values: [...values, event.userId, event.type, event.ip, event.userAgent, session.createdAt],
    });
  }

  async rotate(rotation: Rotation): Promise<boolean> {
    const result = await this.pool.query({
      name: 'nra_session_rotate',
      text: `UPDATE sessions SET generation = generation + 1, token_hash = $2, previous_token_hash = token_hash,
               rotated_at = $3, successor_salt = $4, last_used_at = $3, idle_expires_at = $5, expires_at = $6, scope = $7
             WHERE id = $1 AND generation = $8 AND token_hash = $9 AND revoked_at IS NULL`,
      values: [
        rotation.sessionId,
        rotation.tokenHash,
        rotation.at,
        rotation.successorSalt,
        rotation.idleExpiresAt,
        rotation.expiresAt,
        rotation.scope,
        rotation.fromGeneration,
        rotation.fromHash,
      ],
    });
    return result.rowCount === 1;
  }

  async revoke(
    target: RevocationTarget,
    reason: SessionRevokedReason,
    event: NewSecurityEvent | null,
    options: { eventOnlyIfRevoked?: boolean } = {},
  ): Promise<string[]> {
    const bySession = 'sessionIds' in target;
    if (bySession && target.sessionIds.length === 0 && !event) return [];
    const where = bySession ? 'id = ANY($1::varchar[])' : 'user_id = $1 AND ($2::varchar IS NULL OR id <> $2)';
    const values: unknown[] = bySession ? [[...target.sessionIds]] : [target.userId, target.exceptSessionId ?? null];
    const reasonParam = `$${values.length + 1}`;
    values.push(reason);
    // clock_timestamp(): the database's clock, which the revocation poll of every instance reads.
    let text = `WITH r AS (UPDATE sessions SET revoked_at = clock_timestamp(), revoked_reason = ${reasonParam}
                WHERE ${where} AND revoked_at IS NULL RETURNING id)`;
    if (event) {
      const at = values.length;
      values.push(event.userId, event.type, event.sessionId, event.ip, event.userAgent);
      text += `, e AS (INSERT INTO security_events (${EVENT_COLUMNS})
               SELECT $${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}, clock_timestamp()
               ${options.eventOnlyIfRevoked ? 'WHERE EXISTS (SELECT 1 FROM r)' : ''})`;
    }
    text += ' SELECT id FROM r';
    const name = `nra_revoke_${bySession ? 's' : 'u'}${event ? (options.eventOnlyIfRevoked ? 'c' : 'e') : ''}`;
    const { rows } = await this.pool.query({ name, text, values });
    return rows.map((row) => row.id as string);
  }

  async revokedSince(cursor: Date | null): Promise<{ ids: string[]; cursor: Date }> {
    const pool = this.pollPool ?? this.pool;
    if (cursor === null) {
      const { rows } = await pool.query({ name: 'nra_clock', text: 'SELECT clock_timestamp() AS now' });
      return { ids: [], cursor: rows[0]!.now as Date };
    }
    const { rows } = await pool.query({
      name: 'nra_revoked_since',
      text: 'SELECT clock_timestamp() AS now, ARRAY(SELECT id FROM sessions WHERE revoked_at > $1) AS ids',
      values: [new Date(cursor.getTime() - REVOCATION_POLL_OVERLAP_MS)],
    });
    return { ids: rows[0]!.ids as string[], cursor: rows[0]!.now as Date };
  }

  async liveSessions(userId: string, now: Date): Promise<Session[]> {
    const { rows } = await this.pool.query({
      name: 'nra_sessions_live',
      text: `SELECT * FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND expires_at > $2
             ORDER BY last_used_at DESC`,
      values: [userId, now],
    });
    return rows.map((row) => sessionFromRow(row, asDate));
  }

  async purge(sessionsBefore: Date, eventsBefore: Date): Promise<{ sessions: number; events: number }> {
    const sessions = await this.deleteInBatches(
      'nra_purge_sessions',
      `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions
         WHERE expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $1 LIMIT ${PURGE_BATCH})`,
      sessionsBefore,
    );
    // Rows of the first format whose session is gone (a database without the cascade).
    await this.pool.query({
      name: 'nra_purge_legacy',
      text: 'DELETE FROM refresh_tokens t WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = t.session_id)',
    });
    const events = await this.deleteInBatches(
      'nra_purge_events',
      `DELETE FROM security_events WHERE id IN (SELECT id FROM security_events WHERE created_at < $1 LIMIT ${PURGE_BATCH})`,
      eventsBefore,
    );
    return { sessions, events };
  }

  async close(): Promise<void> {
    await this.pollPool?.end?.();
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T | undefined> {
    const client = await this.pool.connect();
    let locked = false;
    try {
      locked =
        (await client.query('SELECT pg_try_advisory_lock($1) AS locked', [MAINTENANCE_LOCK_ID])).rows[0]!.locked ===
        true;
      if (!locked) return undefined;
      return await work();
    } finally {
      if (locked) await client.query('SELECT pg_advisory_unlock($1)', [MAINTENANCE_LOCK_ID]).catch(() => undefined);
      client.release();
    }
  }

  private async deleteInBatches(name: string, text: string, before: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.pool.query({ name, text, values: [before] });
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < PURGE_BATCH) return total;
    }
  }
}

/**
 * A one-connection pool made like `pool` (same constructor, same options), or `null` when
 * `pool` does not say how it was made.
 */
function pollPoolBeside(pool: PgPool): PgPool | null {
  const Pool = pool.constructor as (new (options: Record<string, unknown>) => PgPool) | undefined;
  if (!pool.options || typeof Pool !== 'function' || (Pool as unknown) === Object) return null;
  const poll = new Pool({ ...pool.options, max: 1, idleTimeoutMillis: 0 });
  // A connection that breaks while idle is replaced at the next poll; the failure is the poll's to report.
  poll.on?.('error', () => undefined);
  return poll;
}

/** A timestamp as node-postgres returns it (a `Date`, or text for some setups), `null` kept. */
export function asDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value as string);
}
