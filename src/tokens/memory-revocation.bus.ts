import type { RevocationBus } from './revocation-bus.interface.js';

/**
 * The embedded default: no other instance to tell. Several processes on one database still see
 * each other's revocations through the database poll of `RevocationService`.
 */
export class MemoryRevocationBus implements RevocationBus {
  async publish(): Promise<boolean> {
    return true;
  }

  async subscribe(): Promise<void> {}

  async ping(): Promise<null> {
    return null;
  }
}
