import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CapturedLogger } from './support/captured-logger.js';
import { ROUTES, anyRequest, type RequestSpec } from './support/fuzz-arbitraries.js';
import { describeFailure, violations } from './support/fuzz-checks.js';
import { FuzzWorld, type Materialized, type WireResponse } from './support/fuzz-world.js';
import { SERVICES, TestContext } from './support/test-context.js';

// Issue 7, item 3: generated requests over every endpoint of API.md, checked for no 5xx, errors in
// the contract's shape, and no secret echoed. FUZZ_REQUESTS sets the count (10,000 with services,
// 1,500 in `npm test`); FUZZ_SEED (and FUZZ_PATH, printed on failure) replays a run;
// FUZZ_SHRINK=1 lets fast-check shrink a failing batch; FUZZ_STATS=1 prints statuses by route;
// FUZZ_KEEP_GOING=1 runs to the end and reports one request of each kind of violation.
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? (SERVICES ? 10_000 : 1_500));
const BATCH = Number(process.env.FUZZ_BATCH ?? 16);
const KEEP_GOING = process.env.FUZZ_KEEP_GOING === '1';
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);

describe('fuzz: generated requests over every endpoint', () => {
  let context: TestContext;
  let world: FuzzWorld;
  const logs = new CapturedLogger();

  beforeAll(async () => {
    context = await TestContext.create('fuzz');
    const adminPassword = `admin-${randomBytes(9).toString('base64url')}`;
    const clientSecret = randomBytes(18).toString('base64url');
    const common = {
      ...FuzzWorld.sharedEnv(adminPassword, clientSecret),
      // Cheap hashes: thousands of logins and registrations must fit in the run.
      ARGON2_MEMORY_COST: '7168',
      ARGON2_TIME_COST: '1',
      PASSWORD_HASH_CONCURRENCY: '2',
      CORS_ORIGINS: 'https://app.example',
    };
    const main = await context.start(
      {
        ...common,
        // Raised so that most requests get past the limits to the code behind them.
        AUTH_RATE_LIMIT: '1000000',
        LOGIN_MAX_FAILURES: '1000000',
        LOGIN_MAX_FAILURES_PER_IP: '1000000',
      },
      { logger: logs },
    );
    // The default limits, for the slice of requests sent here (429s with Retry-After).
    // It also trusts the proxy in front of it, so X-Forwarded-For and X-Request-Id are read there.
    const limited = await context.start(
      { ...common, AUTH_RATE_LIMIT: undefined, TRUST_PROXY: 'loopback' },
      { logger: logs },
    );
    world = new FuzzWorld(context, main, limited, adminPassword, clientSecret);
    await world.setup();
  }, 120_000);
  afterAll(async () => {
    world?.close();
    await context.close();
  });

  // The seed is in the name, so that even a run that times out can be replayed.
  it(`answers ${REQUESTS} generated requests without a 5xx, off-contract error or echoed secret (seed ${SEED})`, async () => {
    const statuses = new Map<string, Map<string, number>>();
    const sent = new Set<string>();
    const kept = new Map<string, string>();
    const property = fc.asyncProperty(batchOf(BATCH), async (specs: RequestSpec[]) => {
      const results = await Promise.all(
        specs.map(async (spec) => {
          const request = world.materialize(spec);
          for (const probe of request.probes) sent.add(probe);
          let response: WireResponse | undefined;
          let problems: string[];
          try {
            response = await world.send(request.wire);
            problems = violations(spec, request, response);
            world.observe(spec, request, response);
            const byStatus = statuses.get(spec.route) ?? new Map<string, number>();
            const body = response.json as { code?: string; error?: string } | undefined;
            const key = [response.status, body?.code ?? body?.error].filter(Boolean).join(' ');
            byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
            statuses.set(spec.route, byStatus);
          } catch (error) {
            const raw = (error as { rawPacket?: Buffer }).rawPacket;
            problems = [
              `no response: ${(error as Error).message}${raw ? ` after ${JSON.stringify(raw.toString('latin1'))}` : ''}`,
            ];
          }
          return { spec, request, response, problems };
        }),
      );
      await world.heal();
      for (const failed of results.filter((result) => result.problems.length > 0)) {
        const failure = new FuzzFailure(failed, world.secrets());
        if (!KEEP_GOING) throw failure;
        const kind = `${failed.spec.route} ${failed.response?.status}: ${failed.problems[0]}`;
        if (!kept.has(kind)) kept.set(kind, failure.message);
      }
    });
    const details = await fc.check(property, {
      numRuns: Math.ceil(REQUESTS / BATCH),
      seed: SEED,
      ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}),
      endOnFailure: process.env.FUZZ_SHRINK !== '1',
    });
    if (process.env.FUZZ_STATS === '1') {
      const lines = [...statuses].map(
        ([route, byStatus]) => `${route}: ${JSON.stringify(Object.fromEntries(byStatus))}`,
      );
      console.log(`fuzz statuses by route (seed ${SEED}):\n${lines.join('\n')}`);
    }
    if (kept.size > 0) throw new Error(`${kept.size} kinds of violation:\n\n${[...kept.values()].join('\n\n')}`);
    if (details.failed) {
      const cause =
        details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(
        `fuzz failed after ${details.numRuns} batches of ${BATCH}; replay with FUZZ_SEED=${details.seed} ` +
          `FUZZ_PATH=${details.counterexamplePath}\n${cause}`,
      );
    }
    expect([...statuses.keys()].sort()).toEqual([...ROUTES].sort());
    // Every answer was a contract error or a success; nothing reached the unhandled-error log, and
    // no log line holds a secret of the world or one a request sent (by its long random runs).
    expect(logs.lines.filter((line) => line.startsWith('error:') || line.startsWith('fatal:'))).toEqual([]);
    const secrets = world.secrets();
    const leaking = logs.lines.filter(
      (line) =>
        secrets.some((secret) => line.includes(secret)) ||
        (line.match(/[\w-]{20,}/g) ?? []).some((run) => sent.has(run)),
    );
    expect(leaking.length).toBe(0);
  }, 900_000);
});

/**
 * A batch of requests sent at once; one in four batches starts with a burst of one request sent
 * 2–8 times in parallel (the same refresh token, login or logout racing itself).
 */
function batchOf(size: number): fc.Arbitrary<RequestSpec[]> {
  return fc
    .tuple(
      fc.array(anyRequest, { minLength: size, maxLength: size }),
      fc.nat({ max: 3 }),
      fc.integer({ min: 2, max: 8 }),
    )
    .map(([specs, burst, copies]) => (burst === 0 ? specs.map((spec, i) => (i < copies ? specs[0]! : spec)) : specs));
}

/** A violation, described without secrets: fast-check puts this message in its report. */
class FuzzFailure extends Error {
  constructor(
    failed: { spec: RequestSpec; request: Materialized; response?: WireResponse; problems: string[] },
    secrets: string[],
  ) {
    super(describeFailure(failed.spec, failed.request, failed.response, failed.problems, secrets));
    this.name = 'FuzzFailure';
  }
}
