// `npm run bench`: speed and memory figures of the compiled service (dist/), printed as a report.
//
// Everything is bounded (fixed counts or fixed short durations) and talks only to 127.0.0.1.
// The embedded default (SQLite + in-process store) is always measured; PostgreSQL + Redis too when
// both answer locally (a throw-away database and a unique Redis key prefix, removed at the end).
// The HTTP load runs in a worker thread, so client and server each get their own event loop.
//
// Environment: BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test, used to create
// and drop the benchmark database), BENCH_REDIS_URL (default redis://127.0.0.1:6379); both must be
// on 127.0.0.1. An interrupted run (Ctrl-C) may leave a database named nra_bench_<hex> behind.
import { createPublicKey, createSecretKey, generateKeyPairSync, KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

// ---------------------------------------------------------------------------------------------
// Load generator (worker thread)
// ---------------------------------------------------------------------------------------------

/** `me` / `jwks`: concurrent GETs for a fixed time; `refresh`: one sequential rotation chain. */
async function runLoad({ mode, port, accessToken, refreshToken, durationMs, concurrency }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  const statuses = {};
  let stopReason = null;
  const deadline = performance.now() + durationMs;
  if (mode === 'me' || mode === 'jwks') {
    const path = mode === 'me' ? '/auth/me' : '/.well-known/jwks.json';
    const headers = mode === 'me' ? { authorization: `Bearer ${accessToken}` } : {};
    const loop = async () => {
      while (performance.now() < deadline) {
        const start = performance.now();
        const { status } = await httpJson(port, 'GET', path, undefined, headers, agent);
        latencies.push(performance.now() - start);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  } else {
    let token = refreshToken;
    while (performance.now() < deadline) {
      const start = performance.now();
      const { status, body } = await httpJson(port, 'POST', '/auth/refresh', { refresh_token: token }, {}, agent);
      latencies.push(performance.now() - start);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== 200) {
        stopReason = `HTTP ${status} ${body?.code ?? ''}`.trim();
        break;
      }
      token = body.refresh_token;
    }
  }
  agent.destroy();
  return { latencies, statuses, stopReason, elapsedMs: durationMs };
}

/** One JSON request to the service on 127.0.0.1; `agent` false means a fresh connection. */
function httpJson(port, method, path, body, headers = {}, agent = false) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          accept: 'application/json',
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------
// Main thread
// ---------------------------------------------------------------------------------------------

async function main() {
  const startedAt = performance.now();
  // A hung step must not hang the terminal; the timer does not keep the process alive.
  setTimeout(() => {
    console.error('\nbench: still running after 180 s, giving up');
    process.exit(1);
  }, 180_000).unref();

  await import('reflect-metadata');
  const dist = new URL('../dist/', import.meta.url);
  const { createApp } = await import(new URL('app.factory.js', dist));
  const { loadConfig } = await import(new URL('config/app.config.js', dist));
  const { RevocationService } = await import(new URL('tokens/revocation.service.js', dist));
  const { RevocationStore } = await import(new URL('tokens/revocation-store.interface.js', dist));
  const { TokensService } = await import(new URL('tokens/tokens.service.js', dist));
  const { REDIS_CLIENT } = await import(new URL('tokens/redis-client.provider.js', dist));
  const { AccessTokenService } = await import(new URL('auth/access-token.service.js', dist));
  const nest = {
    createApp,
    loadConfig,
    RevocationService,
    RevocationStore,
    TokensService,
    REDIS_CLIENT,
    AccessTokenService,
  };

  const cpu = os.cpus();
  heading('nest-refresh-auth benchmark');
  line(`node ${process.version}, ${os.platform()} ${os.arch()}, ${cpu.length} x ${cpu[0]?.model ?? 'cpu'}`);
  line(`load generator: a worker thread (own event loop); server: this thread; all on 127.0.0.1`);
  line(`load average at start: ${loadAverage()}${busyNote()}`);

  const summary = {};

  // 1. -----------------------------------------------------------------------------------------
  summary.jwt = benchJwt();

  // 2-5. ---------------------------------------------------------------------------------------
  const backends = [{ name: 'SQLite + in-process store', key: 'embedded', services: null }];
  const services = await probeServices();
  if (services.ok) {
    backends.push({ name: 'PostgreSQL + Redis', key: 'services', services });
  } else {
    heading('PostgreSQL + Redis');
    line(`skipped: ${services.reason}`);
  }
  for (const backend of backends) {
    summary[backend.key] = await benchBackend(nest, backend);
  }

  printSummary(summary);
  line('');
  line(`load average at end: ${loadAverage()}${busyNote()}`);
  line(`bench finished in ${((performance.now() - startedAt) / 1000).toFixed(1)} s (build not included)`);
}

// 1. Token verification ------------------------------------------------------------------------

function benchJwt() {
  heading('1. Access-token verification (jsonwebtoken, in process)');
  const requireFromNestJwt = createRequire(createRequire(import.meta.url).resolve('@nestjs/jwt'));
  const jwt = requireFromNestJwt('jsonwebtoken');
  const jwtVersion = requireFromNestJwt('jsonwebtoken/package.json').version;
  line(`jsonwebtoken ${jwtVersion}, as resolved by @nestjs/jwt (and passport-jwt)`);

  const claims = { sid: randomUUID(), roles: ['user'], scope: 'notes:read notes:write' };
  const common = { issuer: 'https://auth.bench', audience: 'nra-bench', clockTolerance: 5 };
  const signWith = (key, algorithm) =>
    jwt.sign(claims, key, {
      algorithm,
      keyid: 'bench',
      header: { alg: algorithm, kid: 'bench', typ: 'at+jwt' },
      subject: randomUUID(),
      issuer: common.issuer,
      audience: common.audience,
      jwtid: randomUUID(),
      expiresIn: 900,
    });

  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
  const esToken = signWith(privateKey, 'ES256');
  const secret = randomBytes(48).toString('base64url');
  const secretKey = createSecretKey(Buffer.from(secret, 'utf8'));
  const hsToken = signWith(secretKey, 'HS256');

  const variants = [
    { id: 'es-key', label: 'ES256, KeyObject (parsed once)', token: esToken, key: publicKey, alg: 'ES256' },
    { id: 'es-pem', label: 'ES256, PEM string (every verify)', token: esToken, key: publicPem, alg: 'ES256' },
    { id: 'hs-key', label: 'HS256, secret KeyObject', token: hsToken, key: secretKey, alg: 'HS256' },
    { id: 'hs-str', label: 'HS256, secret string', token: hsToken, key: secret, alg: 'HS256' },
  ];
  for (const variant of variants) {
    const options = { algorithms: [variant.alg], ...common };
    variant.run = () => jwt.verify(variant.token, variant.key, options);
    if (variant.run().sid !== claims.sid) throw new Error(`verification failed for ${variant.label}`);
    for (let i = 0; i < 300; i += 1) variant.run(); // warm-up
    variant.rounds = [];
  }
  // Interleaved rounds, so a slow moment of the machine does not land on one variant only.
  const ROUNDS = 5;
  const ROUND_MS = 200;
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const variant of variants) variant.rounds.push(opsPerSecond(variant.run, ROUND_MS));
  }
  const rows = variants.map((variant) => {
    variant.opsPerSec = median(variant.rounds);
    return [variant.label, fmtInt(variant.opsPerSec), `${(1e6 / variant.opsPerSec).toFixed(1)} µs`];
  });
  table(['verify', `ops/s (median of ${ROUNDS})`, 'per verify'], rows);
  const by = Object.fromEntries(variants.map((variant) => [variant.id, variant.opsPerSec]));
  const esSpeedup = by['es-key'] / by['es-pem'];
  const hsSpeedup = by['hs-key'] / by['hs-str'];
  line(`KeyObject speed-up: ES256 ${fmtRatio(esSpeedup)}, HS256 ${fmtRatio(hsSpeedup)}`);
  line(
    `(jsonwebtoken turns a non-KeyObject key into one on every call: createPublicKey(), and for an HMAC ` +
      `string first a failed createPublicKey() then createSecretKey())`,
  );
  return { ...by, esSpeedup, hsSpeedup };
}

