import { jest } from '@jest/globals';
import type { AuthConfig } from '../auth/auth-options.js';
import { AuthMetrics } from '../metrics/auth-metrics.service.js';
import type { RevocationBus } from './revocation-bus.interface.js';
import { CACHE_TRUST_WINDOW_MS, RevocationService } from './revocation.service.js';
import type { SessionStore } from './session-store.interface.js';

/** The two store methods the service uses, over a few sessions, recording each read. */
class FakeStore {
  readonly revoked = new Map<string, boolean>();
  readonly reads: string[] = [];
  /** What the next polls answer; each poll takes the first entry. */
  readonly polls: Array<string[] | Error> = [];
  /** Holds a read until released, to interleave a revocation. */
  hold?: Promise<void>;

  async isRevoked(id: string): Promise<boolean> {
    this.reads.push(id);
    await this.hold;
    return this.revoked.get(id) ?? true;
  }

  async revokedSince(): Promise<{ ids: string[]; cursor: Date }> {
    const next = this.polls.shift() ?? [];
    if (next instanceof Error) throw next;
    return { ids: next, cursor: new Date() };
  }
}

/** A bus that records what is published and lets the test deliver messages. */
class FakeBus implements RevocationBus {
  readonly published: string[][] = [];
  listener?: (ids: string[]) => void;

  async publish(ids: readonly string[]): Promise<boolean> {
    this.published.push([...ids]);
    return true;
  }

  async subscribe(listener: (ids: string[]) => void): Promise<void> {
    this.listener = listener;
  }

  async ping(): Promise<boolean> {
    return true;
  }
}

const config = { caches: { sessions: 3 } } as AuthConfig;

describe('RevocationService (the near cache)', () => {
  let store: FakeStore;
  let bus: FakeBus;
  let service: RevocationService;

  beforeEach(async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    store = new FakeStore();
    bus = new FakeBus();
    service = new RevocationService(store as unknown as SessionStore, bus, config, new AuthMetrics());
    await service.onApplicationBootstrap();
    store.revoked.set('live', false).set('live2', false).set('live3', false).set('live4', false).set('gone', true);
  });
  afterEach(() => {
    service.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('reads a session once, then answers from memory', async () => {
    expect(await service.isRevoked('live')).toBe(false);
    expect(service.isRevoked('live')).toBe(false);
    expect(service.isRevoked('live')).toBe(false);
    expect(store.reads).toEqual(['live']);
  });

  it('takes a session the database does not have as revoked', async () => {
    expect(await service.isRevoked('unknown')).toBe(true);
    expect(service.isRevoked('unknown')).toBe(true);
  });

  it('flips a cached session at once when another instance publishes its revocation', async () => {
    await service.isRevoked('live');
    bus.listener!(['live']);
    expect(service.isRevoked('live')).toBe(true);
    expect(store.reads).toEqual(['live']);
  });

  it('flips a cached session when the database poll reports it, with Redis silent', async () => {
    await service.isRevoked('live');
    store.polls.push(['live']);
    await service.poll();
    expect(service.isRevoked('live')).toBe(true);
  });

  it('records its own revocations and publishes them', async () => {
    await service.isRevoked('live');
    await service.revoked(['live', 'other']);
    expect(service.isRevoked('live')).toBe(true);
    expect(bus.published).toEqual([['live', 'other']]);
  });

  it('stops trusting memory when no poll has completed within the trust window, and trusts it again after one', async () => {
    await service.isRevoked('live');
    store.polls.push(new Error('database unreachable'));
    jest.advanceTimersByTime(CACHE_TRUST_WINDOW_MS + 1);
    await service.poll();
    // Every check reads the database now: a revocation it missed may be in there.
    await service.isRevoked('live');
    await service.isRevoked('live');
    expect(store.reads).toEqual(['live', 'live', 'live']);
    await service.poll();
    expect(service.isRevoked('live')).toBe(false);
    expect(store.reads).toHaveLength(3);
  });

  it('keeps a read that a revocation overtook out of the cache, and answers it revoked', async () => {
    let release!: () => void;
    store.hold = new Promise((resolve) => (release = resolve));
    const pending = service.isRevoked('live');
    bus.listener!(['live']);
    release();
    expect(await pending).toBe(true);
    store.hold = undefined;
    // Not cached as live: the next check reads again.
    await service.isRevoked('live');
    expect(store.reads).toEqual(['live', 'live']);
  });

  it('shares one database read between checks of the same session in flight', async () => {
    await Promise.all([service.isRevoked('live'), service.isRevoked('live'), service.isRevoked('live')]);
    expect(store.reads).toEqual(['live']);
  });

  it('holds at most the configured number of sessions, evicting the least recently used', async () => {
    for (const id of ['live', 'live2', 'live3', 'live4']) await service.isRevoked(id);
    expect(service.stats()).toMatchObject({ entries: 3, capacity: 3, evictions: 1 });
    await service.isRevoked('live');
    expect(store.reads).toEqual(['live', 'live2', 'live3', 'live4', 'live']);
  });
});
