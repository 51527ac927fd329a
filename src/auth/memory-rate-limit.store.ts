import type { OnModuleDestroy } from '@nestjs/common';
import { ExpiringMap } from '../common/expiring-map.js';
import type { RateLimitStore, WindowCount } from './rate-limit.store.interface.js';

/** Rate-limit counters in this process: the embedded default, and the fallback while Redis is down. */
export class MemoryRateLimitStore implements RateLimitStore, OnModuleDestroy {
  private readonly counts = new ExpiringMap<number>();

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    const count = (this.counts.get(key) ?? 0) + 1;
    // The window starts at the first hit and is never extended by later ones.
    if (!this.counts.update(key, count)) this.counts.set(key, count, windowMs);
    return { count, resetInMs: this.counts.ttl(key) };
  }

  async decrement(key: string): Promise<void> {
    const count = this.counts.get(key);
    if (count !== undefined && count > 0) this.counts.update(key, count - 1);
  }

  onModuleDestroy(): void {
    this.counts.dispose();
  }
}
