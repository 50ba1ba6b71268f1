/**
 * Blob signatures across implementations (key-based, no tlog): cosign 2.5 and cosign 3.1 `sign-blob`
 * (base64 signature, legacy `--bundle`, Sigstore bundle) → cosign-ts verifies (library and bin); cosign-ts
 * `sign-blob` → each cosign verifies. A tampered blob and a wrong key are rejected on every path.
 * cosign 2.5 verifies Sigstore bundles only through a trusted root: with an empty one (`--trusted-root`) it checks
 * a key-based bundle offline.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBlob } from '../../src/blob/index.js';
import { parsePublicKey } from '../../src/keys/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign, cosign3, isolatedToolEnv, skipReal } from '../helpers/real/index.js';

describe.skipIf(skipReal(['cosign', 'cosign3']))('blob signatures: interop with cosign 2.5 and 3.1', () => {
  let dir: string;
  let env: Record<string, string>;
  const noTlog = ['--tlog-upload=false'];
  const file = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-blob-interop-'));
    env = { ...(await isolatedToolEnv(file('home'))), COSIGN_PASSWORD: 'pw' };
    const gen = await cosign(['generate-key-pair'], { cwd: dir, env });
    expect(gen.code, gen.stderr).toBe(0);
    const other = await cosign3(['generate-key-pair', '--output-key-prefix', 'other'], { cwd: dir, env });
    expect(other.code, other.stderr).toBe(0);
    await writeFile(file('blob.bin'), 'release contents\n');
    await writeFile(file('tampered.bin'), 'release contentS\n');
    await writeFile(file('tr.json'), '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}');
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const oursVerify = async (args: string[], blob: string) =>
    cli(['verify-blob', '--key', 'cosign.pub', ...args, '--insecure-ignore-tlog=true', blob], { cwd: dir, env });

  it.each([
    [
      'cosign 2.5 signature',
      () => cosign(['sign-blob', '--key', 'cosign.key', ...noTlog, '--output-signature', 'c2.sig', 'blob.bin'], { cwd: dir, env }),
      ['--signature', 'c2.sig'],
    ],
    [
      'cosign 2.5 legacy bundle',
      () => cosign(['sign-blob', '--key', 'cosign.key', ...noTlog, '--bundle', 'c2.json', 'blob.bin'], { cwd: dir, env }),
      ['--bundle', 'c2.json'],
    ],
    [
      'cosign 2.5 new bundle',
      () => cosign(['sign-blob', '--key', 'cosign.key', ...noTlog, '--new-bundle-format', '--bundle', 'c2n.json', 'blob.bin'], { cwd: dir, env }),
      ['--bundle', 'c2n.json'],
    ],
    [
      'cosign 3.1 bundle (default format)',
      () => cosign3(['sign-blob', '--key', 'cosign.key', ...noTlog, '--use-signing-config=false', '--bundle', 'c3.json', 'blob.bin'], { cwd: dir, env }),
      ['--bundle', 'c3.json'],
    ],
    [
      'cosign 3.1 legacy bundle (--new-bundle-format=false: carries the public key as cert)',
      () =>
        cosign3(
          ['sign-blob', '--key', 'cosign.key', ...noTlog, '--use-signing-config=false', '--new-bundle-format=false', '--bundle', 'c3l.json', 'blob.bin'],
          {
            cwd: dir,
            env,
          },
        ),
      ['--bundle', 'c3l.json'],
    ],
    [
      'cosign 3.1 signature (--new-bundle-format=false)',
      () =>
        cosign3(
          [
            'sign-blob',
            '--key',
            'cosign.key',
            ...noTlog,
            '--use-signing-config=false',
            '--new-bundle-format=false',
            '--output-signature',
            'c3.sig',
            'blob.bin',
          ],
          {
            cwd: dir,
            env,
          },
        ),
      ['--signature', 'c3.sig'],
    ],
  ] as const)(
    '%s → cosign-ts verifies',
    async (_name, sign, args) => {
      const s = await sign();
      expect(s.code, s.stderr).toBe(0);
      const ok = await oursVerify([...args], 'blob.bin');
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toContain('Verified OK');
      expect((await oursVerify([...args], 'tampered.bin')).code).toBe(1);
      const wrongKey = await cli(['verify-blob', '--key', 'other.pub', ...args, '--insecure-ignore-tlog=true', 'blob.bin'], { cwd: dir, env });
      expect(wrongKey.code).toBe(1);
      // and the library, on the same bytes
      const data = await readFile(file(args[1]));
      const source = args[0] === '--signature' ? { signature: data } : data.includes('"mediaType"') ? { bundle: data } : { legacyBundle: data };
      await expect(
        verifyBlob(await readFile(file('blob.bin')), parsePublicKey(await readFile(file('cosign.pub'))), source, { insecureIgnoreTlog: true }),
      ).resolves.toBeDefined();
    },
    120_000,
  );

  it('cosign-ts signs (signature, legacy bundle, new bundle) → cosign 2.5 and 3.1 verify', async () => {
    const a = await cli(['sign-blob', '--key', 'cosign.key', ...noTlog, '--bundle', 't.json', '--output-signature', 't.sig', 'blob.bin'], { cwd: dir, env });
    expect(a.code, a.stderr).toBe(0);
    const n = await cli(['sign-blob', '--key', 'cosign.key', ...noTlog, '--new-bundle-format', '--bundle', 'tn.json', 'blob.bin'], { cwd: dir, env });
    expect(n.code, n.stderr).toBe(0);
    const checks: Array<[typeof cosign, string[]]> = [
      [cosign, ['--signature', 't.sig']],
      [cosign, ['--bundle', 't.json']],
      [cosign3, ['--signature', 't.sig']],
      [cosign3, ['--bundle', 't.json']],
      [cosign3, ['--bundle', 'tn.json']],
      // cosign 2.5 reads a Sigstore bundle only through a trusted root: an empty one is enough for a key
      [cosign, ['--bundle', 'tn.json', '--new-bundle-format', '--trusted-root', 'tr.json']],
    ];
    for (const [tool, args] of checks) {
      const v = await tool(['verify-blob', '--key', 'cosign.pub', ...args, '--insecure-ignore-tlog=true', 'blob.bin'], { cwd: dir, env });
      expect(v.code, `${args.join(' ')}: ${v.stderr}`).toBe(0);
      expect(v.stderr).toContain('Verified OK');
      const bad = await tool(['verify-blob', '--key', 'cosign.pub', ...args, '--insecure-ignore-tlog=true', 'tampered.bin'], { cwd: dir, env });
      expect(bad.code, args.join(' ')).not.toBe(0);
      const wrongKey = await tool(['verify-blob', '--key', 'other.pub', ...args, '--insecure-ignore-tlog=true', 'blob.bin'], { cwd: dir, env });
      expect(wrongKey.code, args.join(' ')).not.toBe(0);
    }
  }, 180_000);
});
