import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { Public } from '../auth/index.js';
import { RedisHealth } from './redis.health.js';

/** Liveness and dependencies: 503 only when the database is down. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly redis: RedisHealth,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Database and Redis status; 503 when the database is down, 200 with Redis reported down' })
  @ApiOkResponse({ description: '`{status: "ok", info: {database: {status: "up"}, redis: {status: "up"}}}`' })
  @ApiServiceUnavailableResponse({ description: '`{status: "error", error: {database: {status: "down"}}}`' })
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthCheckResult> {
    const [database, redis] = await Promise.all([
      this.health
        .check([() => this.database.pingCheck('database', { timeout: 1500 })])
        .catch((error: { getResponse?: () => unknown }) => {
          response.status(HttpStatus.SERVICE_UNAVAILABLE);
          return (error.getResponse?.() ?? {
            status: 'error',
            info: {},
            error: { database: { status: 'down' } },
            details: {},
          }) as HealthCheckResult;
        }),
      this.redis.status(),
    ]);
    if (!redis) return database;
    // Redis is reported, not required: a Redis outage leaves the overall status alone.
    return { ...database, info: { ...database.info, redis }, details: { ...database.details, redis } };
  }
}
