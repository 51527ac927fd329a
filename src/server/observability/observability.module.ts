import { Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import type { AppConfig } from '../config/app.config.js';
import { HttpMetrics } from './http-metrics.service.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsServer } from './metrics-server.service.js';
import { RequestLogMiddleware } from './request-log.middleware.js';

/** Request logs with ids, request metrics, and `/metrics`. */
@Module({})
export class ObservabilityModule implements NestModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: config.metrics.token && config.metrics.port === null ? [MetricsController] : [],
      providers: [HttpMetrics, MetricsServer],
      exports: [HttpMetrics],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLogMiddleware).forRoutes('{*path}');
  }
}
