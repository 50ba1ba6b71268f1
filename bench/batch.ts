/**
 * `npm run bench -- batch`: verify 100 signed images on a registry 20 ms away (the real docker-registry
 * behind a TCP proxy on 127.0.0.1 that delays each direction by 20 ms: 40 ms round trips, where cosign takes
 * about 14 s for the 100, as when the issue was measured), in one call each way:
 * - the library: `verifyImages` (new client each run, concurrency 10 = the CLI's --max-workers default);
 * - the CLI: `cosign-ts verify --key … img1 … img100` (the installed bin, package.json `bin`);
 * - real cosign: `cosign verify --key … --insecure-ignore-tlog=true img1 … img100` (it takes several).
 * The proxy runs in a child process (it must not share the library run's event loop).
 * Runs are interleaved; min/median/max over `runs` (≥ 5). Also counts the TCP connections each opened.
 * `BENCH_BATCH_IMAGES`, `BENCH_BATCH_RUNS`, `BENCH_BATCH_DELAY_MS` override the defaults; `BENCH_BATCH_WORKERS`
 * runs both the library and the CLI (`--max-workers`) at that concurrency.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { signerFromPrivateKey } from '../src/keys/index.js';
import { RegistryClient } from '../src/oci/index.js';
import { signImage } from '../src/sign/index.js';
import { keyAuthority, verifyImages } from '../src/verify/index.js';
import { repoRoot } from '../test/helpers/fixtures.js';
import { realTools, startRegistry } from '../test/helpers/real/index.js';
import { startTcpProxyProcess } from '../test/helpers/tcp-proxy.js';
import { statOf, type ScenarioResult } from './chart.js';
import { fmt, median, type BenchSection } from './lib.js';
import { pushImages } from './registry.js';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr, ms: performance.now() - t0 }),
    );
  });
}

/** The CLI's `--max-workers` default, the library batch's concurrency unless BENCH_BATCH_WORKERS says otherwise. */
const CLI_DEFAULT_WORKERS = 10;
const stats = (xs: number[]): string => `${fmt(Math.min(...xs), 0)} / ${fmt(median(xs), 0)} / ${fmt(Math.max(...xs), 0)}`;

export async function benchBatch(
  count = Number(process.env.BENCH_BATCH_IMAGES ?? 100),
  runs = Math.max(5, Number(process.env.BENCH_BATCH_RUNS ?? 5)),
  delayMs = Number(process.env.BENCH_BATCH_DELAY_MS ?? 20),
  workers: number | undefined = process.env.BENCH_BATCH_WORKERS === undefined ? undefined : Number(process.env.BENCH_BATCH_WORKERS),
): Promise<BenchSection> {
  const reg = await startRegistry();
  // In its own process: forwarding must not share the event loop of the library run it delays.
  const proxy = await startTcpProxyProcess(reg.host, delayMs);
  try {
    const setup = new RegistryClient();
    const direct = await pushImages(setup, reg.host, count);
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = signerFromPrivateKey(kp.privateKey, 'bench.key');
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < direct.length) await signImage(direct[next++] as string, signer, { client: setup });
      }),
    );
    setup.close();
    // The same images, through the proxy.
    const images = direct.map((r) => r.replace(reg.host, proxy.host));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-bench-batch-'));
    const pubPath = path.join(dir, 'bench.pub');
    await writeFile(pubPath, kp.publicKey.export({ type: 'spki', format: 'pem' }));
    const env = { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: dir, TUF_ROOT: path.join(dir, 'tuf') };
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const bin = process.env.COSIGN_TS_CLI ?? path.join(repoRoot, pkg.bin['cosign-ts'] as string);
    const args = ['verify', '--key', pubPath, '--insecure-ignore-tlog=true', '--allow-http-registry=true', ...images];
    const cliArgs = workers === undefined ? args : ['verify', '--max-workers', String(workers), ...args.slice(1)];
    const authorities = [keyAuthority(kp.publicKey, pubPath)];

    const lib: number[] = [];
    const cli: number[] = [];
    const cos: number[] = [];
    const conns = { lib: 0, cli: 0, cosign: 0 };
    let cliStdout = '';
    let libStdout = '';
    // One warm-up each (code caches, page cache), not counted.
    for (let round = -1; round < runs; round++) {
      await proxy.reset();
      const client = new RegistryClient();
      const t0 = performance.now();
      const results = await verifyImages(images, { client, authorities, batchConcurrency: workers ?? CLI_DEFAULT_WORKERS });
      const ms = performance.now() - t0;
      client.close();
      if (results.some((r) => !r.ok)) throw new Error('a bench image did not verify (library)');
      libStdout = results.map((r) => (r.ok ? Buffer.from(r.result.output).toString('utf8') : '')).join('');
      if (round >= 0) lib.push(ms);
      conns.lib = (await proxy.counts()).accepted;

      await proxy.reset();
      const a = await run(process.execPath, [bin, ...cliArgs], env);
      if (a.code !== 0) throw new Error(`cosign-ts verify failed (${a.code}): ${a.stderr.slice(-500)}`);
      cliStdout = a.stdout;
      if (round >= 0) cli.push(a.ms);
      conns.cli = (await proxy.counts()).accepted;

      if (realTools.cosign !== undefined) {
        await proxy.reset();
        const b = await run(realTools.cosign, args, env);
        if (b.code !== 0) throw new Error(`cosign verify failed (${b.code}): ${b.stderr.slice(-500)}`);
        if (round >= 0) cos.push(b.ms);
        conns.cosign = (await proxy.counts()).accepted;
      }
    }
    const rows: Array<Record<string, string | number>> = [
      { measure: `library verifyImages, ${count} images`, 'min / median / max (ms)': stats(lib), ratio: '1.00× (floor)', connections: conns.lib },
      {
        measure: `CLI cosign-ts verify img1 … img${count}`,
        'min / median / max (ms)': stats(cli),
        ratio: `${fmt(median(cli) / median(lib))}× library (target ≤ 1.25×); stdout ${cliStdout === libStdout ? 'identical' : 'DIFFERS'}`,
        connections: conns.cli,
      },
    ];
    if (cos.length > 0) {
      rows.push({
        measure: `real cosign verify img1 … img${count}`,
        'min / median / max (ms)': stats(cos),
        ratio: `CLI ${fmt(median(cos) / median(cli), 1)}× faster than cosign (target ≥ 8×)`,
        connections: conns.cosign,
      });
    }
    rows.push({
      measure: `(${runs} runs each, interleaved; proxy delay ${delayMs} ms each way = ${2 * delayMs} ms RTT)`,
      'min / median / max (ms)': '',
      ratio: '',
      connections: '',
    });
    const result: ScenarioResult = {
      section: 'batch',
      name: `verify ${count} images in one call, ${2 * delayMs} ms RTT (cosign-ts: the CLI; floor: the library's verifyImages)`,
      unit: 'ms',
      series: { 'cosign-ts': statOf(cli), floor: statOf(lib), ...(cos.length > 0 ? { cosign: statOf(cos) } : {}) },
    };
    return { rows, results: [result] };
  } finally {
    await proxy.close();
    await reg.stop();
  }
}
