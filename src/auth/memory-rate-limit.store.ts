import type { OnModuleDestroy } from '@nestjs/common';
import type { WindowCount, RateLimitStore } from './rate-limit.store.interface.js';

const SWEEP_INTERVAL_MS = 60_000;

/** Rate-limit counters in this process: the embedded default, and the fallback while Redis is down. */
export class MemoryRateLimitStore implements RateLimitStore, OnModuleDestroy {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    const window = this.live(key) ?? { count: 0, resetAt: Date.now() + windowMs };
    window.count += 1;
    this.windows.set(key, window);
    return { count: window.count, resetInMs: window.resetAt - Date.now() };
  }

  async decrement(key: string): Promise<void> {
    const window = this.live(key);
    if (window && window.count > 0) window.count -= 1;
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private live(key: string): { count: number; resetAt: number } | undefined {
    const window = this.windows.get(key);
    if (window && window.resetAt <= Date.now()) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
