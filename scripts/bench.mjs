// `npm run bench`: the table of issue 8, each row measured side by side in one run, printed and
// written to BENCHMARKS.md with the machine, the versions and the date. Figures are printed,
// never asserted: the exit code says only whether the bench itself ran.
//
// 1. guarded/open requests/s on the fixture host app (test/fixtures/host-app compiled against
//    our dist/, GET /api/bench/guarded with JwtAuthGuard vs /api/bench/open, same handler),
//    ES256, Redis and the revocation check on; the anchor: a NestJS docs-pattern app of its own
//    (scripts/bench/docs-pattern: passport-jwt, a string secret, HS256, no revocation).
// 2. refresh rotations/s, 32 chains in parallel, against the service (dist/server/main.js) on
//    PostgreSQL + Redis, beside pgbench running the statements a refresh runs, on the same
//    database; then on embedded SQLite.
// 3. revocation on fixture instance A seen by instance B (PostgreSQL + Redis), while refresh
//    chains run on both.
// 4. guarded p99 on the fixture idle, then with 20 logins (argon2id) kept in flight.
// 5. RSS of the fixture over 200,000 guarded requests with session churn.
//
// The servers are child processes; the load runs in a worker thread, so client and server each
// get a core (of the two this machine has: the load average is printed with every row).
// Everything it creates (databases nra_bench_*, Redis keys nra-bench:*, .bench/, processes,
// temporary folders) is removed at the end, on failure and on Ctrl-C.
//
// Environment (all optional):
//   BENCH_SECONDS (5)           each measured window of row 2 (and pgbench's -T)
//   BENCH_WARMUP_SECONDS (3)    warm-up before rows 1 and 2
//   BENCH_ROUNDS (5), BENCH_ROUND_SECONDS (3)  alternating guarded/open rounds of row 1 (median reported)
//   BENCH_CONCURRENCY (50)      connections of rows 1 and 5
//   BENCH_CHAINS (32)           refresh chains of row 2
//   BENCH_REVOCATIONS (200)     revocations timed in row 3
//   BENCH_STORM_SECONDS (8)     each half of row 4; BENCH_STORM_RPS: its request rate
//                               (default a quarter of row 1's guarded requests/s)
//   BENCH_MEMORY_REQUESTS (200000)  guarded requests of row 5 (after a tenth as many of warm-up)
//   BENCH_ONLY                  comma-separated rows: guarded,refresh,sqlite,revocation,storm,memory
//   BENCH_CPU_PROF=1            run the servers under --cpu-prof and print their top self-time functions
//   BENCH_KEEP=1                keep .bench/ (the compiled apps)
//   BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test)  admin database, for CREATE DATABASE
//   BENCH_REDIS_URL (redis://127.0.0.1:6379)
// BENCHMARKS.md is written only by a full run (no BENCH_ONLY, no BENCH_CPU_PROF).
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  cleanupAll,
  cleanupOnSignals,
  compileApps,
  cpuSecondsOf,
  createDatabase,
  es256PrivateKey,
  findPgbench,
  loadAverage,
  machine,
  onCleanup,
  probeServices,
  query,
  redisPrefix,
  ROOT,
  rssOf,
  sleep,
  startProcess,
  startService,
  tempDir,
  profileClock,
  profileSummary,
  positiveNumber as number,
} from './bench/harness.mjs';
import { Client, json, latencySummary, login, outcome } from './bench/load.mjs';
import { LoadWorker } from './bench/load-worker.mjs';

const env = process.env;
const SECONDS = number('BENCH_SECONDS', 5);
const WARMUP = number('BENCH_WARMUP_SECONDS', 3);
const ROUNDS = number('BENCH_ROUNDS', 5);
const ROUND_SECONDS = number('BENCH_ROUND_SECONDS', 3);
const CONCURRENCY = number('BENCH_CONCURRENCY', 50);
const CHAINS = number('BENCH_CHAINS', 32);
const REVOCATIONS = number('BENCH_REVOCATIONS', 200);
const STORM_SECONDS = number('BENCH_STORM_SECONDS', 8);
const STORM_LOGINS = 20;
const STORM_ROUNDS = 4;
const MEMORY_REQUESTS = number('BENCH_MEMORY_REQUESTS', 200_000);
const ROWS = ['guarded', 'refresh', 'sqlite', 'revocation', 'storm', 'memory'];
const ONLY = env.BENCH_ONLY ? env.BENCH_ONLY.split(',').map((row) => row.trim()) : ROWS;
const CPU_PROF = env.BENCH_CPU_PROF === '1';
const POSTGRES_URL = env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ISSUER = 'https://bench.invalid';
const AUDIENCE = 'nra-bench';
const RUN = randomBytes(3).toString('hex');
/** One password for every bench account; never printed. */
const PASSWORD = `bench-${randomBytes(12).toString('base64url')}`;
const DOCS_SECRET = randomBytes(32).toString('base64url');

for (const row of ONLY)
  if (!ROWS.includes(row)) throw new Error(`BENCH_ONLY: unknown row "${row}" (${ROWS.join(', ')})`);
const wants = (...rows) => rows.some((row) => ONLY.includes(row));

/** What each row measured, for the table. */
const results = {};
const notes = [];
let worker;
let logDir;
let profileDir;

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

const say = (text = '') => console.log(text);
const heading = (text) => say(`\n== ${text}  [load average ${loadAverage()}]`);
const int = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
const ms = (value) => (Number.isFinite(value) ? `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms` : 'n/a');
const ratio = (value) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
const spread = (values) => `${ratio(Math.min(...values))}–${ratio(Math.max(...values))}`;
const mib = (bytes) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : 'n/a');
const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const statuses = (tally) =>
  Object.entries(tally ?? {})
    .map(([key, count]) => `${key}: ${int(count)}`)
    .join(', ') || 'none';
const nonOk = (tally) =>
  Object.entries(tally ?? {})
    .filter(([key]) => key !== '200')
    .reduce((sum, [, count]) => sum + count, 0);

/**
 * Runs `work` against a server, answering also the CPU the server and the bench process (the
 * client) used meanwhile, in % of one core.
 */
