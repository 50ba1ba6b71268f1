/**
 * `cosign-ts tree` through the built bin on the in-process registry (referrers API), for what the cosign
 * 3.1.1 interop test cannot provoke: a failing referrers listing fails the command (`getting referrers:`),
 * and `--experimental-oci11=false` lists no referrers, with cobra's deprecation notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
import { cli, ensureBuilt, pushTinyImage, tempDir } from '../helpers.js';

const PW = { COSIGN_PASSWORD: 'test-pw' };

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

describe('tree and OCI 1.1 referrers', () => {
  it('a bundle is listed; not with --experimental-oci11=false (and the deprecation notice); a failing listing fails', async () => {
    const digest = await pushTinyImage(reg.url, 'tree/app', 'v1');
    const ref = `${reg.host}/tree/app@${digest}`;
    expect((await run(['sign', '--key', 'cosign.key', '--tlog-upload=false', '--yes', '--new-bundle-format', ref])).code).toBe(0);

    const listed = await run(['tree', ref]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('└── 🔗 https://sigstore.dev/cosign/sign/v1 artifacts via OCI referrer: ');

    const off = await run(['tree', '--experimental-oci11=false', ref]);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr).toBe('Flag --experimental-oci11 has been deprecated, OCI referrers will be the default behavior in future versions\n');
    expect(off.stdout).toContain('No Supply Chain Security Related Artifacts found');

    reg.faults.next({ path: /\/referrers\//, status: 403, times: 5 });
    const failed = await run(['tree', ref]);
    reg.faults.clear();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^Error: getting referrers: /m);
  }, 60_000);
});
