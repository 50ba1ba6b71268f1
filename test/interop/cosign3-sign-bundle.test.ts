/**
 * cosign-ts signs in the cosign 3 bundle format (`sign --new-bundle-format`) → real cosign 3.1
 * `verify --insecure-ignore-tlog=true` accepts it, on Debian's docker-registry (fallback tag index) and
 * on the in-process registry (referrers API); cosign 3 and cosign-ts signing the same image both end
 * up in the fallback index and both verify with either; and what we write has the shape of what
 * cosign 3.1 writes (statement, bundle minus signature, manifest minus time/digests, index entry,
 * stderr).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/digest.js';
import { RegistryClient } from '../../src/oci/index.js';
import { referrersFallbackTag } from '../../src/oci/manifest.js';
import { parseReference, withDigest, withTag } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign3, cosignRegistryFlags, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';

describe.skipIf(skipReal(['registry', 'cosign3', 'openssl']))('cosign-ts signs bundles that cosign 3.1 verifies', () => {
  let reg: RealRegistry;
  let mem: TestRegistry;
  let work: string;
  let env: Record<string, string>;
  let n = 0;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  const key = (): string => path.join(work, 'k', 'cosign.key');
  const pub = (): string => path.join(work, 'k', 'cosign.pub');

  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry();
    mem = await startTestRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-v3sign-'));
    env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw3' };
    await mkdir(path.join(work, 'k'));
    const gen = await cosign3(['generate-key-pair'], { cwd: path.join(work, 'k'), env });
    expect(gen.code, gen.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    client.close();
    await reg?.stop();
    await mem?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const signArgs = (extra: string[], flags: string[], ref: string): string[] => [
    'sign',
    '--key',
    key(),
    '--tlog-upload=false',
    '--use-signing-config=false',
    '--new-bundle-format',
    '--yes',
    ...extra,
    ...flags,
    ref,
  ];
  const verifyArgs = (extra: string[], flags: string[], ref: string): string[] => [
    'verify',
    '--key',
    pub(),
    '--insecure-ignore-tlog=true',
    ...extra,
    ...flags,
    ref,
  ];

  async function realImage(): Promise<{ ref: string; digest: Digest }> {
    const repo = `v3s/app${++n}`;
    const digest = (await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } })) as Digest;
    return { ref: `${reg.host}/${repo}@${digest}`, digest };
  }

  it.each([
    ['no annotations', [], []],
    ['-a annotations, checked by cosign 3', ['-a', 'env=prod', '-a', 'team=a b'], ['-a', 'env=prod']],
  ] as const)(
    'docker-registry (fallback tag), %s: cosign3 verify accepts ours; stderr as cosign 3.1',
    async (_, signExtra, verifyExtra) => {
      const img = await realImage();
      const ours = await cli(signArgs([...signExtra], cosignRegistryFlags(reg), img.ref), { env });
      expect(ours.code, ours.stderr).toBe(0);
      const v = await cosign3(verifyArgs([...verifyExtra], cosignRegistryFlags(reg), img.ref), { env });
      expect(v.code, v.stderr).toBe(0);
      const ourVerify = await cli(verifyArgs([...verifyExtra], cosignRegistryFlags(reg), img.ref), { env });
      expect(ourVerify.code, ourVerify.stderr).toBe(0);
      expect(ourVerify.stdout).toBe(v.stdout);
      // a wrong annotation is refused by cosign 3
      const bad = await cosign3(verifyArgs(['-a', 'env=dev'], cosignRegistryFlags(reg), img.ref), { env });
      expect(bad.code).not.toBe(0);
      // cosign 3.1 prints the same on stderr for the same command
      const img2 = await realImage();
      const theirs = await cosign3(signArgs([...signExtra], cosignRegistryFlags(reg), img2.ref), { env });
      expect(theirs.code, theirs.stderr).toBe(0);
      // the same lines; cosign 3.1 itself prints "Signing artifact..." and "Pushing signature to" in either order
      // (seen both ways under load), so the order is not compared
      const lines = (t: string): string[] => t.split('\n').sort();
      expect(lines(ours.stderr)).toEqual(lines(theirs.stderr.replaceAll(img2.ref.split('@')[0] ?? '', img.ref.split('@')[0] ?? '')));
      expect(ours.stdout).toBe(theirs.stdout);
    },
    120_000,
  );

  it('in-process registry (referrers API, no fallback tag): cosign3 verify accepts ours', async () => {
    const digest = await pushSampleImage(client, `${mem.host}/v3s/mem:v1`);
    const ref = `${mem.host}/v3s/mem@${digest}`;
    const flags = ['--allow-http-registry=true'];
    const ours = await cli(signArgs(['-a', 'k=v'], flags, ref), { env });
    expect(ours.code, ours.stderr).toBe(0);
    const tags = await client.listTags(parseReference(ref));
    expect(tags).not.toContain(referrersFallbackTag(digest));
    const v = await cosign3(verifyArgs(['-a', 'k=v'], flags, ref), { env });
    expect(v.code, v.stderr).toBe(0);
  }, 120_000);

  it('cosign 3 signs, then cosign-ts signs: both in the fallback index, both verify with cosign 3 and with us; same shape', async () => {
    const img = await realImage();
    const theirs = await cosign3(signArgs(['-a', 'x=1'], cosignRegistryFlags(reg), img.ref), { env });
    expect(theirs.code, theirs.stderr).toBe(0);
    const ours = await cli(signArgs(['-a', 'x=1'], cosignRegistryFlags(reg), img.ref), { env });
    expect(ours.code, ours.stderr).toBe(0);
    const repo = parseReference(img.ref);
    const index = await client.getManifest(withTag(repo, referrersFallbackTag(img.digest)));
    const entries = (JSON.parse(Buffer.from(index.bytes).toString()) as { manifests: Array<{ digest: Digest; size: number }> }).manifests;
    expect(entries).toHaveLength(2);
    // index entries: the same keys in the same order
    const shape = (o: unknown): string => JSON.stringify(o, (k, v: unknown) => (k === 'digest' || k === 'size' ? 0 : v));
    expect(shape(entries[0])).toBe(shape(entries[1]));
    const docs = await Promise.all(
      entries.map(async (e) => {
        const m = await client.getManifest(withDigest(repo, e.digest));
        const manifest = JSON.parse(Buffer.from(m.bytes).toString()) as { layers: Array<{ digest: Digest }>; annotations: Record<string, string> };
        const bundleBytes = await client.getBlob(repo, manifest.layers[0]?.digest as Digest);
        const bundle = JSON.parse(Buffer.from(bundleBytes).toString()) as { dsseEnvelope: { payload: string; signatures: Array<{ sig: string }> } };
        const statement = Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString();
        for (const s of bundle.dsseEnvelope.signatures) s.sig = '';
        manifest.annotations['org.opencontainers.image.created'] = '';
        return { manifest: shape(manifest), bundle: JSON.stringify(bundle), statement };
      }),
    );
    expect(docs[0]?.statement).toBe(docs[1]?.statement);
    expect(docs[0]?.bundle).toBe(docs[1]?.bundle);
    expect(docs[0]?.manifest).toBe(docs[1]?.manifest);
    // both verify (cosign 3 reports every signature it accepted)
    const v = await cosign3(verifyArgs(['-a', 'x=1'], cosignRegistryFlags(reg), img.ref), { env });
    expect(v.code, v.stderr).toBe(0);
    expect((JSON.parse(v.stdout) as unknown[]).length).toBe(2);
    const o = await cli(verifyArgs(['-a', 'x=1'], cosignRegistryFlags(reg), img.ref), { env });
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toBe(v.stdout);
  }, 120_000);
});
