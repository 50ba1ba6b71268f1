/**
 * `cosign-ts clean` through the built bin on the in-process registry (referrers API): `--type all` (the
 * default) removes the legacy `.sig` tag's manifest and every OCI 1.1 referrer, each reported as
 * `Removed …`; `--type referrer` removes only referrers; `--type signature` leaves referrers and warns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
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
    expect(c.stderr).toBe(`Removed ${reg.host}/clean/sig:sha256-${digest.slice(7)}.sig from ${ref}\nWARNING: image has referrers, consider using --referrer\n`);
    expect(await referrersOf('clean/sig', digest)).toEqual(before);
  }, 60_000);

  it('an image without referrers: --type signature prints no warning', async () => {
    const digest = await pushTinyImage(reg.url, 'clean/none', 'v1');
    const ref = `${reg.host}/clean/none@${digest}`;
    expect((await run([...SIGN, ref])).code).toBe(0);
    const c = await run(['clean', '-f', '--type', 'signature', ref]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toBe(`Removed ${reg.host}/clean/none:sha256-${digest.slice(7)}.sig from ${ref}\n`);
  }, 60_000);

  it('the prompt for --type referrer', async () => {
    const c = await cli(['clean', '--type', 'referrer', `${reg.host}/clean/none:v1`], { cwd: dir, env: PW, input: 'n\n' });
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('WARNING: this will remove all referrers from the image\n');
  });
});
