/**
 * A verification cache keyed by **digest** (never by tag) and by a fingerprint of the trust material
 * and expectations, so a changed key or policy never reuses an old answer. Successes are kept for a
 * long TTL, failures for a short one (a signature may be added any minute).
 *
 * @module
 */

/** Options for {@link VerificationCache}. */
export interface VerificationCacheOptions {
  /** How long a successful verification is reused, in ms. Default 10 minutes. */
  readonly successTtlMs?: number;
  /** How long a definitive failure is reused, in ms. Default 30 s. Transient errors are never cached. */
  readonly failureTtlMs?: number;
  /** Upper bound on entries; the oldest are evicted first. Default 10 000. */
  readonly maxEntries?: number;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

interface Entry<T> {
  readonly value: T;
  readonly expires: number;
}

/** Counters exposed for metrics (hit ratio) and benchmarks. */
export interface CacheStats {
  hits: number;
  misses: number;
  /** {@link VerificationCache.share} calls that joined a computation already in flight (singleflight). */
  joined: number;
}

/** How {@link VerificationCache.share} keeps a computed value: the success TTL, the (short) failure TTL, or not at all. */
export type ShareKeep = 'success' | 'failure' | 'none';

/** A small TTL cache with insertion-order eviction. Values are whatever the verifier stores. */
export class VerificationCache<T = unknown> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #successTtl: number;
  readonly #failureTtl: number;
  readonly #max: number;
  readonly #now: () => number;
  /** Hit/miss counters since creation. */
  readonly stats: CacheStats = { hits: 0, misses: 0, joined: 0 };
  readonly #inflight = new Map<string, Promise<T>>();

  constructor(options: VerificationCacheOptions = {}) {
    this.#successTtl = options.successTtlMs ?? 10 * 60_000;
    this.#failureTtl = options.failureTtlMs ?? 30_000;
    this.#max = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** The cached value for `key`, if present and fresh. */
  get(key: string): T | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) {
      this.stats.misses++;
      return undefined;
    }
    if (e.expires <= this.#now()) {
      this.#entries.delete(key);
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return e.value;
  }

  /** Store a result; `success` picks the TTL. */
  set(key: string, value: T, success: boolean): void {
    if (this.#entries.has(key)) this.#entries.delete(key);
    else if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expires: this.#now() + (success ? this.#successTtl : this.#failureTtl) });
  }

  /**
   * Singleflight over the cache: a fresh cached value for `key` is returned at once; else, if a
   * computation of `key` is already running, its promise is shared (concurrent callers compute once);
   * else `compute` runs and its value is kept as `keep(value)` says (`none`: transient, e.g. an outage).
   * A rejected computation is not cached; every caller sharing it sees the rejection.
   */
  share(key: string, compute: () => Promise<T>, keep: (value: T) => ShareKeep): Promise<T> {
    const e = this.#entries.get(key);
    if (e !== undefined && e.expires > this.#now()) {
      this.stats.hits++;
      return Promise.resolve(e.value);
    }
    const running = this.#inflight.get(key);
    if (running !== undefined) {
      this.stats.joined++;
      return running;
    }
    this.stats.misses++;
    const p = (async () => {
      try {
        const value = await compute();
        const k = keep(value);
        if (k !== 'none') this.set(key, value, k === 'success');
        return value;
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, p);
    return p;
  }

  /** Computations currently in flight through {@link share}. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Forget everything. */
  clear(): void {
    this.#entries.clear();
  }

  /** Number of entries (fresh or not yet evicted). */
  get size(): number {
    return this.#entries.size;
  }

  /** hits / (hits + misses), or 0 before any lookup. */
  hitRatio(): number {
    const total = this.stats.hits + this.stats.misses;
    return total === 0 ? 0 : this.stats.hits / total;
  }
}
