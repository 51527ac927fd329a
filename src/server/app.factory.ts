import { Logger, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import { urlencoded } from 'express';
import helmet from 'helmet';
import { AuthExceptionFilter, createValidationPipe } from '../index.js';
import { AppModule } from './app.module.js';
import { answerParserErrors, refuseProtocolViolations } from './client-errors.js';
import type { AppConfig } from './config/app.config.js';
import { JsonLogger } from './observability/json-logger.js';
import { setupSwagger } from './swagger.js';

/** Largest accepted request body; larger gets 413 `payload_too_large`. */
export const BODY_LIMIT = '16kb';

/**
 * Builds the whole service for a configuration, ready to `listen()`: used by `main.ts` and by
 * the e2e tests, so both run exactly the same stack.
 *
 * @example const app = await createApp(loadConfig(readEnvironment())); await app.listen(3000);
 */
export async function createApp(
  config: AppConfig,
  options: { logger?: LoggerService | false } = {},
): Promise<NestExpressApplication> {
  const logger =
    options.logger !== undefined ? options.logger : config.logFormat === 'json' ? new JsonLogger() : undefined;
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    abortOnError: false,
    ...(logger !== undefined ? { logger } : {}),
  });
  // No upgrade-insecure-requests: it would break Swagger UI on a plain-HTTP development server;
  // production sits behind HTTPS with HSTS (helmet's default) anyway. First, so that the answers
  // to unreadable requests and bodies carry its headers too.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  // Before the body parsers: a request that Node would have refused is not read any further.
  app.use(refuseProtocolViolations);
  app.useBodyParser('json', { limit: BODY_LIMIT });
  // Form bodies only where RFC 6749 wants them; everything else is JSON.
  app.use('/oauth', urlencoded({ limit: BODY_LIMIT, extended: false }));
  // Only where a cookie is read (the refresh cookie and its CSRF pair): Express gives each request
  // a new prototype, after which each property cookie-parser adds costs a microsecond or more.
  app.use(['/auth/refresh', '/auth/logout'], cookieParser());
  app.disable('x-powered-by');
  // The client IP feeds the per-IP login limit and the security log: only trusted proxies may set it.
  app.set('trust proxy', config.trustProxy);
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      credentials: true,
      exposedHeaders: ['Retry-After', 'WWW-Authenticate', 'X-Request-Id'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-CSRF-Token', 'X-Token-Transport', 'X-Request-Id'],
    });
  }
  // The library's routes carry their own filter and validation; the service's give its other
  // routes (notes, health, 404s) the same error shape and input rules.
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AuthExceptionFilter());
  answerParserErrors(app.getHttpServer());
  setupSwagger(app);
  new Logger('App').log(
    `database: ${config.database.type}; redis: ${config.resolved.redis ? config.resolved.redis.kind : 'none (in-process)'}`,
  );
  return app;
}