async function withCpu(server, work, tag = 'load') {
  const cpu = cpuSecondsOf(server.pid);
  const client = process.cpuUsage();
  const started = performance.now();
  const from = profileClock();
  const result = await work();
  (server.windows ??= []).push({ from, to: profileClock(), tag });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(client);
  return {
    ...result,
    serverCpu: ((cpuSecondsOf(server.pid) - cpu) / seconds) * 100,
    clientCpu: ((used.user + used.system) / 1e6 / seconds) * 100,
  };
}

// ---------------------------------------------------------------------------------------------
// Accounts and tokens
// ---------------------------------------------------------------------------------------------

/** Creates `count` accounts with `path` (register or the host's signup), two at a time. */
async function createAccounts(base, path, count, label) {
  const client = new Client(base, 2);
  const accounts = Array.from({ length: count }, (_, i) => ({
    email: `bench-${label}-${RUN}-${i}@example.com`,
    password: PASSWORD,
  }));
  await inBatches(accounts, 2, async (account) => {
    const response = await client.request('POST', path, { body: account });
    if (response.status !== 201) throw new Error(`${path}: ${outcome(response)}`);
  });
  client.close();
  return accounts;
}

/** `count` logins spread over `accounts`, four at a time; answers the token responses. */
async function logins(base, path, accounts, count) {
  const client = new Client(base, 4);
  const tokens = await inBatches(
    Array.from({ length: count }, (_, i) => accounts[i % accounts.length]),
    4,
    (account) => login(client, path, account),
  );
  client.close();
  return tokens;
}

async function inBatches(items, width, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index]);
      }
    }),
  );
  return results;
}

/** An HS256 JWT as the docs-pattern app expects it (signed here: that app has no login). */
function hs256(payload, secret) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

// ---------------------------------------------------------------------------------------------
// Row 1: guarded / open
// ---------------------------------------------------------------------------------------------

/** Warm-up, then `ROUNDS` rounds of guarded and open, alternating which goes first. */
async function guardedVersusOpen(server, prefix, tokens) {
  for (const route of ['guarded', 'open']) {
    await worker.call('closedLoop', {
      base: server.url,
      path: `${prefix}/${route}`,
      tokens: route === 'guarded' ? tokens : [],
      concurrency: CONCURRENCY,
      seconds: WARMUP,
    });
  }
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['guarded', 'open'] : ['open', 'guarded'];
    const measured = {};
    for (const route of order) {
      measured[route] = await withCpu(
        server,
        () =>
          worker.call('closedLoop', {
            base: server.url,
            path: `${prefix}/${route}`,
            tokens: route === 'guarded' ? tokens : [],
            concurrency: CONCURRENCY,
            seconds: ROUND_SECONDS,
          }),
        `GET ${route}`,
      );
    }
    rounds.push(measured);
    say(
      `  round ${round + 1}: guarded ${int(measured.guarded.rps)}/s (p99 ${ms(measured.guarded.latency.p99)}, CPU server ${int(measured.guarded.serverCpu)} % client ${int(measured.guarded.clientCpu)} %), ` +
        `open ${int(measured.open.rps)}/s (p99 ${ms(measured.open.latency.p99)}, CPU server ${int(measured.open.serverCpu)} % client ${int(measured.open.clientCpu)} %) → ${ratio(measured.guarded.rps / measured.open.rps)}`,
    );
    const bad = nonOk(measured.guarded.statuses) + nonOk(measured.open.statuses);
    if (bad > 0)
      say(
        `    non-200 answers: guarded ${statuses(measured.guarded.statuses)}; open ${statuses(measured.open.statuses)}`,
      );
  }
  const guarded = median(rounds.map((round) => round.guarded.rps));
  const open = median(rounds.map((round) => round.open.rps));
  return {
    guarded,
    open,
    ratio: guarded / open,
    guardedP99: median(rounds.map((round) => round.guarded.latency.p99)),
    openP99: median(rounds.map((round) => round.open.latency.p99)),
    roundRatios: rounds.map((round) => round.guarded.rps / round.open.rps),
  };
}

// ---------------------------------------------------------------------------------------------
// The fixture host app: rows 1, 4, 5
// ---------------------------------------------------------------------------------------------

