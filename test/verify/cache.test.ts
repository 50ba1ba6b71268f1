import { describe, expect, it } from 'vitest';
import { VerificationCache } from '../../src/verify/index.js';

describe('VerificationCache', () => {
  it('keeps successes for the long TTL and failures for the short one', () => {
    let now = 0;
    const c = new VerificationCache<string>({ successTtlMs: 1000, failureTtlMs: 100, now: () => now });
    c.set('ok', 'yes', true);
    c.set('bad', 'no', false);
    now = 99;
    expect(c.get('ok')).toBe('yes');
    expect(c.get('bad')).toBe('no');
    now = 100;
    expect(c.get('bad')).toBeUndefined();
    expect(c.get('ok')).toBe('yes');
    now = 1000;
    expect(c.get('ok')).toBeUndefined();
    expect(c.stats).toEqual({ hits: 3, misses: 2 });
    expect(c.hitRatio()).toBeCloseTo(0.6);
  });

  it('evicts the oldest entry past maxEntries', () => {
    const c = new VerificationCache<number>({ maxEntries: 2 });
    c.set('a', 1, true);
    c.set('b', 2, true);
    c.set('a', 3, true); // refresh a: b is now oldest
    c.set('c', 4, true);
    expect(c.size).toBe(2);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(3);
    expect(c.get('c')).toBe(4);
    c.clear();
    expect(c.size).toBe(0);
  });
});
