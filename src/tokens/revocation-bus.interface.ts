/**
 * How instances tell each other, fast, that sessions were revoked. It is only ever the quick
 * path: every instance also polls the database, so a message lost while the bus is down
 * (Redis restarted, partitioned, flushed) delays a revocation by one poll, never more.
 */
export interface RevocationBus {
  /** Tells the other instances; failures are swallowed (the poll covers them). Returns whether it went out. */
  publish(sessionIds: readonly string[]): Promise<boolean>;
  /** Calls `listener` with the ids every other instance publishes. */
  subscribe(listener: (sessionIds: string[]) => void): Promise<void>;
  /** `null` with no shared bus (one instance); else whether it answers, for `/health`. */
  ping(): Promise<boolean | null>;
}

/** Injection token of the {@link RevocationBus}. */
export const RevocationBus = Symbol('RevocationBus');
