/**
 * `cosign-ts clean` through the built bin on the in-process registry (referrers API): `--type all` (the
 * default) removes the legacy `.sig` tag's manifest and every Sigstore bundle referrer, each reported as
 * `Removed …`; `--type referrer` removes only those; `--type signature` leaves referrers and warns; other
 * referrers (not bundles) stay, as with cosign 3.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
import { pushBlob, pushManifest, sha256Digest } from '../../helpers/real/image.js';
import { cli, ensureBuilt, pushTinyImage, tempDir } from '../helpers.js';

const PW = { COSIGN_PASSWORD: 'test-pw' };
const SIGN = ['sign', '--key', 'cosign.key', '--tlog-upload=false', '--yes'];
const VERIFY = ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog=true'];

let reg: TestRegistry;
let dir: string;
const run = (args: string[]) => cli(args, { cwd: dir, env: PW });

beforeAll(async () => {
  ensureBuilt();
  reg = await startTestRegistry();
  dir = await tempDir();
  expect((await run(['generate-key-pair'])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await reg?.close();
});

/** A fresh image signed both ways: a legacy `.sig` tag and a cosign 3 bundle referrer. */
async function signedImage(repo: string): Promise<{ ref: string; digest: string }> {
  const digest = await pushTinyImage(reg.url, repo, 'v1');
  const ref = `${reg.host}/${repo}@${digest}`;
  const legacy = await run([...SIGN, ref]);
  expect(legacy.code, legacy.stderr).toBe(0);
  const bundle = await run([...SIGN, '--new-bundle-format', ref]);
  expect(bundle.code, bundle.stderr).toBe(0);
  return { ref, digest };
}

const referrersOf = async (repo: string, digest: string): Promise<string[]> => {
  const res = await fetch(`${reg.url}/v2/${repo}/referrers/${digest}`);
  const index = (await res.json()) as { manifests: Array<{ digest: string }> };
  return index.manifests.map((m) => m.digest);
};

describe('clean on a registry with the referrers API', () => {
  it('--type all (the default) removes the .sig manifest and every referrer; verify then finds nothing', async () => {
    const { ref, digest } = await signedImage('clean/all');
    const before = await referrersOf('clean/all', digest);
    expect(before).toHaveLength(1);
    const c = await run(['clean', '-f', '--output', 'json', ref]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toBe(`Removed ${reg.host}/clean/all:sha256-${digest.slice(7)}.sig from ${ref}\nRemoved ${reg.host}/clean/all@${before[0]} from ${ref}\n`);
    expect(JSON.parse(c.stdout)).toMatchObject({
      removed: [`${reg.host}/clean/all:sha256-${digest.slice(7)}.sig`, `${reg.host}/clean/all@${before[0]}`],
      failed: [],
    });
    expect(await referrersOf('clean/all', digest)).toEqual([]);
    expect((await run([...VERIFY, ref])).code).toBe(10);
    const tree = await run(['tree', ref]);
    expect(tree.stdout).toContain('No Supply Chain Security Related Artifacts found');
  }, 60_000);

  it('--type referrer removes only the referrers', async () => {
    const { ref, digest } = await signedImage('clean/ref');
    const [referrer] = await referrersOf('clean/ref', digest);
    const c = await run(['clean', '-f', '--type', 'referrer', ref]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toBe(`Removed ${reg.host}/clean/ref@${referrer} from ${ref}\n`);
    expect(await referrersOf('clean/ref', digest)).toEqual([]);
    const v = await run([...VERIFY, ref]);
    expect(v.code, v.stderr).toBe(0); // the legacy .sig signature is still there
  }, 60_000);

  it('--type signature leaves the referrers and warns about them', async () => {
    const { ref, digest } = await signedImage('clean/sig');
    const before = await referrersOf('clean/sig', digest);
    const c = await run(['clean', '-f', '--type', 'signature', ref]);
    expect(c.code, c.stderr).toBe(0);
    // cosign 3.1's order: the warning, then the removals
    expect(c.stderr).toBe(`WARNING: image has referrers, consider using --referrer\nRemoved ${reg.host}/clean/sig:sha256-${digest.slice(7)}.sig from ${ref}\n`);
    expect(await referrersOf('clean/sig', digest)).toEqual(before);
  }, 60_000);

  it('an image without referrers: --type signature still warns, as cosign 3.1 (its referrers index is never nil)', async () => {
    const digest = await pushTinyImage(reg.url, 'clean/none', 'v1');
    const ref = `${reg.host}/clean/none@${digest}`;
    expect((await run([...SIGN, ref])).code).toBe(0);
    const c = await run(['clean', '-f', '--type', 'signature', ref]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toBe(
      `WARNING: image has referrers, consider using --referrer\nRemoved ${reg.host}/clean/none:sha256-${digest.slice(7)}.sig from ${ref}\n`,
    );
  }, 60_000);

  it('a referrer that is not a Sigstore bundle (an SBOM artifact) stays, as with cosign 3.1', async () => {
    const { ref, digest } = await signedImage('clean/other');
    const sbom = Buffer.from('{"spdxVersion":"SPDX-2.3"}');
    const empty = Buffer.from('{}');
    await pushBlob(reg.url, 'clean/other', sbom);
    await pushBlob(reg.url, 'clean/other', empty);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/spdx+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: sha256Digest(empty) },
        layers: [{ mediaType: 'application/spdx+json', size: sbom.length, digest: sha256Digest(sbom) }],
        subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 0, digest },
      }),
    );
    const other = await pushManifest(reg.url, 'clean/other', sha256Digest(manifest), manifest, 'application/vnd.oci.image.manifest.v1+json');
    expect(await referrersOf('clean/other', digest)).toHaveLength(2);
    const c = await run(['clean', '-f', '--type', 'referrer', ref]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr.match(/^Removed /gm)).toHaveLength(1);
    expect(await referrersOf('clean/other', digest)).toEqual([other]);
  }, 60_000);

  it('the prompt for --type referrer', async () => {
    const c = await cli(['clean', '--type', 'referrer', `${reg.host}/clean/none:v1`], { cwd: dir, env: PW, input: 'n\n' });
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('WARNING: this will remove all referrer attestations and/or signatures from the image\n');
  });
});
