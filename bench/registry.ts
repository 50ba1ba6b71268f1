/**
 * Batch verification of N signed images on the real local registry (Debian's docker-registry):
 * cosign-ts cold and warm against the same HTTP requests issued by a plain keep-alive client at the
 * same concurrency, against real cosign run once per image (sampled), and the warm re-check of cached
 * digests (zero requests).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { signatureTag } from '../src/artifact/index.js';
import type { Digest } from '../src/digest.js';
import { signerFromPrivateKey } from '../src/keys/index.js';
import { RegistryClient } from '../src/oci/index.js';
import { parseReference } from '../src/reference.js';
import { signImage } from '../src/sign/index.js';
import { pushSampleImage } from '../src/testing/index.js';
import { keyAuthority, VerificationCache, verifyImages } from '../src/verify/index.js';
import { realTools, startRegistry, type RealRegistry } from '../test/helpers/real/index.js';
import { statOf, type ScenarioResult } from './chart.js';
import { fmt, median, type BenchSection, type Row } from './lib.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** Push `count` tiny distinct images; returns `host/repo@digest` references. */
export async function pushImages(client: RegistryClient, host: string, count: number, concurrency = 16): Promise<string[]> {
  const out: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const repo = parseReference(`${host}/bench/app${i % 50}:v${i}`);
        out[i] = `${repo.name}@${await pushSampleImage(client, repo, { i: String(i) })}`;
      }
    }),
  );
  return out;
}

/**
 * The plain client: the same GETs per image as cosign 3's discovery on a registry without the referrers API
 * (the referrers fallback tag, a 404 here, at the same time as the signature manifest by tag), then the
 * signature's layer blob.
 */
async function plainBatch(agent: http.Agent, base: string, images: string[], concurrency: number): Promise<number> {
  const get = (url: string, accept?: string): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent, headers: accept === undefined ? {} : { accept } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === 200 || (accept === OCI_INDEX && res.statusCode === 404)
              ? resolve(Buffer.concat(chunks))
              : reject(new Error(`HTTP ${res.statusCode}`)),
          );
          res.on('error', reject);
        })
        .on('error', reject);
    });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < images.length) {
        const ref = parseReference(images[next++] as string);
        const [, sig] = await Promise.all([
          get(`${base}/v2/${ref.repository}/manifests/${(ref.digest as string).replace(':', '-')}`, OCI_INDEX),
          get(`${base}/v2/${ref.repository}/manifests/${signatureTag(ref.digest as Digest)}`, OCI_MANIFEST),
        ]);
        const m = JSON.parse(sig.toString()) as { layers: Array<{ digest: string }> };
        for (const l of m.layers) await get(`${base}/v2/${ref.repository}/blobs/${l.digest}`);
      }
    }),
  );
  return performance.now() - t0;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, maxBuffer: 16 << 20 }, (err, _stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stderr }),
    );
  });
}

/** Results of {@link benchRegistry}. */
export interface RegistryBenchResult {
  rows: Array<Record<string, string | number>>;
  registry: RealRegistry;
  images: string[];
  pubPath: string;
}

