// HTTP load for `npm run bench` and `npm run soak`: a small keep-alive client and the loops the
// rows of issue 8 need. Runs in a worker thread (load-worker.mjs) so the client has its own event
// loop; the few calls the main thread makes itself (logins, the revocation poll) use it too.
import net from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');
const CHUNK_END = Buffer.from('\r\n');

/**
 * One keep-alive HTTP/1.1 connection, written by hand: a request is a prebuilt buffer, a
 * response is parsed just far enough (status line, Content-Length or chunked, Connection).
 * About five times cheaper per request than `http.request`, so on a 2-core machine the client
 * is not what limits the server.
 */
class Connection {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.socket = null;
    this.buffer = Buffer.alloc(0);
    this.waiting = null;
    this.lastUsed = 0;
  }

  /** Sends `bytes`; resolves `{status, body}` (body a Buffer), or `{status: 0}` on a network error. */
  send(bytes, timeoutMs = 30_000) {
    // Node closes keep-alive connections idle for 5 s; one about to be closed is not reused.
    if (this.socket && performance.now() - this.lastUsed > 4000) this.drop();
    this.lastUsed = performance.now();
    if (!this.socket) this.open();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fail(new Error(`timeout after ${timeoutMs / 1000} s`)), timeoutMs);
      this.waiting = { resolve, timer, bodyNeeded: true };
      this.socket.write(bytes);
    });
  }

  open() {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.parse(false);
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => {
      if (this.socket === socket) {
        // A response that ends with the connection (no length given) is complete now.
        if (this.waiting) this.parse(true);
        this.socket = null;
        this.fail(new Error('connection closed'));
      }
    });
  }

  parse(closed) {
    if (!this.waiting) return;
    const end = this.buffer.indexOf(CRLF2);
    if (end < 0) return;
    const head = this.buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    const length = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    const close = /\r\nconnection:\s*close/.test(lower);
    let body;
    let consumed;
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
      consumed = end + 4;
    } else if (length) {
      consumed = end + 4 + Number(length[1]);
      if (this.buffer.length < consumed) return;
      body = this.buffer.subarray(end + 4, consumed);
    } else if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
      const parts = [];
      let at = end + 4;
      for (;;) {
        const line = this.buffer.indexOf(CHUNK_END, at);
        if (line < 0) return;
        const size = parseInt(this.buffer.toString('latin1', at, line), 16);
        if (this.buffer.length < line + 2 + size + 2) return;
        if (size === 0) {
          consumed = line + 4;
          break;
        }
        parts.push(this.buffer.subarray(line + 2, line + 2 + size));
        at = line + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      if (!closed) return;
      body = this.buffer.subarray(end + 4);
      consumed = this.buffer.length;
    }
    this.buffer = this.buffer.subarray(consumed);
    const { resolve, timer } = this.waiting;
    this.waiting = null;
    clearTimeout(timer);
    if (close) this.drop();
    resolve({ status, body });
  }

  fail(error) {
    if (!this.waiting) return;
    const { resolve, timer } = this.waiting;
    this.waiting = null;
    clearTimeout(timer);
    this.drop();
    resolve({ status: 0, body: Buffer.from(error.message) });
  }

  drop() {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
  }
}

/** A response: its status, and its body as text (decoded on first read). */
class Response {
  constructor(status, body) {
    this.status = status;
    this.body = body;
  }

  get text() {
    return this.body.toString('utf8');
  }
}

/**
 * Keep-alive connections to one server (`base`: its URL, a path prefix allowed), at most
 * `sockets` at once; `request()` waits for a free one.
 */
export class Client {
  constructor(base, sockets = 1) {
    const url = new URL(base);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    this.prefix = url.pathname.replace(/\/$/, '');
    this.hostHeader = `${url.hostname}:${this.port}`;
    this.idle = Array.from({ length: sockets }, () => new Connection(this.host, this.port));
    this.queue = [];
  }

  /** The bytes of a request, built once and sent many times by the load loops. */
  build(method, path, { token, body, headers } = {}) {
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    let head = `${method} ${this.prefix}${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nAccept: application/json\r\n`;
    if (token) head += `Authorization: Bearer ${token}\r\n`;
    for (const [name, value] of Object.entries(headers ?? {})) head += `${name}: ${value}\r\n`;
    if (payload) head += `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n`;
    else if (method !== 'GET' && method !== 'HEAD') head += 'Content-Length: 0\r\n';
    head += '\r\n';
    return payload ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : Buffer.from(head, 'latin1');
  }

