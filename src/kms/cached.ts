/**
 * A lazily fetched value that the KMS signers keep (the public key and its algorithm, an SDK client).
 *
 * @module
 */

/**
 * One asynchronous value, fetched on first use: concurrent callers share one fetch, a success is kept
 * until {@link CachedFetch.clear}, a failure is forgotten (the next call fetches again).
 */
export class CachedFetch<T> {
  readonly #fetch: () => Promise<T>;
  #value: Promise<T> | undefined;

  constructor(fetch: () => Promise<T>) {
    this.#fetch = fetch;
  }

  /** The value: the one in flight or kept, else a new fetch. */
  get(): Promise<T> {
    if (this.#value === undefined) {
      const p = (async () => this.#fetch())();
      this.#value = p;
      p.catch(() => {
        if (this.#value === p) this.#value = undefined;
      });
    }
    return this.#value;
  }

  /** Forget the kept value (e.g. a rotated key): the next {@link CachedFetch.get} fetches again. */
  clear(): void {
    this.#value = undefined;
  }
}
