import { createServer } from 'node:net';
import { login, register, uniqueEmail } from './support/auth-helpers.js';
import { CapturedLogger } from './support/captured-logger.js';
import { freePort, LOOPBACK } from './support/listening-instance.js';
import { TestContext, type TestInstance } from './support/test-context.js';

const METRICS_TOKEN = 'a-metrics-token-for-tests-0123';

// Issue 7: metrics (Prometheus) and one JSON log line per request with a request id.
describe('observability', () => {
  let context: TestContext;
  let instance: TestInstance;
  const logger = new CapturedLogger();

  beforeAll(async () => {
    context = await TestContext.create('observability');
    instance = await context.start({ METRICS_TOKEN, LOG_FORMAT: 'json', TRUST_PROXY: 'loopback' }, { logger });
  });
  afterAll(() => context.close());

  it('serves /metrics only with the token, in Prometheus text format, with the library counters', async () => {
    const account = await register(instance);
    await login(instance, account);
    await instance.http().post('/auth/login').send({ email: account.email, password: 'wrong password' }).expect(401);
    await instance.http().get('/auth/me').expect(401);

    expect((await instance.http().get('/metrics')).status).toBe(401);
    expect((await instance.http().get('/metrics').set('Authorization', 'Bearer wrong-token-wrong-token')).status).toBe(
      401,
    );
    const scraped = await instance.http().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
    expect(scraped.headers['content-type']).toMatch(/^text\/plain/);
    const text = scraped.text;
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'nra_auth_failures_total',
      'nra_logins_total',
      'nra_refresh_rotations_total',
      'nra_refresh_reuse_detections_total',
      'nra_refresh_grace_replays_total',
      'nra_sessions_revoked_total',
      'nra_revocation_cache_total',
      'nra_redis_fallbacks_total',
      'nra_login_limit_rejections_total',
      'nra_password_hash_seconds_bucket',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/auth\/login",status="200"\} [1-9]/);
    expect(text).toMatch(/nra_auth_failures_total\{code="token_missing"\} [1-9]/);
    // Every bounded cache reports its size and its bound.
    expect(text).toMatch(/nra_cache_entries\{cache="sessions"\} \d+/);
    expect(text).toMatch(/nra_cache_entries\{cache="access_tokens"\} \d+/);
    expect(text).toMatch(/nra_cache_capacity\{cache="sessions"\} [1-9]\d*/);
    expect(text).toMatch(/nra_cache_capacity\{cache="access_tokens"\} [1-9]\d*/);
    // Unmatched paths share one label: random URLs cannot grow the series.
    await instance.http().get(`/no/such/${uniqueEmail()}`).expect(404);
    const again = (await instance.http().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`)).text;
    expect(again).toMatch(/route="unmatched",status="404"/);
    expect(again).not.toContain('/no/such/');
  });

  it('logs one JSON line per request with its id, echoed in X-Request-Id, and takes a trusted proxy’s id', async () => {
    logger.lines.length = 0;
    const generated = await instance.http().get('/health/live').expect(200);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const given = await instance.http().get('/health/live').set('X-Request-Id', 'edge-42.abc').expect(200);
    expect(given.headers['x-request-id']).toBe('edge-42.abc');
    const hostile = await instance.http().get('/health/live').set('X-Request-Id', 'bad id\twith "quotes"').expect(200);
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const account = await register(instance);
    const tokens = await login(instance, account);
    await instance.http().get('/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);

    const requests = logger.lines
      .filter((line) => line.includes('"msg":"request"'))
      .map((line) => JSON.parse(line.slice(line.indexOf('{'), line.lastIndexOf('}') + 1)) as Record<string, unknown>);
    expect(requests.find((entry) => entry.requestId === 'edge-42.abc')).toMatchObject({
      method: 'GET',
      route: '/health/live',
      status: 200,
    });
    const me = requests.find((entry) => entry.route === '/auth/me');
    expect(me).toMatchObject({ method: 'GET', status: 200, userId: account.id, durationMs: expect.any(Number) });
    for (const line of logger.lines) {
      for (const secret of [account.password, tokens.access_token, tokens.refresh_token])
        expect(line).not.toContain(secret);
    }
  });

  it('ignores X-Request-Id from clients when no proxy is trusted', async () => {
    const other = await context.start({ LOG_FORMAT: 'json' });
    const response = await other.http().get('/health/live').set('X-Request-Id', 'spoofed-id').expect(200);
    expect(response.headers['x-request-id']).not.toBe('spoofed-id');
    await other.http().get('/metrics').expect(404);
  });

  it('serves /metrics on METRICS_PORT instead, and not on the public listener', async () => {
    const port = await freePort();
    const other = await context.start({ METRICS_PORT: String(port), METRICS_TOKEN });
    await other.http().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(404);
    const response = await fetch(`http://${LOOPBACK}:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('nra_auth_failures_total');
    expect((await fetch(`http://${LOOPBACK}:${port}/other`)).status).toBe(404);
    await other.close();
    // Closed with the app.
    await new Promise<void>((resolve, reject) => {
      const probe = createServer().once('error', reject);
      probe.listen(port, LOOPBACK, () => probe.close(() => resolve()));
    });
  });
});