  /** Sends prebuilt bytes; resolves a {@link Response} (status 0: a network error, its message as body). */
  async send(bytes) {
    const connection = this.idle.pop() ?? (await new Promise((resolve) => this.queue.push(resolve)));
    const { status, body } = await connection.send(bytes);
    const next = this.queue.shift();
    if (next) next(connection);
    else this.idle.push(connection);
    return new Response(status, body);
  }

  /** One request: `body` is sent as JSON, `token` as a bearer. */
  request(method, path, options) {
    return this.send(this.build(method, path, options));
  }

  /** Closes every connection. */
  close() {
    for (const connection of this.idle) connection.drop();
  }
}

/** The JSON body of a response, or `undefined`. */
export function json(response) {
  try {
    return response.text ? JSON.parse(response.text) : undefined;
  } catch {
    return undefined;
  }
}

/** `status` or `status code` of a response, for error tallies (the contract's `code` when there is one). */
export function outcome(response) {
  if (response.status === 0) return `network: ${response.text.slice(0, 60)}`;
  const code = json(response)?.code;
  return code ? `${response.status} ${code}` : String(response.status);
}

/** p50/p99/max/mean of latencies in ms (unsorted input). */
export function latencySummary(values) {
  const sorted = Float64Array.from(values).sort();
  const at = (p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]);
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

