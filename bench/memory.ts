/**
 * Peak memory of verifying a `.sig` of 1000 layers (999 distinct 1 MiB payload blobs that do not
 * verify, one valid signature) from the in-process registry: each run is a child process that reports
 * its peak RSS (VmHWM) above the baseline taken after a warm-up verification (test/helpers/memory-child.ts).
 */
import { startTestRegistry } from '../src/testing/index.js';
import { runMemoryChild, storeMemoryScenario, type MemoryChildOutput } from '../test/helpers/memory.js';
import { statOf } from './chart.js';
import { fmt, median, type BenchSection, type Row } from './lib.js';

/** `runs` child processes over the scenario; min / median / max of peak RSS above baseline and of time. */
export async function benchMemory(runs = 5, layers = 1000): Promise<BenchSection> {
  const reg = await startTestRegistry();
  try {
    const input = storeMemoryScenario(reg, { layers });
    const results: MemoryChildOutput[] = [];
    for (let i = 0; i < runs; i++) results.push(await runMemoryChild(input));
    const failed = results.find((r) => r.error !== undefined || r.verified !== 1 || r.codes['SIGNATURE_INVALID'] !== layers - 1);
    if (failed !== undefined) throw new Error(`unexpected outcome: ${JSON.stringify(failed)}`);
    const row = (what: string, xs: number[], d: number): Row => ({
      measure: what,
      min: fmt(Math.min(...xs), d),
      median: fmt(median(xs), d),
      max: fmt(Math.max(...xs), d),
    });
    const rows = [
      row(
        `peak RSS above baseline, MiB (${layers} layers, ${runs} runs${results.every((r) => r.peakReset) ? '' : ', peak NOT reset after warm-up'})`,
        results.map((r) => r.deltaMiB),
        1,
      ),
      row(
        'baseline RSS, MiB',
        results.map((r) => r.baselineKiB / 1024),
        1,
      ),
      row(
        'verification time, ms',
        results.map((r) => r.ms),
        0,
      ),
    ];
    return {
      rows,
      results: [
        {
          section: 'memory',
          name: `verify a .sig of ${layers} layers (${layers - 1} × 1 MiB that do not verify): peak RSS above baseline`,
          unit: 'MiB',
          series: { 'cosign-ts': statOf(results.map((r) => r.deltaMiB)) },
        },
      ],
    };
  } finally {
    await reg.close();
  }
}
