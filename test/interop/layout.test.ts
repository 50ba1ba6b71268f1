/**
 * Air-gapped verification through OCI image layouts, against real cosign 2.5 and 3.1.1 on Debian's
 * docker-registry: `cosign-ts save` writes what `cosign save` writes (the same index.json and
 * oci-layout bytes), each verifies the other's layout with `verify --local-image`, and `load` pushes a
 * layout back so that `cosign verify` accepts it. Legacy `.sig` signatures (cosign 2) and Sigstore
 * bundle referrers (cosign 3) both go through.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign, cosign3, cosignRegistryFlags, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';

describe.skipIf(skipReal(['registry', 'cosign', 'cosign3', 'openssl']))('save, load and verify --local-image with real cosign', () => {
  let reg: RealRegistry;
  let work: string;
  let env: Record<string, string>;
  let key: string;
  let pub: string;
  let n = 0;

  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-layout-'));
    env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw' };
    await mkdir(path.join(work, 'k'));
    const gen = await cosign(['generate-key-pair'], { cwd: path.join(work, 'k'), env });
    expect(gen.code, gen.stderr).toBe(0);
    key = path.join(work, 'k', 'cosign.key');
    pub = path.join(work, 'k', 'cosign.pub');
    await writeFile(path.join(work, 'predicate.json'), '{"buildType":"x"}');
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  /** A fresh image signed (and attested) by cosign 2 (legacy `.sig`/`.att`) or cosign 3 (bundle referrers). */
  async function signedImage(by: 'v2' | 'v3', attest: boolean): Promise<{ ref: string; repo: string; digest: string }> {
    const repo = `layout/app${++n}`;
    const digest = await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } });
    const ref = `${reg.host}/${repo}@${digest}`;
    const tool = by === 'v2' ? cosign : cosign3;
    const common = ['--key', key, '--tlog-upload=false', ...(by === 'v3' ? ['--use-signing-config=false'] : []), '--yes', ...cosignRegistryFlags(reg)];
    const s = await tool(['sign', ...common, ref], { env });
    expect(s.code, s.stderr).toBe(0);
    if (attest) {
      const predicate = path.join(work, by === 'v2' ? 'custom.json' : 'predicate.json');
      if (by === 'v2') await writeFile(predicate, '{"x":1}');
      const a = await tool(['attest', ...common, '--type', by === 'v2' ? 'custom' : 'slsaprovenance', '--predicate', predicate, ref], { env });
      expect(a.code, a.stderr).toBe(0);
    }
    return { ref, repo, digest };
  }

  const dir = (name: string): string => path.join(work, `${name}-${n}`);
  const verifyLocal = ['verify', '--key', '', '--insecure-ignore-tlog=true', '--local-image'];
  const withKey = (args: string[]): string[] => args.map((a, i) => (i === 2 && a === '' ? pub : a));

  async function files(d: string): Promise<string[]> {
    return (await readdir(path.join(d, 'blobs', 'sha256'))).sort();
  }

  it.each(['v2', 'v3'] as const)(
    'cosign-ts save writes the layout cosign save writes (image signed by cosign %s)',
    async (by) => {
      const img = await signedImage(by, true);
      const ours = dir('ours');
      const theirs = dir('theirs');
      const a = await cli(['save', '--dir', ours, ...cosignRegistryFlags(reg), img.ref]);
      expect(a.code, a.stderr).toBe(0);
      expect(a.stdout).toBe('');
      const b = await (by === 'v2' ? cosign : cosign3)(['save', '--dir', theirs, ...cosignRegistryFlags(reg), img.ref], { env });
      expect(b.code, b.stderr).toBe(0);
      expect(await readFile(path.join(ours, 'index.json'), 'utf8')).toBe(await readFile(path.join(theirs, 'index.json'), 'utf8'));
      expect(await readFile(path.join(ours, 'oci-layout'), 'utf8')).toBe(await readFile(path.join(theirs, 'oci-layout'), 'utf8'));
      expect(await files(ours)).toEqual(await files(theirs));
    },
    120_000,
  );

  it.each([
    ['v2', 'cosign 2.5'],
    ['v2', 'cosign 3.1.1'],
    ['v3', 'cosign 3.1.1'],
  ] as const)(
    'a layout saved by cosign-ts (signed by cosign %s) verifies with %s --local-image, and theirs with ours',
    async (by, peer) => {
      const img = await signedImage(by, false);
      const tool = peer === 'cosign 2.5' ? cosign : cosign3;
      const ours = dir('ours');
      const theirs = dir('theirs');
      expect((await cli(['save', '--dir', ours, ...cosignRegistryFlags(reg), img.ref])).code).toBe(0);
      expect((await tool(['save', '--dir', theirs, ...cosignRegistryFlags(reg), img.ref], { env })).code).toBe(0);
      // No network from here on: the registry is not named anywhere.
      const peerOnOurs = await tool(withKey([...verifyLocal, ours]), { env });
      expect(peerOnOurs.code, peerOnOurs.stderr).toBe(0);
      const oursOnTheirs = await cli(withKey([...verifyLocal, theirs]));
      expect(oursOnTheirs.code, oursOnTheirs.stderr).toBe(0);
      expect(oursOnTheirs.stderr).toContain(`Verification for ${theirs} --`);
      const oursOnOurs = await cli(withKey([...verifyLocal, ours]));
      expect(oursOnOurs.code, oursOnOurs.stderr).toBe(0);
      if (by === 'v2') {
        // Legacy signatures: the same stdout and stderr as cosign's own --local-image.
        const peerOnTheirs = await tool(withKey([...verifyLocal, theirs]), { env });
        expect(oursOnTheirs.stdout).toBe(peerOnTheirs.stdout);
        expect(oursOnTheirs.stderr).toBe(peerOnTheirs.stderr);
      } else {
        const parsed = JSON.parse(oursOnTheirs.stdout) as Array<{ critical: { image: { 'docker-manifest-digest': string } } }>;
        expect(parsed.map((p) => p.critical.image['docker-manifest-digest'])).toEqual([img.digest]);
      }
    },
    120_000,
  );

  it('a layout holding only a cosign 3 attestation: cosign 3.1.1 --local-image accepts it as a signature, cosign-ts does not (fail closed)', async () => {
    const repo = `layout/attonly${++n}`;
    const digest = await pushBusyboxImage(reg.url, repo, 'v1', { labels: { attonly: String(n) } });
    const ref = `${reg.host}/${repo}@${digest}`;
    const a = await cosign3(
      [
        'attest',
        '--key',
        key,
        '--tlog-upload=false',
        '--use-signing-config=false',
        '--yes',
        ...cosignRegistryFlags(reg),
        '--type',
        'slsaprovenance',
        '--predicate',
        path.join(work, 'predicate.json'),
        ref,
      ],
      { env },
    );
    expect(a.code, a.stderr).toBe(0);
    const d = dir('attonly');
    expect((await cli(['save', '--dir', d, ...cosignRegistryFlags(reg), ref])).code).toBe(0);
    const theirs = await cosign3(withKey([...verifyLocal, d]), { env });
    expect(theirs.code, theirs.stderr).toBe(0);
    const ours = await cli(withKey([...verifyLocal, d]));
    expect(ours.code).toBe(1);
    expect(ours.stderr).toContain('no matching attestations');
    expect(ours.stderr).toContain(`no matching signatures for ${d}@${digest}`);
  }, 120_000);

  it('a layout with no signatures: exit 10 for cosign-ts and a failure for cosign', async () => {
    const repo = `layout/unsigned${++n}`;
    const digest = await pushBusyboxImage(reg.url, repo, 'v1', { labels: { unsigned: String(n) } });
    const d = dir('unsigned');
    expect((await cli(['save', '--dir', d, ...cosignRegistryFlags(reg), `${reg.host}/${repo}@${digest}`])).code).toBe(0);
    const ours = await cli(withKey([...verifyLocal, d]));
    expect(ours.code).toBe(10);
    expect(ours.stderr).toContain(`no signatures associated with the image saved in ${d}`);
    const theirs = await cosign(withKey([...verifyLocal, d]), { env });
    expect(theirs.code).not.toBe(0);
    expect(theirs.stderr).toContain(`no signatures associated with the image saved in ${d}`);
  }, 120_000);

  it.each(['v2', 'v3'] as const)(
    'cosign-ts load pushes a layout (signed by cosign %s) that cosign verifies in the registry',
    async (by) => {
      const img = await signedImage(by, true);
      const d = dir('load');
      expect((await cli(['save', '--dir', d, ...cosignRegistryFlags(reg), img.ref])).code).toBe(0);
      const target = `${reg.host}/layout/loaded${n}:v1`;
      const l = await cli(['load', '--dir', d, ...cosignRegistryFlags(reg), target]);
      expect(l.code, l.stderr).toBe(0);
      const tool = by === 'v2' ? cosign : cosign3;
      const v = await tool(
        ['verify', '--key', pub, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), `${reg.host}/layout/loaded${n}@${img.digest}`],
        { env },
      );
      expect(v.code, v.stderr).toBe(0);
      const ours = await cli(['verify', '--key', pub, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), target]);
      expect(ours.code, ours.stderr).toBe(0);
    },
    120_000,
  );

  it.each(['v2', 'v3'] as const)(
    'cosign-ts load reads what cosign %s save wrote',
    async (by) => {
      const img = await signedImage(by, false);
      const d = dir('theirs-load');
      expect((await (by === 'v2' ? cosign : cosign3)(['save', '--dir', d, ...cosignRegistryFlags(reg), img.ref], { env })).code).toBe(0);
      const target = `${reg.host}/layout/reloaded${n}:v1`;
      const l = await cli(['load', '--dir', d, ...cosignRegistryFlags(reg), target]);
      expect(l.code, l.stderr).toBe(0);
      const ours = await cli(['verify', '--key', pub, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), target]);
      expect(ours.code, ours.stderr).toBe(0);
    },
    120_000,
  );
});
