import { jest } from '@jest/globals';
import { ExpiringMap } from './expiring-map.js';

describe('ExpiringMap', () => {
  let map: ExpiringMap<number>;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    map = new ExpiringMap<number>();
  });
  afterEach(() => {
    map.dispose();
    jest.useRealTimers();
  });

  it('returns a value until it expires, and never after', () => {
    map.set('a', 1, 1000);
    jest.advanceTimersByTime(999);
    expect(map.get('a')).toBe(1);
    expect(map.ttl('a')).toBe(1);
    jest.advanceTimersByTime(1);
    expect(map.get('a')).toBeUndefined();
    expect(map.ttl('a')).toBe(0);
  });

  it('updates a live value without extending its life, and refuses an expired one', () => {
    map.set('a', 1, 1000);
    jest.advanceTimersByTime(600);
    expect(map.update('a', 2)).toBe(true);
    expect(map.get('a')).toBe(2);
    jest.advanceTimersByTime(400);
    expect(map.update('a', 3)).toBe(false);
    expect(map.get('a')).toBeUndefined();
    expect(map.update('missing', 1)).toBe(false);
  });

  it('sweeps expired entries nobody asks for', () => {
    map.set('a', 1, 10);
    map.set('b', 2, 120_000);
    jest.advanceTimersByTime(60_000);
    const entries = (map as unknown as { entries: Map<string, unknown> }).entries;
    expect([...entries.keys()]).toEqual(['b']);
  });
});
