/**
 * `cosign-ts save --dir DIR IMAGE` through the built bin on the in-process registry: the layout cosign
 * writes (index.json entries with `kind` annotations), every child of an index, legacy `.sig` images
 * and bundle referrers; usage errors and missing images.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
import { cli, ensureBuilt, pushTinyImage, pushTinyIndex, tempDir } from '../helpers.js';

const PW = { COSIGN_PASSWORD: 'test-pw' };
const SIGN = ['sign', '--key', 'cosign.key', '--tlog-upload=false', '--yes'];

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

interface IndexJson {
  manifests: Array<{ mediaType: string; size: number; digest: string; annotations?: Record<string, string> }>;
}
const indexOf = async (d: string): Promise<IndexJson> => JSON.parse(await readFile(path.join(d, 'index.json'), 'utf8')) as IndexJson;

describe('save', () => {
  it('writes the image and its .sig image, with the kind annotations cosign uses, and prints nothing', async () => {
    const digest = await pushTinyImage(reg.url, 'save/legacy', 'v1');
    expect((await run([...SIGN, `${reg.host}/save/legacy@${digest}`])).code).toBe(0);
    const out = path.join(dir, 'legacy');
    const r = await run(['save', '--dir', out, `${reg.host}/save/legacy:v1`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    const index = await indexOf(out);
    expect(index.manifests.map((m) => m.annotations)).toEqual([{ kind: 'dev.cosignproject.cosign/image' }, { kind: 'dev.cosignproject.cosign/sigs' }]);
    expect(index.manifests[0]?.digest).toBe(digest);
    // image manifest, config, layer; .sig manifest, its config and payload
    expect(await readdir(path.join(out, 'blobs', 'sha256'))).toHaveLength(6);
    expect(await readFile(path.join(out, 'oci-layout'), 'utf8')).toBe('{\n    "imageLayoutVersion": "1.0.0"\n}');
  });

  it('stores bundle referrers as blobs (index.json lists only the image, as cosign 3.1)', async () => {
    const digest = await pushTinyImage(reg.url, 'save/bundle', 'v1');
    expect((await run([...SIGN, '--new-bundle-format', `${reg.host}/save/bundle@${digest}`])).code).toBe(0);
    const out = path.join(dir, 'bundle');
    expect((await run(['save', '--dir', out, `${reg.host}/save/bundle@${digest}`])).code).toBe(0);
    const index = await indexOf(out);
    expect(index.manifests.map((m) => m.annotations?.kind)).toEqual(['dev.cosignproject.cosign/image']);
    const blobs = await readdir(path.join(out, 'blobs', 'sha256'));
    const referrer = [];
    for (const b of blobs) {
      const text = await readFile(path.join(out, 'blobs', 'sha256', b), 'utf8').catch(() => '');
      if (text.includes('"subject"') && text.includes(digest)) referrer.push(b);
    }
    expect(referrer).toHaveLength(1);
  });

  it('saves every child of an index (kind imageIndex)', async () => {
    const { index, children } = await pushTinyIndex(reg.url, 'save/index', 'v1');
    const out = path.join(dir, 'index');
    const r = await run(['save', '--dir', out, `${reg.host}/save/index:v1`]);
    expect(r.code, r.stderr).toBe(0);
    const doc = await indexOf(out);
    expect(doc.manifests).toEqual([
      {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        size: expect.any(Number),
        digest: index,
        annotations: { kind: 'dev.cosignproject.cosign/imageIndex' },
      },
    ]);
    const blobs = await readdir(path.join(out, 'blobs', 'sha256'));
    for (const c of [index, ...children]) expect(blobs).toContain(c.slice(7));
    expect(blobs).toHaveLength(1 + 2 * 3);
  });

  it('usage errors and a missing image', async () => {
    const noDir = await run(['save', `${reg.host}/save/legacy:v1`]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain('required flag(s) "dir" not set');
    const noArg = await run(['save', '--dir', path.join(dir, 'x')]);
    expect(noArg.code).toBe(1);
    const missing = await run(['save', '--dir', path.join(dir, 'missing'), `${reg.host}/save/nothing:v1`]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('not found');
    expect(missing.stderr).not.toContain('    at ');
  });
});
