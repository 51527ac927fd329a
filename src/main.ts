import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { loadConfig } from './config/app.config.js';
import { ConfigError } from './config/config.error.js';
import { readEnvironment } from './config/environment.js';

/** Hard stop if a graceful shutdown has not finished by then (API.md: exit within 10 s). */
const SHUTDOWN_DEADLINE_MS = 9000;

async function main(): Promise<void> {
  const logger = new Logger('Main');
  let config;
  try {
    config = loadConfig(readEnvironment());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error(`Invalid configuration: ${error.message}`);
    process.exit(1);
  }
  const app = await createApp(config);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // Stop accepting connections, finish the requests in flight, close the database and Redis.
      logger.log(`${signal}: shutting down`);
      setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(`shutdown failed: ${(error as Error).message}`);
          process.exit(1);
        },
      );
    });
  }
  await app.listen(config.port);
  logger.log(`listening on ${await app.getUrl()} (Swagger UI at /docs)`);
}

main().catch((error: unknown) => {
  // A refused start (the database unreachable, ADMIN_EMAIL taken, …): say why and stop, even if
  // a connection is still open.
  const message = error instanceof ConfigError ? `Invalid configuration: ${error.message}` : (error as Error).stack;
  new Logger('Main').error(`could not start: ${message}`);
  process.exit(1);
});
