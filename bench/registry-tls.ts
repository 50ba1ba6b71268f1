/**
 * `npm run bench -- registry-tls`: verify a batch of signed images (default 100) through the real
 * docker-registry serving HTTPS from a test CA and requiring a client certificate (mutual TLS), at the
 * batch concurrency of the registry bench (16), a new client each run; the floor is the same batch on a
 * plain-HTTP docker-registry. Each run is made twice: with HTTP/2 (the default; Go's registry picks `h2`
 * by ALPN, so the batch is multiplexed over one connection) and with `http2: false` (HTTP/1.1 keep-alive
 * connections resuming the first one's TLS session). Reports min/median/max times, images per second and
 * the TLS handshakes each run made per host, full and resumed (`client.stats.tlsHandshakesByHost`): the
 * target is one handshake per host per run.
 * `BENCH_TLS_IMAGES`, `BENCH_TLS_RUNS`, `BENCH_TLS_CONCURRENCY` override the defaults.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { signerFromPrivateKey } from '../src/keys/index.js';
import { RegistryClient, type RegistryClientOptions } from '../src/oci/index.js';
import { signImage } from '../src/sign/index.js';
import { keyAuthority, verifyImages } from '../src/verify/index.js';
import { startRegistry, type RealRegistry } from '../test/helpers/real/index.js';
import { statOf, type ScenarioResult } from './chart.js';
import { fmt, median, type BenchSection } from './lib.js';
import { pushImages } from './registry.js';

const stats = (xs: number[]): string => `${fmt(Math.min(...xs), 0)} / ${fmt(median(xs), 0)} / ${fmt(Math.max(...xs), 0)}`;

async function prepare(reg: RealRegistry, options: RegistryClientOptions, count: number, signer: ReturnType<typeof signerFromPrivateKey>): Promise<string[]> {
  const setup = new RegistryClient(options);
  try {
    const images = await pushImages(setup, reg.host, count);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < images.length) await signImage(images[next++] as string, signer, { client: setup });
      }),
    );
    return images;
  } finally {
    setup.close();
  }
}

export async function benchRegistryTls(
  count = Number(process.env.BENCH_TLS_IMAGES ?? 100),
  runs = Math.max(5, Number(process.env.BENCH_TLS_RUNS ?? 5)),
  concurrency = Number(process.env.BENCH_TLS_CONCURRENCY ?? 16),
): Promise<BenchSection> {
  const tlsReg = await startRegistry({ tls: true, mtls: true });
  const plainReg = await startRegistry();
  try {
    const tlsOptions: RegistryClientOptions = {
      tls: {
        [tlsReg.host]: {
          ca: await readFile(tlsReg.caFile as string, 'utf8'),
          caOnly: true,
          cert: await readFile(tlsReg.clientCertFile as string, 'utf8'),
          key: await readFile(tlsReg.clientKeyFile as string, 'utf8'),
        },
      },
    };
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = signerFromPrivateKey(kp.privateKey, 'bench.key');
    const authorities = [keyAuthority(kp.publicKey, 'bench.pub')];
    const tlsImages = await prepare(tlsReg, tlsOptions, count, signer);
    const plainImages = await prepare(plainReg, {}, count, signer);

    const plain: number[] = [];
    /** One run of the batch through the TLS registry, HTTP/2 offered or not. */
    const tlsRun = async (http2: boolean): Promise<{ ms: number; full: number; resumed: number; sessions: number; requests: number }> => {
      const client = new RegistryClient({ ...tlsOptions, http2 });
      const t0 = performance.now();
      const results = await verifyImages(tlsImages, { client, authorities, batchConcurrency: concurrency });
      const ms = performance.now() - t0;
      client.close();
      if (results.some((r) => !r.ok)) throw new Error(`a bench image did not verify (TLS registry): ${JSON.stringify(results.find((r) => !r.ok))}`);
      const hosts = Object.keys(client.stats.tlsHandshakesByHost);
      if (hosts.length !== 1) throw new Error(`handshakes with unexpected hosts: ${hosts.join(', ')}`);
      const h = client.stats.tlsHandshakesByHost[tlsReg.host] ?? { full: 0, resumed: 0 };
      return { ms, ...h, sessions: client.stats.http2Sessions, requests: client.stats.requests };
    };
    const runsOf = { h2: [] as Awaited<ReturnType<typeof tlsRun>>[], h1: [] as Awaited<ReturnType<typeof tlsRun>>[] };
    // One warm-up each, not counted; the three variants interleaved.
    for (let round = -1; round < runs; round++) {
      const h2 = await tlsRun(true);
      const h1 = await tlsRun(false);
      const pc = new RegistryClient();
      const p0 = performance.now();
      const pr = await verifyImages(plainImages, { client: pc, authorities, batchConcurrency: concurrency });
      const pms = performance.now() - p0;
      pc.close();
      if (pr.some((r) => !r.ok)) throw new Error('a bench image did not verify (plain registry)');
      if (round >= 0) {
        runsOf.h2.push(h2);
        runsOf.h1.push(h1);
        plain.push(pms);
      }
    }
    const range = (xs: number[]): string => (Math.min(...xs) === Math.max(...xs) ? String(xs[0]) : `${Math.min(...xs)}–${Math.max(...xs)}`);
    const row = (label: string, rs: Awaited<ReturnType<typeof tlsRun>>[]): Record<string, string | number> => {
      const ms = rs.map((r) => r.ms);
      return {
        measure: `verifyImages, ${count} images, mutual-TLS docker-registry, concurrency ${concurrency}, ${label}`,
        'min / median / max (ms)': stats(ms),
        'images/s (median)': fmt((count * 1000) / median(ms), 0),
        ratio: `${fmt(median(ms) / median(plain))}× plain HTTP`,
        'handshakes per host per run: full / resumed': `${range(rs.map((r) => r.full))} / ${range(rs.map((r) => r.resumed))}`,
        'HTTP/2 sessions': range(rs.map((r) => r.sessions)),
        requests: rs[0]?.requests ?? 0,
      };
    };
    const tls = runsOf.h2.map((r) => r.ms);
    const blank = { 'images/s (median)': '', 'handshakes per host per run: full / resumed': '', 'HTTP/2 sessions': '', requests: '' };
    const rows: Array<Record<string, string | number>> = [
      row('HTTP/2 (default; target: 1 handshake per host)', runsOf.h2),
      row('HTTP/1.1 (http2: false; keep-alive, sessions resumed)', runsOf.h1),
      {
        measure: `verifyImages, ${count} images, plain-HTTP docker-registry (floor)`,
        'min / median / max (ms)': stats(plain),
        ...blank,
        'images/s (median)': fmt((count * 1000) / median(plain), 0),
        ratio: '1.00× (floor)',
      },
      { measure: `(${runs} runs each, interleaved, a new client each run)`, 'min / median / max (ms)': '', ratio: '', ...blank },
    ];
    const result: ScenarioResult = {
      section: 'registry-tls',
      name: `verify ${count} images over mutual TLS, concurrency ${concurrency} (floor: plain HTTP)`,
      unit: 'ms',
      series: { 'cosign-ts': statOf(tls), floor: statOf(plain) },
    };
    return { rows, results: [result] };
  } finally {
    await tlsReg.stop();
    await plainReg.stop();
  }
}
