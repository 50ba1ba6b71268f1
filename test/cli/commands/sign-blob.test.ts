/**
 * `cosign-ts sign-blob` / `verify-blob` as the built bin: the stdout/stderr lines and exit statuses of
 * cosign 2.5 (`Using payload from: F`, `Wrote bundle to file F`, `Wrote signature to file F`).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../helpers.js';

describe('cosign-ts sign-blob / verify-blob', () => {
  let dir: string;
  const env = { COSIGN_PASSWORD: 'pw' };
  const run = (args: string[], input?: string) => cli(args, { cwd: dir, env, ...(input === undefined ? {} : { input }) });

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-blob-cli-'));
    const gen = await run(['generate-key-pair']);
    expect(gen.code, gen.stderr).toBe(0);
    await writeFile(path.join(dir, 'f.txt'), 'hello\n');
    await writeFile(path.join(dir, 'g.txt'), 'hellO\n');
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints the signature, writes legacy and new bundles, and verifies each', async () => {
    const a = await run(['sign-blob', '--key', 'cosign.key', '--tlog-upload=false', '--bundle', 'b.json', 'f.txt']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toBe('Using payload from: f.txt\nWrote bundle to file b.json\n');
    expect(a.stdout).toMatch(/^[A-Za-z0-9+/]+=*\n$/);
    expect(await readFile(path.join(dir, 'b.json'), 'utf8')).toBe(`{"base64Signature":"${a.stdout.trim()}"}`);

    const n = await run([
      'sign-blob',
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--new-bundle-format',
      '--bundle',
      'n.json',
      '--output-signature',
      's',
      'f.txt',
    ]);
    expect(n.code, n.stderr).toBe(0);
    expect(n.stdout).toBe('');
    expect(n.stderr).toBe('Using payload from: f.txt\nWrote bundle to file n.json\nWrote signature to file s\n');
    expect(JSON.parse(await readFile(path.join(dir, 'n.json'), 'utf8'))).toMatchObject({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' });

    for (const src of [
      ['--bundle', 'b.json'],
      ['--bundle', 'n.json'],
      ['--signature', 's'],
      ['--signature', a.stdout.trim()],
    ]) {
      const v = await run(['verify-blob', '--key', 'cosign.pub', ...src, '--insecure-ignore-tlog=true', 'f.txt']);
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toBe('');
      expect(v.stderr).toBe(
        'WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob.\nVerified OK\n',
      );
      const bad = await run(['verify-blob', '--key', 'cosign.pub', ...src, '--insecure-ignore-tlog=true', 'g.txt']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/Error: /);
    }
  }, 120_000);

  it('signs and verifies stdin (-), without the "Using payload" line', async () => {
    const a = await run(['sign-blob', '--key', 'cosign.key', '--tlog-upload=false', '-'], 'hello\n');
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toBe('');
    const v = await run(['verify-blob', '--key', 'cosign.pub', '--signature', a.stdout.trim(), '--insecure-ignore-tlog=true', '-'], 'hello\n');
    expect(v.code, v.stderr).toBe(0);
  }, 60_000);

  it('fails with exit 1 on usage errors, missing tlog flags and unreadable files', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['sign-blob', '--key', 'cosign.key', 'f.txt'], /--tlog-upload=false/],
      [['sign-blob', '--key', 'cosign.key', '--tlog-upload=false', '--new-bundle-format', 'f.txt'], /must specify --bundle with --new-bundle-format/],
      [['sign-blob', '--tlog-upload=false', 'f.txt'], /--key is required/],
      [['sign-blob', '--key', 'cosign.key', '--tlog-upload=false', 'missing.txt'], /ENOENT/],
      [['verify-blob', '--key', 'cosign.pub', '--insecure-ignore-tlog=true', 'f.txt'], /exactly one of --signature or --bundle/],
      [['verify-blob', '--key', 'cosign.pub', '--signature', 's', 'f.txt'], /insecure-ignore-tlog/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
    }
  }, 120_000);
});
