/**
 * cosign 3.1 signs (key-based, no tlog: a Sigstore bundle as an OCI 1.1 referrer) → `cosign-ts clean`
 * prints what `cosign3 clean` prints for the same setup (digests aside), and afterwards `cosign3 verify`
 * finds no signatures and `cosign3 tree` nothing; on Debian's docker-registry (fallback tag index) and on
 * the in-process registry (referrers API). Also: `copy` prints cosign 3.1's deprecation notice.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPY_DEPRECATION } from '../../src/cli/commands/copy.js';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign3, cosignRegistryFlags, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';

describe.skipIf(skipReal(['registry', 'cosign3', 'openssl']))('clean of cosign 3.1-signed images', () => {
  let real: RealRegistry;
  let mem: TestRegistry;
  let work: string;
  let env: Record<string, string>;
  let n = 0;

  beforeAll(async () => {
    ensureBuilt();
    real = await startRegistry();
    mem = await startTestRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-v3clean-'));
    env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw3' };
    await mkdir(path.join(work, 'k'));
    const gen = await cosign3(['generate-key-pair'], { cwd: path.join(work, 'k'), env });
    expect(gen.code, gen.stderr).toBe(0);
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
  const key = (): string[] => ['--key', path.join(work, 'k', 'cosign.key')];

  /** A fresh image on `reg`, signed by cosign 3; returns it by digest and its repository. */
  async function signed(reg: { url: string; host: string }): Promise<{ img: string; repo: string }> {
    const repo = `v3clean/app${++n}`;
    const digest = await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } });
    const img = `${reg.host}/${repo}@${digest}`;
    const s = await cosign3(['sign', ...key(), '--tlog-upload=false', '--use-signing-config=false', '--yes', ...cosignRegistryFlags(reg), img], { env });
    expect(s.code, s.stderr).toBe(0);
    return { img, repo: `${reg.host}/${repo}` };
  }

  /** Output with the image and repository names and all digests replaced, so two images' runs compare. */
  const normalize = (text: string, img: string, repo: string): string =>
    text
      .replaceAll(img, '<IMG>')
      .replaceAll(repo, '<REPO>')
      .replace(/sha256:[0-9a-f]{64}/g, 'sha256:<D>');

  it.each(['all', 'referrer', 'signature', 'attestation'])(
    '--type %s: same output as cosign3 clean; cosign3 verify/tree agree on what is left',
    async (type) => {
      for (const [name, reg] of regs()) {
        const theirs = await signed(reg);
        const c3 = await cosign3(['clean', '-f', '--type', type, ...cosignRegistryFlags(reg), theirs.img], { env });
        const ours = await signed(reg);
        const ts = await cli(['clean', '-f', '--type', type, ...cosignRegistryFlags(reg), ours.img], { env });
        expect(ts.code, `${name}: ${ts.stderr}`).toBe(c3.code);
        expect(ts.stdout, name).toBe(c3.stdout);
        expect(normalize(ts.stderr, ours.img, ours.repo), name).toBe(normalize(c3.stderr, theirs.img, theirs.repo));
        const removes = type === 'all' || type === 'referrer';
        expect(ts.stderr.includes('Removed '), name).toBe(removes);
        const verify = await cosign3(
          ['verify', '--key', path.join(work, 'k', 'cosign.pub'), '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), ours.img],
          {
            env,
          },
        );
        expect(verify.code !== 0, `${name}: ${verify.stderr}`).toBe(removes);
        const [treeOurs, treeTheirs] = await Promise.all([
          cosign3(['tree', ...cosignRegistryFlags(reg), ours.img], { env }),
          cosign3(['tree', ...cosignRegistryFlags(reg), theirs.img], { env }),
        ]);
        expect(normalize(treeOurs.stdout, ours.img, ours.repo), name).toBe(normalize(treeTheirs.stdout, theirs.img, theirs.repo));
        expect(treeOurs.stdout.includes('No Supply Chain Security Related Artifacts found'), name).toBe(removes);
      }
    },
    180_000,
  );

  it('an unsigned image, the referrer prompt, COSIGN_REPOSITORY, a copied image: the same output as cosign3 clean', async () => {
    for (const [name, reg] of regs()) {
      const f = cosignRegistryFlags(reg);
      // two like images per case: one cleaned by cosign3, one by us
      const pair = async (make: () => Promise<{ img: string; repo: string }>) => [await make(), await make()] as const;
      const unsigned = async (): Promise<{ img: string; repo: string }> => {
        const repo = `v3clean/plain${++n}`;
        const digest = await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } });
        return { img: `${reg.host}/${repo}@${digest}`, repo: `${reg.host}/${repo}` };
      };
      /** A signed image copied by `cosign3 copy` (the image itself left under its sha256-<hex> tag, no referrers). */
      const copied = async (): Promise<{ img: string; repo: string }> => {
        const s = await signed(reg);
        const dst = `${reg.host}/v3clean/copied${++n}`;
        expect((await cosign3(['copy', ...f, s.img, `${dst}:v1`], { env })).code).toBe(0);
        return { img: `${dst}@${s.img.split('@')[1] as string}`, repo: dst };
      };
      const cases: Array<[string, () => Promise<{ img: string; repo: string }>, string[], Record<string, string>, string | undefined]> = [
        ['unsigned, --type signature', unsigned, ['-f', '--type', 'signature'], env, undefined],
        ['unsigned, --type all', unsigned, ['-f'], env, undefined],
        ['the --type referrer prompt, declined', () => signed(reg), ['--type', 'referrer'], env, 'n\n'],
        ['COSIGN_REPOSITORY', () => signed(reg), ['-f'], { ...env, COSIGN_REPOSITORY: `${reg.host}/v3clean/sigs` }, undefined],
        ['an image copied by cosign3 copy', copied, ['-f'], env, undefined],
      ];
      for (const [what, make, args, e, input] of cases) {
        const [theirs, ours] = await pair(make);
        const opts = input === undefined ? { env: e } : { env: e, input };
        const c3 = await cosign3(['clean', ...args, ...f, theirs.img], opts);
        const ts = await cli(['clean', ...args, ...f, ours.img], opts);
        const where = `${name}: ${what}`;
        expect({ where, code: ts.code, stdout: ts.stdout, stderr: normalize(ts.stderr, ours.img, ours.repo) }).toEqual({
          where,
          code: c3.code,
          stdout: c3.stdout,
          stderr: normalize(c3.stderr, theirs.img, theirs.repo),
        });
        // the image itself always stays
        const [repoPath, digest] = [ours.repo.slice(reg.host.length + 1), ours.img.split('@')[1] as string];
        const head = await fetch(`${reg.url}/v2/${repoPath}/manifests/${digest}`, {
          method: 'HEAD',
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
        });
        expect(head.status, where).toBe(200);
      }
    }
  }, 240_000);

  it('copy prints the deprecation notice cosign3 copy prints', async () => {
    const { img } = await signed(mem);
    const dst = `${mem.host}/v3clean/copy-dst:v1`;
    const [c3, ts] = [
      await cosign3(['copy', ...cosignRegistryFlags(mem), img, `${mem.host}/v3clean/copy-dst3:v1`], { env }),
      await cli(['copy', ...cosignRegistryFlags(mem), img, dst], { env }),
    ];
    expect(c3.stderr).toContain(COPY_DEPRECATION);
    expect(ts.code, ts.stderr).toBe(0);
    expect(ts.stderr.startsWith(COPY_DEPRECATION)).toBe(true);
  }, 120_000);
});
