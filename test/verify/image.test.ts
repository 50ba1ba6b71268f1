/**
 * `verifyImage` over hand-built `.sig` artifacts in the in-process registry: which layers verify, the
 * reasons for those that do not (codes, wording, order), the exact output bytes, and one GET per
 * distinct blob; and options as plain callers pass them (`throughIndex` as a string, the wording of
 * "no matching signatures").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, SIGNATURE_ANNOTATION } from '../../src/artifact/media-types.js';
import type { Digest } from '../../src/digest.js';
import { isCosignError, type CosignError } from '../../src/errors.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference } from '../../src/reference.js';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { verifyImage } from '../../src/verify/index.js';
import { useTestRegistry } from '../helpers/test-registry.js';
import { sha256, signedLayer, storeSignatures, testKey, type RawSigLayer } from '../helpers/signatures.js';
import { generateKeyPair, parsePrivateKey, parsePublicKey, signerFromPrivateKey } from '../../src/keys/index.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage } from '../../src/testing/index.js';
import { keyAuthority } from '../../src/verify/index.js';

const DIGEST = `sha256:${'ab'.repeat(32)}` as Digest;

describe('verifyImage layer by layer', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  const key = testKey('ours');
  const other = testKey('theirs');
  let n = 0;
  const repo = (): string => `verify/app${++n}`;

  useTestRegistry((r, c) => {
    reg = r;
    client = c;
  });

  /** The layers of a mixed `.sig`, for an image at `name@DIGEST`. */
  function mixedLayers(name: string): { layers: RawSigLayer[]; valid: RawSigLayer[] } {
    const a = signedLayer(key, name, DIGEST);
    const d = signedLayer(key, name, DIGEST, { env: 'prod' });
    const foreign = signedLayer(other, name, DIGEST, { who: 'them' });
    const missing: RawSigLayer = { ...signedLayer(key, name, DIGEST, { gone: 'yes' }), missing: true };
    const badAnnotation: RawSigLayer = { blob: signedLayer(key, name, DIGEST, { b: '1' }).blob, annotations: { [SIGNATURE_ANNOTATION]: 'not*base64' } };
    const sameBlobOtherSig: RawSigLayer = { blob: a.blob, annotations: { [SIGNATURE_ANNOTATION]: other.sign(a.blob) } };
    const wrongPayload = signedLayer(key, name, `sha256:${'cd'.repeat(32)}` as Digest);
    const tooBig: RawSigLayer = { blob: new Uint8Array(4096).fill(0x20), annotations: { [SIGNATURE_ANNOTATION]: key.sign(new Uint8Array(4096).fill(0x20)) } };
    return { layers: [foreign, a, missing, badAnnotation, sameBlobOtherSig, tooBig, wrongPayload, d, a], valid: [a, d, a] };
  }

  it('verifies the good layers, gives each bad one its reason, in listing order, fetching each blob once', async () => {
    const r = repo();
    const name = `${reg.host}/${r}`;
    const { layers } = mixedLayers(name);
    storeSignatures(reg, r, DIGEST, layers);
    const before = reg.requests.length;
    const result = await verifyImage(`${name}@${DIGEST}`, { client, authorities: [key.authority], maxPayloadBytes: 2048, concurrency: 3 });
    const blobGets = reg.requests.slice(before).filter((q) => q.path.includes('/blobs/'));
    expect(blobGets.length).toBe(new Set(layers.map((l) => sha256(l.blob))).size);
    expect(new Set(blobGets.map((q) => q.path)).size).toBe(blobGets.length);

    expect(result.signatures.map((s) => s.layer.descriptor.digest)).toEqual([sha256(layers[1]!.blob), sha256(layers[7]!.blob), sha256(layers[8]!.blob)]);
    expect(result.signatures.map((s) => s.authority)).toEqual(['ours', 'ours', 'ours']);
    expect(Buffer.from(result.output).toString()).toBe(
      `\n[{"critical":{"identity":{"docker-reference":"${name}"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":null},` +
        `{"critical":{"identity":{"docker-reference":"${name}"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":{"env":"prod"}},` +
        `{"critical":{"identity":{"docker-reference":"${name}"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":null}]\n`,
    );
    // Unreadable layers first, then those that did not verify; each group in listing order.
    expect(result.rejected.map((f) => [layers.findIndex((l) => sha256(l.blob) === f.digest && f.digest !== sha256(layers[1]!.blob)), f.code])).toEqual([
      [2, 'NOT_FOUND'],
      [3, 'BAD_SIGNATURE_LAYER'],
      [5, 'TOO_LARGE'],
      [0, 'SIGNATURE_INVALID'],
      [-1, 'SIGNATURE_INVALID'], // the shared blob of layer 1, signed by the other key (layer 4)
      [6, 'DIGEST_MISMATCH'],
    ]);
    expect(result.rejected[3]!.reason).toBe('signature does not verify with the key');
  });

  it('no matching signature: NO_MATCHING_SIGNATURES lists every reason (each distinct one once, with its layers) in the same order', async () => {
    const r = repo();
    const name = `${reg.host}/${r}`;
    const { layers } = mixedLayers(name);
    const bad = layers.filter((_, i) => i !== 1 && i !== 7 && i !== 8);
    storeSignatures(reg, r, DIGEST, bad);
    const err = await verifyImage(`${name}@${DIGEST}`, { client, authorities: [key.authority], maxPayloadBytes: 2048 }).catch((e: unknown) => e as CosignError);
    expect(isCosignError(err, 'NO_MATCHING_SIGNATURES')).toBe(true);
    const details = (err as CosignError).details as { layers: Array<{ digest: string; code: string; reason: string }> };
    expect(details.layers.map((l) => l.code)).toEqual([
      'NOT_FOUND',
      'BAD_SIGNATURE_LAYER',
      'TOO_LARGE',
      'SIGNATURE_INVALID',
      'SIGNATURE_INVALID',
      'DIGEST_MISMATCH',
    ]);
    const grouped = new Map<string, string[]>();
    for (const l of details.layers) grouped.set(l.reason, [...(grouped.get(l.reason) ?? []), l.digest]);
    expect((err as CosignError).message).toBe(
      `no matching signatures for ${name}@${DIGEST}: ${[...grouped].map(([reason, ds]) => `${reason} (${ds.length === 1 ? 'layer' : `${ds.length} layers`} ${ds.join(', ')})`).join('; ')}`,
    );
    expect(grouped.size).toBe(5); // the two SIGNATURE_INVALID layers share one reason
    expect(details.layers[0]!.reason).toMatch(/not found|unknown/i);
  });

  it('a transport failure on one blob fails the verification with that error', async () => {
    const r = repo();
    const name = `${reg.host}/${r}`;
    storeSignatures(reg, r, DIGEST, mixedLayers(name).layers);
    reg.faults.next({ path: /\/blobs\//, status: 400, body: '{"errors":[{"code":"DENIED","message":"no"}]}', times: 1 });
    const err = await verifyImage(`${name}@${DIGEST}`, { client, authorities: [key.authority], maxPayloadBytes: 2048, concurrency: 1 }).catch(
      (e: unknown) => e as CosignError,
    );
    expect(isCosignError(err)).toBe(true);
    expect((err as CosignError).code).not.toBe('NO_MATCHING_SIGNATURES');
    reg.faults.clear();
  });

  it('works on a digest reference parsed once (the result reference is the one given)', async () => {
    const r = repo();
    const name = `${reg.host}/${r}`;
    storeSignatures(reg, r, DIGEST, [signedLayer(key, name, DIGEST)]);
    const ref = parseReference(`${name}@${DIGEST}`);
    const result = await verifyImage(ref, { client, authorities: [key.authority] });
    expect(result.reference).toBe(ref);
    expect(result.rejected).toEqual([]);
  });
});

