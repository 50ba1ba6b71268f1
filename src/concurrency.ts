/**
 * Bounded concurrency for I/O fan-out (blob fetches, batch verification, container checks).
 *
 * @module
 */

/**
 * Run `fn` over `items` with at most `limit` calls in flight; results keep the input order. The first
 * rejection rejects the whole call (callers that must not fail per item catch inside `fn`).
 */
export async function mapLimit<T, R>(items: ReadonlyArray<T>, limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * `p`, unless `signal` aborts first: then a rejection with `onAbort()`'s error. `p` keeps running (its
 * eventual rejection is handled), so this bounds how long a caller waits, not the work itself.
 */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(e as Error);
      },
    );
  });
}

/** The longest delay Node's timers honour (2^31 − 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A timer delay for `ms` that Node's timers honour: a whole number of milliseconds in
 * [1, {@link MAX_TIMER_MS}]. `setTimeout` fires after 1 ms when given more than the maximum, and
 * `AbortSignal.timeout` throws a `RangeError`; a caller's "9999999h" deadline is therefore capped at
 * about 24.8 days rather than firing at once or crashing.
 */
export function timerDelay(ms: number): number {
  if (!(ms >= 1)) return 1;
  return Math.min(Math.ceil(ms), MAX_TIMER_MS);
}
