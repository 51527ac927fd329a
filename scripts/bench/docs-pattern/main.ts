// The anchor of row 1 of `npm run bench`: a Nest app guarded the way the NestJS docs teach
// (@nestjs/passport + passport-jwt, a string secret, HS256, no revocation), with the same pair
// of routes as the fixture host app, so its guarded/open ratio is measured under the same load.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DocsPatternModule } from './docs-pattern.module.js';

const app = await NestFactory.create(DocsPatternModule, { logger: ['error', 'warn'] });
process.once('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.stdout.write(`docs-pattern listening on ${await app.getUrl()}\n`);
