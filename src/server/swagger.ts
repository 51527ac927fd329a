import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { addAuthSecurity } from '../index.js';

/**
 * Serves Swagger UI at `/docs` (and the document at `/docs-json`), with bearer auth wired so
 * "Authorize" then "Try it out" works.
 *
 * @example setupSwagger(app);
 */
export function setupSwagger(app: INestApplication): void {
  const config = addAuthSecurity(
    new DocumentBuilder()
      .setTitle('nest-refresh-auth')
      .setDescription(
        [
          'Short-lived JWT access tokens, rotating opaque refresh tokens, revocation seen by every instance within a second.',
          '',
          'Log in with `POST /auth/login`, then press **Authorize** and paste the `access_token`.',
          'Errors have one shape: `{statusCode, code, message, details?}`; `code` is stable.',
        ].join('\n'),
      )
      .setVersion('0.2.0'),
  ).build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { swaggerOptions: { persistAuthorization: true } });
}
