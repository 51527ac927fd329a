import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { HttpDrain } from '../index.js';
import { createApp } from './app.factory.js';
import { loadConfig } from './config/app.config.js';
import { ConfigError } from './config/config.error.js';
import { readEnvironment } from './config/environment.js';

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
  const deadlineMs = config.resolved.shutdownTimeout * 1000;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal}: draining (readiness is 503 from now), then closing`);
      // Readiness turns 503 at once; app.close() finishes what was received, then closes the
      // database and Redis (see HttpDrain). The timer is the last resort.
      app.get(HttpDrain).beginDrain();
      setTimeout(() => {
        logger.error(`shutdown did not finish within ${deadlineMs} ms`);
        process.exit(1);
      }, deadlineMs).unref();
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
