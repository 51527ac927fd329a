import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleLogger, type LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pg from 'pg';
import { createClient } from 'redis';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { createApp } from '../../src/server/app.factory.js';
import { loadConfig, type AppConfig } from '../../src/server/config/app.config.js';
import { LogAudit } from './log-audit.js';

/** `npm run test:services`: PostgreSQL and Redis instead of SQLite and the in-process store. */
export const SERVICES = process.env.TEST_SERVICES === '1';
/** The machine's PostgreSQL, used to create one database per test file. */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The machine's Redis; each test file gets its own key prefix. */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Where a context keeps its data when not on the machine's shared services. */
export interface TestContextOptions {
  /**
   * Admin URL of a PostgreSQL server of the test's own (a private cluster): the context's
   * database is created there, with or without TEST_SERVICES, and left for the server's removal.
   */
  postgresAdminUrl?: string;
  /** URL of a redis-server of the test's own: instances use it, and its keys are left to its end. */
  redisUrl?: string;
}

/** One running instance of the service. */
export interface TestInstance {
  app: NestExpressApplication;
  config: AppConfig;
  /** A supertest agent on this instance. */
  http: () => TestAgent;
  close(): Promise<void>;
}

/**
 * A test file's private world: its own database (a temp SQLite file, or a fresh PostgreSQL
 * database), its own key folder and, with services, its own Redis key prefix. Instances started
 * from one context share all of them, like replicas of one deployment.
 */
export class TestContext {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'nra-test-'));
  readonly redisKeyPrefix = `nra-test:${randomBytes(6).toString('hex')}:`;
  private readonly instances: TestInstance[] = [];
  /** Every log line of this context's instances, checked for secrets when it closes. */
  readonly audit = new LogAudit();
  private databaseUrl?: string;
  private databaseName?: string;

  private constructor(
    readonly name: string,
    private readonly options: TestContextOptions,
  ) {}

  /**
   * Makes the context; with services (or a PostgreSQL of the test's own in `options`) it creates
   * the PostgreSQL database.
   */
  static async create(name: string, options: TestContextOptions = {}): Promise<TestContext> {
    const context = new TestContext(name, options);
    if (SERVICES || options.postgresAdminUrl) {
      const adminUrl = options.postgresAdminUrl ?? POSTGRES_ADMIN_URL;
      context.databaseName = `nra_${name.replace(/\W/g, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
      await adminQuery(`CREATE DATABASE ${context.databaseName}`, adminUrl);
      const url = new URL(adminUrl);
      url.pathname = `/${context.databaseName}`;
      context.databaseUrl = url.toString();
    }
    return context;
  }

  /** The context's PostgreSQL database URL (with services or a server of the test's own). */
  get postgresUrl(): string | undefined {
    return this.databaseUrl;
  }

  /** The environment an instance of this context starts with, before overrides. */
  baseEnv(): Record<string, string> {
    return {
      NODE_ENV: 'test',
      PORT: '0',
      DATA_DIR: this.dataDir,
      JWT_ISSUER: 'https://auth.test',
      JWT_AUDIENCE: 'nra-test',
      COOKIE_SECURE: 'false',
      // Suites register many accounts from 127.0.0.1; the request limit has a test of its own.
      AUTH_RATE_LIMIT: '100000',
      ...(this.databaseUrl ? { DATABASE_URL: this.databaseUrl } : {}),
      ...(SERVICES || this.options.redisUrl
        ? { REDIS_URL: this.options.redisUrl ?? REDIS_URL, REDIS_KEY_PREFIX: this.redisKeyPrefix }
        : {}),
    };
  }

  /** Starts an instance sharing this context's database, keys and Redis prefix; `logger` receives its logs. */
  async start(
    overrides: Record<string, string | undefined> = {},
    options: { logger?: LoggerService } = {},
  ): Promise<TestInstance> {
    const env = Object.fromEntries(
      Object.entries({ ...this.baseEnv(), ...overrides }).filter(([, value]) => value !== undefined),
    ) as Record<string, string>;
    const config = loadConfig(env);
    const shown = options.logger ?? (process.env.TEST_LOGS === '1' ? new ConsoleLogger() : false);
    const app = await createApp(config, { logger: this.audit.logger(shown) });
    try {
      await app.init();
    } catch (error) {
      // A refused start (a bootstrap hook threw) must not leave its database or Redis open.
      await app.close().catch(() => undefined);
      throw error;
    }
    const server = app.getHttpServer();
    let closed = false;
    const instance: TestInstance = {
      app,
      config,
      http: () => this.audit.watch(request(server)),
      close: async () => {
        if (closed) return;
        closed = true;
        await app.close();
      },
    };
    this.instances.push(instance);
    return instance;
  }

  /** Closes every instance and removes the database, the folder and the Redis keys. */
  async close(): Promise<void> {
    await Promise.all(this.instances.map((instance) => instance.close()));
    // A server of the test's own goes as a whole, maybe already stopped: nothing to clean there.
    if (this.databaseName && !this.options.postgresAdminUrl) {
      await adminQuery(`DROP DATABASE IF EXISTS ${this.databaseName} WITH (FORCE)`, POSTGRES_ADMIN_URL);
    }
    if (SERVICES && !this.options.redisUrl) await deleteRedisKeys(this.redisKeyPrefix);
    rmSync(this.dataDir, { recursive: true, force: true });
    this.audit.verify();
  }
}

async function adminQuery(sql: string, adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    await client.close();
  }
}
