/** A failure counter: how many within the current window, and when the window ends. */
export interface AttemptCount {
  count: number;
  /** Milliseconds until the window ends and the count starts over; 0 when there is no count. */
  resetInMs: number;
}

/**
 * Counters of failed logins in fixed windows that start at the first failure. In Redis they are
 * shared by every instance; in process they are per instance.
 */
export interface LoginAttemptStore {
  /** The current count of a key, without changing it. */
  peek(key: string): Promise<AttemptCount>;
  /** Adds one failure; a new window of `windowMs` starts when there was none. */
  increment(key: string, windowMs: number): Promise<AttemptCount>;
}

/** Injection token of the {@link LoginAttemptStore}. */
export const LoginAttemptStore = Symbol('LoginAttemptStore');
