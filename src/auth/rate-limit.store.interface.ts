/** A counter: how many hits in the current window, and when the window ends. */
export interface WindowCount {
  count: number;
  /** Milliseconds until the window ends and the count starts over. */
  resetInMs: number;
}

/**
 * Counters in fixed windows that start at the first hit: failed logins per account and per IP,
 * and requests per IP to the credential endpoints. In Redis they are shared by every instance;
 * in process they are per instance.
 */
export interface RateLimitStore {
  /** Adds one hit, atomically; a new window of `windowMs` starts when there was none. */
  increment(key: string, windowMs: number): Promise<WindowCount>;
  /** Takes one hit back (a login attempt that succeeded, or was refused before it was tried). */
  decrement(key: string): Promise<void>;
}

/** Injection token of the {@link RateLimitStore}. */
export const RateLimitStore = Symbol('RateLimitStore');
