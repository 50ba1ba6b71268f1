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