function opsPerSecond(fn, durationMs) {
  let count = 0;
  const start = performance.now();
  const end = start + durationMs;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 32; i += 1) fn();
    count += 32;
    now = performance.now();
  }
  return (count * 1000) / (now - start);
}

// 2-5. One backend ------------------------------------------------------------------------------

async function benchBackend(nest, backend) {
  heading(backend.name);
  const result = { name: backend.name };
  const dataDir = mkdtempSync(join(tmpdir(), 'nra-bench-'));
  let database = null;
  let app = null;
  let redisReconnects = 0;
  try {
    const env = {
      NODE_ENV: 'test',
      PORT: '0',
      DATA_DIR: dataDir,
      COOKIE_SECURE: 'false',
      LOGIN_MAX_FAILURES_PER_IP: '1000000',
      LOGIN_MAX_FAILURES: '1000000',
    };
    if (backend.services) {
      database = await createDatabase(backend.services);
      Object.assign(env, {
        DATABASE_URL: database.url,
        REDIS_URL: backend.services.redisUrl,
        REDIS_KEY_PREFIX: backend.services.redisKeyPrefix,
      });
    }
    const bootStart = performance.now();
    app = await nest.createApp(nest.loadConfig(env), { logger: false });
    await app.listen(0, '127.0.0.1');
    const port = app.getHttpServer().address().port;
    const redis = backend.services ? app.get(nest.REDIS_CLIENT) : null;
    redis?.on('reconnecting', () => {
      redisReconnects += 1;
    });
    line(
      `booted in ${fmtMs(performance.now() - bootStart)} (migrations included) on 127.0.0.1:${port}` +
        (database ? `; database ${database.name}, Redis prefix ${backend.services.redisKeyPrefix}` : `; ${dataDir}`),
    );

    // One user, one login (argon2 makes these two requests slow; they are not measured).
    const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
    const password = randomBytes(12).toString('base64url');
    const registered = await httpJson(port, 'POST', '/auth/register', { email, password, name: 'Bench' });
    expectStatus(registered, 201, 'register');
    const login = await httpJson(port, 'POST', '/auth/login', { email, password });
    expectStatus(login, 200, 'login');
    const { access_token: accessToken, refresh_token: refreshToken } = login.body;
    const me = await httpJson(port, 'GET', '/auth/me', undefined, { authorization: `Bearer ${accessToken}` });
    expectStatus(me, 200, 'GET /auth/me');
    const userId = me.body.id;
    const verifyKey = app.get(nest.AccessTokenService).keyFor(accessToken);
    line(
      `request path hands jsonwebtoken a ${verifyKey instanceof KeyObject ? 'KeyObject' : typeof verifyKey}` +
        ` (${verifyKey.asymmetricKeyType ?? verifyKey.type}) from the boot-time key ring`,
    );

    // 2. GET /auth/me
    subheading('2. GET /auth/me, keep-alive, concurrency 16');
    await load({ mode: 'me', port, accessToken, durationMs: 500, concurrency: 16 }); // warm-up
    const eluStart = performance.eventLoopUtilization();
    const meRun = await load({ mode: 'me', port, accessToken, durationMs: 5000, concurrency: 16 });
    const elu = performance.eventLoopUtilization(eluStart);
    result.me = reportLoad(meRun, 'requests');
    const serverMsPerRequest = elu.active / Math.max(meRun.statuses[200] ?? 0, 1);
    const accessTokens = app.get(nest.AccessTokenService);
    const verifyTimes = [];
    for (let i = 0; i < 2000; i += 1) {
      const start = performance.now();
      await accessTokens.verify(accessToken);
      verifyTimes.push(performance.now() - start);
    }
    result.verifyP50 = percentile(sorted(verifyTimes), 50);
    line(
      `server event loop ${Math.round(elu.utilization * 100)}% busy: ~${fmtMs(serverMsPerRequest)} of server ` +
        `thread time per request, of which ` +
        `AccessTokenService.verify() (ES256 signature + revocation check, timed in process, 2,000 calls): ` +
        `p50 ${fmtMs(result.verifyP50)}`,
    );
    if (!backend.services) {
      // The framework's own floor: a public route with no token, no database and no cache.
      const floorRun = await load({ mode: 'jwks', port, durationMs: 2000, concurrency: 16 });
      const floor = summarizeLoad(floorRun);
      result.floorPerSec = floor.perSec;
      line(
        `reference: public GET /.well-known/jwks.json (same stack, no JWT, no database) ` +
          `${fmtInt(floor.perSec)} req/s, p50 ${fmtMs(floor.p50)}`,
      );
    }

    // 3. Refresh rotation
    subheading('3. POST /auth/refresh, one sequential rotation chain');
    const refreshRun = await load({ mode: 'refresh', port, refreshToken, durationMs: 3000, concurrency: 1 });
    result.refresh = reportLoad(refreshRun, 'refreshes');

    // 4 + 5. Revocation checks and memory
    const revocation = app.get(nest.RevocationService);
    const store = app.get(nest.RevocationStore);
    const tokens = app.get(nest.TokensService);
    const probe = probeStore(store);
    const WARM_UP = 200;
    const sessionCount = backend.services ? 2000 : 10_000;
    const sessionBudgetMs = backend.services ? 8000 : 15_000;
    // Session ids are kept as 16 raw bytes each in one Buffer, outside the JS heap, and every
    // timing goes into a typed array allocated up front: the bench holds no per-session heap object,
    // so the heap deltas below are the service's own.
    const idBytes = Buffer.alloc((sessionCount + WARM_UP) * 16);
    const missOut = { hits: new Float64Array(sessionCount), misses: new Float64Array(sessionCount) };

    subheading(
      `4/5. Sessions: ${fmtInt(sessionCount)} (+${WARM_UP} for warm-up) x TokensService.startSession(), direct, no HTTP`,
    );
    const mem0 = await memory();
    let created = 0;
    const startSessionsAt = performance.now();
    const sessionDeadline = startSessionsAt + sessionBudgetMs;
    while (created < sessionCount + WARM_UP && performance.now() < sessionDeadline) {
      const issued = await tokens.startSession(userId, 'notes:read notes:write', { ip: null, userAgent: null });
      idBytes.write(issued.session.id.replaceAll('-', ''), created * 16, 'hex');
      created += 1;
    }
    const sessionsMs = performance.now() - startSessionsAt;
    result.startSessionPerSec = (created * 1000) / sessionsMs;
    line(
      `${fmtInt(created)} sessions in ${fmtMs(sessionsMs)}: ${fmtInt(result.startSessionPerSec)} startSession/s ` +
        `(2 INSERTs, 2 commits each)` +
        (created < sessionCount + WARM_UP ? ` (stopped by the ${sessionBudgetMs / 1000} s budget)` : ''),
    );
    const mem1 = await memory();
    const checkCount = Math.max(0, created - WARM_UP);
    // Warm-up: the first sessions are checked once so the miss path is compiled before measuring.
    await timeChecks(revocation, probe, (i) => uuidAt(idBytes, i), Math.min(WARM_UP, created), 10_000, {
      hits: new Float64Array(WARM_UP),
      misses: new Float64Array(WARM_UP),
    });
    const memWarm = await memory();

    subheading('4. RevocationService.isRevoked(sid)');
    // Misses: every id below was inserted and never checked, so the store cannot know it and the
    // call goes store GET -> database SELECT -> store SET (markLive). Each call is classified by
    // what store.get() really answered, so nothing is assumed.
    const missRun = await timeChecks(
      revocation,
      probe,
      (i) => uuidAt(idBytes, WARM_UP + i),
      checkCount,
      10_000,
      missOut,
    );
    const mem2 = await memory();
    const cachedEntries = store.entries instanceof Map ? store.entries.size : null;
    let redisKeyBytes = null;
    if (backend.services && created > 0) {
      redisKeyBytes = await redisMemoryUsage(backend.services, uuidAt(idBytes, created - 1));
    }

    // Hits: 100 of those sessions (just cached as live) re-checked round-robin, 200,000 calls or
    // ~1 s; a call made after an entry's 1 s live TTL ran out is a miss and is counted as such.
    const hot = Array.from({ length: Math.min(100, checkCount) }, (_, i) => uuidAt(idBytes, WARM_UP + i));
    const hitRun = await timeChecks(revocation, probe, (i) => hot[i % hot.length], 200_000, 1000, {
      hits: new Float64Array(200_000),
      misses: new Float64Array(200_000),
    });

    let rawRedis = null;
    if (backend.services) rawRedis = await redisGetLatency(backend.services);

    const hit = hitRun.hits;
    const miss = missRun.misses;
    table(
      ['isRevoked()', 'calls', 'p50', 'p90', 'p99', 'mean'],
      [
        ['cache hit (store answers)', fmtInt(hit.length), ...latencyCells(hit)],
        ['cache miss (store, then DB, then store)', fmtInt(miss.length), ...latencyCells(miss)],
      ],
    );
    line(
      `method: misses = ${fmtInt(checkCount)} distinct session ids inserted in the database and never checked ` +
        `before, so every one is a true miss without waiting out the 1 s live TTL; hits = ${hot.length} of them ` +
        `re-checked round-robin right after. Every call is classified by what store.get() answered: ` +
        `${missRun.hits.length} of the miss-run calls hit and ${hitRun.misses.length} of the hit-run calls missed ` +
        `(TTL ran out); those are left out of the rows above.`,
    );
    if (rawRedis) {
      line(
        `reference: a bare Redis GET from a separate node-redis client, 2,000 sequential calls: ` +
          `p50 ${fmtMs(rawRedis.p50)}, p99 ${fmtMs(rawRedis.p99)}`,
      );
    }
    const hitP50 = percentile(sorted(hit), 50);
    const missP50 = percentile(sorted(miss), 50);
    result.revocation = { hitP50, missP50, ratio: missP50 / hitP50, hitMean: mean(hit), missMean: mean(miss) };
    line(
      `a miss costs ${fmtRatio(missP50 / hitP50)} a hit at the median; sequentially ` +
        `${fmtInt(1000 / mean(hit))} hits/s vs ${fmtInt(1000 / mean(miss))} misses/s`,
    );

    subheading('5. Memory (after forced GC)');
    table(
      ['point', 'rss', 'heapUsed', 'external+arrayBuffers'],
      [
        ['before sessions', fmtBytes(mem0.rss), fmtBytes(mem0.heapUsed), fmtBytes(mem0.ext)],
        [`after ${fmtInt(created)} startSession()`, ...memCells(mem1, mem0)],
        [`after ${WARM_UP} warm-up isRevoked()`, ...memCells(memWarm, mem1)],
        [`after ${fmtInt(checkCount)} distinct isRevoked()`, ...memCells(mem2, memWarm)],
      ],
    );
    line(
      `(rss also counts freed memory the allocator has not returned yet and native buffers such as argon2's ` +
        `64 MiB per hash during register/login, so it moves by tens of MiB between runs; heapUsed is the figure ` +
        `to read)`,
    );
    const perSession = (mem2.heapUsed - memWarm.heapUsed) / Math.max(checkCount, 1);
    result.memory = { sessions: checkCount, perSession, cachedEntries, redisKeyBytes };
    if (cachedEntries !== null) {
      // The delta above also carries whatever else the heap did meanwhile (about ±1 MiB here); emptying
      // the store's Map and measuring again isolates exactly what the cache retains.
      store.entries.clear();
      const memCleared = await memory();
      const isolated = (mem2.heapUsed - memCleared.heapUsed) / cachedEntries;
      result.memory.perSession = isolated;
      result.memory.perSessionDelta = perSession;
      line(
        `in-process store: ${fmtInt(cachedEntries)} entries; emptying its Map (bench only) frees ` +
          `${fmtBytes(mem2.heapUsed - memCleared.heapUsed)}: ${fmtInt(isolated)} bytes of heap per cached session, ` +
          `36-character key included (the before/after delta says ${fmtInt(perSession)} bytes). 'live' entries ` +
          `expire after 1 s but are only swept every 60 s, so this is paid for every session seen in the last ~61 s`,
      );
    } else {
      line(
        `the cache is in Redis: ${fmtInt(perSession)} bytes/session of this process's heap (within the ±1 MiB ` +
          `noise of heapUsed: nothing is kept in process)` +
          (redisKeyBytes === null ? '' : `; Redis MEMORY USAGE of one 'live' key: ${redisKeyBytes} bytes`),
      );
    }
    line(
      `startSession() itself: ${fmtInt((mem1.heapUsed - mem0.heapUsed) / Math.max(created, 1))} bytes of heap ` +
        `retained per session (about 0: nothing is kept per login)`,
    );
    if (redis) {
      result.redisReconnects = redisReconnects;
      line('');
      line(
        `Redis client reconnects during this backend's run: ${redisReconnects} ` +
          `(expected 0: a reconnect means the connection to Redis dropped during the run)`,
      );
    }
    return result;
  } finally {
    if (app) await app.close();
    if (database) await dropDatabase(backend.services, database.name);
    if (backend.services) await deleteRedisKeys(backend.services);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function expectStatus(response, status, what) {
  if (response.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  }
}

function load(data) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: data });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load worker exited with code ${code}`));
    });
  });
}

function summarizeLoad(run) {
  const times = sorted(run.latencies);
  const ok = run.statuses[200] ?? 0;
  return { perSec: (ok * 1000) / run.elapsedMs, p50: percentile(times, 50) };
}

function reportLoad(run, noun) {
  const times = sorted(run.latencies);
  const ok = run.statuses[200] ?? 0;
  const perSec = (ok * 1000) / run.elapsedMs;
  const statusText = Object.entries(run.statuses)
    .map(([status, count]) => `${status}: ${fmtInt(count)}`)
    .join(', ');
  table(
    [`${noun}/s`, 'p50', 'p90', 'p99', 'max', 'responses'],
    [
      [
        fmtInt(perSec),
        fmtMs(percentile(times, 50)),
        fmtMs(percentile(times, 90)),
        fmtMs(percentile(times, 99)),
        fmtMs(times.at(-1) ?? NaN),
        statusText,
      ],
    ],
  );
  if (run.stopReason) line(`chain stopped early: ${run.stopReason}`);
  if (ok !== run.latencies.length) line(`WARNING: ${run.latencies.length - ok} responses were not 200`);
  return {
    perSec,
    p50: percentile(times, 50),
    p90: percentile(times, 90),
    p99: percentile(times, 99),
    count: run.latencies.length,
  };
}

/** Wraps store.get() so each isRevoked() call can be classified as a hit or a miss. */
function probeStore(store) {
  // `miss` is what the first get() of a call answered (the in-process markLive() calls get() again).
  const probe = { miss: null };
  const get = store.get.bind(store);
  store.get = async (sessionId) => {
    const status = await get(sessionId);
    probe.miss ??= status === null;
    return status;
  };
  return probe;
}

/**
 * Times `calls` isRevoked() calls on `idAt(i)`, for at most `budgetMs`, into the preallocated
 * `out` arrays, classifying each call as a hit or a miss by the store's first answer.
 */
async function timeChecks(revocation, probe, idAt, calls, budgetMs, out) {
  let hits = 0;
  let misses = 0;
  let revoked = 0;
  const deadline = performance.now() + budgetMs;
  for (let i = 0; i < calls && performance.now() < deadline; i += 1) {
    const id = idAt(i);
    probe.miss = null;
    const start = performance.now();
    const result = await revocation.isRevoked(id);
    const elapsed = performance.now() - start;
    if (result) revoked += 1;
    if (probe.miss) out.misses[misses++] = elapsed;
    else out.hits[hits++] = elapsed;
  }
  if (revoked > 0) throw new Error(`${revoked} live sessions were reported revoked`);
  return { hits: out.hits.subarray(0, hits), misses: out.misses.subarray(0, misses) };
}

/**
 * The i-th 16-byte id of `bytes` as a UUID string, made by JSON.parse as the service gets a `sid`
 * from a token's claims: a fresh flat string that only the cache may keep.
 */
function uuidAt(bytes, i) {
  const h = bytes.toString('hex', i * 16, i * 16 + 16);
  return JSON.parse(`"${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}"`);
}

// Services ---------------------------------------------------------------------------------------

async function probeServices() {
  const adminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  for (const url of [adminUrl, redisUrl]) {
    const host = new URL(url).hostname;
    if (host !== '127.0.0.1') return { ok: false, reason: `${url} is not on 127.0.0.1` };
  }
  const { default: pg } = await import('pg');
  const { createClient } = await import('redis');
  const services = {
    ok: true,
    pg,
    createClient,
    adminUrl,
    redisUrl,
    redisKeyPrefix: `nra-bench:${randomBytes(6).toString('hex')}:`,
  };
  try {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
    await client.connect();
    await client.query('SELECT 1');
    await client.end();
  } catch (error) {
    return { ok: false, reason: `PostgreSQL at ${adminUrl} is not reachable (${error.message})` };
  }
  try {
    await withRedis(services, (client) => client.ping());
  } catch (error) {
    return { ok: false, reason: `Redis at ${redisUrl} is not reachable (${error.message})` };
  }
  return services;
}

async function withRedis(services, use) {
  const client = services.createClient({
    url: services.redisUrl,
    socket: { connectTimeout: 2000, reconnectStrategy: false },
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.close().catch(() => client.destroy());
  }
}

async function adminQuery(services, sql) {
  const client = new services.pg.Client({ connectionString: services.adminUrl, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function createDatabase(services) {
  const name = `nra_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(services, `CREATE DATABASE ${name}`);
  const url = new URL(services.adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

async function dropDatabase(services, name) {
  await adminQuery(services, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

async function deleteRedisKeys(services) {
  await withRedis(services, async (client) => {
    for await (const keys of client.scanIterator({ MATCH: `${services.redisKeyPrefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  });
}

async function redisGetLatency(services) {
  return withRedis(services, async (client) => {
    const key = `${services.redisKeyPrefix}bench-probe`;
    await client.set(key, 'live', { expiration: { type: 'PX', value: 10_000 } });
    const times = [];
    for (let i = 0; i < 2000; i += 1) {
      const start = performance.now();
      await client.get(key);
      times.push(performance.now() - start);
    }
    const s = sorted(times);
    return { p50: percentile(s, 50), p99: percentile(s, 99) };
  });
}

async function redisMemoryUsage(services, sessionId) {
  return withRedis(services, (client) =>
    client.sendCommand(['MEMORY', 'USAGE', `${services.redisKeyPrefix}session:${sessionId}`]),
  ).catch(() => null);
}

// Memory -----------------------------------------------------------------------------------------

let gcFunction = null;

/** Process memory after full GCs (the flag is set at run time, so `node scripts/bench.mjs` suffices). */
async function memory() {
  if (!gcFunction) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc');
  }
  for (let i = 0; i < 3; i += 1) {
    gcFunction();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, ext: usage.external + usage.arrayBuffers };
}

function memCells(now, before) {
  const delta = (a, b) => `${a - b >= 0 ? '+' : '-'}${fmtBytes(Math.abs(a - b))}`;
  return [
    `${fmtBytes(now.rss)} (${delta(now.rss, before.rss)})`,
    `${fmtBytes(now.heapUsed)} (${delta(now.heapUsed, before.heapUsed)})`,
    `${fmtBytes(now.ext)} (${delta(now.ext, before.ext)})`,
  ];
}

// Summary ----------------------------------------------------------------------------------------

function printSummary(summary) {
  heading('6. Summary');
  const { jwt, embedded: sqlite, services } = summary;
  const na = 'n/a (skipped)';
  const rows = [
    [
      'ES256 verify, KeyObject vs PEM string',
      `${fmtInt(jwt['es-key'])} vs ${fmtInt(jwt['es-pem'])} ops/s`,
      fmtRatio(jwt.esSpeedup),
    ],
    [
      'HS256 verify, KeyObject vs string secret',
      `${fmtInt(jwt['hs-key'])} vs ${fmtInt(jwt['hs-str'])} ops/s`,
      fmtRatio(jwt.hsSpeedup),
    ],
    [
      'GET /auth/me req/s (c=16), SQLite vs PG+Redis',
      services
        ? `${fmtInt(sqlite.me.perSec)} vs ${fmtInt(services.me.perSec)}`
        : `${fmtInt(sqlite.me.perSec)} vs ${na}`,
      services ? fmtRatio(sqlite.me.perSec / services.me.perSec) : '',
    ],
    ['GET /auth/me p50 / p99, SQLite', `${fmtMs(sqlite.me.p50)} / ${fmtMs(sqlite.me.p99)}`, ''],
    ['GET /auth/me p50 / p99, PG+Redis', services ? `${fmtMs(services.me.p50)} / ${fmtMs(services.me.p99)}` : na, ''],
    [
      'refreshes/s (sequential), SQLite vs PG+Redis',
      services
        ? `${fmtInt(sqlite.refresh.perSec)} vs ${fmtInt(services.refresh.perSec)}`
        : `${fmtInt(sqlite.refresh.perSec)} vs ${na}`,
      services ? fmtRatio(sqlite.refresh.perSec / services.refresh.perSec) : '',
    ],
    [
      'isRevoked p50 hit vs miss, SQLite + in-process',
      `${fmtMs(sqlite.revocation.hitP50)} vs ${fmtMs(sqlite.revocation.missP50)}`,
      `miss = ${fmtRatio(sqlite.revocation.ratio)} hit`,
    ],
    [
      'isRevoked p50 hit vs miss, PG + Redis',
      services ? `${fmtMs(services.revocation.hitP50)} vs ${fmtMs(services.revocation.missP50)}` : na,
      services ? `miss = ${fmtRatio(services.revocation.ratio)} hit` : '',
    ],
    [
      'in-process store, heap per cached session',
      `${fmtInt(sqlite.memory.perSession)} bytes (${fmtInt(sqlite.memory.sessions)} sessions)`,
      '',
    ],
  ];
  if (services?.memory.redisKeyBytes != null) {
    rows.push(['Redis, MEMORY USAGE per cached session key', `${services.memory.redisKeyBytes} bytes`, '']);
  }
  if (services?.redisReconnects !== undefined) {
    rows.push(['Redis reconnects during the PG+Redis run', String(services.redisReconnects), '']);
  }
  table(['figure', 'value', 'ratio'], rows);
}

function loadAverage() {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

function busyNote() {
  return os.loadavg()[0] > os.cpus().length / 2
    ? ' - other work is running: absolute figures are lower and noisier than on an idle machine; ratios hold better'
    : '';
}

// Formatting -------------------------------------------------------------------------------------

function heading(text) {
  process.stdout.write(`\n== ${text} ${'='.repeat(Math.max(0, 92 - text.length))}\n`);
}

function subheading(text) {
  process.stdout.write(`\n-- ${text}\n`);
}

function line(text) {
  process.stdout.write(`${text}\n`);
}

function table(header, rows) {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => String(row[i]).length)));
  const render = (row) =>
    row
      .map((cell, i) => String(cell).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  line(render(header));
  line(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) line(render(row));
}

function sorted(values) {
  return Float64Array.from(values).sort();
}

function percentile(sortedValues, p) {
  if (sortedValues.length === 0) return NaN;
  const index = Math.min(sortedValues.length - 1, Math.max(0, Math.ceil((p / 100) * sortedValues.length) - 1));
  return sortedValues[index];
}

function median(values) {
  return percentile(sorted(values), 50);
}

function mean(values) {
  let total = 0;
  for (const value of values) total += value;
  return values.length ? total / values.length : NaN;
}

function latencyCells(values) {
  const s = sorted(values);
  return [fmtMs(percentile(s, 50)), fmtMs(percentile(s, 90)), fmtMs(percentile(s, 99)), fmtMs(mean(values))];
}

function fmtMs(ms) {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 1)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function fmtInt(value) {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

function fmtRatio(value) {
  return Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)}x` : 'n/a';
}

function fmtBytes(bytes) {
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${Math.round(bytes)} B`;
  if (abs < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// Entry point, last so that every module-level binding above is initialised.
if (isMainThread) {
  await main();
} else {
  parentPort.postMessage(await runLoad(workerData));
}
