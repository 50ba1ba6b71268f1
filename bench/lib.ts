/** Small benchmarking helpers: warm-up, repeated timed rounds, median, ratios. */
import { performance } from 'node:perf_hooks';
import type { ScenarioResult } from './chart.js';

/** One printed table row. */
export type Row = Record<string, string | number>;

/** What a benchmark section returns: the rows it prints, and the structured results the chart draws. */
export interface BenchSection {
  rows: Row[];
  results: ScenarioResult[];
}

/** Median of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Time `fn` (sync) for `iterations` calls, `rounds` times after a warm-up; returns median ns per call. */
export function timeSync(fn: () => void, iterations: number, rounds = 7): number {
  return median(timeSyncRounds(fn, iterations, rounds));
}

/** Like {@link timeSync}, but returns every round's ns per call. */
export function timeSyncRounds(fn: () => void, iterations: number, rounds = 7): number[] {
  for (let i = 0; i < Math.min(iterations, 2000); i++) fn();
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    per.push(((performance.now() - t0) * 1e6) / iterations);
  }
  return per;
}

/**
 * Interleave two sync functions round by round (A, B, A, B, …) so machine noise hits both alike;
 * returns median ns per call of each.
 */
export function compareSync(a: () => void, b: () => void, iterations: number, rounds = 9): { a: number; b: number } {
  for (let i = 0; i < Math.min(iterations, 2000); i++) {
    a();
    b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    for (let i = 0; i < iterations; i++) a();
    ta.push(((performance.now() - t0) * 1e6) / iterations);
    t0 = performance.now();
    for (let i = 0; i < iterations; i++) b();
    tb.push(((performance.now() - t0) * 1e6) / iterations);
  }
  return { a: median(ta), b: median(tb) };
}

/** Time an async function once, in ms. */
export async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Print a titled table of rows. */
export function table(title: string, rows: Array<Record<string, string | number>>): void {
  console.log(`\n## ${title}`);
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0] as object);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals: string[]): string => `| ${vals.map((v, i) => v.padEnd(width[i] as number)).join(' | ')} |`;
  console.log(line(cols));
  console.log(`|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}

/** Format a number with a fixed number of decimals. */
export function fmt(n: number, d = 2): string {
  return n.toFixed(d);
}
