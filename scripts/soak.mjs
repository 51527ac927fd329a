// `npm run soak`: the service under mixed traffic for a long stretch (issue 7, item 8). Not a CI
// test: it prints, it does not judge.
//
// Starts the service (dist/server/main.js) on PostgreSQL + Redis when both answer (a throw-away
// database and Redis key prefix), else on embedded SQLite; probes what it serves of the mix
// (guarded GET /auth/me, refresh chains, logins, logouts) for a few seconds, then runs the mix at
// half of that, paced, printing every 30 s the operations, errors, p50/p99 and the service's
// RSS, and a summary at the end. Everything it created is removed at the end, also on Ctrl-C.
//
// Environment (all optional): SOAK_MINUTES (10), SOAK_INTERVAL_SECONDS (30),
// SOAK_PROBE_SECONDS (15), SOAK_FRACTION (0.5), SOAK_PROBE_CONCURRENCY (32), SOAK_USERS (20),
// SOAK_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test, the admin database), SOAK_REDIS_URL
// (redis://127.0.0.1:6379), SOAK_SQLITE=1 (SQLite even when PostgreSQL answers).
import { randomBytes } from 'node:crypto';
import {
  cleanupAll,
  cleanupOnSignals,
  createDatabase,
  es256PrivateKey,
  loadAverage,
  machine,
  onCleanup,
  probeServices,
  query,
  redisPrefix,
  rssOf,
  startService,
  tempDir,
  positiveNumber as number,
} from './bench/harness.mjs';
import { Client, login, outcome } from './bench/load.mjs';
import { LoadWorker } from './bench/load-worker.mjs';
import { MIX } from './bench/soak-load.mjs';

const env = process.env;
const MINUTES = number('SOAK_MINUTES', 10);
const INTERVAL = number('SOAK_INTERVAL_SECONDS', 30);
const PROBE_SECONDS = number('SOAK_PROBE_SECONDS', 15);
const FRACTION = number('SOAK_FRACTION', 0.5);
const PROBE_CONCURRENCY = number('SOAK_PROBE_CONCURRENCY', 32);
const USERS = number('SOAK_USERS', 20);
const POSTGRES_URL = env.SOAK_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = env.SOAK_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PASSWORD = `soak-${randomBytes(12).toString('base64url')}`;
const RUN = randomBytes(3).toString('hex');
const PATHS = { guarded: '/auth/me', refresh: '/auth/refresh', login: '/auth/login', logout: '/auth/logout' };

const say = (text = '') => console.log(text);
const ms = (value) => (Number.isFinite(value) ? `${value < 10 ? value.toFixed(1) : Math.round(value)} ms` : '-');
const mib = (bytes) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : '-');
const int = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
const errorsText = (errors) =>
  Object.entries(errors)
    .map(([key, count]) => `${key}: ${count}`)
    .join(', ');

function windowLine(prefix, window, extra) {
  const ops = Object.entries(window.byOp)
    .map(([op, latency]) => `${op} ${int(latency.count)} p99 ${ms(latency.p99)}`)
    .join(', ');
  return (
    `${prefix} ${int(window.rate)} ops/s, p50 ${ms(window.all.p50)}, p99 ${ms(window.all.p99)}, errors ${window.errorCount}` +
    ` | ${ops}${extra ? ` | ${extra}` : ''}`
  );
}

