/**
 * Attestations in the cosign 3 format (Sigstore bundle v0.3 as an OCI 1.1 referrer) against real
 * cosign 3.1.1 and cosign 2.5 (`--new-bundle-format`), both directions, on Debian's docker-registry
 * (no referrers API: the fallback tag index) and on the in-process registry (referrers API):
 * - cosign 3 attests → `verifyAttestations` and `cosign-ts verify-attestation` accept it, with
 *   cosign 3's stdout/stderr bytes and failure messages;
 * - cosign-ts attests → cosign 3 `verify-attestation` accepts it; what we write is what cosign 3
 *   writes (statement bytes, bundle and manifest up to signature and time, index entry), with the
 *   same stderr;
 * - cosign 2.5 `attest --new-bundle-format` → we verify; we attest → cosign 2.5
 *   `verify-attestation --new-bundle-format` (offline, with an empty trusted root) accepts it;
 * - an image with a v3 signature bundle and a legacy `.att`: the same answer as cosign 3;
 * - `--policy` is refused.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/digest.js';
import { parsePublicKey, PublicKeyVerifier } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { referrersFallbackTag } from '../../src/oci/manifest.js';
import { parseReference, withDigest, withTag } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { verifyAttestations } from '../../src/verify/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign, cosign3, cosignRegistryFlags, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';

interface Doc {
  statement: string;
  bundle: string;
  manifest: string;
  entry: string;
}

describe.skipIf(skipReal(['registry', 'cosign3', 'cosign']))('attestations as Sigstore bundles: interop with cosign 3.1 and 2.5', () => {
  let reg: RealRegistry;
  let mem: TestRegistry;
  let work: string;
  let env: Record<string, string>;
  let n = 0;
  let verifier: PublicKeyVerifier;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  const key = (): string => path.join(work, 'k', 'cosign.key');
  const pub = (): string => path.join(work, 'k', 'cosign.pub');
  const otherPub = (): string => path.join(work, 'o', 'cosign.pub');
  const vex = (): string => path.join(work, 'vex.json');
  const text = (): string => path.join(work, 'note.txt');

  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry();
    mem = await startTestRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-att3-'));
    env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw3' };
    for (const d of ['k', 'o']) {
      await mkdir(path.join(work, d));
      const gen = await cosign3(['generate-key-pair'], { cwd: path.join(work, d), env });
      expect(gen.code, gen.stderr).toBe(0);
    }
    // keys in an unsorted order, a nested object, HTML characters, a float and a unicode string
    await writeFile(
      vex(),
      '{"statements":[{"status":"not_affected","z":1.5,"a":null}],"@context":"https://openvex.dev/ns/v0.2.0","author":"<ci> & co","é":"ü"}',
    );
    await writeFile(text(), 'free text <with> "quotes"\n');
    verifier = new PublicKeyVerifier(parsePublicKey(await readFile(pub())), pub());
  }, 120_000);
  afterAll(async () => {
    client.close();
    await reg?.stop();
    await mem?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const attestArgs = (type: string, predicate: string, flags: string[], ref: string): string[] => [
    'attest',
    '--key',
    key(),
    '--tlog-upload=false',
    '--use-signing-config=false',
    '--new-bundle-format',
    '--yes',
    '--predicate',
    predicate,
    '--type',
    type,
    ...flags,
    ref,
  ];
  const verifyArgs = (type: string, flags: string[], ref: string, k = pub()): string[] => [
    'verify-attestation',
    '--key',
    k,
    '--insecure-ignore-tlog=true',
    '--type',
    type,
    ...flags,
    ref,
  ];

  async function realImage(): Promise<{ ref: string; digest: Digest; repo: string }> {
    const repo = `att3/app${++n}`;
    const digest = (await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } })) as Digest;
    return { ref: `${reg.host}/${repo}@${digest}`, digest, repo };
  }

  /** The referrers of `ref` in the fallback index, as comparable documents (signature, time, digests blanked). */
  async function docs(ref: string, digest: Digest): Promise<Doc[]> {
    const repo = parseReference(ref);
    const index = await client.getManifest(withTag(repo, referrersFallbackTag(digest)));
    const entries = (JSON.parse(Buffer.from(index.bytes).toString()) as { manifests: Array<{ digest: Digest }> }).manifests;
    const blank = (o: unknown): string => JSON.stringify(o, (k, v: unknown) => (k === 'digest' || k === 'size' ? 0 : v));
    return Promise.all(
      entries.map(async (e) => {
        const m = await client.getManifest(withDigest(repo, e.digest));
        const manifest = JSON.parse(Buffer.from(m.bytes).toString()) as { layers: Array<{ digest: Digest }>; annotations: Record<string, string> };
        const bundleBytes = await client.getBlob(repo, manifest.layers[0]?.digest as Digest);
        const bundle = JSON.parse(Buffer.from(bundleBytes).toString()) as { dsseEnvelope: { payload: string; signatures: Array<{ sig: string }> } };
        const statement = Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString();
        for (const s of bundle.dsseEnvelope.signatures) s.sig = '';
        manifest.annotations['org.opencontainers.image.created'] = '';
        return { statement, bundle: JSON.stringify(bundle), manifest: blank(manifest), entry: blank(e) };
      }),
    );
  }

  it('cosign 3 attests (docker-registry, fallback tag) → we verify: library, and the CLI with cosign 3.1 stdout/stderr/status', async () => {
    const img = await realImage();
    const flags = cosignRegistryFlags(reg);
    for (const [type, file] of [
      ['openvex', vex()],
      ['custom', text()],
      ['https://example.com/predicate/v1', vex()],
    ] as const) {
      const a = await cosign3(attestArgs(type, file, flags, img.ref), { env });
      expect(a.code, a.stderr).toBe(0);
    }
    const lib = await verifyAttestations(img.ref, { client, verifier, type: 'openvex' });
    expect(lib.ok, JSON.stringify(lib.rejected)).toBe(true);
    expect(lib.format).toBe('bundle');
    expect(lib.verified).toHaveLength(1);
    expect(lib.verified[0]?.statement.predicate).toMatchObject({ author: '<ci> & co' });
    expect(lib.rejected.map((r) => r.code)).toEqual(['TYPE_MISMATCH', 'TYPE_MISMATCH']);
    const hook = await verifyAttestations(img.ref, {
      client,
      verifier,
      types: ['openvex', 'custom'],
      checkPredicate: (s) => s.predicateType !== 'https://openvex.dev/ns',
    });
    expect(hook.verified.map((v) => v.statement.predicateType)).toEqual(['https://cosign.sigstore.dev/attestation/v1']);
    for (const [type, k, tag] of [
      ['openvex', pub(), false],
      ['custom', pub(), false],
      ['https://example.com/predicate/v1', pub(), true],
      ['spdxjson', pub(), false],
      ['openvex', otherPub(), false],
    ] as const) {
      const ref = tag ? `${reg.host}/${img.repo}:v1` : img.ref;
      const theirs = await cosign3(verifyArgs(type, flags, ref, k), { env });
      const ours = await cli(verifyArgs(type, flags, ref, k), { env });
      expect({ code: ours.code, stdout: ours.stdout }, `${type} ${ours.stderr}`).toEqual({ code: theirs.code, stdout: theirs.stdout });
      expect(ours.stderr).toBe(theirs.stderr);
    }
  }, 180_000);

  it('we attest (docker-registry, fallback tag) → cosign 3 verifies; the same bytes and stderr as cosign 3 attest', async () => {
    const img = await realImage();
    const flags = cosignRegistryFlags(reg);
    const theirs = await cosign3(attestArgs('openvex', vex(), flags, img.ref), { env });
    expect(theirs.code, theirs.stderr).toBe(0);
    const ours = await cli(attestArgs('openvex', vex(), flags, img.ref), { env });
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stderr).toBe(theirs.stderr);
    expect(ours.stdout).toBe(theirs.stdout);
    const [a, b] = await docs(img.ref, img.digest);
    expect(a).toBeDefined();
    expect(b).toEqual(a);
    // vuln (which cosign decodes into its Go structure) and by tag: the same bytes and stderr
    const vuln = path.join(work, 'vuln.json');
    await writeFile(
      vuln,
      '{"scanner":{"uri":"pkg:github/aquasecurity/trivy","version":"0.50.0","result":{"x":[1]}},"metadata":{"scanStartedOn":"2026-01-02T03:04:05.100Z"}}',
    );
    const img3 = await realImage();
    const tagRef = `${reg.host}/${img3.repo}:v1`;
    const t3 = await cosign3(attestArgs('vuln', vuln, flags, tagRef), { env });
    const o3 = await cli(attestArgs('vuln', vuln, flags, tagRef), { env });
    expect(o3.code, o3.stderr).toBe(0);
    expect(o3.stderr).toBe(t3.stderr);
    const [e, f] = await docs(img3.ref, img3.digest);
    expect(f).toEqual(e);
    // custom: the same up to the timestamp
    const img2 = await realImage();
    expect((await cosign3(attestArgs('custom', text(), flags, img2.ref), { env })).code).toBe(0);
    expect((await cli(attestArgs('custom', text(), flags, img2.ref), { env })).code).toBe(0);
    const noTime = (x: Doc): Doc => ({ ...x, statement: x.statement.replace(/"Timestamp":"[^"]*"/, ''), bundle: x.bundle.replace(/"payload":"[^"]*"/, '') });
    const [c, d] = (await docs(img2.ref, img2.digest)).map(noTime);
    expect(d).toEqual(c);
    // cosign 3 verifies both (ours and its own); ours prints the same
    const v3 = await cosign3(verifyArgs('openvex', flags, img.ref), { env });
    expect(v3.code, v3.stderr).toBe(0);
    expect(v3.stdout.trim().split('\n')).toHaveLength(2);
    const v = await cli(verifyArgs('openvex', flags, img.ref), { env });
    expect(v.stdout).toBe(v3.stdout);
    expect(v.stderr).toBe(v3.stderr);
    const wrong = await cosign3(verifyArgs('openvex', flags, img.ref, otherPub()), { env });
    expect(wrong.code).not.toBe(0);
  }, 180_000);

  it('in-process registry (referrers API, no fallback tag): both directions', async () => {
    const flags = ['--allow-http-registry=true'];
    const digest = await pushSampleImage(client, `${mem.host}/att3/mem:v1`);
    const ref = `${mem.host}/att3/mem@${digest}`;
    const ours = await cli(attestArgs('slsaprovenance1', vex(), flags, ref), { env });
    expect(ours.code, ours.stderr).toBe(0);
    expect(await client.listTags(parseReference(ref))).not.toContain(referrersFallbackTag(digest));
    const v3 = await cosign3(verifyArgs('slsaprovenance1', flags, ref), { env });
    expect(v3.code, v3.stderr).toBe(0);
    const theirs = await cosign3(attestArgs('cyclonedx', vex(), flags, ref), { env });
    expect(theirs.code, theirs.stderr).toBe(0);
    const lib = await verifyAttestations(ref, { client, verifier, type: 'cyclonedx' });
    expect(lib.ok, JSON.stringify(lib.rejected)).toBe(true);
    const v = await cli(verifyArgs('cyclonedx', flags, ref), { env });
    const v3b = await cosign3(verifyArgs('cyclonedx', flags, ref), { env });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(v3b.stdout);
    expect(v.stderr).toBe(v3b.stderr);
  }, 180_000);

  it('cosign 2.5 --new-bundle-format, both ways', async () => {
    const flags = cosignRegistryFlags(reg);
    const trustedRoot = path.join(work, 'empty-trusted-root.json');
    await writeFile(trustedRoot, '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}');
    const img = await realImage();
    const c25 = await cosign(
      ['attest', '--key', key(), '--tlog-upload=false', '--new-bundle-format', '--yes', '--predicate', vex(), '--type', 'openvex', ...flags, img.ref],
      { env },
    );
    expect(c25.code, c25.stderr).toBe(0);
    const lib = await verifyAttestations(img.ref, { client, verifier, type: 'openvex' });
    expect(lib.ok, JSON.stringify(lib.rejected)).toBe(true);
    expect(lib.format).toBe('bundle');
    const v3 = await cosign3(verifyArgs('openvex', flags, img.ref), { env });
    const v = await cli(verifyArgs('openvex', flags, img.ref), { env });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(v3.stdout);
    const img2 = await realImage();
    expect((await cli(attestArgs('openvex', vex(), flags, img2.ref), { env })).code).toBe(0);
    const c25v = await cosign(
      [
        'verify-attestation',
        '--key',
        pub(),
        '--insecure-ignore-tlog=true',
        '--new-bundle-format',
        '--trusted-root',
        trustedRoot,
        '--type',
        'openvex',
        ...flags,
        img2.ref,
      ],
      { env },
    );
    expect(c25v.code, c25v.stderr).toBe(0);
    expect(c25v.stdout.trim().split('\n')).toHaveLength(1);
    const c25bad = await cosign(
      [
        'verify-attestation',
        '--key',
        otherPub(),
        '--insecure-ignore-tlog=true',
        '--new-bundle-format',
        '--trusted-root',
        trustedRoot,
        '--type',
        'openvex',
        ...flags,
        img2.ref,
      ],
      { env },
    );
    expect(c25bad.code).not.toBe(0);
  }, 180_000);

  it('a v3 signature bundle next to a legacy .att: the same answer as cosign 3 (bundles shadow the .att); --policy refused', async () => {
    const flags = cosignRegistryFlags(reg);
    const img = await realImage();
    const s = await cosign3(['sign', '--key', key(), '--tlog-upload=false', '--use-signing-config=false', '--new-bundle-format', '--yes', ...flags, img.ref], {
      env,
    });
    expect(s.code, s.stderr).toBe(0);
    const a = await cli(['attest', '--key', key(), '--tlog-upload=false', '--yes', '--predicate', vex(), '--type', 'openvex', ...flags, img.ref], { env });
    expect(a.code, a.stderr).toBe(0);
    for (const type of ['openvex', 'https://sigstore.dev/cosign/sign/v1']) {
      const theirs = await cosign3(verifyArgs(type, flags, img.ref), { env });
      const ours = await cli(verifyArgs(type, flags, img.ref), { env });
      expect({ code: ours.code, stdout: ours.stdout }).toEqual({ code: theirs.code, stdout: theirs.stdout });
      expect(ours.stderr).toBe(theirs.stderr);
    }
    const legacy = await verifyAttestations(img.ref, { client, verifier, type: 'openvex', format: 'legacy' });
    expect(legacy.ok).toBe(true);
    const policy = await cli([...verifyArgs('openvex', flags, img.ref), '--policy', vex()], { env });
    expect(policy.code).toBe(1);
    expect(policy.stderr).toMatch(/--policy\) are not supported/);
  }, 180_000);
});
