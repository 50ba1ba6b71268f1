/**
 * Prometheus metrics for the killer, in the text exposition format, served over HTTP.
 *
 * @module
 */
import type { AddressInfo } from 'node:net';
import { http } from '../internal/node-http.js';
import type { CycleReport, VerifyOutcome } from './killer.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Counters, a latency histogram and a cache-hit gauge. */
export class KillerMetrics {
  cycles = 0;
  checked = 0;
  killed = 0;
  auditViolations = 0;
  verificationErrors = 0;
  /** Cycles cut short by their deadline. */
  deadlinesReached = 0;
  readonly #buckets = new Array<number>(BUCKETS.length).fill(0);
  #sum = 0;
  #count = 0;
  /** Returns the verification cache hit ratio (0..1). */
  cacheHitRatio: () => number = () => 0;

  /** Record one verification's latency and outcome. */
  observeVerification(seconds: number, outcome: VerifyOutcome): void {
    this.#sum += seconds;
    this.#count++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= (BUCKETS[i] as number)) this.#buckets[i] = (this.#buckets[i] as number) + 1;
    if (!outcome.ok && !outcome.definitive) this.verificationErrors++;
  }

  /** Record a finished cycle. */
  observeCycle(report: CycleReport): void {
    this.cycles++;
    this.checked += report.checked;
    if (report.deadlineReached === true) this.deadlinesReached++;
    for (const e of report.events) {
      if (e.action === 'killed' || e.action === 'killed-and-removed') this.killed++;
      if (e.action === 'audit') this.auditViolations++;
    }
  }

  /** The exposition text. */
  render(): string {
    const p = 'cosign_killer';
    const lines = [
      `# HELP ${p}_cycles_total Completed check cycles.`,
      `# TYPE ${p}_cycles_total counter`,
      `${p}_cycles_total ${this.cycles}`,
      `# HELP ${p}_containers_checked_total Containers checked, summed over cycles.`,
      `# TYPE ${p}_containers_checked_total counter`,
      `${p}_containers_checked_total ${this.checked}`,
      `# HELP ${p}_containers_killed_total Containers killed because their image signature failed.`,
      `# TYPE ${p}_containers_killed_total counter`,
      `${p}_containers_killed_total ${this.killed}`,
      `# HELP ${p}_audit_violations_total Violations reported in audit mode (not killed).`,
      `# TYPE ${p}_audit_violations_total counter`,
      `${p}_audit_violations_total ${this.auditViolations}`,
      `# HELP ${p}_verification_errors_total Verifications that could not complete (registry unavailable, throttled, ...).`,
      `# TYPE ${p}_verification_errors_total counter`,
      `${p}_verification_errors_total ${this.verificationErrors}`,
      `# HELP ${p}_cycle_deadlines_reached_total Cycles whose deadline passed before every container was verified (those count as unavailable).`,
      `# TYPE ${p}_cycle_deadlines_reached_total counter`,
      `${p}_cycle_deadlines_reached_total ${this.deadlinesReached}`,
      `# HELP ${p}_verification_seconds Time to verify one image digest (cache hits included).`,
      `# TYPE ${p}_verification_seconds histogram`,
      ...BUCKETS.map((b, i) => `${p}_verification_seconds_bucket{le="${b}"} ${this.#buckets[i]}`),
      `${p}_verification_seconds_bucket{le="+Inf"} ${this.#count}`,
      `${p}_verification_seconds_sum ${this.#sum}`,
      `${p}_verification_seconds_count ${this.#count}`,
      `# HELP ${p}_cache_hit_ratio Share of verifications answered from the digest-keyed cache.`,
      `# TYPE ${p}_cache_hit_ratio gauge`,
      `${p}_cache_hit_ratio ${this.cacheHitRatio()}`,
    ];
    return `${lines.join('\n')}\n`;
  }

  /** Serve `/metrics` on `host:port` (port 0: a free one). */
  async serve(port: number, host = '127.0.0.1'): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      const body = this.render();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    const a = server.address() as AddressInfo;
    return {
      url: `http://${host}:${a.port}/metrics`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
}
