/**
 * A Map bounded to `capacity` entries that evicts the least recently used one: the caches in
 * front of token verification and session status use it, so memory never grows past the bound
 * whatever the number of users.
 *
 * @example const cache = new LruMap<string, number>(10_000); cache.set('a', 1); cache.get('a');
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();
  /** Entries dropped to stay within the bound, since start. */
  evictions = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** Number of entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** The value, marking it most recently used; `undefined` when absent. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Map keeps insertion order: moving a key to the end makes the first key the least recent.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** The value without touching its recency. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Sets a value as most recently used, evicting the least recent entry when full. */
  set(key: K, value: V): void {
    if (this.entries.has(key)) this.entries.delete(key);
    else if (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value as K);
      this.evictions++;
    }
    this.entries.set(key, value);
  }

  /** Replaces the value of a present key, keeping its recency; returns whether it was present. */
  update(key: K, value: V): boolean {
    if (!this.entries.has(key)) return false;
    this.entries.set(key, value);
    return true;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
