/**
 * Child process for memory measurements (test/verify/image.memory.test.ts, `npm run bench -- memory`): run
 * with `node --expose-gc node_modules/vite-node/vite-node.mjs test/helpers/memory-child.ts '<json>'`.
 *
 * It verifies a small warm-up image first (so code loading, connections and lazy schemas are not
 * counted), collects garbage, resets the kernel's peak-RSS mark (`/proc/self/clear_refs`), takes the
 * resident set as the baseline, verifies the image under test, and prints one JSON line: baseline
 * and peak RSS (VmHWM) in KiB, their difference in MiB, the time taken and the outcome.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isCosignError } from '../../src/errors.js';
import { parsePublicKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { keyAuthority, verifyImage } from '../../src/verify/index.js';

/** What the parent passes (argv[2], JSON). */
export interface MemoryChildInput {
  /** `host/repo@digest` to verify under measurement. */
  readonly reference: string;
  /** A small image verified first (warm-up). */
  readonly warmup: string;
  /** PEM public key. */
  readonly publicKeyPem: string;
  /** Blobs in flight (default: the library's default). */
  readonly concurrency?: number;
}

/** The JSON line the child prints. */
export interface MemoryChildOutput {
  readonly baselineKiB: number;
  readonly peakKiB: number;
  /** Peak above baseline, MiB. */
  readonly deltaMiB: number;
  /** Whether the peak mark could be reset after the warm-up (else the peak is the process's lifetime peak). */
  readonly peakReset: boolean;
  readonly ms: number;
  readonly verified: number;
  readonly rejected: number;
  /** Rejected layers by error code. */
  readonly codes: Readonly<Record<string, number>>;
  /** Error code when verification failed. */
  readonly error?: string;
}

function status(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (m === null) throw new Error(`no ${field} in /proc/self/status`);
  return Number(m[1]);
}

const input = JSON.parse(process.argv[2] ?? '{}') as MemoryChildInput;
const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
const authorities = [keyAuthority(parsePublicKey(input.publicKeyPem), 'bench.pub')];
const options = { client, authorities, ...(input.concurrency === undefined ? {} : { concurrency: input.concurrency }) };
await verifyImage(input.warmup, options);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
let peakReset = true;
try {
  writeFileSync('/proc/self/clear_refs', '5');
} catch {
  peakReset = false;
}
const baselineKiB = status('VmRSS');
const t0 = performance.now();
let verified = 0;
let rejected = 0;
let error: string | undefined;
const codes: Record<string, number> = {};
try {
  const r = await verifyImage(input.reference, options);
  verified = r.signatures.length;
  rejected = r.rejected.length;
  for (const f of r.rejected) codes[f.code] = (codes[f.code] ?? 0) + 1;
} catch (e) {
  error = isCosignError(e) ? e.code : String(e);
}
const ms = performance.now() - t0;
const peakKiB = status('VmHWM');
const out: MemoryChildOutput = {
  baselineKiB,
  peakKiB,
  deltaMiB: (peakKiB - baselineKiB) / 1024,
  peakReset,
  ms,
  verified,
  rejected,
  codes,
  ...(error === undefined ? {} : { error }),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
client.close();
process.exit(0);
