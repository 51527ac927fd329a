import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['900', 900],
    ['0', 0],
    ['15m', 900],
    ['14d', 1_209_600],
    ['30d', 2_592_000],
    ['2h', 7200],
    ['10s', 10],
    ['1w', 604_800],
    [' 5m ', 300],
  ])('parses %p as %p seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '-5', '1.5', '5x', 'm', '15 minutes', '1e3'])('rejects %p', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
