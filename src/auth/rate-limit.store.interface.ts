/** A counter: how many hits in the current window, and when the window ends. */
export interface WindowCount {
  count: number;
  /** Milliseconds until the window ends and the count starts over. */
  resetInMs: number;
}

/** The answer to a request for a place in a failure counter. */
export type Reservation =
  /** A place is held for this attempt; settle it with its `token`. */
  | { status: 'taken'; token: string }
  /** The failures already fill the window: refuse until it ends. */
  | { status: 'full'; retryInMs: number }
  /** Failures plus attempts in flight fill the window: ask again once one of them settles. */
  | { status: 'busy' };

/**
 * Counters in fixed windows that start at the first hit. Two kinds: plain request counts
 * (`increment`, per IP to the credential endpoints) and failure counters with places for the
 * attempts in flight (`reserve` / `settle`, the login limits), so that parallel guesses can never
 * exceed the limit while parallel *successes* are not counted at all. In Redis they are shared
 * by every instance; in process they are per instance.
 */
export interface RateLimitStore {
  /** Adds one hit, atomically; a new window of `windowMs` starts when there was none. */
  increment(key: string, windowMs: number): Promise<WindowCount>;
  /**
   * Takes a place for an attempt when failures plus attempts in flight are below `max`. A place
   * not settled within `holdMs` (a crashed instance) is given back by itself.
   */
  reserve(key: string, max: number, holdMs: number): Promise<Reservation>;
  /** Gives a place back, counting a failure (window `windowMs` from the first one) when `failed`. */
  settle(key: string, token: string, failed: boolean, windowMs: number): Promise<void>;
}

/** Injection token of the {@link RateLimitStore}. */
export const RateLimitStore = Symbol('RateLimitStore');