export async function benchRegistry(count = 500, concurrency = 16, cosignSamples = 20): Promise<BenchSection> {
  const reg = await startRegistry();
  const rows: Row[] = [];
  const results: ScenarioResult[] = [];
  try {
    const setup = new RegistryClient();
    const images = await pushImages(setup, reg.host, count);
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = signerFromPrivateKey(kp.privateKey, 'bench.key');
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < images.length) await signImage(images[next++] as string, signer, { client: setup });
      }),
    );
    setup.close();
    const pub = kp.publicKey;
    const authorities = [keyAuthority(pub, 'bench.pub')];

    const coldOurs: number[] = [];
    const coldPlain: number[] = [];
    const warmOurs: number[] = [];
    const warmPlain: number[] = [];
    let requestsPerRun = 0;
    for (let round = 0; round < 3; round++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
      coldPlain.push(await plainBatch(agent, reg.url, images, concurrency));
      warmPlain.push(await plainBatch(agent, reg.url, images, concurrency));
      agent.destroy();
      const client = new RegistryClient();
      let t0 = performance.now();
      let results = await verifyImages(images, { client, authorities, batchConcurrency: concurrency });
      coldOurs.push(performance.now() - t0);
      if (process.env.BENCH_DEBUG) console.error('round', round, 'cold', coldOurs.at(-1), 'plain', coldPlain.at(-1), 'reqs', client.stats);
      if (results.some((r) => !r.ok)) throw new Error('a bench image did not verify');
      const before = client.stats.requests;
      t0 = performance.now();
      results = await verifyImages(images, { client, authorities, batchConcurrency: concurrency });
      warmOurs.push(performance.now() - t0);
      requestsPerRun = client.stats.requests - before;
      client.close();
    }
    rows.push({
      measure: `verify ${count} images, cold (new connections)`,
      'cosign-ts (ms)': fmt(median(coldOurs), 0),
      'baseline (ms)': fmt(median(coldPlain), 0),
      ratio: `${fmt(median(coldOurs) / median(coldPlain))}× plain client (target ≤ 1.25×)`,
    });
    rows.push({
      measure: `verify ${count} images, warm (connections reused)`,
      'cosign-ts (ms)': fmt(median(warmOurs), 0),
      'baseline (ms)': fmt(median(warmPlain), 0),
      ratio: `${fmt(median(warmOurs) / median(warmPlain))}× plain client (target ≤ 1.25×); ${requestsPerRun} requests (plain: ${3 * count})`,
    });
    const cold: ScenarioResult = {
      section: 'registry',
      name: `verify ${count} images, cold (new connections), concurrency ${concurrency}; cosign: once per image × ${count}`,
      unit: 'ms',
      series: { 'cosign-ts': statOf(coldOurs), floor: statOf(coldPlain) },
    };
    results.push(cold, {
      section: 'registry',
      name: `verify ${count} images, warm (connections reused), concurrency ${concurrency}`,
      unit: 'ms',
      series: { 'cosign-ts': statOf(warmOurs), floor: statOf(warmPlain) },
    });

    // Cached: digest-keyed cache, zero requests.
    const client = new RegistryClient();
    const cache = new VerificationCache<never>();
    await verifyImages(images, { client, authorities, cache: cache as never, batchConcurrency: concurrency });
    const before = client.stats.requests;
    const t0 = performance.now();
    const cached = await verifyImages(images, { client, authorities, cache: cache as never, batchConcurrency: concurrency });
    const cachedMs = performance.now() - t0;
    if (cached.some((r) => !r.ok)) throw new Error('cached verification failed');
    rows.push({
      measure: `re-check ${count} cached digests`,
      'cosign-ts (ms)': fmt(cachedMs, 1),
      'baseline (ms)': '-',
      ratio: `${client.stats.requests - before} requests (target: 0 requests, < 20 ms)`,
    });
    results.push({ section: 'registry', name: `re-check ${count} cached digests (0 requests)`, unit: 'ms', series: { 'cosign-ts': statOf([cachedMs]) } });
    client.close();

    // Real cosign, once per image, sampled.
    if (realTools.cosign !== undefined) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-bench-'));
      const pubPath = path.join(dir, 'bench.pub');
      await writeFile(pubPath, pub.export({ type: 'spki', format: 'pem' }));
      const env = { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: dir, TUF_ROOT: path.join(dir, 'tuf') };
      const times: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < cosignSamples; i++) {
        const img = images[Math.floor((i * count) / cosignSamples)] as string;
        const t = performance.now();
        const r = await run(
          '/usr/bin/time',
          ['-f', '%M', realTools.cosign, 'verify', '--key', pubPath, '--insecure-ignore-tlog=true', '--allow-http-registry=true', img],
          env,
        );
        times.push(performance.now() - t);
        if (r.code !== 0) throw new Error(`cosign verify failed: ${r.stderr.slice(-500)}`);
        rss.push(Number(/(\d+)\s*$/.exec(r.stderr.trim())?.[1] ?? 0));
      }
      const perImage = median(times);
      cold.series.cosign = statOf(times.map((t) => t * count));
      rows.push({
        measure: `real cosign verify, once per image (median of ${cosignSamples}, × ${count})`,
        'cosign-ts (ms)': fmt(median(coldOurs), 0),
        'baseline (ms)': fmt(perImage * count, 0),
        ratio: `cosign-ts ${fmt((perImage * count) / median(coldOurs), 1)}× faster (target ≥ 20×); cosign peak RSS ${fmt(median(rss) / 1024, 1)} MiB per run`,
      });
    }
    rows.push({
      measure: 'peak RSS of this benchmark process (all sections so far)',
      'cosign-ts (ms)': '-',
      'baseline (ms)': '-',
      ratio: `${fmt(process.resourceUsage().maxRSS / 1024, 1)} MiB`,
    });
  } finally {
    await reg.stop();
  }
  return { rows, results };
}
