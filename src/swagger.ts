import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * Serves Swagger UI at `/docs` (and the document at `/docs-json`), with bearer auth wired so
 * "Authorize" then "Try it out" works.
 *
 * @example setupSwagger(app);
 */
export function setupSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('nest-refresh-auth')
    .setDescription(
      [
        'Short-lived JWT access tokens, rotating opaque refresh tokens, revocation seen by every instance within a second.',
        '',
        'Log in with `POST /auth/login`, then press **Authorize** and paste the `access_token`.',
        'Errors have one shape: `{statusCode, code, message, details?}`; `code` is stable.',
      ].join('\n'),
    )
    .setVersion('0.1.0')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'The `access_token` of a login or refresh',
    })
    .addCookieAuth(
      'refresh_token',
      {
        type: 'apiKey',
        in: 'cookie',
        name: 'refresh_token',
        description: 'Browser mode: set by login/refresh with `X-Token-Transport: cookie`',
      },
      'refresh_cookie',
    )
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: 'An `id:secret` of OAUTH_INTROSPECTION_CLIENTS' },
      'introspection_client',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { swaggerOptions: { persistAuthorization: true } });
}