async function fixtureRows(services, privateKey) {
  heading('compile the fixture host app and the docs-pattern app into .bench/ (against dist/)');
  const started = performance.now();
  const apps = compileApps({ keep: env.BENCH_KEEP === '1' });
  say(`  compiled in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const database = services.postgres ? await createDatabase(POSTGRES_URL, 'host') : null;
  const fixtureEnv = {
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_PRIVATE_KEY: privateKey,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    AUTH_RATE_LIMIT: '1000000',
    ...(database ? { DATABASE_URL: database.url } : { SQLITE_PATH: join(tempDir('nra-bench-host-'), 'host.sqlite') }),
    ...(services.redis ? { REDIS_URL, REDIS_KEY_PREFIX: redisPrefix(REDIS_URL, 'host') } : {}),
  };
  const storage = `${database ? 'PostgreSQL' : 'SQLite'} + ${services.redis ? 'Redis' : 'no Redis (in-process)'}`;
  if (!services.redis) notes.push('Row 1 ran without Redis (it did not answer): the revocation bus was in-process.');
  const fixture = await startProcess({
    name: 'host-app',
    script: apps.hostApp,
    cwd: tempDir('nra-bench-host-cwd-'),
    env: fixtureEnv,
    ready: /host-app listening on (\S+)/,
    logDir,
    cpuProfile: profileDir,
  });
  const base = `${fixture.url}`;
  const accounts = await createAccounts(base, '/api/accounts', STORM_LOGINS, 'host');
  const tokens = (await logins(base, '/api/auth/login', accounts, 20)).map((t) => t.access_token);
  const metricsBefore = await counters(base);

  if (wants('guarded')) {
    heading(
      `1. guarded/open, fixture host app (${storage}, ES256), c=${CONCURRENCY}, ${ROUNDS} rounds of ${ROUND_SECONDS} s per route`,
    );
    const ours = await guardedVersusOpen(fixture, '/api/bench', tokens);
    say(
      `  fixture: guarded ${int(ours.guarded)}/s, open ${int(ours.open)}/s → ratio ${ratio(ours.ratio)} (medians of the rounds; round ratios ${spread(ours.roundRatios)})`,
    );
    results.guarded = { ...ours, storage };

    heading(`1. anchor: NestJS docs pattern (passport-jwt, string secret, HS256, no revocation), c=${CONCURRENCY}`);
    const docs = await startProcess({
      name: 'docs-pattern',
      script: apps.docsPattern,
      cwd: tempDir('nra-bench-docs-'),
      env: { NODE_ENV: 'production', PORT: '0', JWT_SECRET: DOCS_SECRET },
      ready: /docs-pattern listening on (\S+)/,
      logDir,
      cpuProfile: profileDir,
    });
    const now = Math.floor(Date.now() / 1000);
    const docsTokens = Array.from({ length: 20 }, (_, i) =>
      hs256({ sub: `user-${i}`, username: `user${i}@example.com`, iat: now, exp: now + 3600 }, DOCS_SECRET),
    );
    const anchor = await guardedVersusOpen(docs, '/bench', docsTokens);
    say(
      `  docs pattern: guarded ${int(anchor.guarded)}/s, open ${int(anchor.open)}/s → ratio ${ratio(anchor.ratio)} (round ratios ${spread(anchor.roundRatios)})`,
    );
    results.guardedAnchor = anchor;
    await docs.stop();
    await printProfile(docs);
  }

  if (wants('revocation')) {
    if (database && services.redis) {
      heading(
        `3. revocation on fixture instance A seen by instance B (PostgreSQL + Redis), ${REVOCATIONS} times, ${CHAINS} refresh chains running on A and B`,
      );
      const b = await startProcess({
        name: 'host-app-b',
        script: apps.hostApp,
        cwd: tempDir('nra-bench-host-b-cwd-'),
        env: fixtureEnv,
        ready: /host-app listening on (\S+)/,
        logDir,
        cpuProfile: profileDir,
      });
      results.revocation = await propagation(fixture, b, accounts);
      await b.stop();
      await printProfile(b);
    } else {
      say('\nrow 3 skipped: PostgreSQL and Redis must both answer');
      notes.push('Row 3 was not run: PostgreSQL or Redis did not answer.');
    }
  }

  if (wants('storm')) {
    const rate = env.BENCH_STORM_RPS
      ? number('BENCH_STORM_RPS', 500)
      : results.guarded
        ? Math.max(50, Math.round(results.guarded.guarded / 4 / 50) * 50)
        : 500;
    heading(
      `4. login storm: guarded GET p99 at ${rate} req/s, idle vs ${STORM_LOGINS} logins in flight (${STORM_SECONDS} s of each and of a control, in ${STORM_ROUNDS} rounds)`,
    );
    const paced = (seconds, keepLatencies = true) =>
      worker.call('pacedLoop', {
        base,
        path: '/api/bench/guarded',
        tokens,
        rate,
        seconds,
        maxInFlight: CONCURRENCY,
        keepLatencies,
      });
    await paced(WARMUP, false);
    // Rounds of idle then storm, so drift on this shared machine falls on both sides.
    const idleLatencies = [];
    const stormLatencies = [];
    const burnerLatencies = [];
    const loginRuns = [];
    const stormCountersBefore = await counters(base);
    for (let round = 0; round < STORM_ROUNDS; round++) {
      const idle = await withCpu(fixture, () => paced(STORM_SECONDS / STORM_ROUNDS), 'guarded GETs, idle');
      idleLatencies.push(...idle.latencies);
      const storm = worker.run('loginStorm', {
        base,
        path: '/api/auth/login',
        credentials: accounts,
        inFlight: STORM_LOGINS,
      });
      await sleep(1000);
      const loaded = await withCpu(fixture, () => paced(STORM_SECONDS / STORM_ROUNDS), 'guarded GETs, login storm');
      storm.stop();
      loginRuns.push(await storm.done);
      stormLatencies.push(...loaded.latencies);
      // The control: one core kept busy by a plain loop in another process instead of the logins.
      const burner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
      let burned;
      try {
        await sleep(1000);
        burned = await paced(STORM_SECONDS / STORM_ROUNDS);
      } finally {
        burner.kill('SIGKILL');
      }
      burnerLatencies.push(...burned.latencies);
      say(
        `  round ${round + 1}: idle p99 ${ms(idle.latency.p99)} (${statuses(idle.statuses)}), storm p99 ${ms(loaded.latency.p99)} (${statuses(loaded.statuses)}), ` +
          `one core busy with a plain loop p99 ${ms(burned.latency.p99)} (${statuses(burned.statuses)})`,
      );
    }
    const idle = latencySummary(idleLatencies);
    const loaded = latencySummary(stormLatencies);
    const burned = latencySummary(burnerLatencies);
    const logins = {
      logins: loginRuns.reduce((sum, run) => sum + run.logins, 0),
      seconds: loginRuns.reduce((sum, run) => sum + run.seconds, 0),
      p50: median(loginRuns.map((run) => run.latency.p50)),
      errors: Object.assign({}, ...loginRuns.map((run) => run.errors)),
    };
    logins.rps = logins.logins / logins.seconds;
    say(`  idle:  p50 ${ms(idle.p50)}, p99 ${ms(idle.p99)}, max ${ms(idle.max)} (${int(idle.count)} requests)`);
    say(`  storm: p50 ${ms(loaded.p50)}, p99 ${ms(loaded.p99)}, max ${ms(loaded.max)} (${int(loaded.count)} requests)`);
    say(
      `  one core busy with a plain loop (control): p50 ${ms(burned.p50)}, p99 ${ms(burned.p99)}, max ${ms(burned.max)} (${int(burned.count)} requests)`,
    );
    say(
      `  logins during the storms: ${int(logins.logins)} (${logins.rps.toFixed(1)}/s), p50 ${ms(logins.p50)}` +
        `${Object.keys(logins.errors).length ? `; errors ${statuses(logins.errors)}` : ''}`,
    );
    // A guarded request that missed a cache went to the database, behind the logins' writes.
    const stormCountersAfter = await counters(base);
    for (const line of cacheLines(stormCountersBefore, stormCountersAfter).filter((l) => /_total/.test(l))) {
      say(`  ${line}`);
    }
    say(`  ratio storm p99 / idle p99: ${ratio(loaded.p99 / idle.p99)}`);
    say(`  ratio of the control, busy core p99 / idle p99: ${ratio(burned.p99 / idle.p99)}`);
    results.storm = { rate, idle, loaded, burned, logins, ratio: loaded.p99 / idle.p99 };
  }

  if (wants('memory')) {
    const warmup = Math.round(MEMORY_REQUESTS / 10);
    heading(
      `5. memory: RSS of the fixture over ${int(MEMORY_REQUESTS)} guarded requests (c=${CONCURRENCY}) after ${int(warmup)} of warm-up, 1 login + 1 logout per 100`,
    );
    const churn = {
      base,
      path: '/api/bench/guarded',
      loginPath: '/api/auth/login',
      logoutPath: '/api/auth/logout',
      credentials: accounts,
      concurrency: CONCURRENCY,
      churnEvery: 100,
    };
    const rssBefore = rssOf(fixture.pid);
    const warm = await worker.call('churnRun', { ...churn, sessions: tokens, total: warmup, progressEvery: warmup });
    const samples = [];
    const progressEvery = Math.max(1000, Math.round(MEMORY_REQUESTS / 40));
    const rssWarm = rssOf(fixture.pid);
    const run = await withCpu(
      fixture,
      () =>
        worker.call(
          'churnRun',
          { ...churn, sessions: warm.sessions, total: MEMORY_REQUESTS, progressEvery },
          ({ requests }) => samples.push({ requests, rss: rssOf(fixture.pid) }),
        ),
      'the memory run (guarded GETs with churn)',
    );
    const rssEnd = rssOf(fixture.pid);
    const growth = (rssEnd - rssWarm) / rssWarm;
    const peak = Math.max(rssEnd, ...samples.map((sample) => sample.rss));
    // RSS swings with every major GC (and every argon2 buffer); medians of the first and last quarter say the trend.
    const quarter = Math.max(1, Math.floor(samples.length / 4));
    const early = median(samples.slice(0, quarter).map((x) => x.rss));
    const late = median(samples.slice(-quarter).map((x) => x.rss));
    say(
      `  ${int(run.requests)} requests in ${run.seconds.toFixed(1)} s (${int(run.rps)}/s, p99 ${ms(run.latency.p99)}; ${statuses(run.statuses)})`,
    );
    const errors = { ...warm.churnErrors, ...run.churnErrors };
    say(
      `  churn: ${int(run.logins)} logins, ${int(run.logouts)} logouts${Object.keys(errors).length ? `, errors ${statuses(errors)}` : ''}`,
    );
    say(
      `  RSS: ${mib(rssBefore)} before the warm-up, ${mib(rssWarm)} after it, ${mib(rssEnd)} at the end, peak ${mib(peak)} → growth ${(growth * 100).toFixed(1)} %`,
    );
    say(
      `  trend: median RSS of the first quarter ${mib(early)}, of the last quarter ${mib(late)} → ${((late / early - 1) * 100).toFixed(1)} %`,
    );
    say(
      `  RSS every ${int(progressEvery)} requests (MiB): ${samples.map((sample) => (sample.rss / 2 ** 20).toFixed(0)).join(' ')}`,
    );
    const metricsAfter = await counters(base);
    const caches = cacheLines(metricsBefore, metricsAfter);
    for (const line of caches) say(`  ${line}`);
    results.memory = { ...run, warm: rssWarm, end: rssEnd, peak, growth, trend: late / early - 1, caches };
  }
  await fixture.stop();
  await printProfile(fixture);
}

/** The library's counters from the fixture's `/api/bench/metrics` (name{labels} → value). */
async function counters(base) {
  const client = new Client(base, 1);
  const response = await client.request('GET', '/api/bench/metrics');
  client.close();
  const values = {};
  if (response.status !== 200) return values;
  for (const line of response.text.split('\n')) {
    const match = /^(nra_[a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line);
    if (match) values[match[1]] = Number(match[2]);
  }
  return values;
}

/** Cache counters (and any cache-size gauge the library exports) over the run. */
function cacheLines(before, after) {
  const lines = Object.keys(after)
    .filter((name) => /cache/.test(name))
    .map((name) => `${name}: ${int(after[name] - (before[name] ?? 0))} during the run (${int(after[name])} in all)`);
  if (!Object.keys(after).some((name) => /cache.*(size|entries)/.test(name))) {
    lines.push('cache sizes: not exported by the library (no size gauge in AuthMetrics); hit/miss counts above');
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The service: row 2
// ---------------------------------------------------------------------------------------------

/** Warm-up, then `SECONDS` of `chains` refreshing in parallel. */
async function refreshLoad(server, chains) {
  const warm = await worker.call('refreshChains', { chains, seconds: WARMUP });
  if (warm.chains.length < chains.length)
    say(`  warm-up lost ${chains.length - warm.chains.length} chains: ${statuses(warm.errors)}`);
  const run = await withCpu(
    server,
    () => worker.call('refreshChains', { chains: warm.chains, seconds: SECONDS }),
    'POST refresh',
  );
  say(
    `  ${int(run.rotations)} rotations in ${run.seconds.toFixed(1)} s: ${int(run.rps)}/s, p50 ${ms(run.latency.p50)}, p99 ${ms(run.latency.p99)}, ` +
      `max ${ms(run.latency.max)} (${run.chains.length} chains, CPU server ${int(run.serverCpu)} % client ${int(run.clientCpu)} %)`,
  );
  if (Object.keys(run.errors).length) say(`  chains that stopped: ${statuses(run.errors)}`);
  return run;
}

async function serviceRows(services, privateKey) {
  const database = await createDatabase(POSTGRES_URL, 'svc');
  const serviceEnv = {
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix(REDIS_URL, 'svc'),
    JWT_PRIVATE_KEY: privateKey,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    AUTH_RATE_LIMIT: '1000000',
  };
  const a = await startService('service-a', serviceEnv, { logDir, cpuProfile: profileDir });
  const accounts = await createAccounts(a.url, '/auth/register', 8, 'svc');
  const chains = (await logins(a.url, '/auth/login', accounts, CHAINS)).map((t) => ({
    base: a.url,
    refreshToken: t.refresh_token,
  }));

  {
    heading(`2. refresh rotations/s, ${CHAINS} chains in parallel, the service on PostgreSQL + Redis, ${SECONDS} s`);
    const run = await refreshLoad(a, chains);
    // The ceiling of one service process on this machine: an open route with no database and no crypto.
    const openRoute = await withCpu(
      a,
      () =>
        worker.call('closedLoop', {
          base: a.url,
          path: '/.well-known/jwks.json',
          tokens: [],
          concurrency: CHAINS,
          seconds: ROUND_SECONDS,
        }),
      'GET jwks',
    );
    say(
      `  the same service, open GET /.well-known/jwks.json (no database, no crypto), c=${CHAINS}: ${int(openRoute.rps)}/s ` +
        `(CPU server ${int(openRoute.serverCpu)} %, ${ms((openRoute.serverCpu * 10) / openRoute.rps)} per request) → refresh at ${ratio(run.rps / openRoute.rps)} of it`,
    );
    const pgbench = await runPgbench(database.url);
    results.refresh = { ...run, pgbench, openRoute: openRoute.rps };
  }

  await a.stop();
  await printProfile(a);
}

async function sqliteRow(privateKey) {
  heading(
    `2. refresh rotations/s, ${CHAINS} chains in parallel, the service on embedded SQLite (no Redis), ${SECONDS} s`,
  );
  const server = await startService(
    'service-sqlite',
    { JWT_PRIVATE_KEY: privateKey, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, AUTH_RATE_LIMIT: '1000000' },
    { logDir, cpuProfile: profileDir },
  );
  const accounts = await createAccounts(server.url, '/auth/register', 8, 'sqlite');
  const chains = (await logins(server.url, '/auth/login', accounts, CHAINS)).map((t) => ({
    base: server.url,
    refreshToken: t.refresh_token,
  }));
  results.sqlite = await refreshLoad(server, chains);
  await server.stop();
  await printProfile(server);
}

/**
 * The pgbench script of one refresh: the two statements PostgresSessionStore runs with the
 * built-in user store (read from the sources, so they stay the same): the session read with its
 * owner (the join of TypeOrmUserStore.ownerJoin) and the conditional update, each client on its
 * own pre-created session row (id = its client number).
 */
function pgbenchScript() {
  const source = readFileSync(join(ROOT, 'src/tokens/postgres-session.store.ts'), 'utf8');
  const statement = (name) => {
    const match = new RegExp(
      `name: '${name}',\\s*text:\\s*(['\`])([\\s\\S]*?)\\1,\\s*values:\\s*\\[([\\s\\S]*?)\\]`,
    ).exec(source);
    if (!match) return null;
    return {
      text: match[2].replace(/\s+/g, ' ').trim(),
      values: match[3]
        .split(',')
        .map((value) => value.trim())
        .filter(Boolean),
    };
  };
  const rotate = statement('nra_session_rotate');
  if (!rotate) return null;
  // What each value of the rotation is, in pgbench variables (`s_*`: the row just read).
  const variables = {
    id: ':client_id',
    'rotation.sessionId': ':client_id',
    'rotation.tokenHash': ':s_token_hash',
    'rotation.at': ':now',
    'rotation.successorSalt': ':s_successor_salt',
    'rotation.idleExpiresAt': ':s_idle_expires_at',
    'rotation.expiresAt': ':s_expires_at',
    'rotation.scope': ':s_scope',
    'rotation.fromGeneration': ':s_generation',
    'rotation.fromHash': ':s_token_hash',
  };
  const bind = ({ text, values }) => {
    const names = values.map((value) => variables[value]);
    if (names.some((name) => name === undefined)) return null;
    return text.replace(/\$(\d+)/g, (_, n) => names[Number(n) - 1] ?? `$${n}`);
  };
  const rotateSql = bind(rotate);
  if (!rotateSql || /\$\d/.test(rotateSql)) return null;
  const columns = /const COLUMNS = '([^']+)'/.exec(readFileSync(join(ROOT, 'src/users/typeorm-user.store.ts'), 'utf8'));
  if (!columns || !source.includes("name: 'nra_session_find_owner'")) return null;
  const owner = columns[1]
    .split(', ')
    .map((column) => `u.${column} AS owner_${column}`)
    .join(', ');
  const findSql = `SELECT s.*, ${owner} FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.id = :client_id`;
  // A SQL command of pgbench ends at a semicolon or at a meta-command such as \gset.
  return `${findSql} \\gset s_\n${rotateSql};\n`;
}

