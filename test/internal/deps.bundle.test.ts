/**
 * src/internal/deps.ts in the CLI bundle (scripts/build-cli.mjs): its `require('zod')` and
 * `require('@noble/ciphers/salsa.js')` are bundled, not resolved from node_modules at run time. The
 * bin, copied with package.json to a folder with no node_modules above it, still encrypts and
 * decrypts a cosign key (zod for the key's JSON, @noble/ciphers for the secretbox).
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, ensureBuilt, tempDir } from '../cli/helpers.js';
import { repoRoot } from '../helpers/fixtures.js';
import { runCommand } from '../helpers/real/proc.js';

beforeAll(() => ensureBuilt(), 120_000);

describe('CLI bundle', () => {
  it('runs the zod and @noble/ciphers paths with no node_modules to load them from', async () => {
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
  });
});
