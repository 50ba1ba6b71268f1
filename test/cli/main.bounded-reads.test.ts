/**
 * The CLI bin reads key, Rekor key and payload files bounded by bytes read: `/dev/zero` (stat size 0,
 * endless) fails at once with a one-line message, exit 1, and a small peak RSS (measured in the child
 * by a `--require`d reporter; a watchdog in the same file ends the child at 1 GiB so that an
 * unbounded read fails this test instead of the machine).
 */
import { writeFile, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.js';
import { cli, ensureBuilt, tempDir } from './helpers.js';

const MAX_RSS = 200 * 1024 * 1024;
const REF = `127.0.0.1:1/app@sha256:${'ab'.repeat(32)}`; // never contacted: every case fails before

let dir: string;
let preload: string;

beforeAll(async () => {
  ensureBuilt();
  dir = await tempDir();
  preload = path.join(dir, 'rss-report.cjs');
  await writeFile(
    preload,
    `const fs = require('fs');
const out = process.env.COSIGN_TS_TEST_RSS_FILE;
process.on('exit', () => { if (out) fs.writeFileSync(out, String(process.resourceUsage().maxRSS * 1024)); });
setInterval(() => { if (process.memoryUsage.rss() > 1024 * 1024 * 1024) { process.stderr.write('watchdog: RSS over 1 GiB\\n'); process.exit(99); } }, 10).unref();
`,
  );
  expect((await cli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } })).code).toBe(0);
  await writeFile(path.join(dir, 'sig'), Buffer.alloc(64, 1).toString('base64'));
}, 120_000);

async function run(name: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; rss: number; ms: number }> {
  const rssFile = path.join(dir, `${name}.rss`);
  const t0 = performance.now();
  const r = await cli(args, {
    cwd: dir,
    timeoutMs: 30_000,
    env: { COSIGN_PASSWORD: 'pw', NODE_OPTIONS: `--require ${preload}`, COSIGN_TS_TEST_RSS_FILE: rssFile, ...env },
  });
  const ms = performance.now() - t0;
  const rss = Number(await readFile(rssFile, 'utf8'));
  return { code: r.code, stderr: r.stderr, rss, ms };
}

function expectBounded(r: { code: number | null; stderr: string; rss: number; ms: number }, message: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  // cosign's error shape: the one-line message, twice; nothing else but verify's tlog warning
  const lines = r.stderr
    .trimEnd()
    .split('\n')
    .filter((l) => !l.startsWith('WARNING: Skipping tlog verification'));
  const m = /^Error: (.*)$/.exec(lines[0] ?? '')?.[1] ?? '';
  expect(lines, r.stderr).toEqual([`Error: ${m}`, `error during command execution: ${m}`]);
  expect(m).toMatch(message);
  expect(r.rss, `peak RSS ${(r.rss / 1048576).toFixed(1)} MiB`).toBeLessThan(MAX_RSS);
  expect(r.ms).toBeLessThan(15_000);
}

describe('CLI: /dev/zero as a key, Rekor key or payload file', () => {
  it('--key /dev/zero (signing key: public-key)', async () => {
    expectBounded(await run('public-key', ['public-key', '--key', '/dev/zero']), /^reading key: key file \/dev\/zero is larger than 1048576 bytes$/);
  }, 60_000);

  it('--key /dev/zero (verification key: verify)', async () => {
    expectBounded(
      await run('verify-key', ['verify', '--key', '/dev/zero', '--insecure-ignore-tlog=true', REF]),
      /key file \/dev\/zero is larger than 1048576 bytes/,
    );
  }, 60_000);

  it('SIGSTORE_REKOR_PUBLIC_KEY=/dev/zero', async () => {
    expectBounded(
      await run('rekor', ['verify', '--key', 'cosign.pub', REF], { SIGSTORE_REKOR_PUBLIC_KEY: '/dev/zero' }),
      /SIGSTORE_REKOR_PUBLIC_KEY: .*\/dev\/zero is larger than 1048576 bytes/,
    );
  }, 60_000);

  it('verify --payload /dev/zero', async () => {
    expectBounded(
      await run('payload', ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog=true', '--signature', 'sig', '--payload', '/dev/zero', REF]),
      /payload file \/dev\/zero is larger than 1048576 bytes/,
    );
  }, 60_000);

  it('verify --certificate /dev/zero (keyless)', async () => {
    const root = path.join(repoRoot, 'fixtures', 'sigstore-go', 'trust', 'trusted-root-public-good.json');
    expectBounded(
      await run('certificate', [
        'verify',
        '--trusted-root',
        root,
        '--certificate',
        '/dev/zero',
        '--certificate-identity',
        'a@b',
        '--certificate-oidc-issuer',
        'https://issuer',
        REF,
      ]),
      /--certificate \/dev\/zero is larger than 1048576 bytes/,
    );
  }, 60_000);
});

describe('CLI: a key URL with an endless body', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // chunked, never ends: only a reader bounded by bytes read gives up
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = (): void => {
        while (res.write(chunk)) {
          /* until the socket buffer is full */
        }
        res.once('drain', pump);
      };
      res.on('error', () => undefined);
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cosign.pub`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('--key http://127.0.0.1/... stops at 1 MiB', async () => {
    expectBounded(
      await run('http-key', ['verify', '--key', url, '--insecure-ignore-tlog=true', REF]),
      /key at http:\/\/127\.0\.0\.1:\d+\/cosign\.pub is larger than 1048576 bytes/,
    );
  }, 60_000);
});
