import pg from 'pg';

/** A `sessions` row, the columns the fault tests look at. */
export interface SessionRow {
  id: string;
  generation: number;
  revoked_reason: string | null;
  revoked: boolean;
}

/** A `security_events` row, the columns the fault tests look at. */
export interface EventRow {
  type: string;
  session_id: string | null;
}

/** Events whose session must be revoked, for the reason of the same name, by the same statement. */
const SESSION_EVENTS = new Set(['logout', 'session_revoked', 'refresh_token_reused']);
/** Events that go with revoking some of the user's sessions for the reason of the same name. */
const USER_EVENTS = new Set(['logout_all', 'password_changed', 'admin_revoked']);

/**
 * Reads the database behind the service directly (not through any proxy the test put in
 * between), to check what a request left behind.
 */
export class DatabaseProbe {
  private readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 3 });
    // A stopped server drops idle connections; the next query opens a new one.
    this.pool.on('error', () => undefined);
  }

  /** The user's sessions, oldest first. */
  async sessions(userId: string): Promise<SessionRow[]> {
    const { rows } = await this.pool.query(
      `SELECT id, generation, revoked_reason, revoked_at IS NOT NULL AS revoked FROM sessions
       WHERE user_id = $1 ORDER BY created_at, id`,
      [userId],
    );
    return rows.map((row) => ({ ...row, generation: Number(row.generation) }));
  }

  /** One session, or `undefined`. */
  async session(id: string): Promise<SessionRow | undefined> {
    const { rows } = await this.pool.query(
      'SELECT id, generation, revoked_reason, revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1',
      [id],
    );
    return rows[0] ? { ...rows[0], generation: Number(rows[0].generation) } : undefined;
  }

  /** The user's security events, oldest first. */
  async events(userId: string): Promise<EventRow[]> {
    const { rows } = await this.pool.query(
      'SELECT type, session_id FROM security_events WHERE user_id = $1 ORDER BY id',
      [userId],
    );
    return rows;
  }

  /** How many of the user's events have this type (and session, when given). */
  async countEvents(userId: string, type: string, sessionId?: string): Promise<number> {
    return (await this.events(userId)).filter(
      (event) => event.type === type && (sessionId === undefined || event.session_id === sessionId),
    ).length;
  }

  /** Runs any statement. */
  async query<T = Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(sql, values)).rows as T[];
  }

  /**
   * Expects nothing half-written for the user: every session has exactly its one `login` event;
   * every session event (`logout`, `session_revoked`, `refresh_token_reused`) names a session
   * revoked for that reason; every user event (`logout_all`, `password_changed`,
   * `admin_revoked`) has a session revoked for its reason; and no session is revoked as stolen
   * unless `reuseExpected`.
   */
  async expectConsistent(userId: string, options: { reuseExpected?: boolean } = {}): Promise<void> {
    const [sessions, events] = await Promise.all([this.sessions(userId), this.events(userId)]);
    const byId = new Map(sessions.map((session) => [session.id, session]));
    const problems: string[] = [];
    for (const session of sessions) {
      const logins = events.filter((event) => event.type === 'login' && event.session_id === session.id).length;
      if (logins !== 1) problems.push(`session ${session.id} has ${logins} login events`);
      if (session.revoked_reason === 'refresh_token_reused' && !options.reuseExpected) {
        problems.push(`session ${session.id} was revoked as reused`);
      }
    }
    for (const event of events) {
      if (SESSION_EVENTS.has(event.type)) {
        const session = event.session_id ? byId.get(event.session_id) : undefined;
        if (!session?.revoked || session.revoked_reason !== event.type) {
          problems.push(`${event.type} event of session ${event.session_id} without its revocation`);
        }
      } else if (USER_EVENTS.has(event.type)) {
        if (!sessions.some((session) => session.revoked_reason === event.type)) {
          problems.push(`${event.type} event without any session revoked for it`);
        }
      }
    }
    expect(problems).toEqual([]);
  }

  /** Closes the probe's connections. */
  close(): Promise<void> {
    return this.pool.end();
  }
}