async function runPgbench(databaseUrl) {
  const binary = findPgbench();
  if (!binary) {
    say('  pgbench: not installed, skipped');
    return null;
  }
  const script = pgbenchScript();
  if (!script) {
    say('  pgbench: the refresh statements could not be read from src/tokens/postgres-session.store.ts, skipped');
    notes.push(
      'pgbench was skipped: the statements of postgres-session.store.ts no longer match what the bench reads.',
    );
    return null;
  }
  const ids = Array.from({ length: CHAINS }, (_, i) => String(i));
  const columns = (
    await query(
      databaseUrl,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'sessions' ORDER BY ordinal_position",
    )
  ).rows.map((row) => row.column_name);
  const copied = columns.map((column) => {
    if (column === 'id') return 'g::text';
    if (column === 'successor_salt') return "COALESCE(successor_salt, 'pgbench')";
    if (column === 'rotated_at') return 'COALESCE(rotated_at, now())';
    return column;
  });
  const live = await query(databaseUrl, 'SELECT id, generation FROM sessions WHERE revoked_at IS NULL LIMIT 1');
  await query(
    databaseUrl,
    `INSERT INTO sessions (${columns.join(', ')}) SELECT ${copied.join(', ')} FROM sessions, generate_series(0, ${CHAINS - 1}) g WHERE id = $1`,
    [live.rows[0].id],
  );
  const generationBefore = CHAINS * Number(live.rows[0].generation);
  const dir = tempDir('nra-bench-pgbench-');
  writeFileSync(join(dir, 'refresh.sql'), script);
  const url = new URL(databaseUrl);
  const args = [
    '-n',
    '-M',
    'prepared',
    '-c',
    String(CHAINS),
    '-j',
    '2',
    '-T',
    String(Math.round(SECONDS)),
    '-D',
    `now=${new Date().toISOString()}`,
    '-f',
    join(dir, 'refresh.sql'),
    '-h',
    url.hostname,
    '-p',
    url.port || '5432',
    '-U',
    decodeURIComponent(url.username || 'postgres'),
    url.pathname.slice(1),
  ];
  let result;
  let matched;
  try {
    result = spawnSync(binary, args, {
      encoding: 'utf8',
      env: { ...process.env, ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}) },
      timeout: (SECONDS + 60) * 1000,
    });
    // Each UPDATE that found its row moved the generation on by one.
    const { rows } = await query(
      databaseUrl,
      'SELECT sum(generation) - $2::int AS n FROM sessions WHERE id = ANY($1::varchar[])',
      [ids, generationBefore],
    );
    matched = Number(rows[0].n);
  } finally {
    await query(databaseUrl, 'DELETE FROM sessions WHERE id = ANY($1::varchar[])', [ids]);
  }
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(result.stdout)?.[1]);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(result.stdout)?.[1]);
  const failed = /number of failed transactions: (\d+)/.exec(result.stdout)?.[1];
  if (!Number.isFinite(tps)) {
    say(`  pgbench failed:\n${(result.stdout + result.stderr).trim().split('\n').slice(-8).join('\n')}`);
    return null;
  }
  say(
    `  pgbench, same database, -c ${CHAINS} -j 2 -T ${Math.round(SECONDS)} -M prepared, the 2 statements of a refresh (autocommit each): ` +
      `${int(tps)} tps, latency average ${ms(latency)}${failed && failed !== '0' ? `, ${failed} failed` : ''}; ` +
      `${int(matched)} updates matched their row`,
  );
  say(
    `  its statements: ${script
      .trim()
      .split('\n')
      .map((statement) => `${statement.slice(0, 48)}…`)
      .join(' | ')}`,
  );
  return { tps, latency, script };
}

