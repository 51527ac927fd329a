import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { AuthMetrics } from '../../index.js';

/**
 * The service's Prometheus registry: request counts and latency by route and status, the
 * process's own metrics, and the library's counters (`AuthMetrics`) merged in.
 */
@Injectable()
export class HttpMetrics {
  private readonly own = new Registry();
  readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [this.own],
  });
  readonly duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.own],
  });
  /** Everything `/metrics` serves. */
  readonly registry: Registry;

  constructor(auth: AuthMetrics) {
    collectDefaultMetrics({ register: this.own });
    this.registry = Registry.merge([this.own, auth.registry]);
  }

  /** Records one answered request. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }
}
