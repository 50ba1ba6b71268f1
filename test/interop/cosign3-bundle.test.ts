/**
 * cosign 3.1 signs (key-based, no tlog) → cosign-ts verifies, as the library (`verifyImage`) and as
 * the built bin, with the same stdout and exit status as `cosign3 verify`, on Debian's docker-registry
 * (no referrers API: the fallback tag index `sha256-<hex>` is the discovery path here; the referrers
 * API path is covered on the in-process registry by test/verify/bundle.test.ts). A wrong key and a
 * tampered bundle are rejected by both.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../src/digest.js';
import { parsePublicKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference } from '../../src/reference.js';
import { keyAuthority, verifyImage } from '../../src/verify/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign3, cosignRegistryFlags, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';

describe.skipIf(skipReal(['registry', 'cosign3', 'openssl']))('interop with cosign 3.1 Sigstore bundles (referrers, fallback tag)', () => {
  let reg: RealRegistry;
  let work: string;
  let env: Record<string, string>;
  let n = 0;
  const keys = (name: string): { key: string; pub: string } => ({ key: path.join(work, name, 'cosign.key'), pub: path.join(work, name, 'cosign.pub') });

  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-v3-'));
    env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw3' };
    for (const name of ['signer', 'other']) {
      await mkdir(path.join(work, name));
      const gen = await cosign3(['generate-key-pair'], { cwd: path.join(work, name), env });
      expect(gen.code, gen.stderr).toBe(0);
    }
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  /** A fresh image signed by cosign 3 with `annotations`; its digest reference and tag reference. */
  async function signed(annotations: string[]): Promise<{ byDigest: string; byTag: string; byTagAndDigest: string; digest: string; repo: string }> {
    const repo = `v3/app${++n}`;
    const digest = await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } });
    const byDigest = `${reg.host}/${repo}@${digest}`;
    const args = [
      'sign',
      '--key',
      keys('signer').key,
      '--tlog-upload=false',
      '--use-signing-config=false',
      '--yes',
      ...annotations,
      ...cosignRegistryFlags(reg),
      byDigest,
    ];
    const s = await cosign3(args, { env });
    expect(s.code, s.stderr).toBe(0);
    return { byDigest, byTag: `${reg.host}/${repo}:v1`, byTagAndDigest: `${reg.host}/${repo}:v1@${digest}`, digest, repo };
  }

  const verifyArgs = (pub: string, extra: string[], ref: string): string[] => [
    'verify',
    '--key',
    pub,
    '--insecure-ignore-tlog=true',
    ...extra,
    ...cosignRegistryFlags(reg),
    ref,
  ];

  it.each([
    ['no annotations, by digest', [], [], 'byDigest'],
    ['-a annotations checked, by tag', ['-a', 'env=prod', '-a', 'team=a b'], ['-a', 'env=prod'], 'byTag'],
    ['-a annotations, -o text', ['-a', 'env=prod'], ['-o', 'text'], 'byDigest'],
    ['tag and digest (cosign 3 drops the tag)', [], [], 'byTagAndDigest'],
  ] as const)('%s: library and bin print what cosign3 verify prints', async (_, signAnnotations, verifyExtra, which) => {
    const img = await signed([...signAnnotations]);
    const ref = img[which];
    const theirs = await cosign3(verifyArgs(keys('signer').pub, [...verifyExtra], ref), { env });
    expect(theirs.code, theirs.stderr).toBe(0);
    const ours = await cli(verifyArgs(keys('signer').pub, [...verifyExtra], ref));
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
    // The checks listed on stderr are cosign 3's too (its tlog line included).
    const checks = (s: string): string => s.slice(s.indexOf('\nVerification for '));
    expect(checks(ours.stderr)).toBe(checks(theirs.stderr));
    if (!(verifyExtra as readonly string[]).includes('text')) {
      const annotations = Object.fromEntries(verifyExtra.flatMap((v, i) => (verifyExtra[i - 1] === '-a' ? [v.split('=') as [string, string]] : [])));
      const result = await verifyImage(ref, {
        client: new RegistryClient(),
        authorities: [keyAuthority(parsePublicKey(await readFile(keys('signer').pub)), keys('signer').pub)],
        annotations,
      });
      expect(Buffer.from(result.output).toString()).toBe(theirs.stdout);
      expect(result.format).toBe('bundle');
      expect(result.signatureReference.repository).toBe(parseReference(ref).repository);
    }
  });

  // cosign 3.1.1 signs bundles with imported P-384 and Ed25519 keys that it then does not verify
  // itself (with --key): cosign-ts gives the same verdicts (and, for RSA, the same output).
  it.each([
    ['RSA 2048', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 0],
    ['ECDSA P-384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], 1],
    ['Ed25519', ['-algorithm', 'ED25519'], 1],
  ] as const)('an imported %s key: the same verdict as cosign3 verify', async (name, genArgs, status) => {
    const dir = path.join(work, `import-${name.replace(/\W/g, '')}`);
    await mkdir(dir);
    execFileSync('openssl', ['genpkey', ...genArgs, '-out', path.join(dir, 'k.pem')]);
    const imp = await cosign3(['import-key-pair', '--key', path.join(dir, 'k.pem'), '-y'], { cwd: dir, env });
    expect(imp.code, imp.stderr).toBe(0);
    const repo = `v3/import${++n}`;
    const digest = await pushBusyboxImage(reg.url, repo, 'v1');
    const ref = `${reg.host}/${repo}@${digest}`;
    const signArgs = [
      'sign',
      '--key',
      path.join(dir, 'import-cosign.key'),
      '--tlog-upload=false',
      '--use-signing-config=false',
      '--yes',
      ...cosignRegistryFlags(reg),
      ref,
    ];
    const s = await cosign3(signArgs, { env });
    expect(s.code, s.stderr).toBe(0);
    const pub = path.join(dir, 'import-cosign.pub');
    const theirs = await cosign3(verifyArgs(pub, [], ref), { env });
    expect(theirs.code, theirs.stderr).toBe(status);
    const ours = await cli(verifyArgs(pub, [], ref));
    expect(ours.code, ours.stderr).toBe(status);
    expect(ours.stdout).toBe(theirs.stdout);
  });

  it('a wrong key, a wrong annotation and a tampered bundle are rejected by cosign3 and by cosign-ts alike (status 1)', async () => {
    const img = await signed(['-a', 'env=prod']);
    for (const extra of [[], ['-a', 'env=dev']]) {
      const pub = extra.length === 0 ? keys('other').pub : keys('signer').pub;
      const theirs = await cosign3(verifyArgs(pub, extra, img.byDigest), { env });
      const ours = await cli(verifyArgs(pub, extra, img.byDigest));
      expect(theirs.code).toBe(1);
      expect(ours.code, ours.stderr).toBe(theirs.code);
      expect(ours.stdout).toBe('');
      expect(ours.stderr).toContain('no matching attestations');
    }
    // Tamper: the statement's annotations changed (signature kept), pushed as a new bundle and referrer
    // manifest that replaces cosign's in the fallback index.
    const client = new RegistryClient();
    const repoRef = parseReference(`${reg.host}/${img.repo}`);
    const tag = img.digest.replace(':', '-');
    const index = JSON.parse(Buffer.from((await client.getManifest({ ...repoRef, tag })).bytes).toString()) as {
      manifests: { digest: string; size: number }[];
    };
    const entry = index.manifests[0]!;
    const manifest = JSON.parse(Buffer.from((await client.getManifest({ ...repoRef, digest: entry.digest as Digest })).bytes).toString()) as {
      layers: { digest: string; size: number }[];
    };
    const bundle = JSON.parse(Buffer.from(await client.getBlob(repoRef, manifest.layers[0]!.digest as Digest)).toString()) as {
      dsseEnvelope: { payload: string };
    };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as { subject: { annotations: Record<string, string> }[] };
    statement.subject[0]!.annotations = { env: 'dev' };
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const tampered = Buffer.from(JSON.stringify(bundle));
    await client.uploadBlob(repoRef, digestOf(tampered), tampered);
    manifest.layers[0] = { ...manifest.layers[0]!, digest: digestOf(tampered), size: tampered.length };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    await client.putManifest({ ...repoRef, digest: digestOf(manifestBytes) }, manifestBytes, 'application/vnd.oci.image.manifest.v1+json');
    index.manifests[0] = { ...entry, digest: digestOf(manifestBytes), size: manifestBytes.length };
    await client.putManifest({ ...repoRef, tag }, Buffer.from(JSON.stringify(index)), 'application/vnd.oci.image.index.v1+json');
    const theirs = await cosign3(verifyArgs(keys('signer').pub, [], img.byDigest), { env });
    expect(theirs.code, theirs.stderr).toBe(1);
    const ours = await cli(verifyArgs(keys('signer').pub, [], img.byDigest));
    expect(ours.code, ours.stderr).toBe(1);
    expect(ours.stdout).toBe('');
    await expect(
      verifyImage(img.byDigest, {
        client: new RegistryClient(),
        authorities: [keyAuthority(parsePublicKey(await readFile(keys('signer').pub)), keys('signer').pub)],
      }),
    ).rejects.toMatchObject({ code: 'NO_MATCHING_SIGNATURES', details: { layers: [expect.objectContaining({ code: 'SIGNATURE_INVALID' })] } });
  });
});