/**
 * Row 3: log in on A, warm B with the access token, log out on A, poll B's guarded route until
 * 401 token_revoked; repeated, first with both instances idle (the delay itself, polls take a
 * millisecond or two), then while closed-loop refresh chains saturate both (the delay as a user
 * of B sees it, B's queue included), then with the chains paced at half that rate.
 */
async function propagation(a, b, accounts) {
  const idleCount = Math.max(20, Math.round(REVOCATIONS / 2));
  const sessions = await logins(a.url, '/api/auth/login', accounts, REVOCATIONS + idleCount);
  const idle = await revocations(a, b, sessions.slice(0, idleCount));
  report('idle', idle);
  const chains = (await logins(a.url, '/api/auth/login', accounts, CHAINS)).map((t, i) => ({
    base: i % 2 === 0 ? a.url : b.url,
    refreshToken: t.refresh_token,
  }));
  const half = Math.round(REVOCATIONS / 2);
  const under = async (rate, share) => {
    const background = worker.run('refreshChains', { chains, refreshPath: '/api/auth/refresh', rate });
    await sleep(1000);
    const run = await revocations(a, b, share);
    background.stop();
    const load = await background.done;
    chains.splice(0, chains.length, ...load.chains);
    if (Object.keys(load.errors).length) say(`  refresh chains that stopped: ${statuses(load.errors)}`);
    return { ...run, backgroundRps: load.rps };
  };
  // Closed-loop chains saturate both instances: every request to B, the polls included, waits
  // in B's queue, so the delay measured there is mostly that queue.
  const saturated = await under(undefined, sessions.slice(idleCount, idleCount + half));
  report(
    `with ${CHAINS} closed-loop refresh chains on A and B, saturating them (${int(saturated.backgroundRps)} rotations/s meanwhile)`,
    saturated,
  );
  // Busy but not saturated: the chains paced at half of that rate (the soak's load level).
  const loaded = await under(saturated.backgroundRps / 2, sessions.slice(idleCount + half));
  report(
    `with the ${CHAINS} chains paced at half that rate (${int(loaded.backgroundRps)} rotations/s meanwhile)`,
    loaded,
  );
  return { idle, saturated, loaded, delay: loaded.delay, backgroundRps: loaded.backgroundRps };
}

