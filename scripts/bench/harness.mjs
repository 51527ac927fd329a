// What `npm run bench` and `npm run soak` set up around the load: server processes, a throw-away
// PostgreSQL database and Redis key prefix, keys, the compiled fixture apps, machine facts, and
// a cleanup list run on every exit (normal, failure, Ctrl-C).
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createClient } from 'redis';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A millisecond-resolution sleep. */
/** A positive number from the environment variable `name`, else `fallback`; throws on anything else. */
export function positiveNumber(name, fallback) {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// ---------------------------------------------------------------------------------------------
// Cleanup
// ---------------------------------------------------------------------------------------------

const cleanups = [];
let cleaning;

/** Registers `fn` to run at exit, newest first; returns a function that runs it now instead. */
export function onCleanup(label, fn) {
  const entry = { label, fn, done: false };
  cleanups.push(entry);
  return async () => {
    if (entry.done) return;
    entry.done = true;
    await fn();
  };
}

/** Runs every registered cleanup once (errors are printed, not thrown). */
export function cleanupAll() {
  cleaning ??= (async () => {
    for (const entry of cleanups.reverse()) {
      if (entry.done) continue;
      entry.done = true;
      try {
        await entry.fn();
      } catch (error) {
        console.error(`cleanup (${entry.label}) failed: ${error.message}`);
      }
    }
  })();
  return cleaning;
}

/** Ctrl-C, SIGTERM and a stray exception clean up, then exit. */
export function cleanupOnSignals() {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      cleanupAll().finally(() => process.exit(130));
    });
  }
  for (const event of ['uncaughtException', 'unhandledRejection']) {
    process.once(event, (error) => {
      console.error(`\n${event}: ${error?.stack ?? error}\ncleaning up`);
      cleanupAll().finally(() => process.exit(1));
    });
  }
}

/** A private temporary folder, removed at exit. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(os.tmpdir(), prefix));
  onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Server processes
// ---------------------------------------------------------------------------------------------

/**
 * Starts `node <script>` with exactly `env` (plus PATH and HOME), its output into a log file, and
 * waits for the line matching `ready` (its first group: the URL). Answers `{pid, url, stop(),
 * tail()}`; `stop()` sends SIGTERM, then SIGKILL after `stopTimeoutMs`. With `cpuProfile` set to
 * a folder, the process runs under `--cpu-prof` and writes its profile there when it exits.
 */
