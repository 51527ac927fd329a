/** A counter: how many attempts in the current window, and when the window ends. */
export interface AttemptCount {
  count: number;
  /** Milliseconds until the window ends and the count starts over. */
  resetInMs: number;
}

/**
 * Counters of login attempts in fixed windows that start at the first attempt. In Redis they are
 * shared by every instance; in process they are per instance.
 */
export interface LoginAttemptStore {
  /** Adds one attempt, atomically; a new window of `windowMs` starts when there was none. */
  increment(key: string, windowMs: number): Promise<AttemptCount>;
  /** Takes one attempt back (it succeeded, or was refused before it was tried). */
  decrement(key: string): Promise<void>;
}

/** Injection token of the {@link LoginAttemptStore}. */
export const LoginAttemptStore = Symbol('LoginAttemptStore');
