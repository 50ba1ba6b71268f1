/**
 * OCI image layouts: the format cosign writes (index.json and oci-layout bytes), blobs written
 * atomically and read digest-checked and size-bounded, the layout as a RegistryReader for
 * `verifyImage` (legacy `.sig` and bundle referrers, with the registry stopped), save → load round
 * trips, and hostile layouts (wrong content, traversal digests, huge files, symbolic links, FIFOs,
 * malformed JSON): each a typed CosignError, never a crash or a hang.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../src/digest.js';
import { isCosignError } from '../../src/errors.js';
import { generateKeyPair, parsePrivateKey, parsePublicKey, PublicKeyVerifier, signerFromPrivateKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/client.js';
import { LAYOUT_KINDS, loadImage, OciLayout, saveImage } from '../../src/oci/layout.js';
import { parseReference } from '../../src/reference.js';
import { attestImage } from '../../src/sign/attestation.js';
import { signImage } from '../../src/sign/image.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { verifyAttestations } from '../../src/verify/attestation.js';
import { keyAuthority } from '../../src/verify/authority.js';
import { verifyImage } from '../../src/verify/image.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-layout-'));
});
afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

let n = 0;
const fresh = (): string => path.join(work, `l${++n}`);

/** The error code of a rejected promise (fails when it resolves or throws something else). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isCosignError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a CosignError');
}

describe('OciLayout: format and blobs', () => {
  it('create writes oci-layout and index.json as go-containerregistry does (indent, no final newline, field order)', async () => {
    const dir = fresh();
    const layout = await OciLayout.create(dir);
    expect(await readFile(path.join(dir, 'oci-layout'), 'utf8')).toBe('{\n    "imageLayoutVersion": "1.0.0"\n}');
    expect(await readFile(path.join(dir, 'index.json'), 'utf8')).toBe(
      '{\n   "schemaVersion": 2,\n   "mediaType": "application/vnd.oci.image.index.v1+json",\n   "manifests": []\n}',
    );
    const d = await layout.writeBlob(Buffer.from('{}'));
    await layout.addEntry({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: 2, annotations: { kind: LAYOUT_KINDS.image, x: '<&>' } });
    expect(await readFile(path.join(dir, 'index.json'), 'utf8')).toBe(
      `{\n   "schemaVersion": 2,\n   "mediaType": "application/vnd.oci.image.index.v1+json",\n   "manifests": [\n      {\n         "mediaType": "application/vnd.oci.image.manifest.v1+json",\n         "size": 2,\n         "digest": "${d}",\n         "annotations": {\n            "kind": "dev.cosignproject.cosign/image",\n            "x": "\\u003c\\u0026\\u003e"\n         }\n      }\n   ]\n}`,
    );
    const reopened = await OciLayout.open(dir);
    expect(reopened.subject().digest).toBe(d);
    expect(reopened.entries).toHaveLength(1);
    // Writes leave no temporary files behind.
    expect((await readdir(dir)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    expect(await readdir(path.join(dir, 'blobs', 'sha256'))).toEqual([d.slice(7)]);
  });

  it('writeBlob stores once, checks an expected digest, and readBlob checks the content', async () => {
    const layout = await OciLayout.create(fresh());
    const bytes = Buffer.from('hello');
    const d = await layout.writeBlob(bytes);
    expect(d).toBe(digestOf(bytes));
    expect(await layout.writeBlob(bytes, d)).toBe(d);
    expect(Buffer.from(await layout.readBlob(d))).toEqual(bytes);
    expect(await codeOf(layout.writeBlob(bytes, digestOf('other')))).toBe('DIGEST_MISMATCH');
    expect(await codeOf(layout.readBlob(digestOf('absent')))).toBe('NOT_FOUND');
    expect(await layout.hasBlob(digestOf('absent'))).toBe(false);
  });

  it('subject falls back to the only entry of a layout written by another tool, and says when there is none', async () => {
    const layout = await OciLayout.create(fresh());
    expect(await codeOf(Promise.resolve().then(() => layout.subject()))).toBe('NOT_FOUND');
    const d = await layout.writeBlob(
      Buffer.from('{"schemaVersion":2,"config":{"mediaType":"a","size":0,"digest":"sha256:' + '0'.repeat(64) + '"},"layers":[]}'),
    );
    await layout.addEntry({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: 1 });
    expect(layout.subject().digest).toBe(d);
  });
});

describe('OciLayout: hostile layouts are typed errors', () => {
  async function withBlob(content: Buffer | string, name?: string): Promise<{ dir: string; layout: OciLayout; digest: Digest }> {
    const dir = fresh();
    const layout = await OciLayout.create(dir);
    const digest = (name ?? digestOf(content)) as Digest;
    await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(path.join(dir, 'blobs', 'sha256', digest.slice(7)), content);
    return { dir, layout, digest };
  }

  it('a blob whose content does not match its name: DIGEST_MISMATCH (readBlob, getBlob, getManifest)', async () => {
    const { layout } = await withBlob('tampered', digestOf('original'));
    const d = digestOf('original');
    expect(await codeOf(layout.readBlob(d))).toBe('DIGEST_MISMATCH');
    expect(await codeOf(layout.getBlob(parseReference('x/y'), d))).toBe('DIGEST_MISMATCH');
    expect(await codeOf(layout.getManifest(parseReference(`x/y@${d}`)))).toBe('DIGEST_MISMATCH');
  });

  it('digests that are not digests never become paths: BAD_DIGEST', async () => {
    const layout = await OciLayout.create(fresh());
    for (const bad of ['sha256:../../../etc/passwd', `sha256:${'a'.repeat(63)}/`, 'md5:abcd', `sha256:${'A'.repeat(64)}`, `../sha256:${'a'.repeat(64)}`]) {
      expect(await codeOf(layout.readBlob(bad as Digest)), bad).toBe('BAD_DIGEST');
    }
  });

  it('index.json naming a traversal digest is refused when the layout is opened', async () => {
    const dir = fresh();
    await OciLayout.create(dir);
    await writeFile(
      path.join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 2, digest: 'sha256:../../../../etc/passwd' }],
      }),
    );
    expect(['BAD_MANIFEST', 'BAD_DIGEST']).toContain(await codeOf(OciLayout.open(dir)));
  });

  it('huge files are refused by size before they are read: TOO_LARGE', async () => {
    const { dir, layout, digest } = await withBlob('x', digestOf('huge'));
    // A sparse 3 GiB blob and a 5 MiB index.json.
    const fh = await open(path.join(dir, 'blobs', 'sha256', digest.slice(7)), 'r+');
    await fh.truncate(3 * 1024 * 1024 * 1024);
    await fh.close();
    expect(await codeOf(layout.readBlob(digest))).toBe('TOO_LARGE');
    expect(await codeOf(layout.getManifest(parseReference(`x/y@${digest}`)))).toBe('TOO_LARGE');
    expect(await codeOf(layout.readBlob(digest, 1024))).toBe('TOO_LARGE');
    await writeFile(path.join(dir, 'index.json'), Buffer.alloc(5 * 1024 * 1024, 0x20));
    expect(await codeOf(OciLayout.open(dir))).toBe('TOO_LARGE');
  });

  it('symbolic links are refused: a blob, the blobs folder, index.json, oci-layout, the layout itself', async () => {
    const target = path.join(work, 'secret');
    await writeFile(target, 'secret');
    const { dir, layout, digest } = await withBlob('x', digestOf('secret'));
    await rm(path.join(dir, 'blobs', 'sha256', digest.slice(7)));
    await symlink(target, path.join(dir, 'blobs', 'sha256', digest.slice(7)));
    expect(await codeOf(layout.readBlob(digest))).toBe('BAD_INPUT');
    expect(await layout.hasBlob(digest)).toBe(false);

    const other = fresh();
    const l2 = await OciLayout.create(other);
    await rm(path.join(other, 'blobs'), { recursive: true, force: true });
    await mkdir(path.join(work, `elsewhere${n}`, 'sha256'), { recursive: true });
    await symlink(path.join(work, `elsewhere${n}`), path.join(other, 'blobs'));
    expect(await codeOf(l2.readBlob(digestOf('secret')))).toBe('BAD_INPUT');

    for (const file of ['index.json', 'oci-layout']) {
      const d3 = fresh();
      await OciLayout.create(d3);
      await rm(path.join(d3, file));
      await symlink(target, path.join(d3, file));
      expect(await codeOf(OciLayout.open(d3)), file).toBe('BAD_INPUT');
    }
    const real = fresh();
    await OciLayout.create(real);
    const link = `${real}-link`;
    await symlink(real, link);
    expect(await codeOf(OciLayout.open(link))).toBe('BAD_INPUT');
  });

  it('a FIFO or a folder where a blob should be: BAD_INPUT, without blocking', async () => {
    const { dir, layout } = await withBlob('x');
    const fifo = digestOf('fifo');
    execFileSync('mkfifo', [path.join(dir, 'blobs', 'sha256', fifo.slice(7))]);
    expect(await codeOf(layout.readBlob(fifo))).toBe('BAD_INPUT');
    const folder = digestOf('folder');
    await mkdir(path.join(dir, 'blobs', 'sha256', folder.slice(7)));
    expect(await codeOf(layout.readBlob(folder))).toBe('BAD_INPUT');
    // The referrers scan skips both.
    expect(await layout.referrers(parseReference('x/y'), digestOf('anything'))).toEqual([]);
  });

  it('malformed or missing layouts', async () => {
    expect(await codeOf(OciLayout.open(path.join(work, 'no-such-dir')))).toBe('NOT_FOUND');
    const dir = fresh();
    await OciLayout.create(dir);
    await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    expect(await codeOf(OciLayout.open(dir))).toBe('BAD_INPUT');
    await writeFile(path.join(dir, 'oci-layout'), 'not json');
    expect(await codeOf(OciLayout.open(dir))).toBe('BAD_INPUT');
    await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    for (const bad of ['not json', '[]', '{"manifests":[{"digest":1}]}', '{"manifests":{}}', '{"manifests":[],"manifests":[]}']) {
      await writeFile(path.join(dir, 'index.json'), bad);
      expect(await codeOf(OciLayout.open(dir)), bad).toBe('BAD_MANIFEST');
    }
    await rm(path.join(dir, 'index.json'));
    expect(await codeOf(OciLayout.open(dir))).toBe('NOT_FOUND');
  });

  it('an index.json size that disagrees with the manifest: BAD_MANIFEST', async () => {
    const dir = fresh();
    const layout = await OciLayout.create(dir);
    const d = await layout.writeBlob(Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'));
    await layout.addEntry({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: d, size: 3, annotations: { kind: LAYOUT_KINDS.imageIndex } });
    expect(await codeOf((await OciLayout.open(dir)).getManifest(parseReference(`x/y@${d}`)))).toBe('BAD_MANIFEST');
  });
});

describe('saveImage, verify from the layout with no registry, loadImage', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  const keys = generateKeyPair('');
  const signer = signerFromPrivateKey(parsePrivateKey(keys.privateKeyPem, ''), 'test');
  const authorities = [keyAuthority(parsePublicKey(keys.publicKeyPem), 'test')];

  beforeAll(async () => {
    reg = await startTestRegistry();
    client = new RegistryClient();
  });
  afterAll(async () => {
    client?.close();
    await reg?.close();
  });

  it.each(['legacy', 'bundle'] as const)('a %s signature saved to a layout verifies with the registry stopped, and loads back', async (format) => {
    const repo = `save/${format}`;
    const digest = await pushSampleImage(client, `${reg.host}/${repo}:v1`, { format });
    await signImage(`${reg.host}/${repo}@${digest}`, signer, { client, format });
    const dir = fresh();
    const saved = await saveImage(client, parseReference(`${reg.host}/${repo}:v1`), dir);
    expect(saved).toEqual({ digest, signatures: format === 'legacy', attestations: false, referrers: format === 'bundle' ? 1 : 0 });

    // Verify from the layout alone: a registry that fails every request proves no request is made.
    const layout = await OciLayout.open(dir);
    expect(layout.subject().digest).toBe(digest);
    expect(layout.entries.map((e) => e.annotations?.kind)).toEqual(format === 'legacy' ? [LAYOUT_KINDS.image, LAYOUT_KINDS.sigs] : [LAYOUT_KINDS.image]);
    const before = reg.requests.length;
    const r = await verifyImage(parseReference(`unreachable.invalid/any@${digest}`), { client: layout, authorities });
    expect(r.signatures).toHaveLength(1);
    expect(r.format).toBe(format === 'bundle' ? 'bundle' : undefined);
    expect(reg.requests.length).toBe(before);

    // Another key: no match.
    const other = generateKeyPair('');
    expect(
      await codeOf(verifyImage(parseReference(`x/y@${digest}`), { client: layout, authorities: [keyAuthority(parsePublicKey(other.publicKeyPem), 'o')] })),
    ).toBe('NO_MATCHING_SIGNATURES');

    // Round trip: load into another repository, verify there.
    const loaded = await loadImage(client, dir, parseReference(`${reg.host}/loaded/${format}:v2`));
    expect(loaded.digest).toBe(digest);
    const again = await verifyImage(`${reg.host}/loaded/${format}:v2`, { client, authorities });
    expect(again.digest).toBe(digest);
    expect(again.signatures).toHaveLength(1);
  });

  it('legacy attestations (.att) are saved as kind atts and verify from the layout', async () => {
    const digest = await pushSampleImage(client, `${reg.host}/save/att:v1`, { att: 'yes' });
    const image = `${reg.host}/save/att@${digest}`;
    await attestImage(image, signer, { client, predicate: Buffer.from('{"x":1}'), type: 'custom' });
    const dir = fresh();
    expect(await saveImage(client, parseReference(image), dir)).toMatchObject({ signatures: false, attestations: true });
    const layout = await OciLayout.open(dir);
    expect(layout.entries.map((e) => e.annotations?.kind)).toEqual([LAYOUT_KINDS.image, LAYOUT_KINDS.atts]);
    const r = await verifyAttestations(parseReference(`unreachable.invalid/any@${digest}`), {
      client: layout,
      verifier: new PublicKeyVerifier(parsePublicKey(keys.publicKeyPem), 'test'),
      type: 'custom',
    });
    expect(r.ok).toBe(true);
  });

  it('an unsigned image saves and reports NO_SIGNATURES from the layout', async () => {
    const digest = await pushSampleImage(client, `${reg.host}/save/unsigned:v1`, { unsigned: 'yes' });
    const dir = fresh();
    expect(await saveImage(client, parseReference(`${reg.host}/save/unsigned@${digest}`), dir)).toMatchObject({ signatures: false, referrers: 0 });
    expect(await codeOf(verifyImage(parseReference(`x/y@${digest}`), { client: await OciLayout.open(dir), authorities }))).toBe('NO_SIGNATURES');
  });

  it('a tampered signature blob in the layout fails verification (never verifies)', async () => {
    const digest = await pushSampleImage(client, `${reg.host}/save/tamper:v1`, { tamper: 'yes' });
    await signImage(`${reg.host}/save/tamper@${digest}`, signer, { client });
    const dir = fresh();
    await saveImage(client, parseReference(`${reg.host}/save/tamper@${digest}`), dir);
    const layout = await OciLayout.open(dir);
    const sigs = layout.entry(LAYOUT_KINDS.sigs);
    expect(sigs).toBeDefined();
    const manifest = JSON.parse(Buffer.from(await layout.readBlob(sigs!.digest)).toString()) as { layers: Array<{ digest: string }> };
    const payloadFile = path.join(dir, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7));
    const payload = await readFile(payloadFile, 'utf8');
    await writeFile(payloadFile, payload.replace('"optional":null', '"optional":{"evil":"yes"}'));
    const err = await verifyImage(parseReference(`x/y@${digest}`), { client: layout, authorities }).catch((e: unknown) => e);
    expect(isCosignError(err, 'NO_MATCHING_SIGNATURES')).toBe(true);
    expect((err as Error).message).toContain('digest');
    // loading the tampered layout refuses the blob
    expect(await codeOf(loadImage(client, dir, parseReference(`${reg.host}/loaded/tamper:v1`)))).toBe('DIGEST_MISMATCH');
  });

  it('saving again over a layout replaces a damaged blob and keeps intact ones', async () => {
    const digest = await pushSampleImage(client, `${reg.host}/save/again:v1`, { again: 'yes' });
    const dir = fresh();
    await saveImage(client, parseReference(`${reg.host}/save/again@${digest}`), dir);
    const layout = await OciLayout.open(dir);
    const manifest = JSON.parse(Buffer.from(await layout.readBlob(digest)).toString()) as { config: { digest: Digest }; layers: Array<{ digest: Digest }> };
    const layer = manifest.layers[0]!.digest;
    await writeFile(path.join(dir, 'blobs', 'sha256', layer.slice(7)), 'damaged');
    expect(await layout.hasValidBlob(layer)).toBe(false);
    expect(await layout.hasValidBlob(manifest.config.digest)).toBe(true);
    const before = reg.requests.length;
    await saveImage(client, parseReference(`${reg.host}/save/again@${digest}`), dir);
    const fetched = reg.requests.slice(before).filter((r) => r.method === 'GET' && r.path.includes('/blobs/'));
    expect(fetched.map((r) => r.path.split('/').pop())).toEqual([layer]);
    expect(await (await OciLayout.open(dir)).hasValidBlob(layer)).toBe(true);
  });

  it('loadImage refuses a digest reference that is not the saved image', async () => {
    const digest = await pushSampleImage(client, `${reg.host}/save/wrongdigest:v1`, { w: '1' });
    const dir = fresh();
    await saveImage(client, parseReference(`${reg.host}/save/wrongdigest@${digest}`), dir);
    expect(await codeOf(loadImage(client, dir, parseReference(`${reg.host}/loaded/w@${digestOf('other')}`)))).toBe('USAGE');
  });
});