function report(label, run) {
  const { delay, sendDelay, poll } = run;
  say(`  ${label}:`);
  say(
    `    A's 204 → B's first 401 token_revoked: p50 ${ms(delay.p50)}, p99 ${ms(delay.p99)}, max ${ms(delay.max)} (${delay.count} revocations); ` +
      `from sending the logout: p50 ${ms(sendDelay.p50)}, p99 ${ms(sendDelay.p99)}`,
  );
  say(
    `    refused at the first poll: ${run.firstPoll} of ${delay.count}; a poll of B (GET /api/bench/guarded) takes p50 ${ms(poll.p50)}, p99 ${ms(poll.p99)}`,
  );
  if (Object.keys(run.errors).length) say(`    errors: ${statuses(run.errors)}`);
}

async function revocations(a, b, sessions) {
  const clientA = new Client(a.url, 1);
  const clientB = new Client(b.url, 1);
  const fromAck = [];
  const fromSend = [];
  const polls = [];
  const errors = {};
  const count = (key) => (errors[key] = (errors[key] ?? 0) + 1);
  let firstPoll = 0;
  for (const session of sessions) {
    const token = session.access_token;
    const warm = await clientB.request('GET', '/api/bench/guarded', { token });
    if (warm.status !== 200) {
      count(`warm ${outcome(warm)}`);
      continue;
    }
    const sent = performance.now();
    const logout = await clientA.request('POST', '/api/auth/logout', { token });
    const ack = performance.now();
    if (logout.status !== 204) {
      count(`logout ${outcome(logout)}`);
      continue;
    }
    for (let poll = 0; ; poll++) {
      const begin = performance.now();
      const response = await clientB.request('GET', '/api/bench/guarded', { token });
      const end = performance.now();
      polls.push(end - begin);
      if (response.status === 401 && json(response)?.code === 'token_revoked') {
        fromAck.push(end - ack);
        fromSend.push(end - sent);
        if (poll === 0) firstPoll += 1;
        break;
      }
      if (response.status !== 200) {
        count(`poll ${outcome(response)}`);
        break;
      }
      if (end - ack > 5000) {
        count('still accepted 5 s after the logout');
        break;
      }
    }
  }
  clientA.close();
  clientB.close();
  return {
    delay: latencySummary(fromAck),
    sendDelay: latencySummary(fromSend),
    poll: latencySummary(polls),
    firstPoll,
    errors,
  };
}

// ---------------------------------------------------------------------------------------------
// Profiles, table, BENCHMARKS.md
// ---------------------------------------------------------------------------------------------

