// The traffic of `npm run soak`, run in the load worker: a mix of guarded calls, refreshes,
// logins and logouts over a pool of live sessions; first a short closed-loop probe of what the
// service can do with that mix, then the same mix at a fraction of it, paced, with a report
// every interval.
import { Client, json, latencySummary, outcome } from './load.mjs';

/** Share of each operation in the mix. */
export const MIX = { guarded: 0.85, refresh: 0.13, login: 0.01, logout: 0.01 };
const OPERATIONS = Object.keys(MIX);
/** The pool of live sessions stays between these sizes: a login or a logout is swapped past them. */
const POOL_MIN = 10;
const POOL_MAX = 400;

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Live sessions, and what is using each of them. */
class Pool {
  constructor(sessions) {
    this.sessions = sessions.map((tokens) => ({ ...tokens, inUse: 0, busy: false }));
  }

  /** A random session no refresh or logout is working on, or undefined. */
  pick(free = (session) => !session.busy) {
    for (let tries = 0; tries < 8 && this.sessions.length; tries++) {
      const session = this.sessions[Math.floor(Math.random() * this.sessions.length)];
      if (free(session)) return session;
    }
    return this.sessions.find(free);
  }

  remove(session) {
    const index = this.sessions.indexOf(session);
    if (index >= 0) this.sessions.splice(index, 1);
  }
}

/** Latencies and outcomes of one stretch of time, per operation. */
class Window {
  constructor() {
    this.started = performance.now();
    this.latencies = Object.fromEntries(OPERATIONS.map((op) => [op, []]));
    this.errors = {};
  }

  record(op, ms, error) {
    this.latencies[op].push(ms);
    if (error) this.errors[`${op} ${error}`] = (this.errors[`${op} ${error}`] ?? 0) + 1;
  }

  summary() {
    const seconds = (performance.now() - this.started) / 1000;
    const all = OPERATIONS.flatMap((op) => this.latencies[op]);
    return {
      seconds,
      ops: all.length,
      rate: all.length / seconds,
      all: latencySummary(all),
      byOp: Object.fromEntries(OPERATIONS.map((op) => [op, latencySummary(this.latencies[op])])),
      errors: this.errors,
      errorCount: Object.values(this.errors).reduce((sum, n) => sum + n, 0),
    };
  }
}

function choose() {
  let roll = Math.random();
  for (const op of OPERATIONS) {
    roll -= MIX[op];
    if (roll < 0) return op;
  }
  return 'guarded';
}

/** Runs one operation of the mix; resolves the error outcome, or null when it went as expected. */
async function operate(op, { client, pool, accounts, paths }) {
  if (op === 'login' && pool.sessions.length >= POOL_MAX) op = 'logout';
  if (op === 'logout' && pool.sessions.length <= POOL_MIN) op = 'login';
  if (op === 'login') {
    const account = accounts[Math.floor(Math.random() * accounts.length)];
    const response = await client.request('POST', paths.login, { body: account });
    const body = json(response);
    if (response.status !== 200 || !body?.refresh_token) return [op, outcome(response)];
    pool.sessions.push({ access_token: body.access_token, refresh_token: body.refresh_token, inUse: 0, busy: false });
    return [op, null];
  }
  if (op === 'logout') {
    const session = pool.pick((s) => !s.busy && s.inUse === 0);
    if (!session) return operate('guarded', { client, pool, accounts, paths });
    pool.remove(session);
    const response = await client.request('POST', paths.logout, { token: session.access_token });
    return [op, response.status === 204 ? null : outcome(response)];
  }
  if (op === 'refresh') {
    const session = pool.pick();
    if (!session) return operate('login', { client, pool, accounts, paths });
    session.busy = true;
    const response = await client.request('POST', paths.refresh, { body: { refresh_token: session.refresh_token } });
    session.busy = false;
    const body = json(response);
    if (response.status !== 200 || !body?.refresh_token) {
      pool.remove(session);
      return [op, outcome(response)];
    }
    session.access_token = body.access_token;
    session.refresh_token = body.refresh_token;
    return [op, null];
  }
  const session = pool.pick(() => true);
  if (!session) return operate('login', { client, pool, accounts, paths });
  session.inUse += 1;
  const response = await client.request('GET', paths.guarded, { token: session.access_token });
  session.inUse -= 1;
  return ['guarded', response.status === 200 ? null : outcome(response)];
}

/**
 * The soak: `probeSeconds` of the mix closed-loop at `probeConcurrency`, then `minutes` of it at
 * `fraction` of the probed rate, paced; `progress` gets a window summary every `intervalSeconds`
 * (and the probe's). Answers the whole run's summary.
 */
export async function soak(
  {
    base,
    accounts,
    sessions,
    paths,
    probeSeconds,
    probeConcurrency,
    minutes,
    intervalSeconds,
    fraction,
    maxInFlight = 512,
  },
  { progress = () => undefined, stopped = () => false } = {},
) {
  const client = new Client(base, maxInFlight);
  const pool = new Pool(sessions);
  const context = { client, pool, accounts, paths };

  // Probe: what the service does with this mix when nothing waits between requests.
  const probe = new Window();
  const probeEnd = performance.now() + probeSeconds * 1000;
  await Promise.all(
    Array.from({ length: probeConcurrency }, async () => {
      while (performance.now() < probeEnd && !stopped()) {
        const begin = performance.now();
        const [op, error] = await operate(choose(), context);
        probe.record(op, performance.now() - begin, error);
      }
    }),
  );
  const capacity = probe.summary();
  const rate = Math.max(1, capacity.rate * fraction);
  progress({ phase: 'probe', window: capacity, rate, pool: pool.sessions.length });

  // Paced at `rate`; latency counts from when each operation was due.
  const total = new Window();
  let window = new Window();
  const started = performance.now();
  const end = started + minutes * 60_000;
  let nextReport = started + intervalSeconds * 1000;
  const interval = 1000 / rate;
  let sent = 0;
  let backlog = 0;
  const pending = new Set();
  while (performance.now() < end && !stopped()) {
    const now = performance.now();
    if (now >= nextReport) {
      progress({
        phase: 'soak',
        window: window.summary(),
        elapsed: (now - started) / 1000,
        pool: pool.sessions.length,
        backlog,
      });
      window = new Window();
      nextReport += intervalSeconds * 1000;
    }
    const due = started + sent * interval;
    if (due > now) {
      await sleep(Math.max(1, Math.min(50, Math.floor(due - now))));
      continue;
    }
    if (pending.size >= maxInFlight) {
      // The service fell behind by this much: the wait counts in the latencies of what was due.
      backlog = Math.max(backlog, pending.size);
      await Promise.race(pending);
      continue;
    }
    sent += 1;
    const op = choose();
    const done = operate(op, context).then(([actual, error]) => {
      const ms = performance.now() - due;
      window.record(actual, ms, error);
      total.record(actual, ms, error);
      pending.delete(done);
    });
    pending.add(done);
  }
  await Promise.all(pending);
  progress({
    phase: 'soak',
    window: window.summary(),
    elapsed: (performance.now() - started) / 1000,
    pool: pool.sessions.length,
    backlog,
  });
  client.close();
  return { capacity, rate, total: total.summary(), pool: pool.sessions.length };
}
