import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, type Environment } from './app.config.js';
import { ConfigError } from './config.error.js';
import { generatePrivateKeyPem, thumbprint } from '../../index.js';

const tempDirs: string[] = [];

/** A fresh, empty folder for DATA_DIR, removed after the file. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nra-config-'));
  tempDirs.push(dir);
  return dir;
}

/** The ConfigError that loadConfig throws for an environment; fails the test if it does not throw one. */
function configError(env: Environment): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
}

/** Asserts that the environment is refused with a message naming `variable`. */
function expectRefused(env: Environment, variable: string): ConfigError {
  const error = configError(env);
  expect(error.variable).toBe(variable);
  expect(error.message).toContain(variable);
  return error;
}

const STRONG_SECRET = randomBytes(48).toString('base64url');
const PRODUCTION = { NODE_ENV: 'production', JWT_ISSUER: 'https://auth.example.org', JWT_AUDIENCE: 'api' };

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('loadConfig', () => {
  describe('defaults (API.md configuration table)', () => {
    it('applies every default when only DATA_DIR is set', () => {
      const dataDir = tempDir();
      const config = loadConfig({ DATA_DIR: dataDir });
      expect(config.production).toBe(false);
      expect(config.port).toBe(3000);
      expect(config.dataDir).toBe(dataDir);
      expect(config.database).toEqual({ type: 'sqlite', path: join(dataDir, 'auth.sqlite') });
      expect(config.resolved.redis).toBeNull();
      expect(config.resolved.keys.algorithm).toBe('ES256');
      expect(config.resolved.clockTolerance).toBe(5);
      expect(config.resolved.accessTokenTtl).toBe(15 * 60);
      expect(config.resolved.refreshTokenTtl).toBe(14 * 86_400);
      expect(config.resolved.sessionMaxAge).toBe(30 * 86_400);
      expect(config.resolved.refreshReuseGrace).toBe(10);
      expect(config.resolved.cookie.secure).toBe(true);
      expect(config.resolved.login).toEqual({
        maxFailures: 5,
        failureWindow: 15 * 60,
        maxFailuresPerIp: 20,
        ipWindow: 60,
      });
      expect(config.admin).toBeNull();
      expect(config.resolved.introspectionClients).toEqual([]);
      expect(config.corsOrigins).toEqual([]);
    });

    it('defaults DATA_DIR to ./data', () => {
      // HS256 with a given secret writes nothing, so the default folder is not touched.
      const config = loadConfig({ JWT_ALGORITHM: 'HS256', JWT_SECRET: STRONG_SECRET });
      expect(config.dataDir).toBe(resolve('./data'));
      expect(config.database).toEqual({ type: 'sqlite', path: resolve('./data', 'auth.sqlite') });
    });

    it('treats an empty value as unset', () => {
      const config = loadConfig({ DATA_DIR: tempDir(), PORT: '', ACCESS_TOKEN_TTL: ' ', DATABASE_URL: '' });
      expect(config.port).toBe(3000);
      expect(config.resolved.accessTokenTtl).toBe(900);
      expect(config.database.type).toBe('sqlite');
    });

    it('takes PostgreSQL and Redis from their URLs', () => {
      const config = loadConfig({
        DATA_DIR: tempDir(),
        DATABASE_URL: 'postgres://auth:auth@db:5432/auth',
        REDIS_URL: 'redis://cache:6379',
      });
      expect(config.database).toEqual({ type: 'postgres', url: 'postgres://auth:auth@db:5432/auth', poolSize: 10 });
      expect(config.resolved.redis).toEqual({ kind: 'single', url: 'redis://cache:6379', keyPrefix: 'nra:' });
    });
  });

  describe('durations', () => {
    it.each([
      ['ACCESS_TOKEN_TTL', '10m', (c: ReturnType<typeof loadConfig>) => c.resolved.accessTokenTtl, 600],
      ['ACCESS_TOKEN_TTL', '300', (c: ReturnType<typeof loadConfig>) => c.resolved.accessTokenTtl, 300],
      ['REFRESH_TOKEN_TTL', '7d', (c: ReturnType<typeof loadConfig>) => c.resolved.refreshTokenTtl, 7 * 86_400],
      ['SESSION_MAX_AGE', '8w', (c: ReturnType<typeof loadConfig>) => c.resolved.sessionMaxAge, 8 * 604_800],
      ['REFRESH_REUSE_GRACE', '0', (c: ReturnType<typeof loadConfig>) => c.resolved.refreshReuseGrace, 0],
      ['REFRESH_REUSE_GRACE', '30s', (c: ReturnType<typeof loadConfig>) => c.resolved.refreshReuseGrace, 30],
      ['LOGIN_FAILURE_WINDOW', '1h', (c: ReturnType<typeof loadConfig>) => c.resolved.login.failureWindow, 3600],
      ['LOGIN_IP_WINDOW', '2m', (c: ReturnType<typeof loadConfig>) => c.resolved.login.ipWindow, 120],
    ])('%s=%s', (variable, value, read, seconds) => {
      expect(read(loadConfig({ DATA_DIR: tempDir(), [variable]: value }))).toBe(seconds);
    });

    it('refuses a session shorter than the refresh token lifetime', () => {
      expectRefused({ DATA_DIR: tempDir(), REFRESH_TOKEN_TTL: '14d', SESSION_MAX_AGE: '1d' }, 'SESSION_MAX_AGE');
    });

    it('refuses a zero access-token lifetime', () => {
      expectRefused({ DATA_DIR: tempDir(), ACCESS_TOKEN_TTL: '0' }, 'ACCESS_TOKEN_TTL');
    });
  });

  describe('bad values name the variable', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['ACCESS_TOKEN_TTL', '5x'],
      ['REFRESH_TOKEN_TTL', '-1d'],
      ['COOKIE_SECURE', 'maybe'],
      ['JWT_ALGORITHM', 'none'],
      ['JWT_ALGORITHM', 'PS256'],
      ['DATABASE_URL', 'mysql://root@localhost/auth'],
      ['REDIS_URL', 'memcached://localhost'],
      ['JWT_CLOCK_TOLERANCE', 'soon'],
      ['LOGIN_MAX_FAILURES', '0'],
    ])('%s=%s', (variable, value) => {
      const error = expectRefused({ DATA_DIR: tempDir(), [variable]: value }, variable);
      expect(error).toBeInstanceOf(ConfigError);
    });

    it('reads COOKIE_SECURE=false', () => {
      expect(loadConfig({ DATA_DIR: tempDir(), COOKIE_SECURE: 'false' }).resolved.cookie.secure).toBe(false);
    });
  });

  describe('production refusals', () => {
    it('refuses ES256 without JWT_PRIVATE_KEY, and makes no key', () => {
      const dataDir = tempDir();
      expectRefused({ ...PRODUCTION, DATA_DIR: dataDir }, 'JWT_PRIVATE_KEY');
      expect(readdirSync(dataDir)).toEqual([]);
    });

    it('refuses HS256 without JWT_SECRET, and makes no secret', () => {
      const dataDir = tempDir();
      expectRefused({ ...PRODUCTION, DATA_DIR: dataDir, JWT_ALGORITHM: 'HS256' }, 'JWT_SECRET');
      expect(readdirSync(dataDir)).toEqual([]);
    });

    it('refuses a JWT_SECRET shorter than 32 bytes, without quoting it', () => {
      const secret = randomBytes(20).toString('base64url').slice(0, 31);
      const error = expectRefused(
        { ...PRODUCTION, DATA_DIR: tempDir(), JWT_ALGORITHM: 'HS256', JWT_SECRET: secret },
        'JWT_SECRET',
      );
      expect(error.message).not.toContain(secret);
    });

    it.each([
      'change-me-change-me-change-me-change-me',
      'your-secret-key-goes-here-0123456789',
      'x'.repeat(48),
      'example-example-example-example-example',
    ])('refuses the placeholder JWT_SECRET %p', (secret) => {
      const error = expectRefused(
        { ...PRODUCTION, DATA_DIR: tempDir(), JWT_ALGORITHM: 'HS256', JWT_SECRET: secret },
        'JWT_SECRET',
      );
      expect(error.message).not.toContain(secret);
    });

    it('refuses a missing JWT_ISSUER', () => {
      expectRefused(
        {
          ...PRODUCTION,
          JWT_ISSUER: undefined,
          DATA_DIR: tempDir(),
          JWT_ALGORITHM: 'HS256',
          JWT_SECRET: STRONG_SECRET,
        },
        'JWT_ISSUER',
      );
    });

    it('refuses a missing JWT_AUDIENCE', () => {
      expectRefused(
        {
          ...PRODUCTION,
          JWT_AUDIENCE: undefined,
          DATA_DIR: tempDir(),
          JWT_ALGORITHM: 'HS256',
          JWT_SECRET: STRONG_SECRET,
        },
        'JWT_AUDIENCE',
      );
    });

    it('starts with a strong secret or a given key', () => {
      const hmac = loadConfig({
        ...PRODUCTION,
        DATA_DIR: tempDir(),
        JWT_ALGORITHM: 'HS256',
        JWT_SECRET: STRONG_SECRET,
      });
      expect(hmac.production).toBe(true);
      expect(hmac.resolved.issuer).toBe(PRODUCTION.JWT_ISSUER);
      expect(hmac.resolved.audience).toBe(PRODUCTION.JWT_AUDIENCE);
      const dataDir = tempDir();
      const ec = loadConfig({ ...PRODUCTION, DATA_DIR: dataDir, JWT_PRIVATE_KEY: generatePrivateKeyPem('ES256') });
      expect(ec.resolved.keys.algorithm).toBe('ES256');
      expect(readdirSync(dataDir)).toEqual([]);
    });
  });

  describe('development keys', () => {
    it('makes an ES256 key once in DATA_DIR and loads the same key (same kid) next time', () => {
      const dataDir = tempDir();
      const first = loadConfig({ DATA_DIR: dataDir });
      const files = readdirSync(dataDir);
      expect(files).toHaveLength(1);
      // Owner-only: it is a private key.
      expect(statSync(join(dataDir, files[0]!)).mode & 0o077).toBe(0);

      const second = loadConfig({ DATA_DIR: dataDir });
      expect(readdirSync(dataDir)).toEqual(files);
      expect(second.resolved.keys.kid).toBe(first.resolved.keys.kid);
      expect(thumbprint(createPublicKey(second.resolved.keys.signingKey))).toBe(first.resolved.keys.kid);
      expect(second.resolved.keys.jwks).toEqual(first.resolved.keys.jwks);

      expect(loadConfig({ DATA_DIR: tempDir() }).resolved.keys.kid).not.toBe(first.resolved.keys.kid);
    });

    it('defaults the issuer and audience outside production', () => {
      const config = loadConfig({ DATA_DIR: tempDir(), PORT: '4000' });
      expect(config.resolved.issuer).toBe('http://localhost:4000');
      expect(config.resolved.audience).toBe('nest-refresh-auth');
    });
  });

  describe('OAUTH_INTROSPECTION_CLIENTS', () => {
    it('parses comma-separated id:secret pairs', () => {
      const config = loadConfig({
        DATA_DIR: tempDir(),
        OAUTH_INTROSPECTION_CLIENTS: 'gateway:s3cret-gateway-0001, billing : s3cret:with:colons ',
      });
      expect(config.resolved.introspectionClients).toEqual([
        { id: 'gateway', secret: 's3cret-gateway-0001' },
        { id: 'billing', secret: 's3cret:with:colons' },
      ]);
    });

    it.each(['no-colon', ':secret-without-id', 'id-without-secret:', 'a:b,,c:d'])('refuses %p', (value) => {
      expectRefused({ DATA_DIR: tempDir(), OAUTH_INTROSPECTION_CLIENTS: value }, 'OAUTH_INTROSPECTION_CLIENTS');
    });

    it('refuses a secret under 16 characters in production, without quoting it', () => {
      const error = expectRefused(
        {
          ...PRODUCTION,
          DATA_DIR: tempDir(),
          JWT_ALGORITHM: 'HS256',
          JWT_SECRET: STRONG_SECRET,
          OAUTH_INTROSPECTION_CLIENTS: 'gateway:tooShort123',
        },
        'OAUTH_INTROSPECTION_CLIENTS',
      );
      expect(error.message).not.toContain('tooShort123');
    });
  });

  describe('admin account', () => {
    it('refuses ADMIN_EMAIL without ADMIN_PASSWORD', () => {
      expectRefused({ DATA_DIR: tempDir(), ADMIN_EMAIL: 'admin@example.org' }, 'ADMIN_PASSWORD');
    });

    it('refuses ADMIN_PASSWORD without ADMIN_EMAIL', () => {
      expectRefused({ DATA_DIR: tempDir(), ADMIN_PASSWORD: 'long enough password' }, 'ADMIN_EMAIL');
    });

    it('refuses an ADMIN_PASSWORD shorter than 8 characters, without quoting it', () => {
      const error = expectRefused(
        { DATA_DIR: tempDir(), ADMIN_EMAIL: 'admin@example.org', ADMIN_PASSWORD: 'short7!' },
        'ADMIN_PASSWORD',
      );
      expect(error.message).not.toContain('short7!');
    });

    it('takes both together', () => {
      const config = loadConfig({
        DATA_DIR: tempDir(),
        ADMIN_EMAIL: 'Admin@Example.org',
        ADMIN_PASSWORD: 'long enough password',
      });
      expect(config.admin).toEqual({ email: 'admin@example.org', password: 'long enough password' });
    });
  });

  describe('what the operations issue added', () => {
    it('reads role lifetimes as role:duration pairs, and names the variable of a bad one', () => {
      const config = loadConfig({
        DATA_DIR: tempDir(),
        REFRESH_TOKEN_TTL_BY_ROLE: 'admin:1d, support:3d',
        SESSION_MAX_AGE_BY_ROLE: 'admin:2d',
      });
      expect([...config.resolved.refreshTokenTtlByRole]).toEqual([
        ['admin', 86_400],
        ['support', 3 * 86_400],
      ]);
      expect([...config.resolved.sessionMaxAgeByRole]).toEqual([['admin', 2 * 86_400]]);
      expectRefused({ DATA_DIR: tempDir(), REFRESH_TOKEN_TTL_BY_ROLE: 'admin' }, 'REFRESH_TOKEN_TTL_BY_ROLE');
      expectRefused({ DATA_DIR: tempDir(), REFRESH_TOKEN_TTL_BY_ROLE: 'admin:soon' }, 'REFRESH_TOKEN_TTL_BY_ROLE');
    });

    it('takes Redis Sentinel and Redis Cluster, one topology at a time', () => {
      const sentinel = loadConfig({
        DATA_DIR: tempDir(),
        REDIS_SENTINELS: '10.0.0.1:26379,[::1]:26380',
        REDIS_SENTINEL_NAME: 'main',
      });
      expect(sentinel.resolved.redis).toEqual({
        kind: 'sentinel',
        sentinels: [
          { host: '10.0.0.1', port: 26379 },
          { host: '::1', port: 26380 },
        ],
        name: 'main',
        password: undefined,
        keyPrefix: 'nra:',
      });
      const cluster = loadConfig({
        DATA_DIR: tempDir(),
        REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis://10.0.0.2:7001',
        REDIS_KEY_PREFIX: 'x:',
      });
      expect(cluster.resolved.redis).toMatchObject({
        kind: 'cluster',
        nodes: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7001'],
        keyPrefix: 'x:',
      });
      expectRefused({ DATA_DIR: tempDir(), REDIS_SENTINELS: '10.0.0.1:26379' }, 'REDIS_SENTINEL_NAME');
      expectRefused({ DATA_DIR: tempDir(), REDIS_SENTINELS: 'nowhere' }, 'REDIS_SENTINELS');
      expectRefused({ DATA_DIR: tempDir(), REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'b:2' }, 'REDIS_URL');
      expectRefused({ DATA_DIR: tempDir(), REDIS_URL: 'redis://a:1', REDIS_KEY_PREFIX: 'a{b}' }, 'REDIS_KEY_PREFIX');
    });

    it('defaults logs to text in development and JSON in production, metrics off', () => {
      expect(loadConfig({ DATA_DIR: tempDir() })).toMatchObject({
        logFormat: 'text',
        metrics: { port: null, token: null },
      });
      const production = loadConfig({
        ...PRODUCTION,
        DATA_DIR: tempDir(),
        JWT_ALGORITHM: 'HS256',
        JWT_SECRET: STRONG_SECRET,
      });
      expect(production.logFormat).toBe('json');
      expectRefused({ DATA_DIR: tempDir(), LOG_FORMAT: 'xml' }, 'LOG_FORMAT');
      expectRefused({ DATA_DIR: tempDir(), METRICS_TOKEN: 'short' }, 'METRICS_TOKEN');
      expect(loadConfig({ DATA_DIR: tempDir(), METRICS_PORT: '9464' }).metrics.port).toBe(9464);
    });

    it('reads retention, the shutdown budget and the cache bounds', () => {
      const config = loadConfig({
        DATA_DIR: tempDir(),
        SECURITY_EVENT_RETENTION: '30d',
        SHUTDOWN_TIMEOUT: '20s',
        ACCESS_TOKEN_CACHE_SIZE: '500',
        SESSION_CACHE_SIZE: '600',
      });
      expect(config.resolved).toMatchObject({
        securityEventRetention: 30 * 86_400,
        shutdownTimeout: 20,
        caches: { accessTokens: 500, sessions: 600 },
      });
      const defaults = loadConfig({ DATA_DIR: tempDir() }).resolved;
      expect(defaults).toMatchObject({
        securityEventRetention: 90 * 86_400,
        shutdownTimeout: 10,
        caches: { accessTokens: 10_000, sessions: 100_000 },
      });
      expectRefused({ DATA_DIR: tempDir(), SHUTDOWN_TIMEOUT: '0' }, 'SHUTDOWN_TIMEOUT');
    });

    it('hands AuthModule one options object with the values as given', () => {
      const config = loadConfig({
        DATA_DIR: tempDir(),
        JWT_ALGORITHM: 'HS256',
        JWT_SECRET: STRONG_SECRET,
        ACCESS_TOKEN_TTL: '10m',
      });
      expect(config.auth.jwt).toMatchObject({
        algorithm: 'HS256',
        secret: STRONG_SECRET,
        accessTokenTtl: '10m',
        issuer: 'http://localhost:3000',
      });
    });
  });
});