/** The server's CPU profile over the measured windows (withCpu), when BENCH_CPU_PROF is set. */
async function printProfile(server) {
  if (!server.profile) return;
  try {
    const tags = [...new Set((server.windows ?? []).map((window) => window.tag))];
    for (const tag of tags) {
      const windows = server.windows.filter((window) => window.tag === tag).map(({ from, to }) => [from, to]);
      const { totalMs, self, packages, library } = profileSummary(server.profile, { windows });
      const line = (entry) =>
        `    ${(entry.share * 100).toFixed(1).padStart(5)} %  ${entry.ms.toFixed(0).padStart(6)} ms  ${entry.name}`;
      say(
        `  CPU profile of ${server.name} during ${tag}, ${(totalMs / 1000).toFixed(1)} s sampled (${server.profile}):`,
      );
      say('   top self time:');
      self.forEach((entry) => say(line(entry)));
      say('   self time by package:');
      packages.forEach((entry) => say(line(entry)));
      say('   nest-refresh-auth functions by inclusive time:');
      library.forEach((entry) => say(line(entry)));
    }
  } catch (error) {
    say(`  no CPU profile of ${server.name}: ${error.message}`);
  }
}

const yes = (met) => (met === undefined ? '' : met ? 'yes' : '**no**');

function tableRows() {
  const rows = [];
  const g = results.guarded;
  const anchor = results.guardedAnchor;
  if (g) {
    rows.push({
      figure: `guarded \`GET /api/bench/guarded\` / open \`GET /api/bench/open\` (fixture host app, same handler), c=${CONCURRENCY}, ES256, ${g.storage}, revocation on`,
      measured: `**${ratio(g.ratio)}** (${int(g.guarded)}/s vs ${int(g.open)}/s; rounds ${spread(g.roundRatios)})`,
      beside: anchor
        ? `NestJS docs pattern (passport-jwt, string secret, HS256, no revocation): ${ratio(anchor.ratio)} (${int(anchor.guarded)}/s vs ${int(anchor.open)}/s; rounds ${spread(anchor.roundRatios)})`
        : '',
      goal: '≥ 0.90',
      met: g.ratio >= 0.9,
    });
  }
  const r = results.refresh;
  if (r) {
    const pg = r.pgbench;
    rows.push({
      figure: `refresh rotations/s, ${CHAINS} chains in parallel, service on PostgreSQL + Redis`,
      measured: `**${int(r.rps)}/s**, p50 ${ms(r.latency.p50)}, p99 ${ms(r.latency.p99)}; service CPU ${ms((r.serverCpu * 10) / r.rps)} per rotation`,
      beside: pg
        ? `pgbench, the 2 statements of a refresh, -c ${CHAINS}: ${int(pg.tps)} tps → ratio **${ratio(r.rps / pg.tps)}**; ` +
          `the same service's open GET (no database, no crypto): ${int(r.openRoute)}/s, so 0.5 × pgbench (${int(pg.tps / 2)}/s) is ${ratio(pg.tps / 2 / r.openRoute)} × what it answers with no work`
        : 'pgbench not run',
      goal: '≥ 1,000/s and ≥ 0.5 × pgbench',
      met: r.rps >= 1000 && (!pg || r.rps / pg.tps >= 0.5),
    });
  }
  const s = results.sqlite;
  if (s) {
    rows.push({
      figure: `refresh rotations/s, same load, embedded SQLite (no Redis)`,
      measured: `**${int(s.rps)}/s**, p50 ${ms(s.latency.p50)}, p99 ${ms(s.latency.p99)}; service CPU ${ms((s.serverCpu * 10) / s.rps)} per rotation`,
      beside: '',
      goal: '≥ 1,000/s',
      met: s.rps >= 1000,
    });
  }
  const v = results.revocation;
  if (v) {
    rows.push({
      figure: `revocation (logout) on fixture instance A seen by instance B (PostgreSQL + Redis), ${v.loaded.delay.count} times while ${CHAINS} refresh chains run on A and B at half their saturating rate`,
      measured: `p50 ${ms(v.loaded.delay.p50)}, **p99 ${ms(v.loaded.delay.p99)}**, max ${ms(v.loaded.delay.max)}; refresh meanwhile ${int(v.loaded.backgroundRps)}/s`,
      beside:
        `idle, ${v.idle.delay.count} times: p50 ${ms(v.idle.delay.p50)}, p99 ${ms(v.idle.delay.p99)}; ` +
        `both instances saturated (closed-loop chains, ${int(v.saturated.backgroundRps)}/s), ${v.saturated.delay.count} times: p99 ${ms(v.saturated.delay.p99)}, ` +
        `refused at B's first poll ${v.saturated.firstPoll} of ${v.saturated.delay.count}, a poll of B alone p99 ${ms(v.saturated.poll.p99)}; contract: 1 s`,
      goal: 'p99 ≤ 50 ms',
      met: v.loaded.delay.p99 <= 50,
    });
  }
  const st = results.storm;
  if (st) {
    rows.push({
      figure: `guarded GET p99 (fixture, ${st.rate} req/s), idle vs ${STORM_LOGINS} logins (argon2id) in flight`,
      measured: `${ms(st.idle.p99)} → ${ms(st.loaded.p99)}: **${ratio(st.ratio)}×**`,
      beside:
        `${st.logins.rps.toFixed(1)} logins/s during the storm; control, one core busy with a plain loop in another process instead: ` +
        `${ms(st.burned.p99)} (${ratio(st.burned.p99 / st.idle.p99)}×)`,
      goal: '≤ 2×',
      met: st.ratio <= 2,
    });
  }
  const m = results.memory;
  if (m) {
    rows.push({
      figure: `RSS of the fixture over ${int(m.requests)} guarded requests with session churn (${int(m.logins)} logins, ${int(m.logouts)} logouts)`,
      measured: `${mib(m.warm)} after warm-up → ${mib(m.end)}: **${m.growth >= 0 ? '+' : ''}${(m.growth * 100).toFixed(1)} %**`,
      beside: `peak ${mib(m.peak)}; medians of the first and last quarter: ${m.trend >= 0 ? '+' : ''}${(m.trend * 100).toFixed(1)} %`,
      goal: '≤ 10 %',
      met: m.growth <= 0.1,
    });
  }
  return rows;
}

