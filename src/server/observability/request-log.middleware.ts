import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.constants.js';
import { HttpMetrics } from './http-metrics.service.js';

/** Request ids accepted from a trusted proxy: short, and nothing a log parser could trip on. */
const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * One log line per request (JSON with `LOG_FORMAT=json`) and the request metrics. Each request
 * gets an id, taken from `X-Request-Id` when `TRUST_PROXY` trusts the sender, else made here,
 * and echoed in the response. The line holds the method, the route pattern (never the URL: a
 * query string may carry a token), the status, the duration and the user id when known; never
 * a header, a cookie or a body.
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');
  private readonly trustIds: boolean;
  private readonly json: boolean;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: HttpMetrics,
  ) {
    this.trustIds = config.trustProxy !== false;
    this.json = config.logFormat === 'json';
  }

  use(request: Request, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    const given = request.get('x-request-id');
    const id = this.trustIds && given && REQUEST_ID.test(given) ? given : randomUUID();
    (request as Request & { id?: string }).id = id;
    response.setHeader('X-Request-Id', id);
    response.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Unmatched paths share one label, so probes of random URLs cannot grow the metrics.
      const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
      this.metrics.observe(request.method, route, response.statusCode, seconds);
      const userId = (request as Request & { user?: { id?: string } }).user?.id;
      const durationMs = Math.round(seconds * 1e6) / 1e3;
      if (this.json) {
        this.logger.log({
          msg: 'request',
          requestId: id,
          method: request.method,
          route,
          status: response.statusCode,
          durationMs,
          ...(userId ? { userId } : {}),
        });
      } else {
        this.logger.log(
          `${request.method} ${route} ${response.statusCode} ${durationMs}ms id=${id}${userId ? ` user=${userId}` : ''}`,
        );
      }
    });
    next();
  }
}
