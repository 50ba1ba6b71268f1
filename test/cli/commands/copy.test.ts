/**
 * `cosign-ts copy` through the built bin on the in-process registry, with the referrers API and without
 * it (fallback tag index): the image, its legacy `.sig` and its OCI 1.1 referrers (a cosign 3 bundle
 * signed by us, an SBOM artifact, a bundle signing that SBOM) reach the destination, which then verifies; `--only` picks referrers
 * by kind; a second copy is a no-op; `referrerKind` classifies referrer manifests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referrerKind } from '../../../src/cli/commands/copy.js';
import type { ImageManifest } from '../../../src/oci/manifest.js';
import { startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
import { pushBlob, pushManifest, sha256Digest } from '../../helpers/real/image.js';
import { cli, ensureBuilt, pushTinyImage, tempDir } from '../helpers.js';

const PW = { COSIGN_PASSWORD: 'test-pw' };
const SIGN = ['sign', '--key', 'cosign.key', '--tlog-upload=false', '--yes'];
const VERIFY = ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog=true'];
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let api: TestRegistry;
let noApi: TestRegistry;
let dir: string;
const run = (args: string[]) => cli(args, { cwd: dir, env: PW });

beforeAll(async () => {
  ensureBuilt();
  api = await startTestRegistry();
  noApi = await startTestRegistry({ referrers: false });
  dir = await tempDir();
  expect((await run(['generate-key-pair'])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await api?.close();
  await noApi?.close();
});

/** Push an SBOM artifact whose subject is `digest` (as `oras attach` would); returns its digest. */
async function pushSbomReferrer(reg: TestRegistry, repo: string, digest: string): Promise<string> {
  const sbom = Buffer.from(`{"spdxVersion":"SPDX-2.3","name":"${repo}"}`);
  const empty = Buffer.from('{}');
  await pushBlob(reg.url, repo, sbom);
  await pushBlob(reg.url, repo, empty);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/spdx+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: sha256Digest(empty) },
      layers: [{ mediaType: 'application/spdx+json', size: sbom.length, digest: sha256Digest(sbom) }],
      subject: { mediaType: OCI_MANIFEST, size: 0, digest },
    }),
  );
  const d = await pushManifest(reg.url, repo, sha256Digest(manifest), manifest, OCI_MANIFEST);
  if (reg === noApi) {
    // no referrers API: list it in the fallback tag index, as a client would
    const tag = `sha256-${digest.slice(7)}`;
    const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
    const index = res.status === 200 ? ((await res.json()) as { manifests: unknown[] }) : { manifests: [] };
    const next = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [...index.manifests, { mediaType: OCI_MANIFEST, size: manifest.length, digest: d, artifactType: 'application/spdx+json' }],
      }),
    );
    await pushManifest(reg.url, repo, tag, next, 'application/vnd.oci.image.index.v1+json');
  }
  return d;
}

