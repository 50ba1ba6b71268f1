import { describe, expect, it } from 'vitest';
import { CachedFetch } from '../../src/kms/cached.js';

/** A fetch whose calls are counted and settled by the test. */
function controlled(): { fetch: () => Promise<number>; calls: () => number; settle: (v: number | Error) => void } {
  const pending: Array<{ resolve: (v: number) => void; reject: (e: Error) => void }> = [];
  return {
    fetch: () => new Promise<number>((resolve, reject) => pending.push({ resolve, reject })),
    calls: () => pending.length,
    settle: (v) => {
      const p = pending.at(-1);
      if (p === undefined) throw new Error('no fetch in flight');
      if (v instanceof Error) p.reject(v);
      else p.resolve(v);
    },
  };
}

describe('CachedFetch', () => {
  it('concurrent callers share one fetch, and the value is kept', async () => {
    const f = controlled();
    const cache = new CachedFetch(f.fetch);
    const a = cache.get();
    const b = cache.get();
    await Promise.resolve();
    expect(f.calls()).toBe(1);
    f.settle(42);
    expect(await Promise.all([a, b])).toEqual([42, 42]);
    expect(await cache.get()).toBe(42);
    expect(f.calls()).toBe(1);
  });

  it('a failure reaches every waiting caller and is not kept: the next call fetches again', async () => {
    const f = controlled();
    const cache = new CachedFetch(f.fetch);
    const a = cache.get();
    const b = cache.get();
    await Promise.resolve();
    f.settle(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');
    const c = cache.get();
    await Promise.resolve();
    expect(f.calls()).toBe(2);
    f.settle(7);
    expect(await c).toBe(7);
  });

  it('clear() forgets the value (a rotated key)', async () => {
    let n = 0;
    const cache = new CachedFetch(() => Promise.resolve(++n));
    expect(await cache.get()).toBe(1);
    expect(await cache.get()).toBe(1);
    cache.clear();
    expect(await cache.get()).toBe(2);
  });

  it('a fetch that throws synchronously is a rejection, not a throw, and is not kept', async () => {
    let fail = true;
    const cache = new CachedFetch<string>(() => {
      if (fail) throw new Error('sync');
      return Promise.resolve('ok');
    });
    const p = cache.get();
    expect(p).toBeInstanceOf(Promise);
    await expect(p).rejects.toThrow('sync');
    fail = false;
    expect(await cache.get()).toBe('ok');
  });
});
