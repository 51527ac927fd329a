import type { OnModuleDestroy } from '@nestjs/common';
import type { AttemptCount, LoginAttemptStore } from './login-attempts.store.interface.js';

const SWEEP_INTERVAL_MS = 60_000;

/** Failed-login counters in this process: the embedded default, and the fallback while Redis is down. */
export class MemoryLoginAttemptStore implements LoginAttemptStore, OnModuleDestroy {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  async peek(key: string): Promise<AttemptCount> {
    const window = this.live(key);
    return window ? { count: window.count, resetInMs: window.resetAt - Date.now() } : { count: 0, resetInMs: 0 };
  }

  async increment(key: string, windowMs: number): Promise<AttemptCount> {
    const window = this.live(key) ?? { count: 0, resetAt: Date.now() + windowMs };
    window.count += 1;
    this.windows.set(key, window);
    return { count: window.count, resetInMs: window.resetAt - Date.now() };
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
