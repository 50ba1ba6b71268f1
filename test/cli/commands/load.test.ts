/**
 * `cosign-ts load --dir DIR IMAGE` through the built bin on the in-process registry: a saved image and
 * its signatures (legacy `.sig` and bundle referrers) pushed to another repository verify there; a
 * tampered layout, a missing layout and usage errors fail with a message, never a stack trace.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
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

describe('load', () => {
  it.each([
    ['legacy', []],
    ['bundle', ['--new-bundle-format']],
  ])('pushes a saved image with its %s signature to another repository, where it verifies', async (name, extra) => {
    const digest = await pushTinyImage(reg.url, `load/${name}`, 'v1');
    expect((await run([...SIGN, ...extra, `${reg.host}/load/${name}@${digest}`])).code).toBe(0);
    const out = path.join(dir, name);
    expect((await run(['save', '--dir', out, `${reg.host}/load/${name}@${digest}`])).code).toBe(0);
    const l = await run(['load', '--dir', out, `${reg.host}/copy/${name}:v2`]);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toBe('');
    const v = await run([...VERIFY, `${reg.host}/copy/${name}:v2`]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain(digest);
  });

  it('a tampered layout is refused before anything is pushed under the tag', async () => {
    const digest = await pushTinyImage(reg.url, 'load/tamper', 'v1');
    const out = path.join(dir, 'tamper');
    expect((await run(['save', '--dir', out, `${reg.host}/load/tamper@${digest}`])).code).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(out, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
    await writeFile(path.join(out, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7)), 'not the layer');
    const l = await run(['load', '--dir', out, `${reg.host}/copy/tamper:v1`]);
    expect(l.code).toBe(1);
    expect(l.stderr).toContain('has content with digest');
    expect(l.stderr).not.toContain('    at ');
    const head = await fetch(`${reg.url}/v2/copy/tamper/manifests/v1`, { method: 'HEAD' });
    expect(head.status).toBe(404);
  });

  it('usage errors and a missing layout', async () => {
    const noDir = await run(['load', `${reg.host}/copy/x:v1`]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain('required flag(s) "dir" not set');
    const missing = await run(['load', '--dir', path.join(dir, 'no-such-layout'), `${reg.host}/copy/x:v1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no-such-layout');
    expect(missing.stderr).not.toContain('    at ');
  });
});