function tally(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/**
 * Closed loop: `concurrency` loops of GET `path`, each with its own token from `tokens` (none
 * for an open route), for `seconds`. Answers requests/s, latency and statuses.
 */
export async function closedLoop({ base, path, tokens = [], concurrency, seconds }) {
  const client = new Client(base, concurrency);
  const requests = tokens.length
    ? tokens.map((token) => client.build('GET', path, { token }))
    : [client.build('GET', path)];
  const latencies = [];
  const statuses = {};
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async (index) => {
    const bytes = requests[index % requests.length];
    while (performance.now() < deadline) {
      const begin = performance.now();
      const response = await client.send(bytes);
      latencies.push(performance.now() - begin);
      tally(statuses, response.status === 200 ? '200' : outcome(response));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => loop(index)));
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  return {
    requests: latencies.length,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    latency: latencySummary(latencies),
    statuses,
  };
}

/**
 * Open loop at `rate` requests/s for `seconds` (GET `path`, tokens round-robin), at most
 * `maxInFlight` at once (`keepLatencies`: every latency too). Latency counts from the moment a request was due, so a server that
 * stalls is charged for the requests that queued meanwhile.
 */
export async function pacedLoop({ base, path, tokens = [], rate, seconds, maxInFlight = 64, keepLatencies = false }) {
  const client = new Client(base, maxInFlight);
  const requests = tokens.length
    ? tokens.map((token) => client.build('GET', path, { token }))
    : [client.build('GET', path)];
  const latencies = [];
  const statuses = {};
  const interval = 1000 / rate;
  const started = performance.now();
  const total = Math.floor(seconds * rate);
  const pending = new Set();
  let sent = 0;
  while (sent < total) {
    const due = started + sent * interval;
    const now = performance.now();
    if (due > now) await sleep(Math.max(1, Math.floor(due - now)));
    while (sent < total && started + sent * interval <= performance.now()) {
      const dueAt = started + sent * interval;
      const bytes = requests[sent % requests.length];
      sent += 1;
      // Past `maxInFlight` the client queues the request: its wait counts, from `dueAt`.
      const done = client.send(bytes).then((response) => {
        latencies.push(performance.now() - dueAt);
        tally(statuses, response.status === 200 ? '200' : outcome(response));
        pending.delete(done);
      });
      pending.add(done);
    }
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  return {
    requests: latencies.length,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    latency: latencySummary(latencies),
    statuses,
    ...(keepLatencies ? { latencies } : {}),
  };
}

/**
 * Refresh chains: each loop presents its refresh token and continues with the one it got back,
 * for `seconds` or until `stopped()`. `chains`: `[{base, refreshToken}]`. A chain whose refresh
 * fails stops (its error is tallied). Answers the chains' latest tokens, to go on from later.
 * `rate` (rotations/s over all chains): each chain waits for its next turn, instead of going on
 * at once (a closed loop, which saturates the server).
 */
export async function refreshChains(
  { chains, seconds, refreshPath = '/auth/refresh', rate },
  { stopped = () => false } = {},
) {
  const clients = new Map();
  const clientFor = (base) => {
    if (!clients.has(base)) clients.set(base, new Client(base, chains.length));
    return clients.get(base);
  };
  const latencies = [];
  const errors = {};
  const started = performance.now();
  const deadline = seconds === undefined ? Infinity : started + seconds * 1000;
  const latest = chains.map((chain) => ({ ...chain }));
  const interval = rate ? (1000 * chains.length) / rate : 0;
  const loop = async (chain, index) => {
    const client = clientFor(chain.base);
    // Paced chains start spread over one interval, so the turns do not come in bursts.
    let due = started + (interval * index) / chains.length;
    while (performance.now() < deadline && !stopped()) {
      if (interval) {
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        due += interval;
      }
      const begin = performance.now();
      const response = await client.request('POST', refreshPath, { body: { refresh_token: chain.refreshToken } });
      const token = response.status === 200 ? json(response)?.refresh_token : undefined;
      if (!token) {
        tally(errors, outcome(response));
        chain.refreshToken = null;
        return;
      }
      latencies.push(performance.now() - begin);
      chain.refreshToken = token;
    }
  };
  await Promise.all(latest.map(loop));
  const elapsed = (performance.now() - started) / 1000;
  for (const client of clients.values()) client.close();
  return {
    rotations: latencies.length,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    latency: latencySummary(latencies),
    errors,
    chains: latest.filter((chain) => chain.refreshToken),
  };
}

/** Logs in through `client`; answers the token response, or throws with the status and code. */
export async function login(client, path, credentials) {
  const response = await client.request('POST', path, { body: credentials });
  const body = json(response);
  if (response.status !== 200 || !body?.access_token) throw new Error(`login: ${outcome(response)}`);
  return body;
}

/**
 * A login storm: `inFlight` loops, each logging in with its own credentials again and again for
 * `seconds` or until stopped (sessions are left to expire). Answers logins/s and their latency.
 */
export async function loginStorm({ base, path, credentials, inFlight, seconds }, { stopped = () => false } = {}) {
  const client = new Client(base, inFlight);
  const latencies = [];
  const errors = {};
  const started = performance.now();
  const deadline = seconds === undefined ? Infinity : started + seconds * 1000;
  const loop = async (index) => {
    const bytes = client.build('POST', path, { body: credentials[index % credentials.length] });
    while (performance.now() < deadline && !stopped()) {
      const begin = performance.now();
      const response = await client.send(bytes);
      if (response.status === 200) latencies.push(performance.now() - begin);
      else tally(errors, outcome(response));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, index) => loop(index)));
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  return {
    logins: latencies.length,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    latency: latencySummary(latencies),
    errors,
  };
}

/**
 * `total` guarded GETs (closed loop, `concurrency`) over a pool of sessions that churns: one
 * login and one logout (of the oldest session, taken out of the pool first) per `churnEvery`
 * requests, at most two at a time. `progress({requests})` is called every `progressEvery`.
 * Answers the pool's tokens at the end too, to go on from.
 */
export async function churnRun(
  { base, path, loginPath, logoutPath, credentials, sessions, total, concurrency, churnEvery, progressEvery },
  { progress = () => undefined } = {},
) {
  const client = new Client(base, concurrency);
  const churnClient = new Client(base, 4);
  const pool = sessions.map((token) => ({ token, bytes: client.build('GET', path, { token }) }));
  const statuses = {};
  const churnErrors = {};
  const latencies = [];
  let requests = 0;
  let logins = 0;
  let logouts = 0;
  let finished = false;
  const started = performance.now();
  const loop = async () => {
    while (requests < total) {
      requests += 1;
      if (requests % progressEvery === 0) progress({ requests });
      const { bytes } = pool[requests % pool.length];
      const begin = performance.now();
      const response = await client.send(bytes);
      latencies.push(performance.now() - begin);
      tally(statuses, response.status === 200 ? '200' : outcome(response));
    }
  };
  const churn = async (lane) => {
    let turn = lane;
    while (!finished) {
      if (requests < (turn + 1) * churnEvery) {
        await sleep(2);
        continue;
      }
      turn += 2;
      try {
        const tokens = await login(churnClient, loginPath, credentials[turn % credentials.length]);
        logins += 1;
        pool.push({ token: tokens.access_token, bytes: client.build('GET', path, { token: tokens.access_token }) });
        const oldest = pool.shift();
        // Requests already sent with it finish first: a 401 here would be the churn's, not the guard's.
        await sleep(100);
        const response = await churnClient.request('POST', logoutPath, { token: oldest.token });
        if (response.status === 204) logouts += 1;
        else tally(churnErrors, `logout ${outcome(response)}`);
      } catch (error) {
        tally(churnErrors, error.message);
      }
    }
  };
  const churners = [churn(0), churn(1)];
  await Promise.all(Array.from({ length: concurrency }, loop));
  finished = true;
  await Promise.all(churners);
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  churnClient.close();
  return {
    requests: latencies.length,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    latency: latencySummary(latencies),
    statuses,
    logins,
    logouts,
    churnErrors,
    sessions: pool.map((session) => session.token),
  };
}
