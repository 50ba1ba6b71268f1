/**
 * src/internal/deps.ts in the CLI bundle (scripts/build-cli.mjs): its `require('zod')` and
 * `require('@noble/ciphers/salsa.js')` are bundled, not resolved from node_modules at run time. The
 * bin, copied with package.json to a folder with no node_modules above it, still encrypts and
 * decrypts a cosign key (zod for the key's JSON, @noble/ciphers for the secretbox), and verifies a
 * cosign 3 Sigstore bundle (@sigstore/bundle, @sigstore/core).
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, ensureBuilt, tempDir } from '../cli/helpers.js';
import { repoRoot } from '../helpers/fixtures.js';
import { runCommand } from '../helpers/real/proc.js';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference, withDigest } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry } from '../../src/testing/index.js';
import { cosign3Bundle, pushBundleReferrer } from '../helpers/bundles.js';

beforeAll(() => ensureBuilt(), 120_000);

describe('CLI bundle', () => {
  it('runs the zod, @noble/ciphers and @sigstore paths with no node_modules to load them from', async () => {
    const root = await tempDir('cosign-ts-bundle-');
    const bundleDir = path.join(root, path.relative(repoRoot, path.dirname(cliPath)));
    mkdirSync(bundleDir, { recursive: true });
    for (const f of ['cosign-ts.cjs', 'cli.cjs']) copyFileSync(path.join(path.dirname(cliPath), f), path.join(bundleDir, f));
    copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
    const bin = path.join(bundleDir, path.basename(cliPath));
    // Nothing above the copy can provide the packages.
    expect(() => createRequire(bin).resolve('zod')).toThrow();
    expect(() => createRequire(bin).resolve('@noble/ciphers/salsa.js')).toThrow();

    const env = cleanEnv({ COSIGN_PASSWORD: 'pw', NODE_PATH: undefined, NODE_DISABLE_COMPILE_CACHE: '1' });
    const gen = await runCommand(process.execPath, [bin, 'generate-key-pair'], { cwd: root, env, timeoutMs: 60_000 });
    expect(gen.code, gen.stderr).toBe(0);
    const pub = await runCommand(process.execPath, [bin, 'public-key', '--key', 'cosign.key'], { cwd: root, env, timeoutMs: 60_000 });
    expect(pub.code, pub.stderr).toBe(0);
    expect(pub.stdout).toBe(readFileSync(path.join(root, 'cosign.pub'), 'utf8'));
    const wrong = await runCommand(process.execPath, [bin, 'public-key', '--key', 'cosign.key'], {
      cwd: root,
      env: { ...env, COSIGN_PASSWORD: 'not it' },
      timeoutMs: 60_000,
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/decryption failed/);

    // A cosign 3 bundle: @sigstore/bundle and @sigstore/core come from the bundle too.
    expect(() => createRequire(bin).resolve('@sigstore/bundle')).toThrow();
    const reg = await startTestRegistry();
    try {
      const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
      const ref = parseReference(`${reg.host}/deps/app:v1`);
      const digest = await pushSampleImage(client, ref);
      const m = await client.getManifest(withDigest(ref, digest));
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const bundle = cosign3Bundle(privateKey, publicKey.export({ type: 'spki', format: 'der' }), digest);
      await pushBundleReferrer(client, ref, { digest, size: m.bytes.length, mediaType: m.mediaType }, bundle);
      writeFileSync(path.join(root, 'v3.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
      const v = await runCommand(process.execPath, [bin, 'verify', '--key', 'v3.pub', '--insecure-ignore-tlog=true', `${reg.host}/deps/app@${digest}`], {
        cwd: root,
        env,
        timeoutMs: 60_000,
      });
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toContain('"type":"https://sigstore.dev/cosign/sign/v1"');
    } finally {
      await reg.close();
    }
  });
});
