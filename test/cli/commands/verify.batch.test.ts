/**
 * `cosign-ts verify img1 … imgN` through the installed bin: one library batch (`verifyImages`) with
 * bounded concurrency. 1000 images never open 1000 connections: a counting TCP proxy in front of the
 * in-process registry sees at most `--max-workers` connections (plus the HTTPS-or-HTTP probe's), and the
 * library batch at most its concurrency / `maxSockets`. Output: argument order, identical to the library.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymousKeychain, RegistryClient } from '../../../src/oci/index.js';
import { startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
import { keyAuthority, verifyImages } from '../../../src/verify/index.js';
import { pushSignedImages } from '../../helpers/many-images.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { cli, ensureBuilt, tempDir } from '../helpers.js';

const COUNT = 1000;
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let reg: TestRegistry;
let proxy: TcpProxy;
let images: string[];
let pubPath: string;

beforeAll(async () => {
  ensureBuilt();
  reg = await startTestRegistry();
  proxy = await startTcpProxy(reg.host);
  const setup = new RegistryClient({ keychain: anonymousKeychain });
  // Pushed directly; verified through the proxy (same registry, counted connections).
  images = (await pushSignedImages(setup, reg.host, 'batch/app', COUNT, keys.privateKey)).map((r) => r.replace(reg.host, proxy.host));
  setup.close();
  pubPath = path.join(await tempDir(), 'cosign.pub');
  await writeFile(pubPath, keys.publicKey.export({ type: 'spki', format: 'pem' }));
}, 300_000);
afterAll(async () => {
  await proxy?.close();
  await reg?.close();
});

describe('verify of many images: bounded connections', () => {
  it(`library: ${COUNT} images over at most min(2 × batchConcurrency, maxSockets) connections (+ the probe): an image's referrers and .sig lookups run at once`, async () => {
    for (const [batchConcurrency, maxSockets] of [
      [10, 64],
      [100, 16],
    ] as const) {
      await proxy.idle();
      proxy.resetCounts();
      const client = new RegistryClient({ keychain: anonymousKeychain, maxSockets });
      const results = await verifyImages(images, { client, authorities: [keyAuthority(keys.publicKey, pubPath)], batchConcurrency });
      client.close();
      expect(results.every((r) => r.ok)).toBe(true);
      expect(proxy.accepted()).toBeLessThanOrEqual(Math.min(2 * batchConcurrency, maxSockets) + 1);
      expect(proxy.peakOpen()).toBeLessThanOrEqual(Math.min(2 * batchConcurrency, maxSockets) + 1);
    }
  }, 120_000);

  it(`bin: ${COUNT} images in one call, --max-workers 10 (default) and 4: same stdout as the library, connections bounded`, async () => {
    const client = new RegistryClient({ keychain: anonymousKeychain });
    const lib = await verifyImages(images, { client, authorities: [keyAuthority(keys.publicKey, pubPath)] });
    client.close();
    const expected = lib.map((r) => (r.ok ? Buffer.from(r.result.output).toString('utf8') : '')).join('');
    for (const workers of [undefined, 4] as const) {
      await proxy.idle();
      proxy.resetCounts();
      const r = await cli(
        ['verify', '--key', pubPath, '--insecure-ignore-tlog=true', ...(workers === undefined ? [] : ['--max-workers', String(workers)]), ...images],
        { timeoutMs: 120_000 },
      );
      expect(r.code, r.stderr.slice(-500)).toBe(0);
      expect(r.stdout).toBe(expected);
      expect(r.stderr.split('\nVerification for ').length - 1).toBe(COUNT);
      // 2 × --max-workers connections at most (an image's referrers and .sig lookups run at once), plus the probe's.
      expect(proxy.accepted()).toBeLessThanOrEqual(2 * (workers ?? 10) + 1);
      expect(proxy.peakOpen()).toBeLessThanOrEqual(2 * (workers ?? 10) + 1);
    }
  }, 240_000);

  it('bin: a failure stops the output at that image, with its status (like cosign)', async () => {
    const unsigned = `${proxy.host}/batch/unsigned@sha256:${'0'.repeat(64)}`;
    const r = await cli(['verify', '--key', pubPath, '--insecure-ignore-tlog=true', images[0] as string, unsigned, images[1] as string]);
    expect(r.code).toBe(10);
    expect(r.stderr.split('\nVerification for ').length - 1).toBe(1);
    expect(r.stderr).toContain('no signatures found');
  });
});
