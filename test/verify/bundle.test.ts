/**
 * src/verify/bundle.ts: cosign v3 Sigstore bundles (DSSE over an in-toto statement), key-based.
 * Pure checks on bundles built like cosign 3.1 builds them; the registry side (referrers API and
 * fallback tag) through `verifyImage` on the in-process registry.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../src/digest.js';
import { isCosignError } from '../../src/errors.js';
import { parsePublicKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference, withDigest } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import {
  cosignSignatureSource,
  keyAuthority,
  parseCosignBundle,
  parseInTotoStatement,
  referrerBundleSource,
  sigTagSource,
  verifyBundleLayer,
  verifyImage,
  verifyLayer,
  type KeyAuthority,
} from '../../src/verify/index.js';
import type { SignatureLayer } from '../../src/artifact/layer.js';
import { BUNDLE_MEDIA_TYPE, cosign3Bundle, cosign3Statement, pushBundleReferrer } from '../helpers/bundles.js';
import { signedLayer, storeSignatures } from '../helpers/signatures.js';

const DIGEST = `sha256:${'ab'.repeat(32)}` as Digest;

function newKey(name = 'cosign.pub'): { privateKey: KeyObject; der: Buffer; authority: KeyAuthority; sign: (b: Uint8Array) => string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    privateKey,
    der: publicKey.export({ type: 'spki', format: 'der' }),
    authority: keyAuthority(parsePublicKey(pem), name) as KeyAuthority,
    sign: (b) => sign('sha256', b, privateKey).toString('base64'),
  };
}

const layerOf = (bundle: Uint8Array): SignatureLayer => ({
  descriptor: { mediaType: BUNDLE_MEDIA_TYPE, size: bundle.length, digest: digestOf(bundle), annotations: {} },
  payload: bundle,
  signature: new Uint8Array(0),
});

describe('parseCosignBundle / parseInTotoStatement', () => {
  const key = newKey();
  it('reads what cosign 3 writes', () => {
    const b = parseCosignBundle(cosign3Bundle(key.privateKey, key.der, DIGEST, { annotations: { a: 'b' } }));
    expect(b.mediaType).toBe(BUNDLE_MEDIA_TYPE);
    expect(b.payloadType).toBe('application/vnd.in-toto+json');
    expect(b.signatures).toHaveLength(1);
    expect(b.hasCertificate).toBe(false);
    expect(b.tlogEntries).toBe(0);
    expect(b.publicKeyHint).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const s = parseInTotoStatement(b.payload);
    expect(s.predicateType).toBe('https://sigstore.dev/cosign/sign/v1');
    expect(s.subject[0]?.annotations).toEqual({ a: 'b' });
  });

  it.each([
    ['not JSON', Buffer.from('{'), 'BAD_BUNDLE'],
    ['duplicate keys', Buffer.from('{"mediaType":"a","mediaType":"b"}'), 'BAD_BUNDLE'],
    ['an array', Buffer.from('[]'), 'BAD_BUNDLE'],
    ['no content', Buffer.from(JSON.stringify({ mediaType: BUNDLE_MEDIA_TYPE, verificationMaterial: { publicKey: { hint: 'x' } } })), 'BAD_BUNDLE'],
    [
      'a message signature',
      Buffer.from(
        JSON.stringify({
          mediaType: BUNDLE_MEDIA_TYPE,
          verificationMaterial: { publicKey: { hint: 'x' } },
          messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: 'AAAA' }, signature: 'AAAA' },
        }),
      ),
      'UNSUPPORTED',
    ],
  ])('rejects %s with a typed error', (_, bytes, code) => {
    let err: unknown;
    try {
      parseCosignBundle(bytes);
    } catch (e) {
      err = e;
    }
    expect(isCosignError(err, code as 'BAD_BUNDLE')).toBe(true);
  });

  it.each([
    ['not JSON', '{"_type":'],
    ['a wrong _type', JSON.stringify({ _type: 'x', subject: [{ digest: {} }], predicateType: 'p' })],
    ['no subject', JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'p' })],
    ['a non-string digest', JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: 1 } }], predicateType: 'p' })],
  ])('statement with %s is BAD_PAYLOAD naming where', (_, text) => {
    expect(() => parseInTotoStatement(Buffer.from(text))).toThrow(expect.objectContaining({ code: 'BAD_PAYLOAD' }));
  });
  it('v1 only by default; the legacy .att reader also takes v0.1 (one parser, the allowed types as a parameter)', () => {
    const v01 = Buffer.from(
      JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', subject: [{ digest: { sha256: 'ab' } }], predicateType: 'p', predicate: { a: 1 } }),
    );
    expect(() => parseInTotoStatement(v01)).toThrow('in-toto statement: _type: must be "https://in-toto.io/Statement/v1"');
    const both = ['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'];
    expect(parseInTotoStatement(v01, 'in-toto statement', both)).toMatchObject({ _type: both[0], predicateType: 'p', predicate: { a: 1 } });
    const other = Buffer.from(JSON.stringify({ _type: 'x', subject: [{ digest: {} }], predicateType: 'p' }));
    expect(() => parseInTotoStatement(other, 'in-toto statement', both)).toThrow(`_type: must be one of ${both.join(', ')}`);
  });
});

describe('verifyBundleLayer', () => {
  const key = newKey();
  const other = newKey('other.pub');
  const ok = (o = {}) => layerOf(cosign3Bundle(key.privateKey, key.der, DIGEST, o));

  it('verifies with the key and gives what cosign 3 prints (predicate type, reference, subject annotations)', () => {
    const r = verifyBundleLayer(ok({ annotations: { k: 'v' } }), [key.authority], {
      digest: DIGEST,
      annotations: { k: 'v' },
      dockerReference: 'r/x@' + DIGEST,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.signature.format).toBe('bundle');
    expect(r.signature.authority).toBe('cosign.pub');
    expect(r.signature.payload).toMatchObject({
      type: 'https://sigstore.dev/cosign/sign/v1',
      dockerReference: `r/x@${DIGEST}`,
      manifestDigest: DIGEST,
      optional: { k: 'v' },
    });
    // No annotations: `optional` is {} (cosign 3 prints {}), and verifyLayer dispatches on the media type.
    const plain = verifyLayer(ok(), [other.authority, key.authority], { digest: DIGEST });
    expect(plain.ok && plain.signature.payload.optional).toEqual({});
  });

  it.each([
    ['another key', () => verifyBundleLayer(ok(), [other.authority], { digest: DIGEST }), 'SIGNATURE_INVALID'],
    ['another image', () => verifyBundleLayer(ok(), [key.authority], { digest: `sha256:${'cd'.repeat(32)}` }), 'DIGEST_MISMATCH'],
    ['a missing annotation', () => verifyBundleLayer(ok(), [key.authority], { digest: DIGEST, annotations: { k: 'v' } }), 'ANNOTATION_MISMATCH'],
    [
      'a different annotation',
      () => verifyBundleLayer(ok({ annotations: { k: 'w' } }), [key.authority], { digest: DIGEST, annotations: { k: 'v' } }),
      'ANNOTATION_MISMATCH',
    ],
    [
      'an attestation predicate',
      () => verifyBundleLayer(ok({ predicateType: 'https://slsa.dev/provenance/v1' }), [key.authority], { digest: DIGEST }),
      'TYPE_MISMATCH',
    ],
    ['another payload type', () => verifyBundleLayer(ok({ payloadType: 'text/plain' }), [key.authority], { digest: DIGEST }), 'TYPE_MISMATCH'],
    ['a bad statement', () => verifyBundleLayer(ok({ statement: Buffer.from('{}') }), [key.authority], { digest: DIGEST }), 'BAD_PAYLOAD'],
    ['a bad bundle', () => verifyBundleLayer(layerOf(Buffer.from('nope')), [key.authority], { digest: DIGEST }), 'BAD_BUNDLE'],
    ['a tlog requirement', () => verifyBundleLayer(ok(), [key.authority], { digest: DIGEST, tlog: { required: true } }), 'UNSUPPORTED'],
    ['a reference check', () => verifyBundleLayer(ok(), [key.authority], { digest: DIGEST, reference: { ref: 'r/x', match: 'repository' } }), 'UNSUPPORTED'],
    ['only an identity for a key-signed bundle', () => verifyBundleLayer(ok(), [{ kind: 'identity', issuer: 'i' }], { digest: DIGEST }), 'SIGNATURE_INVALID'],
  ])('rejects %s (never throws)', (_, run, code) => {
    const r = run();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe(code);
  });

  it('a tampered envelope payload fails the signature', () => {
    const b = JSON.parse(cosign3Bundle(key.privateKey, key.der, DIGEST).toString()) as { dsseEnvelope: { payload: string } };
    b.dsseEnvelope.payload = cosign3Statement(`sha256:${'cd'.repeat(32)}` as Digest).toString('base64');
    const r = verifyBundleLayer(layerOf(Buffer.from(JSON.stringify(b))), [key.authority], { digest: `sha256:${'cd'.repeat(32)}` as Digest });
    expect(r.ok || r.code).toBe('SIGNATURE_INVALID');
  });

  it('tlog entries are ignored like --insecure-ignore-tlog, and fail closed when Rekor keys ask for them', () => {
    const tlogEntry = {
      logIndex: '1',
      logId: { keyId: 'AAAA' },
      kindVersion: { kind: 'dsse', version: '0.0.1' },
      integratedTime: '1',
      inclusionPromise: { signedEntryTimestamp: 'AAAA' },
      inclusionProof: { logIndex: '1', rootHash: 'AAAA', treeSize: '2', hashes: [], checkpoint: { envelope: 'x' } },
      canonicalizedBody: 'AAAA',
    };
    const layer = ok({ material: { tlogEntries: [tlogEntry] } });
    expect(verifyBundleLayer(layer, [key.authority], { digest: DIGEST }).ok).toBe(true);
    const r = verifyBundleLayer(layer, [key.authority], { digest: DIGEST, tlog: { rekorKeys: [] } });
    expect(r.ok || r.code).toBe('UNSUPPORTED');
  });
});

for (const referrers of [true, false]) {
  describe(`verifyImage of cosign 3 bundles (${referrers ? 'referrers API' : 'fallback tag'})`, () => {
    let reg: TestRegistry;
    let client: RegistryClient;
    let n = 0;
    const key = newKey();
    beforeAll(async () => {
      reg = await startTestRegistry({ referrers });
      client = new RegistryClient({ keychain: { resolve: async () => undefined } });
    });
    afterAll(async () => {
      await reg.close();
    });
    const image = async (): Promise<{
      ref: ReturnType<typeof parseReference>;
      digest: Digest;
      subject: { digest: Digest; size: number; mediaType: string };
    }> => {
      const ref = parseReference(`${reg.host}/v3/app${++n}:v1`);
      const digest = await pushSampleImage(client, ref);
      const m = await client.getManifest(withDigest(ref, digest));
      return { ref, digest, subject: { digest, size: m.bytes.length, mediaType: m.mediaType } };
    };

    it('verifies, prints what cosign 3 prints, and says where and what it read', async () => {
      const { ref, digest, subject } = await image();
      const bundle = cosign3Bundle(key.privateKey, key.der, digest, { annotations: { k: 'v' } });
      const m = await pushBundleReferrer(client, ref, subject, bundle, { fallback: !referrers });
      const r = await verifyImage(withDigest({ ...ref, tag: undefined } as never, digest), { client, authorities: [key.authority], annotations: { k: 'v' } });
      expect(r.format).toBe('bundle');
      expect(r.signatureReference.digest).toBe(m);
      expect(Buffer.from(r.output).toString()).toBe(
        `\n[{"critical":{"identity":{"docker-reference":"${ref.name}@${digest}"},"image":{"docker-manifest-digest":"${digest}"},"type":"https://sigstore.dev/cosign/sign/v1"},"optional":{"k":"v"}}]\n`,
      );
      expect(client.supportsReferrersApi(reg.host)).toBe(referrers);
    });

    it('rejects a wrong key and a tampered bundle as NO_MATCHING_SIGNATURES with format bundle', async () => {
      const { ref, digest, subject } = await image();
      const bundle = cosign3Bundle(key.privateKey, key.der, digest);
      await pushBundleReferrer(client, ref, subject, bundle, { fallback: !referrers });
      await expect(verifyImage(ref, { client, authorities: [newKey().authority] })).rejects.toMatchObject({
        code: 'NO_MATCHING_SIGNATURES',
        details: { format: 'bundle' },
      });
      const tampered = Buffer.from(bundle.toString().replace('"sig":"', '"sig":"AAAA'));
      const { ref: ref2, digest: d2, subject: s2 } = await image();
      await pushBundleReferrer(client, ref2, s2, Buffer.from(tampered.toString().replaceAll(digest.slice(7), d2.slice(7))), { fallback: !referrers });
      await expect(verifyImage(ref2, { client, authorities: [key.authority] })).rejects.toMatchObject({ code: 'NO_MATCHING_SIGNATURES' });
    });

    it('a bundle over another image does not verify (subject digest), a bundle too large is rejected', async () => {
      const { ref, subject } = await image();
      await pushBundleReferrer(client, ref, subject, cosign3Bundle(key.privateKey, key.der, DIGEST), { fallback: !referrers });
      const err = await verifyImage(ref, { client, authorities: [key.authority] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'NO_MATCHING_SIGNATURES' });
      expect((err as Error).message).toContain('statement subject does not name the image digest');
      const big = await image();
      await pushBundleReferrer(client, big.ref, big.subject, cosign3Bundle(key.privateKey, key.der, big.digest, { annotations: { pad: 'x'.repeat(4096) } }), {
        fallback: !referrers,
      });
      const tooLarge = await verifyImage(big.ref, { client, authorities: [key.authority], maxPayloadBytes: 1024 }).catch((e: unknown) => e);
      expect(tooLarge).toMatchObject({ code: 'NO_MATCHING_SIGNATURES', details: { layers: [expect.objectContaining({ code: 'TOO_LARGE' })] } });
    });

    it('no bundle: the legacy .sig is verified (cosign 3 falls back to it); neither: NO_SIGNATURES', async () => {
      const { ref, digest } = await image();
      storeSignatures(reg, ref.repository, digest, [signedLayer(key, ref.name, digest)]);
      const r = await verifyImage(ref, { client, authorities: [key.authority] });
      expect(r.format).toBeUndefined();
      expect(r.signatureReference.tag).toBe(`${digest.replace(':', '-')}.sig`);
      const none = await image();
      await expect(verifyImage(none.ref, { client, authorities: [key.authority] })).rejects.toMatchObject({ code: 'NO_SIGNATURES' });
      // A referrer that is not a bundle (two layers) does not count as one.
      await pushBundleReferrer(client, none.ref, none.subject, cosign3Bundle(key.privateKey, key.der, none.digest), { fallback: !referrers, layers: 2 });
      await expect(referrerBundleSource(client).read(none.ref, none.digest, () => undefined)).rejects.toMatchObject({ code: 'NO_SIGNATURES' });
    });

    it('bundles that cannot be checked (a tlog requirement) fail closed with UNSUPPORTED', async () => {
      const { ref, digest, subject } = await image();
      await pushBundleReferrer(client, ref, subject, cosign3Bundle(key.privateKey, key.der, digest), { fallback: !referrers });
      const err = await verifyImage(ref, { client, authorities: [key.authority], tlog: { required: true } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'UNSUPPORTED', details: { format: 'bundle' } });
      expect((err as Error).message).toContain('transparency-log verification of Sigstore bundles');
    });

    it('sources have distinct ids', () => {
      expect(new Set([referrerBundleSource(client).id, sigTagSource(client).id, cosignSignatureSource(client).id]).size).toBe(3);
    });
  });
}
