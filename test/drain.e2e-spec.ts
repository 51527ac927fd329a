import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { builtServerEntry } from './support/built-server.js';
import { freePort } from './support/listening-instance.js';
import { RawConnection, type RawResponse } from './support/raw-http.js';
import { uniqueEmail, waitUntil } from './support/auth-helpers.js';
import { TestContext } from './support/test-context.js';

/** The real service process, as `npm start` runs it. */
interface Server {
  process: ChildProcess;
  port: number;
  output: string[];
  exit: Promise<{ code: number | null; at: number }>;
}

async function startServer(context: TestContext, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [builtServerEntry()], {
    env: {
      PATH: process.env.PATH,
      ...context.baseEnv(),
      PORT: String(port),
      JWT_ISSUER: `http://127.0.0.1:${port}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (chunk) => output.push(String(chunk)));
  child.stderr!.on('data', (chunk) => output.push(String(chunk)));
  const exit = once(child, 'exit').then(([code]) => ({ code: code as number | null, at: Date.now() }));
  const up = await waitUntil(
    async () => (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => null))?.status === 200,
    20_000,
    100,
  );
  if (up < 0) throw new Error(`the server did not start:\n${output.join('')}`);
  return { process: child, port, output, exit };
}

async function signUp(port: number): Promise<{ email: string; password: string }> {
  const account = { email: uniqueEmail('drain'), password: 'correct horse battery drain' };
  const response = await fetch(`http://127.0.0.1:${port}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(account),
  });
  expect(response.status).toBe(201);
  return account;
}

// API.md: on SIGTERM the service stops accepting connections, finishes the requests in flight,
// closes the database and Redis, and exits within SHUTDOWN_TIMEOUT (10 s).
describe('drain on SIGTERM (the real process)', () => {
  let context: TestContext;

  beforeAll(async () => {
    context = await TestContext.create('drain');
    builtServerEntry();
  }, 120_000);
  afterAll(() => context.close());

  it('answers every one of 20 logins sent on fresh connections before the signal, then exits 0', async () => {
    const server = await startServer(context, { AUTH_RATE_LIMIT: '1000' });
    const account = await signUp(server.port);
    const connections = await Promise.all(Array.from({ length: 20 }, () => RawConnection.open(server.port)));
    for (const connection of connections) connection.send('POST', '/auth/login', account, {}, false);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const signalledAt = Date.now();
    server.process.kill('SIGTERM');

    const responses = await Promise.all(connections.map((connection) => connection.response()));
    const complete = responses.filter((response): response is RawResponse => response !== null);
    expect(complete.map((response) => response.status)).toEqual(Array(20).fill(200));
    for (const response of complete) expect(JSON.parse(response.body)).toMatchObject({ token_type: 'Bearer' });

    const { code, at } = await server.exit;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(10_000);
  }, 60_000);

  it('finishes requests in flight on keep-alive connections, answers them with Connection: close, and turns readiness 503 at once', async () => {
    const server = await startServer(context, { AUTH_RATE_LIMIT: '1000' });
    const account = await signUp(server.port);
    const probe = await RawConnection.open(server.port);
    probe.send('GET', '/health/ready');
    expect((await probe.response())?.status).toBe(200);

    const busy = await Promise.all(Array.from({ length: 6 }, () => RawConnection.open(server.port)));
    // A first request on each connection completes: they are now idle keep-alive connections.
    for (const connection of busy) connection.send('GET', '/health/live');
    for (const connection of busy) expect((await connection.response())?.status).toBe(200);
    // Then a slow one (argon2) on each, and the signal while they run.
    for (const connection of busy) connection.send('POST', '/auth/login', account);
    // The signal follows at once: an argon2id verification takes longer than this, so none of
    // the six can have been answered before it (with a longer wait the first could be, rightly
    // with `Connection: keep-alive`).
    await new Promise((resolve) => setTimeout(resolve, 5));
    const signalledAt = Date.now();
    server.process.kill('SIGTERM');

    // From the moment the signal is handled, readiness answers 503 (liveness stays 200).
    let readiness: RawResponse | null = null;
    for (let attempt = 0; attempt < 20 && readiness?.status !== 503; attempt++) {
      probe.send('GET', '/health/ready');
      readiness = await probe.response();
      if (readiness?.status !== 503) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(readiness?.status).toBe(503);
    expect(JSON.parse(readiness!.body)).toEqual({ status: 'draining' });

    for (const connection of busy) {
      const response = await connection.response();
      expect(response?.status).toBe(200);
      expect(response?.headers.connection).toBe('close');
      expect(await connection.closed()).toBe('closed');
    }
    const { code, at } = await server.exit;
    expect(code).toBe(0);
    // Closed after the work, not after the 10 s timer: nothing held the drain open.
    expect(at - signalledAt).toBeLessThan(9_000);
    await expect(fetch(`http://127.0.0.1:${server.port}/health/live`)).rejects.toThrow();
  }, 60_000);

  it('closes idle keep-alive connections and exits promptly', async () => {
    const server = await startServer(context);
    const idle = await Promise.all(Array.from({ length: 10 }, () => RawConnection.open(server.port)));
    for (const connection of idle) connection.send('GET', '/health/live');
    for (const connection of idle) expect((await connection.response())?.status).toBe(200);
    server.process.kill('SIGTERM');
    for (const connection of idle) expect(await connection.closed()).toBe('closed');
    expect((await server.exit).code).toBe(0);
  }, 60_000);
});
