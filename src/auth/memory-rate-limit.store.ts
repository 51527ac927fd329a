import { randomUUID } from 'node:crypto';
import type { OnApplicationShutdown } from '@nestjs/common';
import { ExpiringMap } from '../common/expiring-map.js';
import type { RateLimitStore, Reservation, WindowCount } from './rate-limit.store.interface.js';

/** Rate-limit counters in this process: the embedded default, and the fallback while Redis is down. */
export class MemoryRateLimitStore implements RateLimitStore, OnApplicationShutdown {
  private readonly counts = new ExpiringMap<number>();
  /** Places held by attempts in flight, by key: token → when the place lapses. */
  private readonly places = new Map<string, Map<string, number>>();

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    return this.add(key, windowMs);
  }

  async reserve(key: string, max: number, holdMs: number): Promise<Reservation> {
    const failures = this.counts.get(key) ?? 0;
    if (failures >= max) return { status: 'full', retryInMs: this.counts.ttl(key) };
    const held = this.held(key);
    if (failures + held.size >= max) return { status: 'busy' };
    const token = randomUUID();
    held.set(token, Date.now() + holdMs);
    return { status: 'taken', token };
  }

  async settle(key: string, token: string, failed: boolean, windowMs: number): Promise<void> {
    const held = this.places.get(key);
    held?.delete(token);
    if (held?.size === 0) this.places.delete(key);
    if (failed) this.add(key, windowMs);
  }

  onApplicationShutdown(): void {
    this.counts.dispose();
  }

  private add(key: string, windowMs: number): WindowCount {
    const count = (this.counts.get(key) ?? 0) + 1;
    // The window starts at the first hit and is never extended by later ones.
    if (!this.counts.update(key, count)) this.counts.set(key, count, windowMs);
    return { count, resetInMs: this.counts.ttl(key) };
  }

  private held(key: string): Map<string, number> {
    let held = this.places.get(key);
    if (!held) {
      held = new Map();
      this.places.set(key, held);
    }
    const now = Date.now();
    for (const [token, lapsesAt] of held) if (lapsesAt <= now) held.delete(token);
    return held;
  }
}