export async function startProcess({ name, script, cwd, env, ready, logDir, cpuProfile, timeoutMs = 60_000 }) {
  const log = join(logDir, `${name}.log`);
  const fd = openSync(log, 'w');
  const flags = cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfile}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...flags, script], {
    cwd,
    // BENCH_NODE_OPTIONS: Node flags for the servers only (say --trace-gc, or --import of a probe).
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exit = null;
  const exited = new Promise((done) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      done(exit);
    }),
  );
  const tail = (lines = 15) => {
    try {
      return readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const stop = onCleanup(`stop ${name} (pid ${child.pid})`, async () => {
    if (exit) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
    await exited;
    clearTimeout(timer);
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exit) throw new Error(`${name} exited (${exit.code ?? exit.signal}) before it was ready:\n${tail()}`);
    const match = ready.exec(readFileSync(log, 'utf8'));
    if (match) {
      const url = match[1].replace(/\[::1?\]|localhost|0\.0\.0\.0/, '127.0.0.1').replace(/\/$/, '');
      return {
        name,
        pid: child.pid,
        url,
        stop,
        tail,
        exited,
        log,
        profile: cpuProfile && join(cpuProfile, `${name}.cpuprofile`),
      };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not say it was listening within ${timeoutMs / 1000} s:\n${tail()}`);
    }
    await sleep(100);
  }
}

/** The standalone service (dist/server/main.js) with `env`, on a free port. */
export function startService(name, env, { logDir, cpuProfile } = {}) {
  const dataDir = tempDir(`nra-${name}-`);
  return startProcess({
    name,
    script: join(ROOT, 'dist/server/main.js'),
    // Its own folder: no `.env` of the repository is read, the SQLite file lands there.
    cwd: dataDir,
    env: { NODE_ENV: 'production', PORT: '0', DATA_DIR: dataDir, ...env },
    ready: /listening on (https?:\/\/[^\s"]+)/,
    logDir: logDir ?? dataDir,
    cpuProfile,
  });
}

/**
 * Resident set size of a process in bytes (Linux), or NaN. From smaps_rollup, which walks the
 * page tables; `VmRSS` in status lags behind (the kernel batches its per-thread counters).
 */
export function rssOf(pid) {
  for (const [file, pattern] of [
    [`/proc/${pid}/smaps_rollup`, /^Rss:\s+(\d+) kB/m],
    [`/proc/${pid}/status`, /VmRSS:\s+(\d+) kB/],
  ]) {
    try {
      const match = pattern.exec(readFileSync(file, 'utf8'));
      if (match) return Number(match[1]) * 1024;
    } catch {
      // Not readable here: try the next source.
    }
  }
  return NaN;
}

/** CPU seconds (user + system) a process has used so far (Linux), or NaN. */
export function cpuSecondsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL and Redis
// ---------------------------------------------------------------------------------------------

/** Whether PostgreSQL and Redis answer, with their versions. */
export async function probeServices(postgresUrl, redisUrl) {
  const result = { postgres: null, redis: null };
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    result.postgres = (await client.query('SHOW server_version')).rows[0].server_version;
  } catch {
    result.postgres = null;
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = createClient({ url: redisUrl, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    result.redis = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  } catch {
    result.redis = null;
  } finally {
    if (redis.isOpen) await redis.quit().catch(() => undefined);
  }
  return result;
}

/** Runs SQL on the admin database. */
export async function adminQuery(adminUrl, sql, values) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

/** A fresh database next to `adminUrl`'s (dropped at exit); answers its URL and name. */
export async function createDatabase(adminUrl, label) {
  const name = `nra_bench_${label}_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const drop = onCleanup(`drop database ${name}`, () =>
    adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  );
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop };
}

/** Queries a database by URL. */
export async function query(url, sql, values) {
  return adminQuery(url, sql, values);
}

/** A unique Redis key prefix whose keys are deleted at exit (SCAN + DEL: nobody else's keys). */
export function redisPrefix(redisUrl, label) {
  const prefix = `nra-bench:${label}:${randomBytes(4).toString('hex')}:`;
  onCleanup(`delete Redis keys ${prefix}*`, () => deleteRedisKeys(redisUrl, prefix));
  return prefix;
}

async function deleteRedisKeys(redisUrl, prefix) {
  const redis = createClient({ url: redisUrl, socket: { reconnectStrategy: false } });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const reply = await redis.scan(cursor, { MATCH: `${prefix}*`, COUNT: 1000 });
      cursor = String(reply.cursor);
      if (reply.keys.length) await redis.del(reply.keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

// ---------------------------------------------------------------------------------------------
// Keys, apps, facts
// ---------------------------------------------------------------------------------------------

/** A fresh P-256 private key (PKCS#8 PEM) for ES256. */
export function es256PrivateKey() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
}

/**
 * Compiles the fixture host app (test/fixtures/host-app) and the docs-pattern anchor app
 * (scripts/bench/docs-pattern) into `.bench/` inside the repository, where a symlink
 * `.bench/node_modules/nest-refresh-auth` → the repository makes `import 'nest-refresh-auth'`
 * resolve through our package.json `exports` to dist/, and every @nestjs/* package to our one
 * copy in node_modules. The folder ignores itself (git) and is removed at exit unless `keep`.
 */
export function compileApps({ keep = false } = {}) {
  const dir = join(ROOT, '.bench');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  if (!keep) onCleanup('remove .bench/', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '.gitignore'), '# Written by npm run bench: compiled apps, removed after the run.\n*\n');
  writeFileSync(join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
  symlinkSync(ROOT, join(dir, 'node_modules/nest-refresh-auth'), 'dir');
  const sources = {
    'host-app': join(ROOT, 'test/fixtures/host-app/src'),
    'docs-pattern': join(ROOT, 'scripts/bench/docs-pattern'),
  };
  for (const [name, source] of Object.entries(sources)) {
    cpSync(source, join(dir, 'src', name), {
      recursive: true,
      filter: (path) => !/node_modules|dist/.test(relative(source, path)),
    });
  }
  const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/host-app/tsconfig.json'), 'utf8'));
  const tsconfig = {
    compilerOptions: {
      ...fixture.compilerOptions,
      rootDir: 'src',
      outDir: 'dist',
      skipLibCheck: true,
      sourceMap: false,
    },
    include: ['src'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  const tsc = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  if (tsc.status !== 0) throw new Error(`tsc of the fixture apps failed:\n${tsc.stdout}${tsc.stderr}`);
  return { hostApp: join(dir, 'dist/host-app/main.js'), docsPattern: join(dir, 'dist/docs-pattern/main.js') };
}

/** CPU model, cores, memory, OS, load average. */
export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage() {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
}

/** The pgbench binary, if installed. */
export function findPgbench() {
  const candidates = ['/usr/lib/postgresql/15/bin/pgbench'];
  try {
    for (const version of readdirSync('/usr/lib/postgresql'))
      candidates.push(`/usr/lib/postgresql/${version}/bin/pgbench`);
  } catch {
    // No Debian PostgreSQL layout.
  }
  const found = candidates.find((path) => existsSync(path));
  if (found) return found;
  const which = spawnSync('which', ['pgbench'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : null;
}

// ---------------------------------------------------------------------------------------------
// CPU profiles
// ---------------------------------------------------------------------------------------------

/** Now on the clock of V8's CPU profiles (monotonic, µs), to mark the stretches a profile is read for. */
export function profileClock() {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Where a server's time went, from its `.cpuprofile` (V8's format: nodes with call frames,
 * samples with time deltas), counting only samples inside `windows` (`[from, to]` on
 * {@link profileClock}) when given: the functions with the most self time, the packages, and
 * the library's own functions (dist/) by inclusive time.
 */
export function profileSummary(file, { windows, count = 15 } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const self = new Map();
  const packages = new Map();
  const inclusive = new Map();
  const add = (map, key, value) => map.set(key, (map.get(key) ?? 0) + value);
  let at = profile.startTime;
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (windows?.length && !windows.some(([from, to]) => at >= from && at <= to)) return;
    total += delta;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    add(self, frameName(frame), delta);
    add(packages, packageOf(frame), delta);
    const seen = new Set();
    for (let node = id; node !== undefined; node = parentOf.get(node)) {
      const callFrame = byId.get(node).callFrame;
      if (!/\/dist\//.test(callFrame.url) || /node_modules/.test(callFrame.url)) continue;
      const name = frameName(callFrame);
      if (!seen.has(name)) {
        seen.add(name);
        add(inclusive, name, delta);
      }
    }
  });
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, micros]) => ({ name, ms: micros / 1000, share: total ? micros / total : 0 }));
  return { totalMs: total / 1000, self: top(self, count), packages: top(packages, 10), library: top(inclusive, 12) };
}

function frameName(frame) {
  const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${where}`.trim();
}

function packageOf(frame) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (match) return match[1];
  if (/\/dist\//.test(frame.url)) return 'nest-refresh-auth (dist/)';
  if (frame.url.startsWith('node:')) return `node (${frame.url.slice(5).split('/')[0]})`;
  return frame.url ? shortUrl(frame.url) : frame.functionName;
}

function shortUrl(url) {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  return path.startsWith(ROOT) ? relative(ROOT, path) : path;
}
