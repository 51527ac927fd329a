import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AUTH_CONFIG } from '../auth/auth.constants.js';
import type { AuthConfig } from '../auth/auth-options.js';
import { LruMap } from '../common/lru-map.js';
import { AuthMetrics } from '../metrics/auth-metrics.service.js';
import { RevocationBus } from './revocation-bus.interface.js';
import { SessionStore } from './session-store.interface.js';

/** API.md: a revocation reaches every instance within one second. */
export const REVOCATION_BOUND_MS = 1000;
/** How often each instance asks the database which sessions were revoked. */
export const REVOCATION_POLL_INTERVAL_MS = 250;
/**
 * The near cache is trusted only while the last database poll that completed began less than
 * this long ago; past it (the database unreachable, the process stalled) every check goes to the
 * database. The margin covers a commit that lands while a poll runs.
 */
export const CACHE_TRUST_WINDOW_MS = REVOCATION_BOUND_MS - 150;

/**
 * Answers "is this session revoked?" for every authenticated request, from an in-process cache
 * in the common case, without a network round trip.
 *
 * The cache holds, per session, what the database said (bounded LRU). It is kept right by two
 * feeds: revocations published on the {@link RevocationBus} (Redis pub/sub: milliseconds), and a
 * poll of the database every 250 ms for sessions revoked since the previous one (with an overlap,
 * in the database's clock). The poll alone keeps the one-second bound: the cache is trusted only
 * while a poll that started under {@link CACHE_TRUST_WINDOW_MS} ago has completed, so a lost
 * message, a flushed, restarted, stalled or partitioned Redis, or a reconnect never lets a
 * revoked token through for longer. A check that misses the cache reads the database; a
 * revocation that arrives while that read is in flight keeps its answer out of the cache.
 */
@Injectable()
export class RevocationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RevocationService.name);
  /** Session id → revoked. */
  private readonly cache: LruMap<string, boolean>;
  /** Database reads in flight, by session; `dirty` once a revocation of it arrives meanwhile. */
  private readonly loading = new Map<string, { promise: Promise<boolean>; dirty: boolean }>();
  private cursor: Date | null = null;
  /** `performance.now()` at the start of the last poll that completed. */
  private coveredUntil = -Infinity;
  private timer?: NodeJS.Timeout;
  private polling = false;
  private pollFailing = false;
  private stopped = false;

  constructor(
    @Inject(SessionStore) private readonly store: SessionStore,
    @Inject(RevocationBus) private readonly bus: RevocationBus,
    @Inject(AUTH_CONFIG) config: AuthConfig,
    private readonly metrics: AuthMetrics,
  ) {
    this.cache = new LruMap(config.caches.sessions);
    metrics.trackCache('sessions', this.cache);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus
      .subscribe((ids) => this.apply(ids))
      .catch((error: Error) => {
        this.logger.warn(`revocation channel unavailable (${error.message}); the database poll covers it`);
      });
    await this.poll();
    this.timer = setInterval(() => void this.poll(), REVOCATION_POLL_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.store.close?.();
  }

  /** Whether the session is revoked (or gone). Synchronous on a cache hit. */
  isRevoked(sessionId: string): boolean | Promise<boolean> {
    if (this.trusted()) {
      const cached = this.cache.get(sessionId);
      if (cached !== undefined) {
        this.metrics.hot.revocationHit.inc();
        return cached;
      }
    }
    this.metrics.hot.revocationMiss.inc();
    return this.load(sessionId);
  }

  /** Records revocations made by this instance and tells the others; call after the database write. */
  async revoked(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    this.apply(sessionIds);
    if (!(await this.bus.publish(sessionIds))) this.metrics.redisFallbacks.labels('publish_revocation').inc();
  }

  /** Whether the shared channel answers (`null`: none configured); for `/health`. */
  ping(): Promise<boolean | null> {
    return this.bus.ping();
  }

  /** What the cache holds, for tests and `/health`. */
  stats(): { entries: number; capacity: number; evictions: number; trusted: boolean } {
    return {
      entries: this.cache.size,
      capacity: this.cache.capacity,
      evictions: this.cache.evictions,
      trusted: this.trusted(),
    };
  }

  /** One poll of the database for sessions revoked since the last one. */
  async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    const startedAt = performance.now();
    try {
      const { ids, cursor } = await this.store.revokedSince(this.cursor);
      this.apply(ids);
      this.cursor = cursor;
      this.coveredUntil = startedAt;
      if (this.pollFailing) this.logger.log('revocation poll recovered');
      this.pollFailing = false;
    } catch (error) {
      if (!this.pollFailing) {
        this.logger.warn(
          `revocation poll failed (${(error as Error).message}); checking every request against the database`,
        );
      }
      this.pollFailing = true;
    } finally {
      this.polling = false;
    }
  }

  private trusted(): boolean {
    return performance.now() - this.coveredUntil < CACHE_TRUST_WINDOW_MS;
  }

  private apply(sessionIds: readonly string[]): void {
    for (const id of sessionIds) {
      this.cache.update(id, true);
      const loading = this.loading.get(id);
      if (loading) loading.dirty = true;
    }
  }

  private load(sessionId: string): Promise<boolean> {
    const pending = this.loading.get(sessionId);
    if (pending) return pending.promise;
    const entry = { promise: Promise.resolve(false), dirty: false };
    entry.promise = this.store.isRevoked(sessionId).then(
      (revoked) => {
        this.loading.delete(sessionId);
        // A revocation seen while the read was in flight may postdate it: then leave it uncached.
        if (!entry.dirty) this.cache.set(sessionId, revoked);
        return revoked || entry.dirty;
      },
      (error: unknown) => {
        this.loading.delete(sessionId);
        throw error;
      },
    );
    this.loading.set(sessionId, entry);
    return entry.promise;
  }
}
