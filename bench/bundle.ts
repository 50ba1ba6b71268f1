/**
 * `npm run bench -- bundle`: verifying a cosign v3 Sigstore bundle (OCI 1.1 referrer) vs verifying a legacy
 * `.sig` signature of the same kind of image, same key, same registry (GitHub issue #13: v3 ≤ 1.2× legacy in
 * registry requests and in CPU per image).
 *
 * The in-process test registry (src/testing/registry.ts), twice: serving the referrers API, and without it
 * (404, so the bundle is found through the `sha256-<hex>` fallback tag index, as on Debian's docker-registry).
 * On each, `images` images signed only with a bundle and `images` images signed only with a `.sig`;
 * `verifyImages` (default source: what cosign 3 verify reads) with a new client per run, runs interleaved
 * (legacy, v3, legacy, v3, …), ≥ 5 runs. Per image: registry requests (`client.stats`) and CPU time
 * (`process.cpuUsage`, user + system). The registry runs in this process, so its CPU is counted on both
 * sides alike. `BENCH_BUNDLE_IMAGES` and `BENCH_BUNDLE_RUNS` override the defaults.
 */
import { generateKeyPairSync } from 'node:crypto';
import { signerFromPrivateKey } from '../src/keys/index.js';
import { RegistryClient } from '../src/oci/index.js';
import { parseReference, withDigest } from '../src/reference.js';
import { signImage } from '../src/sign/index.js';
import { pushSampleImage, startTestRegistry } from '../src/testing/index.js';
import { keyAuthority, verifyImages } from '../src/verify/index.js';
import { cosign3Bundle, pushBundleReferrer } from '../test/helpers/bundles.js';
import { statOf, type ScenarioResult } from './chart.js';
import { fmt, median, type BenchSection, type Row } from './lib.js';

const noAuth = { keychain: { resolve: async () => undefined } };

export async function benchBundle(
  images = Number(process.env.BENCH_BUNDLE_IMAGES ?? 100),
  runs = Math.max(5, Number(process.env.BENCH_BUNDLE_RUNS ?? 7)),
): Promise<BenchSection> {
  const rows: Row[] = [];
  const results: ScenarioResult[] = [];
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const signer = signerFromPrivateKey(privateKey, 'bench.key');
  const authorities = [keyAuthority(publicKey, 'bench.pub')];
  for (const referrersApi of [true, false]) {
    const reg = await startTestRegistry({ referrers: referrersApi });
    try {
      const setup = new RegistryClient(noAuth);
      const legacy: string[] = [];
      const v3: string[] = [];
      for (let i = 0; i < images; i++) {
        const a = parseReference(`${reg.host}/bench/legacy${i % 10}:v${i}`);
        const da = await pushSampleImage(setup, a, { i: String(i), kind: 'legacy' });
        await signImage(`${a.name}@${da}`, signer, { client: setup });
        legacy.push(`${a.name}@${da}`);
        const b = parseReference(`${reg.host}/bench/v3app${i % 10}:v${i}`);
        const db = await pushSampleImage(setup, b, { i: String(i), kind: 'v3' });
        const m = await setup.getManifest(withDigest(b, db));
        await pushBundleReferrer(setup, b, { digest: db, size: m.bytes.length, mediaType: m.mediaType }, cosign3Bundle(privateKey, der, db), {
          fallback: !referrersApi,
        });
        v3.push(`${b.name}@${db}`);
      }
      setup.close();
      const measure = async (refs: string[]): Promise<{ requests: number; cpuUs: number }> => {
        const client = new RegistryClient(noAuth);
        const cpu0 = process.cpuUsage();
        const out = await verifyImages(refs, { client, authorities, batchConcurrency: 10 });
        const cpu = process.cpuUsage(cpu0);
        if (out.some((r) => !r.ok)) throw new Error('a bench image did not verify');
        const requests = client.stats.requests;
        client.close();
        return { requests: requests / refs.length, cpuUs: (cpu.user + cpu.system) / refs.length };
      };
      // Warm-up (JIT, lazily loaded modules) on both kinds.
      await measure(legacy);
      await measure(v3);
      const L: Array<{ requests: number; cpuUs: number }> = [];
      const V: Array<{ requests: number; cpuUs: number }> = [];
      for (let r = 0; r < runs; r++) {
        L.push(await measure(legacy));
        V.push(await measure(v3));
      }
      const where = referrersApi ? 'referrers API' : 'fallback tag (no referrers API)';
      const reqL = median(L.map((x) => x.requests));
      const reqV = median(V.map((x) => x.requests));
      const cpuL = L.map((x) => x.cpuUs);
      const cpuV = V.map((x) => x.cpuUs);
      const mm = (xs: number[]): string => `${fmt(Math.min(...xs), 0)}/${fmt(median(xs), 0)}/${fmt(Math.max(...xs), 0)}`;
      rows.push({
        measure: `${where}: registry requests per image`,
        'v3 bundle': fmt(reqV, 2),
        'legacy .sig': fmt(reqL, 2),
        ratio: `${fmt(reqV / reqL)}× legacy (target ≤ 1.20×)`,
      });
      rows.push({
        measure: `${where}: CPU µs per image, min/median/max of ${runs}`,
        'v3 bundle': mm(cpuV),
        'legacy .sig': mm(cpuL),
        ratio: `${fmt(median(cpuV) / median(cpuL))}× legacy (target ≤ 1.20×)`,
      });
      results.push({
        section: 'bundle',
        name: `CPU per image, ${where}, ${images} images: v3 bundle (cosign-ts) vs legacy .sig (floor)`,
        unit: 'µs',
        series: { 'cosign-ts': statOf(cpuV), floor: statOf(cpuL) },
      });
    } finally {
      await reg.close();
    }
  }
  return { rows, results };
}
