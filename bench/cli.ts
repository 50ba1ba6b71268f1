/**
 * `cosign-ts verify --key` of one image on the real local registry against real cosign doing the same,
 * in the same run: wall time and peak RSS (GNU time), median of several runs, runs interleaved.
 * cosign-ts is run as installed: `node <bin>` (package.json's `bin`); COSIGN_TS_CLI overrides the file.
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
import { realTools, startRegistry } from '../test/helpers/real/index.js';
import { repoRoot } from '../test/helpers/fixtures.js';
import { statOf } from './chart.js';
import { fmt, median, type BenchSection } from './lib.js';
import { pushImages } from './registry.js';

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; rssKiB: number; code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    execFile('/usr/bin/time', ['-f', '%M', cmd, ...args], { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const ms = performance.now() - t0;
      const rss = Number(/(\d+)\s*$/.exec(stderr.trim())?.[1] ?? 0);
      resolve({ ms, rssKiB: rss, code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

export async function benchCli(runs = 9): Promise<BenchSection> {
  const reg = await startRegistry();
  try {
    const client = new RegistryClient();
    const [image] = await pushImages(client, reg.host, 1);
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await signImage(image as string, signerFromPrivateKey(kp.privateKey, 'bench.key'), { client });
    client.close();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-bench-cli-'));
    const pub = path.join(dir, 'bench.pub');
    await writeFile(pub, kp.publicKey.export({ type: 'spki', format: 'pem' }));
    const env = { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: dir, TUF_ROOT: path.join(dir, 'tuf') };
    const args = ['verify', '--key', pub, '--insecure-ignore-tlog=true', '--allow-http-registry=true', image as string];
    const node = process.execPath;
    // What `npm install -g cosign-ts` runs: package.json's `bin` (the esbuild bundle).
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const cli = process.env.COSIGN_TS_CLI ?? path.join(repoRoot, pkg.bin['cosign-ts'] as string);
    const ours: Array<{ ms: number; rssKiB: number }> = [];
    const theirs: Array<{ ms: number; rssKiB: number }> = [];
    let same = true;
    for (let i = 0; i < runs; i++) {
      const a = await timed(node, [cli, ...args], env);
      const b = await timed(realTools.cosign, args, env);
      if (a.code !== 0 || b.code !== 0)
        throw new Error(`verify failed: cosign-ts ${a.code} ${a.stderr.slice(-300)} / cosign ${b.code} ${b.stderr.slice(-300)}`);
      same &&= a.stdout === b.stdout;
      ours.push(a);
      theirs.push(b);
    }
    const wallOurs = median(ours.map((r) => r.ms));
    const wallTheirs = median(theirs.map((r) => r.ms));
    const rssOurs = median(ours.map((r) => r.rssKiB)) / 1024;
    const rssTheirs = median(theirs.map((r) => r.rssKiB)) / 1024;
    const rows = [
      {
        measure: `wall time, median of ${runs}`,
        'cosign-ts': `${fmt(wallOurs, 0)} ms`,
        cosign: `${fmt(wallTheirs, 0)} ms`,
        ratio: `${fmt(wallOurs / wallTheirs)}× (target ≤ 1.5×)`,
      },
      { measure: 'peak RSS', 'cosign-ts': `${fmt(rssOurs, 1)} MiB`, cosign: `${fmt(rssTheirs, 1)} MiB`, ratio: `${fmt(rssOurs / rssTheirs)}× (target ≤ 1.5×)` },
      { measure: 'stdout identical', 'cosign-ts': same ? 'yes' : 'NO', cosign: '', ratio: '' },
    ];
    return {
      rows,
      results: [
        {
          section: 'cli',
          name: `verify --key, one image: wall time (${runs} interleaved runs)`,
          unit: 'ms',
          series: { 'cosign-ts': statOf(ours.map((r) => r.ms)), cosign: statOf(theirs.map((r) => r.ms)) },
        },
        {
          section: 'cli',
          name: 'verify --key, one image: peak RSS',
          unit: 'MiB',
          series: { 'cosign-ts': statOf(ours.map((r) => r.rssKiB / 1024)), cosign: statOf(theirs.map((r) => r.rssKiB / 1024)) },
        },
      ],
    };
  } finally {
    await reg.stop();
  }
}
