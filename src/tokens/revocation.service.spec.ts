import type { Repository } from 'typeorm';
import type { AuthModuleOptions } from '../auth/auth-module-options.interface.js';
import type { RevocationStore, SessionStatus } from './revocation-store.interface.js';
import { LIVE_CACHE_TTL_MS, RevocationService } from './revocation.service.js';
import type { Session } from './session.entity.js';

/** A revocation cache that answers what it is told and records what it was asked to do. */
class FakeRevocationStore implements RevocationStore {
  /** What `get` answers for a session; absent means `null` (unknown, or the store is down). */
  readonly answers = new Map<string, SessionStatus>();
  readonly gets: string[] = [];
  readonly markedLive: Array<{ sessionId: string; ttlMs: number }> = [];
  readonly markedRevoked: Array<{ sessionIds: string[]; ttlMs: number }> = [];

  async get(sessionId: string): Promise<SessionStatus | null> {
    this.gets.push(sessionId);
    return this.answers.get(sessionId) ?? null;
  }

  async markLive(sessionId: string, ttlMs: number): Promise<void> {
    this.markedLive.push({ sessionId, ttlMs });
  }

  async markRevoked(sessionIds: readonly string[], ttlMs: number): Promise<void> {
    this.markedRevoked.push({ sessionIds: [...sessionIds], ttlMs });
  }

  async ping(): Promise<boolean> {
    return true;
  }
}

type SessionRow = Pick<Session, 'id' | 'revokedAt'>;

/** The one repository method the service uses, over a few rows, recording each query. */
class FakeSessions {
  readonly rows = new Map<string, SessionRow>();
  readonly queries: Array<{ where: { id: string } }> = [];

  async findOne(query: { where: { id: string } }): Promise<SessionRow | null> {
    this.queries.push(query);
    return this.rows.get(query.where.id) ?? null;
  }
}

const options = {
  accessTokenTtl: 900,
  clockTolerance: 5,
  refreshTokenTtl: 1_209_600,
  sessionMaxAge: 2_592_000,
  refreshReuseGrace: 0,
} as AuthModuleOptions;

/** A revocation marker must outlive any access token of the session, clock skew included. */
const REVOKED_TTL_MS = (900 + 5 + 1) * 1000;

describe('RevocationService', () => {
  let store: FakeRevocationStore;
  let sessions: FakeSessions;
  let service: RevocationService;

  beforeEach(() => {
    store = new FakeRevocationStore();
    sessions = new FakeSessions();
    service = new RevocationService(store, sessions as unknown as Repository<Session>, options);
  });

  it('trusts a cached revocation without asking the database', async () => {
    store.answers.set('s1', 'revoked');
    sessions.rows.set('s1', { id: 's1', revokedAt: null });
    expect(await service.isRevoked('s1')).toBe(true);
    expect(sessions.queries).toEqual([]);
    expect(store.markedLive).toEqual([]);
    expect(store.markedRevoked).toEqual([]);
  });

  it('trusts a cached live session without asking the database', async () => {
    store.answers.set('s1', 'live');
    sessions.rows.set('s1', { id: 's1', revokedAt: new Date() });
    expect(await service.isRevoked('s1')).toBe(false);
    expect(sessions.queries).toEqual([]);
    expect(store.markedLive).toEqual([]);
    expect(store.markedRevoked).toEqual([]);
  });

  it('looks up a session the cache does not know and caches it as live for one second', async () => {
    sessions.rows.set('s1', { id: 's1', revokedAt: null });
    expect(await service.isRevoked('s1')).toBe(false);
    expect(sessions.queries).toHaveLength(1);
    expect(sessions.queries[0]).toMatchObject({ where: { id: 's1' } });
    expect(LIVE_CACHE_TTL_MS).toBe(1000);
    expect(store.markedLive).toEqual([{ sessionId: 's1', ttlMs: 1000 }]);
    expect(store.markedRevoked).toEqual([]);
  });

  it('looks up a session the cache does not know and caches its revocation past any access token', async () => {
    sessions.rows.set('s1', { id: 's1', revokedAt: new Date('2026-01-01T00:00:00Z') });
    expect(await service.isRevoked('s1')).toBe(true);
    expect(sessions.queries).toHaveLength(1);
    expect(store.markedRevoked).toEqual([{ sessionIds: ['s1'], ttlMs: REVOKED_TTL_MS }]);
    expect(store.markedLive).toEqual([]);
  });

  it('treats a session missing from the database as revoked', async () => {
    expect(await service.isRevoked('gone')).toBe(true);
    expect(sessions.queries).toHaveLength(1);
    expect(store.markedRevoked).toEqual([{ sessionIds: ['gone'], ttlMs: REVOKED_TTL_MS }]);
    expect(store.markedLive).toEqual([]);
  });

  it('publishes revocations to the cache with the same lifetime', async () => {
    await service.publish(['s1', 's2']);
    expect(store.markedRevoked).toEqual([{ sessionIds: ['s1', 's2'], ttlMs: REVOKED_TTL_MS }]);
    expect(sessions.queries).toEqual([]);
  });

  it('asks the database every time while the cache answers nothing (Redis down)', async () => {
    sessions.rows.set('live', { id: 'live', revokedAt: null });
    sessions.rows.set('ended', { id: 'ended', revokedAt: new Date() });
    // The fake answers null throughout, as a store does while it cannot reach Redis.
    expect(await service.isRevoked('live')).toBe(false);
    expect(await service.isRevoked('live')).toBe(false);
    expect(await service.isRevoked('ended')).toBe(true);
    expect(await service.isRevoked('ended')).toBe(true);
    expect(sessions.queries.map((query) => query.where.id)).toEqual(['live', 'live', 'ended', 'ended']);
    expect(store.gets).toEqual(['live', 'live', 'ended', 'ended']);
  });
});
