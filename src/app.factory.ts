import { Logger, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import { urlencoded } from 'express';
import helmet from 'helmet';
import { AppModule } from './app.module.js';
import { AuthExceptionFilter } from './common/auth-exception.filter.js';
import { createValidationPipe } from './common/validation.pipe.js';
import type { AppConfig } from './config/app.config.js';
import { setupSwagger } from './swagger.js';

/** Largest accepted request body; larger gets 413 `payload_too_large`. */
export const BODY_LIMIT = '16kb';

/**
 * Builds the whole application for a configuration, ready to `listen()`: used by `main.ts` and
 * by the e2e tests, so both run exactly the same stack.
 *
 * @example const app = await createApp(loadConfig(readEnvironment())); await app.listen(3000);
 */
export async function createApp(
  config: AppConfig,
  options: { logger?: LoggerService | false } = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    abortOnError: false,
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  });
  app.useBodyParser('json', { limit: BODY_LIMIT });
  // Form bodies only where RFC 6749 wants them; everything else is JSON.
  app.use('/oauth', urlencoded({ limit: BODY_LIMIT, extended: false }));
  // No upgrade-insecure-requests: it would break Swagger UI on a plain-HTTP development server;
  // production sits behind HTTPS with HSTS (helmet's default) anyway.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.use(cookieParser());
  app.disable('x-powered-by');
  // The client IP feeds the per-IP login limit and the security log: only trusted proxies may set it.
  app.set('trust proxy', config.trustProxy);
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      credentials: true,
      exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-CSRF-Token', 'X-Token-Transport'],
    });
  }
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AuthExceptionFilter());
  setupSwagger(app);
  new Logger('App').log(
    `database: ${config.database.type}; revocation store: ${config.redis ? 'redis' : 'in-process'}`,
  );
  return app;
}
