const SWEEP_INTERVAL_MS = 60_000;

/**
 * A Map whose entries expire: an expired entry is never returned, and a sweep every minute
 * frees the ones nobody asks for again. The in-process stores are built on it.
 *
 * @example const map = new ExpiringMap<string>(); map.set('k', 'v', 1000); map.get('k');
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  /** The live value of a key, or `undefined`. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry?.value;
  }

  /** Milliseconds until the key expires; 0 when it is absent. */
  ttl(key: string): number {
    const entry = this.entries.get(key);
    return entry ? Math.max(0, entry.expiresAt - Date.now()) : 0;
  }

  /** Sets a value that lives `ttlMs`. */
  set(key: string, value: V, ttlMs: number): void {
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  /** Replaces the value of a live key, keeping its expiry; returns whether the key was live. */
  update(key: string, value: V): boolean {
    const entry = this.entries.get(key);
    if (!entry || entry.expiresAt <= Date.now()) return false;
    entry.value = value;
    return true;
  }

  /** Stops the sweep; for shutdown. */
  dispose(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
