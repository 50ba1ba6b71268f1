/**
 * `cosign-ts verify-blob-attestation` as the built bin: `Verified OK`, cosign's warning and error lines and
 * exit statuses for each input shape, `--check-claims`, `--digest`/`--digestAlg`, and the refusal of a legacy
 * bundle signed by another key (the embedded key is never trusted). Real cosign: test/interop/blob-attest.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../helpers.js';

const WARNING = 'WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob attestation.\n';
const errorLines = (m: string) => `Error: ${m}\nerror during command execution: ${m}\n`;

describe('cosign-ts verify-blob-attestation', () => {
  let dir: string;
  const env = { COSIGN_PASSWORD: 'pw' };
  const run = (args: string[]) => cli(args, { cwd: dir, env });
  const hex = createHash('sha256').update('hello\n').digest('hex');
  const verify = (src: string[], extra: string[] = [], blob: string[] = ['f.txt'], key = 'cosign.pub') =>
    run(['verify-blob-attestation', '--key', key, ...src, '--type', 'spdxjson', '--insecure-ignore-tlog=true', ...extra, ...blob]);

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-verify-blob-att-cli-'));
    for (const prefix of ['cosign', 'other']) {
      const gen = await run(['generate-key-pair', '--output-key-prefix', prefix]);
      expect(gen.code, gen.stderr).toBe(0);
    }
    await writeFile(path.join(dir, 'f.txt'), 'hello\n');
    await writeFile(path.join(dir, 'g.txt'), 'hellO\n');
    await writeFile(path.join(dir, 'p.json'), '{"spdxVersion":"SPDX-2.3"}');
    const attest = (key: string, extra: string[]) =>
      run(['attest-blob', '--key', key, '--tlog-upload=false', '--predicate', 'p.json', '--type', 'spdxjson', ...extra, 'f.txt']);
    for (const r of [
      await attest('cosign.key', ['--bundle', 'l.json', '--output-signature', 'e.json']),
      await attest('cosign.key', ['--new-bundle-format', '--bundle', 'n.json']),
      await attest('other.key', ['--bundle', 'lo.json']),
    ]) {
      expect(r.code, r.stderr).toBe(0);
    }
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const shapes = [
    ['envelope (--signature)', ['--signature', 'e.json'], false],
    ['legacy bundle', ['--bundle', 'l.json'], false],
    ['Sigstore bundle', ['--bundle', 'n.json'], true],
  ] as const;

  it.each(shapes)('%s: Verified OK, and cosign’s failures for a wrong key, another blob and a wrong type', async (_n, src, sigstore) => {
    const ok = await verify([...src]);
    expect({ code: ok.code, stdout: ok.stdout, stderr: ok.stderr }).toEqual({ code: 0, stdout: '', stderr: `${WARNING}Verified OK\n` });
    const threshold = 'accepted signatures do not match threshold, Found: 0, Expected 1';
    const wrongKey = await verify([...src], [], ['f.txt'], 'other.pub');
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toBe(WARNING + errorLines(sigstore ? `failed to verify signature: could not verify envelope: ${threshold}` : threshold));
    const otherBlob = await verify([...src], [], ['g.txt']);
    expect(otherBlob.code).toBe(1);
    expect(otherBlob.stderr).toBe(
      WARNING +
        errorLines(sigstore ? 'failed to verify signature: provided artifact digests do not match digests in statement' : 'no matching subject digest found'),
    );
    expect((await verify([...src], ['--check-claims=false'], ['g.txt'])).code).toBe(0);
    const wrongType = await run(['verify-blob-attestation', '--key', 'cosign.pub', ...src, '--insecure-ignore-tlog=true', 'f.txt']);
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr).toBe(WARNING + errorLines('invalid predicate type, expected custom got https://spdx.dev/Document'));
    expect((await verify([...src], [], [])).stderr).toBe(errorLines('no path to blob passed in, run `cosign verify-blob-attestation -h` for more help'));
    expect((await verify([...src], ['--digest', hex, '--digestAlg', 'sha256'], [])).code).toBe(0);
    expect((await verify([...src], ['--digest', '00'.repeat(32), '--digestAlg', 'sha256'], [])).code).toBe(1);
  });

  it('never trusts the public key a legacy bundle carries: signed by another key, it fails with --key cosign.pub', async () => {
    const r = await verify(['--bundle', 'lo.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(WARNING + errorLines('accepted signatures do not match threshold, Found: 0, Expected 1'));
    expect((await verify(['--bundle', 'lo.json'], [], ['f.txt'], 'other.pub')).code).toBe(0);
  });

  it('usage: a signature source is required, a digest needs its algorithm, tlog verification is not done', async () => {
    const none = await run(['verify-blob-attestation', '--key', 'cosign.pub', '--insecure-ignore-tlog=true', 'f.txt']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(WARNING + errorLines('please specify path to the DSSE envelope signature via --signature or --bundle'));
    const half = await run(['verify-blob-attestation', '--key', 'cosign.pub', '--bundle', 'n.json', '--digest', hex]);
    expect(half.code).toBe(1);
    expect(half.stderr).toBe(errorLines('must provide path to blob or digest and digestAlg; run `cosign verify-blob-attestation -h` for more help'));
    const tlog = await run(['verify-blob-attestation', '--key', 'cosign.pub', '--bundle', 'n.json', '--type', 'spdxjson', 'f.txt']);
    expect(tlog.code).toBe(1);
    expect(tlog.stderr).toContain('--insecure-ignore-tlog=true');
    expect((await run(['verify-blob-attestation', '--bundle', 'n.json', '--insecure-ignore-tlog=true', 'f.txt'])).code).toBe(1);
  });
});
