/**
 * The memory scenario of issue #10 (item 6): a `.sig` of 1000 layers, 999 of them distinct 1 MiB
 * payload blobs whose signatures do not verify and one valid signature, in the in-process registry;
 * verified in a child process that reports its peak RSS above a baseline ({@link runMemoryChild}).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Digest } from '../../src/digest.js';
import type { TestRegistry } from '../../src/testing/index.js';
import { repoRoot } from './fixtures.js';
import type { MemoryChildInput, MemoryChildOutput } from './memory-child.js';
import { distinctJunkLayers, signedLayer, storeSignatures, testKey } from './signatures.js';

export type { MemoryChildInput, MemoryChildOutput } from './memory-child.js';

/** Store the scenario (and a one-layer warm-up image) in `reg`; returns the child's input. */
export function storeMemoryScenario(reg: TestRegistry, options: { layers?: number; blobBytes?: number } = {}): MemoryChildInput {
  const layers = options.layers ?? 1000;
  const blobBytes = options.blobBytes ?? 1024 * 1024;
  const key = testKey('bench.pub');
  const digest = `sha256:${'5e'.repeat(32)}` as Digest;
  const name = `${reg.host}/memory/big`;
  storeSignatures(reg, 'memory/big', digest, [...distinctJunkLayers(layers - 1, blobBytes), signedLayer(key, name, digest)]);
  const warmName = `${reg.host}/memory/warm`;
  storeSignatures(reg, 'memory/warm', digest, [...distinctJunkLayers(1, 1024), signedLayer(key, warmName, digest)]);
  return { reference: `${name}@${digest}`, warmup: `${warmName}@${digest}`, publicKeyPem: key.publicKeyPem };
}

/** Run test/helpers/memory-child.ts (through vite-node, with `--expose-gc` and any extra node flags) and parse its report. */
export function runMemoryChild(input: MemoryChildInput, nodeFlags: readonly string[] = [], timeoutMs = 120_000): Promise<MemoryChildOutput> {
  const args = [
    '--expose-gc',
    ...nodeFlags,
    path.join(repoRoot, 'node_modules/vite-node/vite-node.mjs'),
    path.join(repoRoot, 'test/helpers/memory-child.ts'),
    JSON.stringify(input),
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as MemoryChildOutput);
      } catch {
        reject(new Error(`memory child failed (${err?.message ?? 'no report'}):\n${stdout}\n${stderr}`));
      }
    });
  });
}
