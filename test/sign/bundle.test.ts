/**
 * Bundle-format signing (`signImage(…, { format: 'bundle' })`, `buildBundleReferrer`): the bytes cosign
 * 3.1 writes (statement, bundle, referrer manifest, fallback index entry), verification by our own
 * verifier through the referrers API and the fallback tag, and a KMS-like Signer.
 */
import { createHash, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../src/digest.js';
import { signerFromPrivateKey, type Signer } from '../../src/keys/index.js';
import { RegistryClient, type Keychain } from '../../src/oci/index.js';
import { referrersFallbackTag } from '../../src/oci/manifest.js';
import { parseReference, withDigest, withTag } from '../../src/reference.js';
import { buildBundleReferrer, buildStatement, formatCreated, publicKeyHint, signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { keyAuthority, verifyImage } from '../../src/verify/index.js';
import { cosign3Statement, pae } from '../helpers/bundles.js';

const anonymous: Keychain = { resolve: async () => undefined };

/** A signer that, like a KMS, only exposes sign() and the public key (no private key object). */
function kmsLike(privateKey: KeyObject, publicKey: KeyObject): Signer & { calls: number } {
  const s = {
    keyRef: 'testkms://key',
    calls: 0,
    publicKey: async () => publicKey,
    sign: async (m: Uint8Array) => {
      s.calls++;
      return new Uint8Array(cryptoSign('sha256', m, privateKey));
    },
  };
  return s;
}

describe('bundle-format signing', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  let api: TestRegistry;
  let noApi: TestRegistry;
  beforeAll(async () => {
    api = await startTestRegistry();
    noApi = await startTestRegistry({ referrers: false });
  });
  afterAll(async () => {
    await Promise.all([api.close(), noApi.close()]);
  });

  it('the statement is the one cosign 3.1 signs (no name, annotations sorted, {} when none)', () => {
    const d = digestOf('img') as Digest;
    const hex = d.slice(7);
    expect(Buffer.from(buildStatement(d, 'https://sigstore.dev/cosign/sign/v1', {})).toString()).toBe(
      `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"${hex}"},"annotations":{}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`,
    );
    expect(Buffer.from(buildStatement(d, 'p', {}, { b: '2', a: '1' })).toString()).toContain('"annotations":{"a":"1","b":"2"}');
    expect(Buffer.from(buildStatement(d, 'https://sigstore.dev/cosign/sign/v1', {}, { foo: 'bar' }))).toEqual(
      cosign3Statement(d, { annotations: { foo: 'bar' } }),
    );
  });

  it('bundle and manifest have cosign 3.1 shape; the signature is over the DSSE PAE', async () => {
    const signer = kmsLike(privateKey, publicKey);
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf('img') as Digest, size: 259 };
    const created = new Date('2026-12-05T12:21:55.123Z');
    const b = await buildBundleReferrer({ subject, signer, annotations: { foo: 'bar' }, created });
    expect(signer.calls).toBe(1);
    const bundle = JSON.parse(Buffer.from(b.bundle).toString()) as { dsseEnvelope: { signatures: Array<{ sig: string }> } };
    const sig = bundle.dsseEnvelope.signatures[0]?.sig ?? '';
    expect(Buffer.from(sig, 'base64')).toEqual(Buffer.from(b.signature));
    expect(Buffer.from(b.bundle).toString()).toBe(
      `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"${createHash('sha256').update(spki).digest('base64')}"}},"dsseEnvelope":{"payload":"${Buffer.from(b.statement).toString('base64')}","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"${sig}"}]}}`,
    );
    const { verify } = await import('node:crypto');
    expect(verify('sha256', pae('application/vnd.in-toto+json', Buffer.from(b.statement)), publicKey, Buffer.from(b.signature))).toBe(true);
    expect(Buffer.from(b.manifest).toString()).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":${b.bundle.byteLength},"digest":"${b.bundleDigest}"}],"annotations":{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1","org.opencontainers.image.created":"2026-12-05T12:21:55Z"},"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":259,"digest":"${subject.digest}"},"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`,
    );
    expect(b.manifestDigest).toBe(digestOf(Buffer.from(b.manifest)));
    expect(formatCreated(created)).toBe('2026-12-05T12:21:55Z');
    expect(publicKeyHint(spki)).toBe(createHash('sha256').update(spki).digest('base64'));
  });

  for (const withApi of [true, false]) {
    it(`signImage format bundle, ${withApi ? 'referrers API' : 'fallback tag'}: our verifier accepts it; two signers both land`, async () => {
      const reg = withApi ? api : noApi;
      const client = new RegistryClient({ keychain: anonymous });
      const digest = await pushSampleImage(client, `${reg.host}/sb/app:v1`);
      const ref = withDigest(parseReference(`${reg.host}/sb/app`), digest);
      const signer = signerFromPrivateKey(privateKey, 'cosign.key');
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const r1 = await signImage(ref, signer, { client, format: 'bundle', annotations: { foo: 'bar' } });
      const r2 = await signImage(ref, kmsLike(other.privateKey, other.publicKey), { client: new RegistryClient({ keychain: anonymous }), format: 'bundle' });
      expect(r1.signed).toHaveLength(1);
      const refs = await client.referrers(ref, digest);
      expect(refs.map((d) => d.digest).sort()).toEqual([r1.signed[0]?.signatureManifestDigest, r2.signed[0]?.signatureManifestDigest].sort());
      // No .sig written.
      const tags = await client.listTags(ref);
      expect(tags.some((t) => t.endsWith('.sig'))).toBe(false);
      expect(tags.includes(referrersFallbackTag(digest))).toBe(!withApi);
      if (!withApi) {
        const idx = await client.getManifest(withTag(ref, referrersFallbackTag(digest)));
        expect(Buffer.from(idx.bytes).toString()).toContain('"artifactType":"application/vnd.oci.empty.v1+json"');
      }
      for (const [k, name] of [
        [publicKey, 'a'],
        [other.publicKey, 'b'],
      ] as const) {
        const res = await verifyImage(ref, { client, authorities: [keyAuthority(k, name)] });
        const text = Buffer.from(res.output).toString();
        expect(text).toContain(digest.slice(7));
        expect(text).toContain('"critical"');
      }
      await expect(verifyImage(ref, { client, authorities: [keyAuthority(publicKey, 'a')], annotations: { foo: 'bar' } })).resolves.toBeDefined();
      client.close();
    });
  }
});
