/**
 * `signImage` with Ed25519 keys, against the in-process registry: which Ed25519 scheme lands in the
 * `.sig` layer (pure by default, as cosign 2.5 signs; Ed25519ph only on request), what verifies it, and
 * that re-signing recognises the signer's own signature in either scheme; which children of an index
 * recursive signing accepts.
 */
import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE } from '../../src/artifact/media-types.js';
import { digestOf } from '../../src/digest.js';
import { isCosignError } from '../../src/errors.js';
import { ed25519phVerify, loadEd25519ph } from '../../src/keys/ed25519ph.js';
import { signerFromPrivateKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { keyAuthority, verifyImage } from '../../src/verify/index.js';
import { authorityFingerprint } from '../../src/verify/authority.js';

describe('signImage with an Ed25519 key', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  let n = 0;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);

  beforeAll(async () => {
    reg = await startTestRegistry();
    client = new RegistryClient({ keychain: { resolve: async () => undefined } });
    await loadEd25519ph();
  });
  afterAll(async () => {
    client.close();
    await reg.close();
  });

  async function image(): Promise<string> {
    const name = `${reg.host}/ed/app${++n}`;
    const digest = await pushSampleImage(client, `${name}:v1`, { n: String(n) });
    return `${name}@${digest}`;
  }

  it('signs pure Ed25519 by default (cosign 2.5), which the default key authority verifies', async () => {
    const ref = await image();
    const r = await signImage(ref, signerFromPrivateKey(privateKey, 'ed.key'), { client });
    const s = r.signed[0]!;
    expect(cryptoVerify(null, s.payload, publicKey, s.signature)).toBe(true);
    // pure Ed25519 is deterministic: exactly node:crypto's signature over the payload
    expect(Buffer.from(s.signature)).toEqual(cryptoSign(null, s.payload, privateKey));
    expect(ed25519phVerify(raw, s.payload, s.signature)).toBe(false);
    const v = await verifyImage(ref, { client, authorities: [keyAuthority(publicKey, 'ed.pub')] });
    expect(v.signatures).toHaveLength(1);
    // an Ed25519ph authority does not accept it
    await expect(verifyImage(ref, { client, authorities: [keyAuthority(publicKey, 'ed.pub', { ed25519ph: true })] })).rejects.toSatisfy((e) =>
      isCosignError(e, 'NO_MATCHING_SIGNATURES'),
    );
    // signing again adds no layer
    expect((await signImage(ref, signerFromPrivateKey(privateKey, 'ed.key'), { client })).signed[0]?.appended).toBe(false);
  });

  it('signs Ed25519ph with { ed25519ph: true }: rejected by default (as cosign verify --key), accepted by an ed25519ph authority', async () => {
    const ref = await image();
    const signer = signerFromPrivateKey(privateKey, 'ed.key', { ed25519ph: true });
    expect(signer.ed25519ph).toBe(true);
    const s = (await signImage(ref, signer, { client })).signed[0]!;
    expect(ed25519phVerify(raw, s.payload, s.signature)).toBe(true);
    expect(cryptoVerify(null, s.payload, publicKey, s.signature)).toBe(false);
    await expect(verifyImage(ref, { client, authorities: [keyAuthority(publicKey, 'ed.pub')] })).rejects.toSatisfy((e) =>
      isCosignError(e, 'NO_MATCHING_SIGNATURES'),
    );
    const ph = keyAuthority(publicKey, 'ed.pub', { ed25519ph: true });
    expect((await verifyImage(ref, { client, authorities: [ph] })).signatures).toHaveLength(1);
    // re-signing in the same scheme recognises the existing Ed25519ph signature
    expect((await signImage(ref, signer, { client })).signed[0]?.appended).toBe(false);
    // a pure signature next to it: the key given twice accepts both schemes
    expect((await signImage(ref, signerFromPrivateKey(privateKey, 'ed.key'), { client })).signed[0]?.appended).toBe(true);
    const both = await verifyImage(ref, { client, authorities: [keyAuthority(publicKey, 'ed.pub'), ph] });
    expect(both.signatures).toHaveLength(2);
  });

  it('recursive: children of the two image manifest types are signed, any other media type is BAD_MANIFEST (as cosign)', async () => {
    const signer = signerFromPrivateKey(privateKey, 'ed.key');
    const [c1, c2] = [await image(), await image()].map((r) => r.split('@')[1] as string);
    const child = (mediaType: string, digest: string | undefined): string => `{"mediaType":"${mediaType}","size":1,"digest":"${digest}"}`;
    async function signIndex(children: string[]): Promise<string[]> {
      const bytes = Buffer.from(`{"schemaVersion":2,"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${children.join(',')}]}`);
      const d = digestOf(bytes);
      const repo = `rec/idx${++n}`;
      reg.storage.manifests.set(`${repo}@${d}`, { bytes, mediaType: OCI_INDEX_MEDIA_TYPE });
      const r = await signImage(`${reg.host}/${repo}@${d}`, signer, { client, recursive: true });
      return r.signed.map((s) => s.digest);
    }
    expect(await signIndex([child(OCI_MANIFEST_MEDIA_TYPE, c1), child(DOCKER_MANIFEST_MEDIA_TYPE, c2)])).toEqual([expect.any(String), c1, c2]);
    for (const mt of [
      'application/vnd.docker.distribution.manifest.v1+json',
      'application/vnd.oci.artifact.manifest.v1+json',
      'application/vnd.in-toto+json',
    ]) {
      await expect(signIndex([child(mt, c1)])).rejects.toSatisfy((e) => isCosignError(e, 'BAD_MANIFEST'));
    }
  });

  it('keyAuthority: a hash string or options; ed25519ph is part of the cache fingerprint', () => {
    const plain = keyAuthority(publicKey, 'k');
    expect(plain).toEqual({ kind: 'key', keyRef: 'k', publicKey });
    expect(keyAuthority(publicKey, 'k', 'sha384')).toEqual({ kind: 'key', keyRef: 'k', publicKey, hash: 'sha384' });
    const ph = keyAuthority(publicKey, 'k', { ed25519ph: true });
    expect(ph.ed25519ph).toBe(true);
    expect(keyAuthority(publicKey, 'k', { ed25519ph: false })).toEqual(plain);
    expect(authorityFingerprint(ph)).not.toBe(authorityFingerprint(plain));
    expect(authorityFingerprint(plain)).toMatch(/^key:[0-9a-f]{64}:sha256$/);
  });
});
