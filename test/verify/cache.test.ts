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
    expect(c.stats).toEqual({ hits: 3, misses: 2, joined: 0 });
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

  it('share(): concurrent callers of one key compute once; successes and failures kept, outages not', async () => {
    let now = 0;
    const c = new VerificationCache<string>({ successTtlMs: 1000, failureTtlMs: 100, now: () => now });
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const compute = async (): Promise<string> => {
      runs++;
      await gate;
      return 'ok';
    };
    const all = Array.from({ length: 20 }, () => c.share('d', compute, () => 'success'));
    expect(c.inflight).toBe(1);
    release();
    expect(await Promise.all(all)).toEqual(Array(20).fill('ok'));
    expect(runs).toBe(1);
    expect(c.stats.joined).toBe(19);
    expect(c.inflight).toBe(0);
    expect(await c.share('d', compute, () => 'success')).toBe('ok');
    expect(runs).toBe(1);
    // a failure is kept for the short TTL only
    let n = 0;
    const fail = async (): Promise<string> => `no${++n}`;
    expect(await c.share('f', fail, () => 'failure')).toBe('no1');
    now = 99;
    expect(await c.share('f', fail, () => 'failure')).toBe('no1');
    now = 100;
    expect(await c.share('f', fail, () => 'failure')).toBe('no2');
    // an outage is not kept; a rejection is shared and not kept
    expect(await c.share('o', fail, () => 'none')).toBe('no3');
    expect(await c.share('o', fail, () => 'none')).toBe('no4');
    const boom = Promise.all([
      c.share(
        'x',
        () => Promise.reject(new Error('down')),
        () => 'success',
      ),
      c.share('x', compute, () => 'success'),
    ]);
    await expect(boom).rejects.toThrow('down');
    expect(
      await c.share(
        'x',
        async () => 'up',
        () => 'success',
      ),
    ).toBe('up');
  });
});
