import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Header, Inject, NotFoundException, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuthError, Public } from '../../index.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.constants.js';
import { HttpMetrics } from './http-metrics.service.js';

/**
 * `GET /metrics` on the public listener, only with `METRICS_TOKEN` (bearer) and no
 * `METRICS_PORT`; else it does not exist here.
 */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  private readonly token: Buffer | null;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: HttpMetrics,
  ) {
    this.token = config.metrics.token && config.metrics.port === null ? sha256(config.metrics.token) : null;
  }

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async scrape(@Req() request: Request): Promise<string> {
    if (!this.token) throw new NotFoundException();
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(request.get('authorization') ?? '');
    if (!match || !timingSafeEqual(sha256(match[1]!), this.token))
      throw new AuthError('token_invalid', 'A valid METRICS_TOKEN is required');
    return this.metrics.registry.metrics();
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