async function referrersOf(reg: TestRegistry, repo: string, digest: string): Promise<string[]> {
  const res =
    reg === api
      ? await fetch(`${reg.url}/v2/${repo}/referrers/${digest}`)
      : await fetch(`${reg.url}/v2/${repo}/manifests/sha256-${digest.slice(7)}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
  if (res.status === 404) return [];
  const index = (await res.json()) as { manifests: Array<{ digest: string }> };
  return index.manifests.map((m) => m.digest).sort();
}

describe.each([
  ['referrers API', () => api],
  ['fallback tag index', () => noApi],
] as const)('copy on a registry with the %s', (_, get) => {
  it('copies the image, its .sig and its referrers; the destination verifies; a second copy is a no-op', async () => {
    const reg = get();
    const digest = await pushTinyImage(reg.url, 'copy/src', 'v1');
    const ref = `${reg.host}/copy/src@${digest}`;
    expect((await run([...SIGN, ref])).code).toBe(0);
    expect((await run([...SIGN, '--new-bundle-format', ref])).code).toBe(0);
    const sbom = await pushSbomReferrer(reg, 'copy/src', digest);
    // a signature on the SBOM: a referrer of a referrer
    expect((await run([...SIGN, '--new-bundle-format', `${reg.host}/copy/src@${sbom}`])).code).toBe(0);
    const onSbom = await referrersOf(reg, 'copy/src', sbom);
    expect(onSbom).toHaveLength(1);
    const before = await referrersOf(reg, 'copy/src', digest);
    expect(before).toHaveLength(2);
    expect(before).toContain(sbom);

    const c = await run(['copy', '--output', 'json', `${reg.host}/copy/src:v1`, `${reg.host}/copy/dst:v1`]);
    expect(c.code, c.stderr).toBe(0);
    expect(await referrersOf(reg, 'copy/dst', digest)).toEqual(before);
    expect(JSON.parse(c.stdout).copied).toEqual(
      expect.arrayContaining([
        `${reg.host}/copy/dst:sha256-${digest.slice(7)}.sig`,
        `${reg.host}/copy/dst:v1`,
        ...before.map((d) => `${reg.host}/copy/dst@${d}`),
      ]),
    );
    const v = await run([...VERIFY, `${reg.host}/copy/dst:v1`]);
    expect(v.code, v.stderr).toBe(0);
    expect(await referrersOf(reg, 'copy/dst', sbom)).toEqual(onSbom);
    const vs = await run([...VERIFY, `${reg.host}/copy/dst@${sbom}`]);
    expect(vs.code, vs.stderr).toBe(0);

    const again = await run(['copy', `${reg.host}/copy/src:v1`, `${reg.host}/copy/dst:v1`]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('Copying ');
    expect(await referrersOf(reg, 'copy/dst', digest)).toEqual(before);
  }, 90_000);

  it('--only=sig copies the signature bundle, not the SBOM referrer; --only=sbom the SBOM referrer', async () => {
    const reg = get();
    const digest = await pushTinyImage(reg.url, 'copyonly/src', 'v1');
    const ref = `${reg.host}/copyonly/src@${digest}`;
    expect((await run([...SIGN, '--new-bundle-format', ref])).code).toBe(0);
    const sbom = await pushSbomReferrer(reg, 'copyonly/src', digest);
    const bundle = (await referrersOf(reg, 'copyonly/src', digest)).find((d) => d !== sbom) as string;

    expect((await run(['copy', '--only=sig', ref, `${reg.host}/copyonly/sig`])).code).toBe(0);
    expect(await referrersOf(reg, 'copyonly/sig', digest)).toEqual([bundle]);
    expect((await run([...VERIFY, `${reg.host}/copyonly/sig@${digest}`])).code).toBe(0);

    expect((await run(['copy', '--only=sbom', ref, `${reg.host}/copyonly/sbom`])).code).toBe(0);
    expect(await referrersOf(reg, 'copyonly/sbom', digest)).toEqual([sbom]);
    expect((await run([...VERIFY, `${reg.host}/copyonly/sbom@${digest}`])).code).toBe(10);
  }, 90_000);
});

describe('copy: flags as cosign 3.1', () => {
  it('--only with an unknown value: cosign 3.1 wording, status 1', async () => {
    const c = await run(['copy', '--only=sig,referrer', `${api.host}/x/a:v1`, `${api.host}/x/b:v1`]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('Error: invalid value for --only: referrer, only the following values are supported: [sig sbom att]\n');
  });
});

describe('referrerKind', () => {
  const m = (over: Partial<ImageManifest> & { layerType?: string }): ImageManifest => ({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: `sha256:${'4'.repeat(64)}` as ImageManifest['config']['digest'] },
    layers: [
      {
        mediaType: over.layerType ?? 'application/vnd.dev.sigstore.bundle.v0.3+json',
        size: 1,
        digest: `sha256:${'1'.repeat(64)}` as ImageManifest['config']['digest'],
      },
    ],
    ...over,
  });
  it('a bundle by its predicate type; cosign signature artifacts; SBOM types; else none', async () => {
    expect(await referrerKind(m({ annotations: { 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' } }))).toBe('sig');
    expect(await referrerKind(m({ annotations: { 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' } }))).toBe('att');
    expect(await referrerKind(m({}))).toBeUndefined();
    expect(
      await referrerKind(m({ layerType: 'application/vnd.dev.cosign.simplesigning.v1+json', artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' })),
    ).toBe('sig');
    expect(await referrerKind(m({ layerType: 'application/vnd.cyclonedx+json', artifactType: 'application/vnd.cyclonedx+json' }))).toBe('sbom');
    expect(await referrerKind(m({ layerType: 'application/octet-stream', artifactType: 'application/vnd.example+json' }))).toBeUndefined();
  });
});
