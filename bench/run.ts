/**
 * `npm run bench`: every benchmark, each against a baseline measured in the same run.
 * Sections can be picked: `npm run bench -- offline registry` (offline, decrypt, registry, memory, kms, cli, batch, killer).
 */
import { table } from './lib.js';

const wanted = new Set(process.argv.slice(2).filter((a) => !a.startsWith('-')));
const want = (name: string): boolean => wanted.size === 0 || wanted.has(name);

console.log(`cosign-ts benchmarks — node ${process.version}, ${new Date().toISOString()}`);
if (want('offline')) {
  const { benchOffline } = await import('./offline.js');
  table('Offline verification of an in-memory .sig artifact vs raw crypto.verify (same key, same bytes)', benchOffline());
}
if (want('decrypt')) {
  const { benchDecrypt } = await import('./offline.js');
  table('Encrypted cosign key decrypt (scrypt + secretbox)', benchDecrypt());
}
if (want('registry')) {
  const { benchRegistry } = await import('./registry.js');
  table('Batch verification on the real local registry (docker-registry), concurrency 16', await benchRegistry(500, 16, 20));
}
if (want('memory')) {
  const { benchMemory } = await import('./memory.js');
  table('Memory: verify a .sig of 1000 layers (999 distinct 1 MiB payloads that do not verify + 1 valid), peak RSS above baseline in a child process', await benchMemory(5));
}
if (want('kms')) {
  const { benchKms } = await import('./kms.js');
  table('Signing through the AWS KMS test server', await benchKms(200, 8));
}
if (want('cli')) {
  const { benchCli } = await import('./cli.js');
  table('CLI: cosign-ts verify vs real cosign verify, one image', await benchCli());
}
if (want('batch')) {
  const { benchBatch } = await import('./batch.js');
  table('Batch verify of 100 images on a registry 20 ms away (TCP latency proxy): library vs CLI vs real cosign, one call each', await benchBatch());
}
if (want('killer')) {
  const { benchKiller } = await import('./killer.js');
  table('Image killer cycle over 200 containers (Docker API test server), warm cache', await benchKiller());
}
process.exit(0);
