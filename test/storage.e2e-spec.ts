import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Notes1764057600001 } from '../src/server/database/migrations/1764057600001-notes.js';
import { AuthSchema1764057600000 } from './fixtures/legacy/1764057600000-auth-schema.js';
import { login, refresh, register, type Tokens } from './support/auth-helpers.js';
import { SERVICES, TestContext, type TestInstance } from './support/test-context.js';

function rows(instance: TestInstance, table: string, column: string, value: string) {
  return instance.app
    .get(DataSource)
    .createQueryBuilder()
    .select('*')
    .from(table, 't')
    .where(`t.${column} = :value`, { value })
    .getRawMany<Record<string, unknown>>();
}

async function rotate(instance: TestInstance, token: string): Promise<Tokens> {
  const response = await refresh(instance, token);
  if (response.status !== 200) throw new Error(`refresh answered ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as Tokens;
}

// Issue 8: storage grows with work, not with users — at most two token hashes per session.
describe('refresh-token storage', () => {
  let context: TestContext;
  let instance: TestInstance;

  beforeAll(async () => {
    context = await TestContext.create('storage');
    instance = await context.start();
  });
  afterAll(() => context.close());

  it('keeps one session row and no token rows through 1,000 refreshes; the first token is still theft', async () => {
    const account = await register(instance);
    const first = await login(instance, account);
    let current = first;
    const early: string[] = [];
    for (let i = 0; i < 1000; i++) {
      current = await rotate(instance, current.refresh_token);
      if (i < 3) early.push(current.refresh_token);
    }
    const [session] = await rows(instance, 'sessions', 'id', first.session_id);
    expect(Number(session!.generation)).toBe(1000);
    expect(await rows(instance, 'sessions', 'user_id', account.id)).toHaveLength(1);
    expect(await rows(instance, 'refresh_tokens', 'session_id', first.session_id)).toEqual([]);

    // An ancestor from the start of the chain, and one from the middle, are recognised as ours: theft.
    const reused = await refresh(instance, first.refresh_token);
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('refresh_token_reused');
    expect((await refresh(instance, current.refresh_token)).body.code).toBe('refresh_token_revoked');
    expect((await refresh(instance, early[1]!)).body.code).toBe('refresh_token_revoked');
  });
});

/** A token of the first format, `<row id>.<secret>`, with what the first schema stored of it. */
function legacyToken() {
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `${id}.${secret}` };
}

function successorOf(parent: { secret: string }, salt: string) {
  const id = randomUUID();
  const secret = createHmac('sha256', Buffer.from(parent.secret, 'base64url')).update(salt).digest('base64url');
  return { id, secret, token: `${id}.${secret}` };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The database a context's instances use, opened with the first schema only (as the service shipped it). */
async function legacyDatabase(context: TestContext): Promise<DataSource> {
  const env = context.baseEnv();
  const common = {
    migrations: [AuthSchema1764057600000, Notes1764057600001],
    migrationsTableName: 'migrations',
    synchronize: false,
  };
  const dataSource = new DataSource(
    SERVICES
      ? { type: 'postgres', url: env.DATABASE_URL, ...common }
      : { type: 'better-sqlite3', database: `${context.dataDir}/auth.sqlite`, ...common },
  );
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}

/**
 * Writes, in the first schema, a session whose chain is: an old ancestor, the predecessor
 * (rotated `rotatedSecondsAgo` ago), the live token, and an orphan successor row that a crashed
 * rotation left behind. Returns the three tokens.
 */
async function legacySession(db: DataSource, userId: string, rotatedSecondsAgo: number) {
  const sessionId = randomUUID();
  const now = Date.now();
  const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000);
  await db.query(
    `INSERT INTO sessions (id, user_id, scope, created_at, last_used_at, idle_expires_at, expires_at, revoked_at, revoked_reason, ip, user_agent)
     VALUES (${params(11)})`,
    [
      sessionId,
      userId,
      'notes:read notes:write',
      at(3600),
      at(rotatedSecondsAgo),
      at(-86400),
      at(-10 * 86400),
      null,
      null,
      '10.0.0.1',
      'legacy-client',
    ].map(date(db)),
  );
  const saltA = randomBytes(32).toString('base64url');
  const saltB = randomBytes(32).toString('base64url');
  const ancestor = legacyToken();
  const predecessor = successorOf(ancestor, saltA);
  const live = successorOf(predecessor, saltB);
  const orphan = legacyToken();
  const insert = (
    token: { id: string; token: string },
    parent: string | null,
    usedSecondsAgo: number | null,
    replacedBy: string | null,
    salt: string | null,
    createdSecondsAgo: number,
  ) =>
    db.query(
      `INSERT INTO refresh_tokens (id, session_id, parent_id, token_hash, created_at, expires_at, used_at, replaced_by_id, successor_salt)
       VALUES (${params(9)})`,
      [
        token.id,
        sessionId,
        parent,
        sha256(token.token),
        at(createdSecondsAgo),
        at(-86400),
        usedSecondsAgo === null ? null : at(usedSecondsAgo),
        replacedBy,
        salt,
      ].map(date(db)),
    );
  await insert(ancestor, null, 1800, predecessor.id, saltA, 3600);
  await insert(predecessor, ancestor.id, rotatedSecondsAgo, live.id, saltB, 1800);
  await insert(live, predecessor.id, null, null, null, rotatedSecondsAgo);
  // Newer than the live token, unclaimed: what a rotation that crashed before its claim left.
  await insert(orphan, live.id, null, null, null, 0);
  return {
    sessionId,
    ancestor: ancestor.token,
    predecessor: predecessor.token,
    live: live.token,
    orphan: orphan.token,
  };
}

function params(count: number): string {
  return Array.from({ length: count }, (_, i) => (SERVICES ? `$${i + 1}` : '?')).join(', ');
}

function date(db: DataSource) {
  // TypeORM's SQLite datetime format, so rows read back as the first schema wrote them.
  return (value: unknown) =>
    value instanceof Date && db.options.type !== 'postgres'
      ? value.toISOString().slice(0, 23).replace('T', ' ')
      : value;
}

// Issue 8: "A migration moves existing sessions." Sessions of the first schema keep working.
describe('upgrade from the first schema', () => {
  let context: TestContext;
  let instance: TestInstance;
  let recent: Awaited<ReturnType<typeof legacySession>>;
  let older: Awaited<ReturnType<typeof legacySession>>;
  let third: Awaited<ReturnType<typeof legacySession>>;

  beforeAll(async () => {
    context = await TestContext.create('legacy-upgrade');
    const db = await legacyDatabase(context);
    const userId = randomUUID();
    const now = new Date();
    await db.query(
      `INSERT INTO users (id, email, password_hash, name, roles, created_at, password_changed_at) VALUES (${params(7)})`,
      [
        userId,
        `legacy-${randomBytes(4).toString('hex')}@example.com`,
        '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA',
        'Old',
        'user',
        now,
        now,
      ].map(date(db)),
    );
    recent = await legacySession(db, userId, 2);
    older = await legacySession(db, userId, 600);
    third = await legacySession(db, userId, 600);
    await db.destroy();
    instance = await context.start();
  });
  afterAll(() => context.close());

  it('moves each session onto one row, keeping the live token and its predecessor', async () => {
    const [session] = await rows(instance, 'sessions', 'id', recent.sessionId);
    expect(session).toMatchObject({ token_hash: sha256(recent.live), previous_token_hash: sha256(recent.predecessor) });
    expect(Number(session!.generation)).toBe(0);
    expect(session!.token_key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers the predecessor within the grace window with the live token, as before', async () => {
    const replay = await refresh(instance, recent.predecessor);
    expect(replay.status).toBe(200);
    expect(replay.body.refresh_token).toBe(recent.live);
    expect(replay.body.session_id).toBe(recent.sessionId);
  });

  it('rotates the live token into the new format, and answers it again within the grace window', async () => {
    const next = await rotate(instance, older.live);
    expect(next.refresh_token.split('.')).toHaveLength(4);
    expect(next.refresh_token.startsWith(`${older.sessionId}.1.`)).toBe(true);
    expect((await rotate(instance, older.live)).refresh_token).toBe(next.refresh_token);
    const after = await rotate(instance, next.refresh_token);
    expect(after.session_id).toBe(older.sessionId);
  });

  it('treats an older ancestor of the first format as theft, and never takes the orphan row for the live token', async () => {
    expect((await refresh(instance, third.orphan)).body.code).toBe('refresh_token_reused');
    expect((await refresh(instance, third.live)).body.code).toBe('refresh_token_revoked');
    const theft = await refresh(instance, recent.ancestor);
    expect(theft.status).toBe(401);
    expect(theft.body.code).toBe('refresh_token_reused');
    expect((await refresh(instance, recent.live)).body.code).toBe('refresh_token_revoked');
  });
});
