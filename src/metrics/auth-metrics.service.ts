import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The library's counters, in a registry of their own (the host's default registry is left
 * alone). A host reads them with `await metrics.registry.metrics()` or merges them into its own
 * with `Registry.merge([metrics.registry, ...])`; the standalone service serves them at
 * `/metrics`.
 *
 * @example const text = await app.get(AuthMetrics).registry.metrics();
 */
@Injectable()
export class AuthMetrics {
  readonly registry = new Registry();

  /** Requests refused by the library, by error `code` (token_expired, refresh_token_reused, …). */
  readonly authFailures = new Counter({
    name: 'nra_auth_failures_total',
    help: 'Requests refused by the auth library, by error code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly logins = new Counter({ name: 'nra_logins_total', help: 'Successful logins', registers: [this.registry] });
  readonly refreshRotations = new Counter({
    name: 'nra_refresh_rotations_total',
    help: 'Refresh tokens rotated',
    registers: [this.registry],
  });
  readonly refreshGraceReplays = new Counter({
    name: 'nra_refresh_grace_replays_total',
    help: 'Rotated refresh tokens answered idempotently within the grace window',
    registers: [this.registry],
  });
  readonly refreshReuseDetections = new Counter({
    name: 'nra_refresh_reuse_detections_total',
    help: 'Rotated refresh tokens presented after the grace window: sessions revoked as stolen',
    registers: [this.registry],
  });
  readonly revocations = new Counter({
    name: 'nra_sessions_revoked_total',
    help: 'Sessions revoked, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly revocationCache = new Counter({
    name: 'nra_revocation_cache_total',
    help: 'Session status checks of access tokens: hit (in-process cache), miss (read from the database)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly accessTokenCache = new Counter({
    name: 'nra_access_token_cache_total',
    help: 'Access-token verifications: hit (verified before, exp checked again), miss (signature verified)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly redisFallbacks = new Counter({
    name: 'nra_redis_fallbacks_total',
    help: 'Operations that could not reach Redis and fell back (database polling, in-process counters)',
    labelNames: ['operation'],
    registers: [this.registry],
  });
  readonly loginLimitRejections = new Counter({
    name: 'nra_login_limit_rejections_total',
    help: 'Logins refused by the brute-force limits, by counter',
    labelNames: ['limit'],
    registers: [this.registry],
  });
  readonly passwordHashSeconds = new Histogram({
    name: 'nra_password_hash_seconds',
    help: 'Time of one argon2id hash or verification',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly caches = new Map<string, { readonly size: number; readonly capacity: number }>();
  readonly cacheEntries = new Gauge({
    name: 'nra_cache_entries',
    help: 'Entries held by each in-process cache (sessions: revocation near cache; access_tokens: verified tokens)',
    labelNames: ['cache'],
    registers: [this.registry],
    collect: () => this.collectCaches(),
  });
  readonly cacheCapacity = new Gauge({
    name: 'nra_cache_capacity',
    help: 'Bound of each in-process cache (SESSION_CACHE_SIZE, ACCESS_TOKEN_CACHE_SIZE)',
    labelNames: ['cache'],
    registers: [this.registry],
    collect: () => this.collectCaches(),
  });

  /** Reports a bounded cache's size and bound with every scrape. */
  trackCache(name: string, cache: { readonly size: number; readonly capacity: number }): void {
    this.caches.set(name, cache);
  }

  private collectCaches(): void {
    for (const [name, cache] of this.caches) {
      this.cacheEntries.labels(name).set(cache.size);
      this.cacheCapacity.labels(name).set(cache.capacity);
    }
  }

  /** Pre-labelled children for the per-request paths, so those pay no label lookup. */
  readonly hot = {
    revocationHit: this.revocationCache.labels('hit'),
    revocationMiss: this.revocationCache.labels('miss'),
    tokenHit: this.accessTokenCache.labels('hit'),
    tokenMiss: this.accessTokenCache.labels('miss'),
  };
}
