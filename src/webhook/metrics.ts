/**
 * Prometheus metrics of the admission webhook, in the text exposition format (served on `/metrics`).
 *
 * @module
 */

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Where the counters of the shared caches and clients come from (the {@link AdmissionController}). */
export interface WebhookMetricsSources {
  /** Verifications actually run (cache misses not joined to one in flight). */
  verifications(): number;
  /** Verification outcome cache: hits, misses, joined (singleflight). */
  cacheStats(): { hits: number; misses: number; joined: number };
  /** Registry requests sent. */
  registryRequests(): number;
}

/** Counters, a latency histogram and gauges of the webhook. */
export class WebhookMetrics {
  /** Reviews by endpoint and result. */
  readonly #requests = new Map<string, number>();
  /** Images by result (`allowed`, `verified`, `denied`, `warned`). */
  readonly #images = new Map<string, number>();
  readonly #buckets = new Array<number>(BUCKETS.length).fill(0);
  #sum = 0;
  #count = 0;
  /** Reviews whose deadline passed before every verification finished. */
  deadlinesReached = 0;
  /** Reviews being handled now. */
  inFlight = 0;
  /** Successful TLS certificate reloads. */
  certReloads = 0;
  /** Failed TLS certificate reloads (the previous certificate is kept). */
  certReloadErrors = 0;
  /** Sources of the cache and registry figures. */
  sources: WebhookMetricsSources | undefined;

  /** Record one review. `result`: `allowed`, `denied`, `bad-request` or `error`. */
  observeReview(endpoint: string, result: string, seconds: number, images: ReadonlyArray<{ result: string }>, dryRun: boolean): void {
    const key = `endpoint="${endpoint}",result="${result}",dry_run="${dryRun}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    for (const i of images) this.#images.set(i.result, (this.#images.get(i.result) ?? 0) + 1);
    this.#sum += seconds;
    this.#count++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= (BUCKETS[i] as number)) this.#buckets[i] = (this.#buckets[i] as number) + 1;
  }

  /** The exposition text. */
  render(): string {
    const p = 'cosign_webhook';
    const s = this.sources;
    const stats = s?.cacheStats() ?? { hits: 0, misses: 0, joined: 0 };
    const lookups = stats.hits + stats.misses + stats.joined;
    const lines = [
      `# HELP ${p}_reviews_total AdmissionReviews answered, by endpoint and result.`,
      `# TYPE ${p}_reviews_total counter`,
      ...[...this.#requests].map(([k, v]) => `${p}_reviews_total{${k}} ${v}`),
      `# HELP ${p}_images_total Images checked, by result.`,
      `# TYPE ${p}_images_total counter`,
      ...[...this.#images].map(([k, v]) => `${p}_images_total{result="${k}"} ${v}`),
      `# HELP ${p}_review_seconds Time to answer one AdmissionReview.`,
      `# TYPE ${p}_review_seconds histogram`,
      ...BUCKETS.map((b, i) => `${p}_review_seconds_bucket{le="${b}"} ${this.#buckets[i]}`),
      `${p}_review_seconds_bucket{le="+Inf"} ${this.#count}`,
      `${p}_review_seconds_sum ${this.#sum}`,
      `${p}_review_seconds_count ${this.#count}`,
      `# HELP ${p}_deadlines_reached_total Reviews whose deadline passed before every verification finished.`,
      `# TYPE ${p}_deadlines_reached_total counter`,
      `${p}_deadlines_reached_total ${this.deadlinesReached}`,
      `# HELP ${p}_in_flight Reviews being handled.`,
      `# TYPE ${p}_in_flight gauge`,
      `${p}_in_flight ${this.inFlight}`,
      `# HELP ${p}_verifications_total Signature verifications run (each distinct digest and rule once per cache lifetime).`,
      `# TYPE ${p}_verifications_total counter`,
      `${p}_verifications_total ${s?.verifications() ?? 0}`,
      `# HELP ${p}_cache_lookups_total Verification cache lookups, by result (hit, miss, joined: waited for one in flight).`,
      `# TYPE ${p}_cache_lookups_total counter`,
      `${p}_cache_lookups_total{result="hit"} ${stats.hits}`,
      `${p}_cache_lookups_total{result="miss"} ${stats.misses}`,
      `${p}_cache_lookups_total{result="joined"} ${stats.joined}`,
      `# HELP ${p}_cache_hit_ratio Share of lookups answered without a new verification.`,
      `# TYPE ${p}_cache_hit_ratio gauge`,
      `${p}_cache_hit_ratio ${lookups === 0 ? 0 : (stats.hits + stats.joined) / lookups}`,
      `# HELP ${p}_registry_requests_total HTTP requests sent to registries.`,
      `# TYPE ${p}_registry_requests_total counter`,
      `${p}_registry_requests_total ${s?.registryRequests() ?? 0}`,
      `# HELP ${p}_certificate_reloads_total TLS certificate reloads, by result.`,
      `# TYPE ${p}_certificate_reloads_total counter`,
      `${p}_certificate_reloads_total{result="ok"} ${this.certReloads}`,
      `${p}_certificate_reloads_total{result="error"} ${this.certReloadErrors}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}
