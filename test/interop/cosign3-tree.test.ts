/**
 * cosign 3.1 signs and attests (key-based, no tlog: Sigstore bundles as OCI 1.1 referrers) → `cosign-ts tree`
 * and `cosign-ts triangulate` print what `cosign3 tree` / `cosign3 triangulate` print, byte for byte, with the
 * same exit status, on Debian's docker-registry (fallback tag index) and on the in-process registry
 * (referrers API).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign3, cosignRegistryFlags, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';

describe.skipIf(skipReal(['registry', 'cosign3', 'openssl']))('tree and triangulate of cosign 3.1-signed images', () => {
  let real: RealRegistry;
  let mem: TestRegistry;
  let work: string;
  let env: Record<string, string>;
  let n = 0;

  beforeAll(async () => {
    ensureBuilt();
    real = await startRegistry();
    mem = await startTestRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-v3tree-'));
    env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw3' };
    await mkdir(path.join(work, 'k'));
    const gen = await cosign3(['generate-key-pair'], { cwd: path.join(work, 'k'), env });
    expect(gen.code, gen.stderr).toBe(0);
    await writeFile(path.join(work, 'predicate.json'), '{"buildType":"x"}');
  }, 120_000);
  afterAll(async () => {
    await real?.stop();
    await mem?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const regs = (): Array<[string, { url: string; host: string }]> => [
    ['docker-registry (fallback tag)', real],
    ['in-process registry (referrers API)', mem],
  ];

  /** A fresh image on `reg`, signed (and optionally attested) by cosign 3. */
  async function image(reg: { url: string; host: string }, what: { sign: boolean; attest: boolean }): Promise<{ byDigest: string; byTag: string }> {
    const repo = `v3tree/app${++n}`;
    const digest = await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } });
    const byDigest = `${reg.host}/${repo}@${digest}`;
    const common = ['--key', path.join(work, 'k', 'cosign.key'), '--tlog-upload=false', '--use-signing-config=false', '--yes', ...cosignRegistryFlags(reg)];
    if (what.sign) {
      const s = await cosign3(['sign', ...common, byDigest], { env });
      expect(s.code, s.stderr).toBe(0);
    }
    if (what.attest) {
      const s = await cosign3(['attest', ...common, '--type', 'slsaprovenance', '--predicate', path.join(work, 'predicate.json'), byDigest], { env });
      expect(s.code, s.stderr).toBe(0);
    }
    return { byDigest, byTag: `${reg.host}/${repo}:v1` };
  }

  /** The output with its `└──` blocks sorted: cosign prints them in Go map order, which varies from run to run. */
  const blocks = (stdout: string): string[] => {
    // The final newline belongs to the output, not to whichever block happens to come last.
    const end = stdout.endsWith('\n') ? '\n' : '';
    const parts = stdout.slice(0, stdout.length - end.length).split(/\n(?=└── )/);
    return [parts[0] as string, ...parts.slice(1).sort(), end];
  };

  it.each([
    ['signed', { sign: true, attest: false }],
    ['signed and attested', { sign: true, attest: true }],
    ['not signed', { sign: false, attest: false }],
  ] as const)(
    '%s: tree and triangulate print what cosign3 prints',
    async (_, what) => {
      for (const [name, reg] of regs()) {
        const img = await image(reg, what);
        for (const args of [
          ['tree', img.byTag],
          ['tree', img.byDigest],
          ['triangulate', img.byDigest],
          ['triangulate', '--type', 'attestation', img.byDigest],
          ['triangulate', '--type', 'digest', img.byTag],
        ]) {
          const full = [args[0] as string, ...cosignRegistryFlags(reg), ...args.slice(1)];
          const theirs = await cosign3(full, { env });
          const ours = await cli(full, { env });
          expect({ where: name, args, stdout: blocks(ours.stdout), code: ours.code }).toEqual({
            where: name,
            args,
            stdout: blocks(theirs.stdout),
            code: theirs.code,
          });
          // cosign 3 deprecates triangulate: the same notice first on stderr
          if (args[0] === 'triangulate') expect(ours.stderr.split('\n')[0]).toBe(theirs.stderr.split('\n')[0]);
        }
      }
    },
    180_000,
  );
  it('with COSIGN_REPOSITORY, --experimental-oci11=false, --type sbom and on a copied image: the same stdout, stderr and status as cosign3', async () => {
    for (const [name, reg] of regs()) {
      const img = await image(reg, { sign: true, attest: true });
      const other = { ...env, COSIGN_REPOSITORY: `${reg.host}/v3tree/signatures` };
      // a copy by cosign3 (no referrers; the image itself under sha256-<hex>) and one by cosign-ts (bundles copied)
      const copied3 = `${reg.host}/v3tree/copy3-${n}:v1`;
      const copiedTs = `${reg.host}/v3tree/copyts-${n}:v1`;
      expect((await cosign3(['copy', ...cosignRegistryFlags(reg), img.byTag, copied3], { env })).code).toBe(0);
      expect((await cli(['copy', ...cosignRegistryFlags(reg), img.byTag, copiedTs], { env })).code).toBe(0);
      const cases: Array<[string[], Record<string, string>]> = [
        [['tree', img.byDigest], other],
        [['tree', '--experimental-oci11=false', img.byDigest], env],
        [['tree', '--experimental-oci11=false', '--registry-referrers-mode=oci-1-1', img.byDigest], env],
        [['tree', copied3], env],
        [['triangulate', '--type', 'sbom', img.byDigest], env],
        [['triangulate', '--type', 'digest', img.byTag], other],
        [['triangulate', '--type', 'signature', img.byTag], other],
        [['triangulate', '--type', 'bundle', img.byDigest], env],
      ];
      for (const [args, e] of cases) {
        const full = [args[0] as string, ...cosignRegistryFlags(reg), ...args.slice(1)];
        const [theirs, ours] = [await cosign3(full, { env: e }), await cli(full, { env: e })];
        expect({ where: name, args, stdout: blocks(ours.stdout), stderr: ours.stderr, code: ours.code }).toEqual({
          where: name,
          args,
          stdout: blocks(theirs.stdout),
          stderr: theirs.stderr,
          code: theirs.code,
        });
      }
      // our copy carries the bundles: cosign3 tree of it lists what it lists for the source (names aside)
      const [src, dst] = [
        await cosign3(['tree', ...cosignRegistryFlags(reg), img.byTag], { env }),
        await cosign3(['tree', ...cosignRegistryFlags(reg), copiedTs], { env }),
      ];
      const srcRepo = img.byTag.slice(0, img.byTag.lastIndexOf(':'));
      expect(blocks(dst.stdout.replaceAll(copiedTs.slice(0, copiedTs.lastIndexOf(':')), 'REPO'))).toEqual(blocks(src.stdout.replaceAll(srcRepo, 'REPO')));
    }
  }, 240_000);
});