async function main() {
  cleanupOnSignals();
  const facts = machine();
  const services = await probeServices(POSTGRES_URL, REDIS_URL);
  const onServices = Boolean(services.postgres && services.redis) && env.SOAK_SQLITE !== '1';
  say(`nest-refresh-auth soak: ${MINUTES} min of mixed traffic at ${FRACTION * 100} % of the probed capacity`);
  say(`  ${facts.cpu}, ${facts.cores} cores, ${facts.memory}; node ${facts.node}; load average ${loadAverage()}`);
  say(
    `  service on ${onServices ? `PostgreSQL ${services.postgres} + Redis ${services.redis}` : 'embedded SQLite (no Redis)'}; ` +
      `mix: ${Object.entries(MIX)
        .map(([op, share]) => `${op} ${share * 100} %`)
        .join(', ')}`,
  );

  const database = onServices ? await createDatabase(POSTGRES_URL, 'soak') : null;
  const serviceEnv = {
    JWT_PRIVATE_KEY: es256PrivateKey(),
    JWT_ISSUER: 'https://soak.invalid',
    JWT_AUDIENCE: 'nra-soak',
    AUTH_RATE_LIMIT: '1000000',
    ...(database ? { DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: redisPrefix(REDIS_URL, 'soak') } : {}),
  };
  const service = await startService('soak-service', serviceEnv, { logDir: tempDir('nra-soak-logs-') });
  say(`  service pid ${service.pid} at ${service.url}, RSS ${mib(rssOf(service.pid))}`);

  const setup = new Client(service.url, 4);
  const accounts = Array.from({ length: USERS }, (_, i) => ({
    email: `soak-${RUN}-${i}@example.com`,
    password: PASSWORD,
  }));
  for (const account of accounts) {
    const response = await setup.request('POST', '/auth/register', { body: account });
    if (response.status !== 201) throw new Error(`register: ${outcome(response)}`);
  }
  const sessions = [];
  for (let i = 0; i < 50; i++) sessions.push(await login(setup, PATHS.login, accounts[i % accounts.length]));
  setup.close();

  const worker = new LoadWorker();
  onCleanup('stop the load worker', () => worker.terminate());
  const rss = [];
  const started = Date.now();
  say(`\nprobe: ${PROBE_SECONDS} s of the mix closed-loop, ${PROBE_CONCURRENCY} in flight`);
  const result = await worker.call(
    'soak',
    {
      base: service.url,
      accounts,
      sessions: sessions.map(({ access_token, refresh_token }) => ({ access_token, refresh_token })),
      paths: PATHS,
      probeSeconds: PROBE_SECONDS,
      probeConcurrency: PROBE_CONCURRENCY,
      minutes: MINUTES,
      intervalSeconds: INTERVAL,
      fraction: FRACTION,
    },
    ({ phase, window, rate, elapsed, pool, backlog }) => {
      const now = rssOf(service.pid);
      if (phase === 'probe') {
        say(windowLine('  capacity:', window, `RSS ${mib(now)}`));
        if (window.errorCount) say(`  probe errors: ${errorsText(window.errors)}`);
        say(`\nsoak at ${int(rate)} ops/s for ${MINUTES} min (a line every ${INTERVAL} s)`);
        return;
      }
      rss.push(now);
      const clock = `${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(Math.round(elapsed % 60)).padStart(2, '0')}`;
      say(
        windowLine(
          `  ${clock}`,
          window,
          `RSS ${mib(now)}, sessions in pool ${pool}${backlog ? `, client backlog up to ${backlog}` : ''}, load ${loadAverage().split(' / ')[0]}`,
        ),
      );
      if (window.errorCount) say(`         errors: ${errorsText(window.errors)}`);
    },
  );

  const total = result.total;
  say(`\nsummary (${((Date.now() - started) / 60_000).toFixed(1)} min, load average ${loadAverage()})`);
  say(`  probed capacity of the mix: ${int(result.capacity.rate)} ops/s; soaked at ${int(result.rate)} ops/s`);
  say(windowLine('  whole soak:', total, `${int(total.ops)} operations`));
  for (const [op, latency] of Object.entries(total.byOp)) {
    say(
      `    ${op.padEnd(8)} ${int(latency.count).padStart(9)}  p50 ${ms(latency.p50)}, p99 ${ms(latency.p99)}, max ${ms(latency.max)}`,
    );
  }
  say(`  errors: ${total.errorCount}${total.errorCount ? ` (${errorsText(total.errors)})` : ''}`);
  if (rss.length) {
    const first = rss[0];
    const last = rss[rss.length - 1];
    say(
      `  service RSS: ${mib(first)} after the first interval, ${mib(last)} at the end (${((last / first - 1) * 100).toFixed(1)} %), peak ${mib(Math.max(...rss))}`,
    );
  }
  if (database) {
    try {
      const { rows } = await query(
        database.url,
        `SELECT (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM sessions WHERE revoked_at IS NULL) AS live,
                (SELECT count(*) FROM security_events) AS events,
                CASE WHEN to_regclass('refresh_tokens') IS NULL THEN NULL ELSE (SELECT count(*) FROM refresh_tokens) END AS tokens`,
      );
      const row = rows[0];
      say(
        `  database: ${int(Number(row.sessions))} session rows (${int(Number(row.live))} live)` +
          `${row.tokens === null ? '' : `, ${int(Number(row.tokens))} refresh_tokens rows`}, ${int(Number(row.events))} security events, ` +
          `after ${int(total.byOp.refresh.count)} refreshes`,
      );
    } catch (error) {
      say(`  database: could not count rows (${error.message})`);
    }
  }
  await service.stop();
  const exit = await service.exited;
  say(`  the service stopped on SIGTERM: exit ${exit.code ?? exit.signal}`);
}

main()
  .then(
    () => cleanupAll(),
    async (error) => {
      console.error(`\nsoak failed: ${error.stack ?? error}`);
      process.exitCode = 1;
      await cleanupAll();
    },
  )
  .finally(() => process.exit());
