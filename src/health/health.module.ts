import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TokensModule } from '../tokens/tokens.module.js';
import { HealthController } from './health.controller.js';
import { RedisHealth } from './redis.health.js';

/** `GET /health`. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), TokensModule],
  controllers: [HealthController],
  providers: [RedisHealth],
})
export class HealthModule {}
