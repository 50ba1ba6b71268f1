/** Bounded concurrency and timer helpers (src/concurrency.ts). */
import { describe, expect, it } from 'vitest';
import { mapLimit, MAX_TIMER_MS, raceAbort, timerDelay } from '../src/concurrency.js';

describe('timerDelay', () => {
  it('keeps a delay Node honours: whole ms in [1, 2^31 − 1]', () => {
    expect(timerDelay(0)).toBe(1);
    expect(timerDelay(-5)).toBe(1);
    expect(timerDelay(Number.NaN)).toBe(1);
    expect(timerDelay(0.005)).toBe(1);
    expect(timerDelay(1500.2)).toBe(1501);
    expect(timerDelay(MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
    expect(timerDelay(9_999_999 * 3_600_000)).toBe(MAX_TIMER_MS);
    expect(timerDelay(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_MS);
  });

  it('a capped delay neither throws in AbortSignal.timeout nor fires at once in setTimeout', async () => {
    const huge = 9_999_999 * 3_600_000;
    expect(() => AbortSignal.timeout(huge)).toThrow(RangeError); // what the helper prevents
    const signal = AbortSignal.timeout(timerDelay(huge));
    let fired = false;
    const t = setTimeout(() => (fired = true), timerDelay(huge));
    await new Promise((r) => setTimeout(r, 30));
    clearTimeout(t);
    expect(fired).toBe(false);
    expect(signal.aborted).toBe(false);
  });
});

describe('mapLimit', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([...Array(50).keys()], 4, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 1));
      running--;
      return n * 2;
    });
    expect(out).toEqual([...Array(50).keys()].map((n) => n * 2));
    expect(peak).toBeLessThanOrEqual(4);
  });
});

describe('raceAbort', () => {
  it('settles as the promise does, or rejects with onAbort() when the signal aborts first', async () => {
    await expect(raceAbort(Promise.resolve(1), new AbortController().signal, () => new Error('x'))).resolves.toBe(1);
    const c = new AbortController();
    const slow = new Promise<number>((r) => setTimeout(() => r(2), 50));
    const raced = raceAbort(slow, c.signal, () => new Error('stopped'));
    c.abort();
    await expect(raced).rejects.toThrow('stopped');
    await expect(raceAbort(Promise.reject(new Error('late')), AbortSignal.abort(), () => new Error('already'))).rejects.toThrow('already');
  });
});