describe('verifyImage throughIndex: the index is untrusted JSON', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  const key = testKey('ours');
  const CHILD = `sha256:${'c1'.repeat(32)}` as Digest;
  const OTHER = `sha256:${'c2'.repeat(32)}` as Digest;
  const entry = (d: string): string => `{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","size":100,"digest":"${d}"}`;
  let n = 0;

  useTestRegistry((r, c) => {
    reg = r;
    client = c;
  });

  /** Store `indexJson` (served as an OCI index) with a valid signature on its digest; verify CHILD through it. */
  async function verifyThrough(indexJson: string): Promise<string> {
    const repo = `verify/index${++n}`;
    const name = `${reg.host}/${repo}`;
    const bytes = Buffer.from(indexJson);
    const indexDigest = sha256(bytes);
    reg.storage.manifests.set(`${repo}@${indexDigest}`, { bytes, mediaType: OCI_INDEX_MEDIA_TYPE });
    storeSignatures(reg, repo, indexDigest, [signedLayer(key, name, indexDigest)]);
    try {
      const r = await verifyImage(`${name}@${CHILD}`, { client, authorities: [key.authority], throughIndex: indexDigest });
      return r.digest === indexDigest ? 'ok' : 'wrong digest';
    } catch (e) {
      if (!isCosignError(e)) throw e;
      return e.code;
    }
  }

  it('an index listing the child verifies; one that does not is DIGEST_MISMATCH', async () => {
    expect(await verifyThrough(`{"schemaVersion":2,"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(OTHER)},${entry(CHILD)}]}`)).toBe('ok');
    expect(await verifyThrough(`{"schemaVersion":2,"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(OTHER)}]}`)).toBe('DIGEST_MISMATCH');
  });

  it('escaped keys are read as Go reads them', async () => {
    expect(
      await verifyThrough(
        `{"schemaVersion":2,"\\u006dediaType":"${OCI_INDEX_MEDIA_TYPE}","manifest\\u0073":[{"mediaType":"m","size":1,"d\\u0069gest":"${CHILD}"}]}`,
      ),
    ).toBe('ok');
  });

  it.each([
    ['duplicate manifests (the last lists the child)', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(OTHER)}],"manifests":[${entry(CHILD)}]}`],
    ['duplicate manifests spelled with escapes', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(OTHER)}],"manifest\\u0073":[${entry(CHILD)}]}`],
    [
      'a duplicate digest in an entry',
      `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":1,"digest":"${OTHER}","digest":"${CHILD}"}]}`,
    ],
    ['a duplicate mediaType', `{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(CHILD)}]}`],
    ['an entry without size and mediaType', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"digest":"${CHILD}"}]}`],
    ['a non-object', `[${entry(CHILD)}]`],
    ['null', 'null'],
  ])('%s: BAD_MANIFEST', async (_name, json) => {
    expect(await verifyThrough(json)).toBe('BAD_MANIFEST');
  });
});

describe('verifyImage as plain callers use it', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(async () => {
    await registry.close();
  });
  describe('verifyImage throughIndex', () => {
    it('accepts a plain string digest, and rejects a malformed one with BAD_DIGEST', async () => {
      const client = new RegistryClient();
      const repo = `${registry.host}/through/index`;
      const platform = await pushSampleImage(client, `${repo}:amd64`, { arch: 'amd64' });
      const m = await client.getManifest(parseReference(`${repo}@${platform}`));
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [{ mediaType: m.mediaType, digest: platform, size: m.bytes.byteLength, platform: { architecture: 'amd64', os: 'linux' } }],
        }),
      );
      const indexDigest = await client.putManifest(parseReference(`${repo}:multi`), index, 'application/vnd.oci.image.index.v1+json');
      const keys = generateKeyPair('');
      await signImage(`${repo}@${indexDigest}`, signerFromPrivateKey(parsePrivateKey(keys.privateKeyPem, ''), 'k'), { client });
      const authorities = [keyAuthority(parsePublicKey(keys.publicKeyPem), 'k.pub')];

      // A string, e.g. read from a file or an environment variable: no cast needed.
      const fromConfig: string = String(indexDigest);
      const r = await verifyImage(`${repo}@${platform}`, { client, authorities, throughIndex: fromConfig });
      expect(r.signatures).toHaveLength(1);

      for (const bad of ['sha256:nothex', 'latest', '']) {
        const e = await verifyImage(`${repo}@${platform}`, { client, authorities, throughIndex: bad }).catch((x: unknown) => x);
        expect(isCosignError(e, 'BAD_DIGEST'), String(e)).toBe(true);
      }
    });
  });

  describe('verifyImage: no matching signature', () => {
    it('says each distinct reason once and names the layers it applies to', async () => {
      const client = new RegistryClient();
      const image = `${registry.host}/wrong/key@${await pushSampleImage(client, `${registry.host}/wrong/key:v1`)}`;
      const signer = signerFromPrivateKey(parsePrivateKey(generateKeyPair('').privateKeyPem, ''), 'k');
      const a = await signImage(image, signer, { client });
      const b = await signImage(image, signer, { client, annotations: { n: '2' } });
      const other = [keyAuthority(parsePublicKey(generateKeyPair('').publicKeyPem), 'other.pub')];
      const e = await verifyImage(image, { client, authorities: other }).catch((x: unknown) => x);
      expect(isCosignError(e, 'NO_MATCHING_SIGNATURES')).toBe(true);
      const message = (e as Error).message;
      expect(message.match(/signature does not verify with the key/g)).toHaveLength(1);
      expect(message).toContain('(2 layers ');
      expect(a.signed[0]?.signature).toBeDefined();
      expect(b.signed).toHaveLength(1);
    });
  });
});
