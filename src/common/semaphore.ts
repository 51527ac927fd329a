/**
 * At most `limit` tasks at once; the others wait in order. Password hashing runs through one so
 * that a burst of logins cannot take every core from the requests around it.
 *
 * @example const hashes = new Semaphore(1); await hashes.run(() => argon2.hash(password));
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  /** Tasks waiting for a place. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` once a place is free and gives the place back when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // The place passes straight to the next in line, so `active` never drops below what runs.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
