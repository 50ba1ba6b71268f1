/**
 * `npm run bench`: every benchmark, each against a baseline measured in the same run.
 * Sections can be picked: `npm run bench -- offline registry` (offline, decrypt, registry, memory, kms, cli, batch, killer, bundle, registry-tls, webhook, keyless).
 * After the sections ran, the chart of their results (bench/chart.ts) is written to docs/bench.svg;
 * `--svg=PATH` or `BENCH_SVG=PATH` writes it elsewhere, `--no-svg` (or `BENCH_SVG=`) not at all.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChart, type ScenarioResult } from './chart.js';
import { table, type BenchSection } from './lib.js';

const SECTIONS = ['offline', 'decrypt', 'registry', 'memory', 'kms', 'cli', 'batch', 'killer', 'bundle', 'registry-tls', 'webhook', 'keyless'] as const;
const args = process.argv.slice(2).filter((a) => a !== '--');
const wanted = new Set(args.filter((a) => !a.startsWith('-')));
const unknown = [...wanted].filter((w) => !(SECTIONS as readonly string[]).includes(w));
const badFlags = args.filter((a) => a.startsWith('-') && a !== '--no-svg' && !a.startsWith('--svg='));
if (unknown.length > 0 || badFlags.length > 0) {
  console.error(
    `bench: unknown ${unknown.length > 0 ? `section(s) ${unknown.join(', ')}` : `flag(s) ${badFlags.join(', ')}`}; sections: ${SECTIONS.join(', ')}; flags: --svg=PATH, --no-svg`,
  );
  process.exit(2);
}
const want = (name: (typeof SECTIONS)[number]): boolean => wanted.size === 0 || wanted.has(name);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const svgFlag = args.findLast((a) => a === '--no-svg' || a.startsWith('--svg='));
const svgSetting =
  svgFlag === '--no-svg' ? '' : svgFlag !== undefined ? svgFlag.slice('--svg='.length) : (process.env.BENCH_SVG ?? path.join(repoRoot, 'docs', 'bench.svg'));
const svgPath = svgSetting === '' ? undefined : path.resolve(svgSetting);

const started = new Date();
console.log(`cosign-ts benchmarks — node ${process.version}, ${started.toISOString()}`);
const results: ScenarioResult[] = [];
const section = (title: string, s: BenchSection): void => {
  table(title, s.rows);
  results.push(...s.results);
};
if (want('offline')) {
  const { benchOffline } = await import('./offline.js');
  section('Offline verification of an in-memory .sig artifact vs raw crypto.verify (same key, same bytes)', benchOffline());
}
if (want('decrypt')) {
  const { benchDecrypt } = await import('./offline.js');
  section('Encrypted cosign key decrypt (scrypt + secretbox)', benchDecrypt());
}
if (want('registry')) {
  const { benchRegistry } = await import('./registry.js');
  section('Batch verification on the real local registry (docker-registry), concurrency 16', await benchRegistry(500, 16, 20));
}
if (want('memory')) {
  const { benchMemory } = await import('./memory.js');
  section(
    'Memory: verify a .sig of 1000 layers (999 distinct 1 MiB payloads that do not verify + 1 valid), peak RSS above baseline in a child process',
    await benchMemory(5),
  );
}
if (want('kms')) {
  const { benchKms } = await import('./kms.js');
  section('Signing through the AWS KMS test server', await benchKms(200, 8));
}
if (want('cli')) {
  const { benchCli } = await import('./cli.js');
  section('CLI: cosign-ts verify vs real cosign verify, one image', await benchCli());
}
if (want('batch')) {
  const { benchBatch } = await import('./batch.js');
  section('Batch verify of 100 images on a registry 20 ms away (TCP latency proxy): library vs CLI vs real cosign, one call each', await benchBatch());
}
if (want('killer')) {
  const { benchKiller } = await import('./killer.js');
  section('Image killer cycle over 200 containers (Docker API test server), warm cache', await benchKiller());
}
if (want('bundle')) {
  const { benchBundle } = await import('./bundle.js');
  section('cosign v3 bundle (OCI referrer) vs legacy .sig: verify, per image, in-process registry with and without the referrers API', await benchBundle());
}
if (want('registry-tls')) {
  const { benchRegistryTls } = await import('./registry-tls.js');
  section('Batch verify of 100 images through a mutual-TLS docker-registry: time and TLS handshakes per host', await benchRegistryTls());
}
if (want('webhook')) {
  const { benchWebhook } = await import('./webhook.js');
  section(
    'Admission webhook: 1,000 AdmissionReviews naming 50 distinct images, 100 in flight over TLS, HTTP/1.1 and HTTP/2 (in-process registry)',
    await benchWebhook(),
  );
}
if (want('keyless')) {
  const { benchKeyless } = await import('./keyless.js');
  section('Offline keyless verify of one legacy .sig (Fulcio chain, SCT, Rekor SET, signature) vs the raw signature checks', await benchKeyless());
}
if (svgPath !== undefined) {
  const svg = renderChart(results, {
    date: `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim(),
    node: process.version,
    command: `npm run bench${wanted.size === 0 ? '' : ` -- ${[...wanted].join(' ')}`}`,
  });
  await mkdir(path.dirname(svgPath), { recursive: true });
  const tmp = `${svgPath}.${process.pid}.tmp`;
  await writeFile(tmp, svg);
  await rename(tmp, svgPath);
  console.log(`\nchart: ${results.length} scenarios → ${svgPath}`);
}
process.exit(0);