function printTable(rows) {
  heading('summary (issue 8)');
  for (const row of rows) {
    say(`- ${row.figure}`);
    say(
      `    ${row.measured.replace(/\*\*/g, '')}${row.beside ? ` | ${row.beside.replace(/\*\*/g, '')}` : ''} | goal ${row.goal}: ${row.met ? 'met' : 'NOT met'}`,
    );
  }
  for (const note of notes) say(`note: ${note}`);
}

function writeMarkdown(rows, facts, services, loadStart, loadEnd, seconds) {
  const cell = (text) => text.replace(/\|/g, '\\|');
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (scripts/bench.mjs) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; every figure from that one run.`,
    '',
    `- Machine: ${facts.cpu}, ${facts.cores} cores, ${facts.memory} memory; ${facts.os}`,
    `- Node ${facts.node}, PostgreSQL ${services.postgres ?? 'not running'}, Redis ${services.redis ?? 'not running'}`,
    `- Load average (1 / 5 / 15 min) at the start ${loadStart}, at the end ${loadEnd}; the machine is shared, so figures move between runs`,
    `- Client: a minimal keep-alive HTTP/1.1 client (scripts/bench/load.mjs) in a worker thread of the bench; servers: child processes; all on 127.0.0.1. ` +
      `Row 1: ${WARMUP} s of warm-up per route, then the median of ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s per route; row 2: ${SECONDS} s after ${WARMUP} s of warm-up. The run took ${Math.round(seconds)} s.`,
    '',
    '| figure | this run | side by side | goal | met |',
    '|---|---|---|---|---|',
    ...rows.map(
      (row) => `| ${cell(row.figure)} | ${cell(row.measured)} | ${cell(row.beside)} | ${row.goal} | ${yes(row.met)} |`,
    ),
    '',
    'How each row is measured:',
    '',
    '1. The fixture host app (test/fixtures/host-app) compiled against dist/, its `JwtAuthGuard` route and the same handler open; ' +
      '20 access tokens of 20 sessions over the connections. The anchor is a NestJS docs-pattern app of its own (scripts/bench/docs-pattern).',
    '2. The service (dist/server/main.js, `NODE_ENV=production`, JSON request logs to a file); each chain logs in once, then refreshes with the token it got back. ' +
      'pgbench runs the session read with its owner (one join) and the conditional update as the library sends them, each client on its own row. Beside it, the same service process answers its open `GET /.well-known/jwks.json` (no database, no crypto) at the same concurrency: the most one process serves on this machine.',
    '3. Two fixture instances on one database and Redis, with the refresh chains running on both; B answers the access token (warm), A logs it out, ' +
      'B is polled with `GET /api/bench/guarded` until 401 `token_revoked`. ' +
      "The delay counts from A's 204; its resolution is one poll. Half the revocations run while closed-loop chains saturate both instances, " +
      'the other half with the chains paced at half the rate they reached: at saturation every request to B waits in its queue, the polls too, ' +
      "so that figure is mostly B's queue (when B refuses the token at its first poll, the revocation had arrived before B read the poll); " +
      'the goal is judged on the paced half, the load a deployment runs at.',
    '4. Guarded GETs sent at a fixed rate (latency counted from when each was due), idle, then while 20 logins are kept in flight, in alternating rounds; p99 over all rounds of each. ' +
      'argon2id runs with the library defaults (PASSWORD_HASH_CONCURRENCY: cores − 1). ' +
      'Each round then runs a control: the same GETs while another process keeps one core busy with a plain loop, no login at all, to tell what the logins cost from what any busy core costs on this machine.',
    '5. RSS (/proc/<pid>/smaps_rollup) of the fixture process, after a warm-up of a tenth as many requests of the same mix; sampled every 2.5 % of the run.',
    ...(notes.length ? ['', ...notes.map((note) => `Note: ${note}`)] : []),
    '',
  ];
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), lines.join('\n'));
  say('\nwrote BENCHMARKS.md');
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const started = performance.now();
  cleanupOnSignals();
  const timeout = number('BENCH_TIMEOUT_SECONDS', 900);
  setTimeout(() => {
    console.error(`\nbench: still running after ${timeout} s, giving up`);
    cleanupAll().finally(() => process.exit(1));
  }, timeout * 1000).unref();

  const facts = machine();
  const services = await probeServices(POSTGRES_URL, REDIS_URL);
  const loadStart = loadAverage();
  say('nest-refresh-auth benchmark (issue 8)');
  say(`  ${facts.cpu}, ${facts.cores} cores, ${facts.memory}; ${facts.os}; node ${facts.node}`);
  say(
    `  PostgreSQL ${services.postgres ?? 'not answering'}, Redis ${services.redis ?? 'not answering'}; load average ${loadStart}`,
  );
  if (facts.cores <= 2)
    say(
      `  ${facts.cores} cores: the client, the servers, PostgreSQL and Redis share them; read figures with the load average`,
    );

  logDir = tempDir('nra-bench-logs-');
  if (CPU_PROF) {
    profileDir = mkdtempSync(join(os.tmpdir(), 'nra-bench-profiles-'));
    say(`  CPU profiles (kept): ${profileDir}`);
  }
  worker = new LoadWorker();
  onCleanup('stop the load worker', () => worker.terminate());
  const privateKey = es256PrivateKey();

  if (wants('guarded', 'revocation', 'storm', 'memory')) await fixtureRows(services, privateKey);
  if (wants('refresh')) {
    if (services.postgres && services.redis) await serviceRows(services, privateKey);
    else {
      say('\nrow 2 on PostgreSQL skipped: PostgreSQL and Redis must both answer');
      notes.push('Row 2 on PostgreSQL was not run: PostgreSQL or Redis did not answer.');
    }
  }
  if (wants('sqlite')) await sqliteRow(privateKey);

  const rows = tableRows();
  printTable(rows);
  const seconds = (performance.now() - started) / 1000;
  if (ONLY.length === ROWS.length && !CPU_PROF) writeMarkdown(rows, facts, services, loadStart, loadAverage(), seconds);
  else say('\nBENCHMARKS.md not written (BENCH_ONLY or BENCH_CPU_PROF set)');
  say(`bench took ${seconds.toFixed(0)} s; load average at the end ${loadAverage()}`);
}

main()
  .then(
    () => cleanupAll(),
    async (error) => {
      console.error(`\nbench failed: ${error.stack ?? error}`);
      process.exitCode = 1;
      await cleanupAll();
    },
  )
  .finally(() => process.exit());
