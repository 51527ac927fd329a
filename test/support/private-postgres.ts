import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './redis-helpers.js';

const run = promisify(execFile);

/** Where Debian puts the PostgreSQL 15 server programs (override with TEST_POSTGRES_BIN). */
const BIN = process.env.TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
/** The OS account the server runs as: PostgreSQL refuses to run as root. */
const OS_USER = 'postgres';

/** Runs a PostgreSQL program as the `postgres` OS user (we run as root, which initdb and postgres refuse). */
function asPostgres(program: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const command = join(BIN, program);
  if (process.getuid?.() !== 0) return run(command, args);
  return run('runuser', ['-u', OS_USER, '--', command, ...args]);
}

/** Every cluster still running, stopped at exit even when a test file dies before its afterAll. */
const running = new Set<PrivatePostgres>();
process.once('exit', () => {
  for (const cluster of running) cluster.stopSync();
});

/**
 * A PostgreSQL cluster of a test's own: initdb into a temp folder, `postgres` on a free loopback
 * port with trust authentication, its socket in that folder, so the test can stop, start or kill
 * it without touching the machine's shared server. Durability is traded for speed (fsync off):
 * a crash of the cluster is never part of what the tests look at, a stop or a kill of the server
 * process is, and those keep every committed row.
 */
export class PrivatePostgres {
  private started = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** initdb, then start; resolves once the server accepts connections. */
  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'nra-pg-'));
    const { uid, gid } = osUser();
    if (process.getuid?.() === 0) chownSync(dir, uid, gid);
    const cluster = new PrivatePostgres(dir, await freePort());
    try {
      await asPostgres('initdb', [
        '-D',
        cluster.dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ]);
      await cluster.resume();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** The data folder (inside {@link dir}, which also holds the socket and the server log). */
  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Whether the server was started and not stopped since. */
  get isRunning(): boolean {
    return this.started;
  }

  /** A connection URL for a database of this cluster (default `postgres`). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server (again) on the same port and data folder; waits until it is ready. */
  async resume(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      "-c listen_addresses='127.0.0.1'",
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=100',
      // Statements of the fault tests that wait on a row lock must stay waiting until terminated.
      '-c lock_timeout=0',
      '-c statement_timeout=0',
    ].join(' ');
    await asPostgres('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'server.log'),
      '-o',
      options,
      '-w',
      '-t',
      '30',
      'start',
    ]);
    this.started = true;
    running.add(this);
  }

  /** `pg_ctl stop` (`fast`: open sessions are ended, their transactions rolled back); waits until down. */
  async stop(mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.started) return;
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
    this.started = false;
    running.delete(this);
  }

  /** Runs one statement on a database of this cluster over a connection of its own. */
  async query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    values: unknown[] = [],
    database = 'postgres',
  ): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return (await client.query(sql, values)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** Creates an empty database and returns its URL. */
  async createDatabase(name: string): Promise<string> {
    await this.query(`CREATE DATABASE ${name}`);
    return this.url(name);
  }

  /** Stops the server at once and removes the folder. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => this.stopSync());
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Last resort at process exit: an immediate stop, synchronously. */
  stopSync(): void {
    if (!this.started) return;
    try {
      const args = ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop'];
      if (process.getuid?.() === 0) execFileSync('runuser', ['-u', OS_USER, '--', join(BIN, 'pg_ctl'), ...args]);
      else execFileSync(join(BIN, 'pg_ctl'), args);
    } catch {
      // Already down.
    }
    this.started = false;
    running.delete(this);
  }
}

function osUser(): { uid: number; gid: number } {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const uid = Number(execFileSync('id', ['-u', OS_USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', OS_USER]).toString().trim());
  return { uid, gid };
}
