import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { HttpDrain, Public, RevocationService } from '../../index.js';

/** Liveness, readiness and dependencies. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly revocation: RevocationService,
    private readonly drain: HttpDrain,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Database and Redis status; 503 when the database is down, 200 with Redis reported down' })
  @ApiOkResponse({ description: '`{status: "ok", info: {database: {status: "up"}, redis: {status: "up"}}}`' })
  @ApiServiceUnavailableResponse({ description: '`{status: "error", error: {database: {status: "down"}}}`' })
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthCheckResult> {
    const [database, redis] = await Promise.all([this.databaseStatus(response), this.redisStatus()]);
    if (!redis) return database;
    // Redis is reported, not required: a Redis outage leaves the overall status alone.
    return { ...database, info: { ...database.info, redis }, details: { ...database.details, redis } };
  }

  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process serves at all, draining included' })
  @ApiOkResponse({ description: '`{status: "ok"}`' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: 503 from the moment shutdown begins, or while the database is down' })
  @ApiOkResponse({ description: '`{status: "ok", ...}`' })
  @ApiServiceUnavailableResponse({ description: '`{status: "draining"}`, or the database down' })
  async ready(@Res({ passthrough: true }) response: Response): Promise<HealthCheckResult | { status: 'draining' }> {
    const database = this.drain.ready ? await this.databaseStatus(response) : null;
    // Checked again after the database answered: the signal may have come meanwhile.
    if (!this.drain.ready) {
      response.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'draining' };
    }
    return database!;
  }

  private databaseStatus(response: Response): Promise<HealthCheckResult> {
    return this.health
      .check([() => this.database.pingCheck('database', { timeout: 1500 })])
      .catch((error: { getResponse?: () => unknown }) => {
        response.status(HttpStatus.SERVICE_UNAVAILABLE);
        return (error.getResponse?.() ?? {
          status: 'error',
          info: {},
          error: { database: { status: 'down' } },
          details: {},
        }) as HealthCheckResult;
      });
  }

  private async redisStatus(): Promise<{ status: 'up' | 'down'; message?: string } | null> {
    const up = await this.revocation.ping();
    if (up === null) return null;
    return up
      ? { status: 'up' }
      : { status: 'down', message: 'Redis unreachable: revocations reach other instances through the database poll' };
  }
}
