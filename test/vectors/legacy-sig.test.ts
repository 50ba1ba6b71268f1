/**
 * Runs every key-based legacy `.sig` vector of fixtures/vectors.json (containers/image
 * `dir:` signatures, payload+signature pairs, Rekor SETs, Rekor key configuration, the Harbor OCI 1.1
 * manifest) through the library and reproduces the expected outcome.
 */
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildSignatureLayer,
  parseRekorBundle,
  parseSignatureLayer,
  parseSignatureManifest,
  parseSigstoreJsonSignature,
  rekorKey,
  signatureLayerFromSigstoreJson,
  verifyRekorSET,
  type RekorKey,
  type SignatureLayer,
} from '../../src/artifact/index.js';
import { buildSignatureConfig } from '../../src/artifact/image.js';
import { digestOf } from '../../src/digest.js';
import { decodeBase64Strict } from '../../src/encoding.js';
import { isCosignError, type CosignErrorCode } from '../../src/errors.js';
import { parsePublicKey, verifySignature } from '../../src/keys/index.js';
import { buildPayload, checkClaims, parsePayload } from '../../src/payload/index.js';
import { fixture, fixtureText, vectors, type Vector } from '../helpers/fixtures.js';
import { COVERED_KEYLESS_VECTOR_IDS } from './covered-keyless.js';
import { COVERED_LEGACY_VECTOR_IDS } from './covered-legacy.js';
import { checkRekorBody, parseRekorEntry } from '../../src/artifact/rekor.js';

/** Vector kinds run by the keys tests (test/keys/index.vectors.test.ts), not here. */
const KEYS_TEST_KINDS: readonly string[] = ['encrypted-key', 'import-key'];

const ALL = vectors();
const byId = new Map(ALL.map((v) => [v.id, v]));
function vector(id: string): Vector {
  const v = byId.get(id);
  if (v === undefined) throw new Error(`no vector ${id}`);
  return v;
}
function trustPath(v: Vector, key: string): string {
  const p = v.trust[key];
  if (typeof p !== 'string') throw new Error(`${v.id}: no trust.${key}`);
  return p;
}
function publicKey(rel: string): KeyObject {
  return parsePublicKey(fixtureText(rel), rel);
}

/** The outcome for one signature file: 'valid' or the error code that rejected it. */
type Outcome = 'valid' | CosignErrorCode | 'NO_MANIFEST';

interface EvalContext {
  readonly key: KeyObject;
  readonly manifest: Buffer | undefined;
  readonly rekorKeys?: readonly RekorKey[];
}

/**
 * What a key-based verifier does with one containers/image signature file: layer checks, signature over
 * the raw payload, payload parse, Rekor bundle (when trusted keys are given), then the digest claim.
 */
function evaluate(sigFile: string, ctx: EvalContext): Outcome {
  try {
    const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture(sigFile)));
    return evaluateLayer(layer, ctx);
  } catch (e) {
    if (isCosignError(e)) return e.code;
    throw e;
  }
}

function evaluateLayer(layer: SignatureLayer, ctx: EvalContext): Outcome {
  try {
    if (!verifySignature(ctx.key, layer.payload, layer.signature, { hash: 'sha256' })) return 'SIGNATURE_INVALID';
    const payload = parsePayload(layer.payload);
    if (ctx.rekorKeys !== undefined) {
      if (layer.bundle === undefined) return 'NOT_FOUND';
      verifyRekorSET(layer.bundle, ctx.rekorKeys);
      checkRekorBody(layer.bundle, { payload: layer.payload, signature: layer.signature, publicKeyOrCertPem: ctx.key });
    }
    if (ctx.manifest === undefined) return 'NO_MANIFEST';
    checkClaims(payload, { digest: digestOf(ctx.manifest) });
    return 'valid';
  } catch (e) {
    if (isCosignError(e)) return e.code;
    throw e;
  }
}

function dirVector(id: string): { v: Vector; manifest: Buffer | undefined; sigFiles: string[] } {
  const v = vector(id);
  const manifestFile = v.files.find((f) => f.endsWith('/manifest.json'));
  return { v, manifest: manifestFile === undefined ? undefined : fixture(manifestFile), sigFiles: v.files.filter((f) => !f.endsWith('/manifest.json')) };
}

describe('vectors: legacy-sig/containers-image-dir', () => {
  it('ci-key-valid: valid; payload digest == sha256(manifest.json)', () => {
    const { v, manifest, sigFiles } = dirVector('ci-key-valid');
    expect(v.expected).toBe('valid');
    expect(sigFiles).toHaveLength(1);
    expect(evaluate(sigFiles[0]!, { key: publicKey(trustPath(v, 'key')), manifest })).toBe('valid');
    const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture(sigFiles[0]!)));
    const p = parsePayload(layer.payload);
    expect(p.manifestDigest).toBe(digestOf(manifest!));
    expect(p.manifestDigest.startsWith('sha256:634a8f35')).toBe(true);
    expect(p.dockerReference).toBe('192.168.64.2:5000/cosign-signed-single-sample');
    expect(Object.keys(layer.descriptor.annotations)).toEqual(['dev.cosignproject.cosign/signature']);
    expect(layer.bundle).toBeUndefined();
    expect(layer.certificate).toBeUndefined();
  });

  it('ci-key-valid: identity checks (containers/image policies) and derived mutations', () => {
    const { v, manifest, sigFiles } = dirVector('ci-key-valid');
    const key = publicKey(trustPath(v, 'key'));
    const sig = parseSigstoreJsonSignature(fixture(sigFiles[0]!));
    const p = parsePayload(signatureLayerFromSigstoreJson(sig).payload);
    const digest = digestOf(manifest!);
    // Identity mismatch.
    expect(() => checkClaims(p, { digest, reference: { ref: 'this/does-not:match', match: 'repository' } })).toThrow(
      expect.objectContaining({ code: 'REFERENCE_MISMATCH' }),
    );
    // matchExact: cosign payloads carry no tag.
    expect(() => checkClaims(p, { digest, reference: { ref: '192.168.64.2:5000/cosign-signed-single-sample:latest', match: 'exact' } })).toThrow(
      expect.objectContaining({ code: 'REFERENCE_MISMATCH' }),
    );
    expect(() => checkClaims(p, { digest, reference: { ref: '192.168.64.2:5000/cosign-signed-single-sample:latest', match: 'repository' } })).not.toThrow();
    // Signature annotation replaced by base64("invalid signature").
    const replaced = { ...sig, annotations: { ...sig.annotations, 'dev.cosignproject.cosign/signature': Buffer.from('invalid signature').toString('base64') } };
    expect(evaluateLayer(signatureLayerFromSigstoreJson(replaced), { key, manifest })).toBe('SIGNATURE_INVALID');
    // Annotation removed.
    const removed = { ...sig, annotations: {} };
    expect(() => signatureLayerFromSigstoreJson(removed)).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE_LAYER' }));
    // One bit of the signature flipped.
    const flipped = Buffer.from(decodeBase64Strict(sig.annotations['dev.cosignproject.cosign/signature']!, 'sig'));
    flipped[10]! ^= 1;
    const flippedSig = { ...sig, annotations: { 'dev.cosignproject.cosign/signature': flipped.toString('base64') } };
    expect(evaluateLayer(signatureLayerFromSigstoreJson(flippedSig), { key, manifest })).toBe('SIGNATURE_INVALID');
    // One byte of the payload changed, signature kept.
    const tampered = Buffer.from(sig.payload);
    tampered[20]! ^= 1;
    expect(evaluateLayer(signatureLayerFromSigstoreJson({ ...sig, payload: tampered }), { key, manifest })).toBe('SIGNATURE_INVALID');
    // The blob no longer matches the original descriptor digest.
    expect(() => parseSignatureLayer(signatureLayerFromSigstoreJson(sig).descriptor, tampered)).toThrow(expect.objectContaining({ code: 'DIGEST_MISMATCH' }));
  });

  it('ci-key-valid-wrong-key: invalid with cosign2.pub', () => {
    const { v, manifest, sigFiles } = dirVector('ci-key-valid-wrong-key');
    expect(v.expected).toBe('invalid');
    expect(evaluate(sigFiles[0]!, { key: publicKey(trustPath(v, 'key')), manifest })).toBe('SIGNATURE_INVALID');
  });

  it('ci-key-valid-2: both signatures valid, different bytes', () => {
    const { v, manifest, sigFiles } = dirVector('ci-key-valid-2');
    expect(v.expected).toBe('valid');
    expect(sigFiles).toHaveLength(2);
    const key = publicKey(trustPath(v, 'key'));
    expect(sigFiles.map((f) => evaluate(f, { key, manifest }))).toEqual(['valid', 'valid']);
    const [a, b] = sigFiles.map((f) => signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture(f))));
    expect(Buffer.from(a!.payload).equals(Buffer.from(b!.payload))).toBe(true);
    expect(Buffer.from(a!.signature).equals(Buffer.from(b!.signature))).toBe(false);
  });

  it('ci-key-mixed: signature-1 invalid, signature-2 valid, image valid', () => {
    const { v, manifest, sigFiles } = dirVector('ci-key-mixed');
    expect(v.expected).toMatch(/^valid \(image\)/);
    const key = publicKey(trustPath(v, 'key'));
    const outcomes = sigFiles.map((f) => evaluate(f, { key, manifest }));
    expect(outcomes).toEqual(['SIGNATURE_INVALID', 'valid']);
    expect(outcomes.some((o) => o === 'valid')).toBe(true);
  });

  it('ci-unknown-key: invalid with cosign.pub and cosign2.pub', () => {
    const { v, sigFiles } = dirVector('ci-unknown-key');
    expect(v.expected).toBe('invalid');
    const manifest = fixture('containers-image/dir-img-cosign-valid/manifest.json'); // same payload as ci-key-valid
    expect(evaluate(sigFiles[0]!, { key: publicKey(trustPath(v, 'key')), manifest })).toBe('SIGNATURE_INVALID');
    expect(evaluate(sigFiles[0]!, { key: publicKey('containers-image/keys/cosign2.pub'), manifest })).toBe('SIGNATURE_INVALID');
  });

  it('ci-modified-manifest: signature valid, digest differs', () => {
    const { v, manifest, sigFiles } = dirVector('ci-modified-manifest');
    expect(v.expected).toBe('invalid');
    expect(digestOf(manifest!).startsWith('sha256:d9dcafdb')).toBe(true);
    expect(evaluate(sigFiles[0]!, { key: publicKey(trustPath(v, 'key')), manifest })).toBe('DIGEST_MISMATCH');
  });

  it('ci-manifest-digest-error: schema1 manifest, plain sha256 does not match', () => {
    const { v, manifest, sigFiles } = dirVector('ci-manifest-digest-error');
    expect(v.expected).toBe('invalid');
    expect(digestOf(manifest!).startsWith('sha256:dc6d2c1a')).toBe(true);
    expect(evaluate(sigFiles[0]!, { key: publicKey(trustPath(v, 'key')), manifest })).toBe('DIGEST_MISMATCH');
  });

  it('ci-no-manifest: signature alone is valid, but there is nothing to check the digest against', () => {
    const { v, manifest, sigFiles } = dirVector('ci-no-manifest');
    expect(v.expected).toBe('invalid');
    expect(manifest).toBeUndefined();
    expect(evaluate(sigFiles[0]!, { key: publicKey(trustPath(v, 'key')), manifest })).toBe('NO_MANIFEST');
  });

  it('ci-other-attachment: text/plain layer is not a signature', () => {
    const { v, manifest, sigFiles } = dirVector('ci-other-attachment');
    expect(v.expected).toBe('invalid/ignored');
    const raw = parseSigstoreJsonSignature(fixture(sigFiles[0]!));
    expect(raw.mediaType).toBe('text/plain');
    expect(Buffer.from(raw.payload).toString()).toBe('this is not a signature, regardless of the annotation');
    expect(evaluate(sigFiles[0]!, { key: publicKey(trustPath(v, 'key')), manifest })).toBe('TYPE_MISMATCH');
    // Even when read as if it were a signature, the copied annotation does not verify over this blob.
    const forced = signatureLayerFromSigstoreJson(raw, { mediaTypes: ['text/plain'] });
    expect(verifySignature(publicKey(trustPath(v, 'key')), forced.payload, forced.signature)).toBe(false);
  });

  it('ci-key-valid-with-tag: skopeo payload (creator, timestamp, tagged reference) is valid', () => {
    const { v, manifest, sigFiles } = dirVector('ci-key-valid-with-tag');
    expect(v.expected).toBe('valid');
    expect(evaluate(sigFiles[0]!, { key: publicKey(trustPath(v, 'key')), manifest })).toBe('valid');
    const p = parsePayload(signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture(sigFiles[0]!))).payload);
    expect(p.dockerReference).toBe('192.168.64.2:5000/skopeo-signed:tag');
    expect(p.creator).toBe('containers/image 5.21.2-dev');
    expect(p.timestamp).toBe(1657296609);
    const digest = digestOf(manifest!);
    expect(() => checkClaims(p, { digest, reference: { ref: '192.168.64.2:5000/skopeo-signed:tag', match: 'exact' } })).not.toThrow();
    expect(() => checkClaims(p, { digest, reference: { ref: '192.168.64.2:5000/skopeo-signed:othertag', match: 'exact' } })).toThrow(
      expect.objectContaining({ code: 'REFERENCE_MISMATCH' }),
    );
  });
});

describe('vectors: legacy-sig/containers-image-dir+rekor-set', () => {
  it('ci-key-rekor-valid: signature valid with cosign2.pub, SET valid with rekor.pub, body matches', () => {
    const { v, manifest, sigFiles } = dirVector('ci-key-rekor-valid');
    expect(v.expected).toBe('valid');
    const key = publicKey(trustPath(v, 'key'));
    const rekorKeys = [rekorKey(fixtureText(trustPath(v, 'rekor')))];
    expect(rekorKeys[0]!.logId).toBe('c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d');
    expect(evaluate(sigFiles[0]!, { key, manifest, rekorKeys })).toBe('valid');
    const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture(sigFiles[0]!)));
    expect(layer.bundle?.payload.integratedTime).toBe(1674251859);
    expect(layer.bundle?.payload.logIndex).toBe(11608800);
    const entry = parseRekorEntry(layer.bundle!);
    expect(entry.kind).toBe('hashedrekord');
    expect(entry.hashValue).toBe(createHash('sha256').update(layer.payload).digest('hex'));
    // Derived negatives: a changed integratedTime or logIndex breaks the SET; a flipped SET bit too.
    const b = layer.bundle!;
    expect(() => verifyRekorSET({ ...b, payload: { ...b.payload, integratedTime: b.payload.integratedTime + 1 } }, rekorKeys)).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_INVALID' }),
    );
    expect(() => verifyRekorSET({ ...b, payload: { ...b.payload, logIndex: b.payload.logIndex + 1 } }, rekorKeys)).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_INVALID' }),
    );
    const set = Buffer.from(b.signedEntryTimestamp);
    set[12]! ^= 1;
    expect(() => verifyRekorSET({ ...b, signedEntryTimestamp: set }, rekorKeys)).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    // The body is for this signature and key only.
    expect(() =>
      checkRekorBody(b, { payload: layer.payload, signature: layer.signature, publicKeyOrCertPem: publicKey('containers-image/keys/cosign.pub') }),
    ).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    expect(() => checkRekorBody(b, { payload: Buffer.from('other'), signature: layer.signature, publicKeyOrCertPem: key })).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_INVALID' }),
    );
  });

  it('ci-key-rekor-wrong-rekor-key: the SET does not verify with a non-Rekor key', () => {
    const { v, sigFiles } = dirVector('ci-key-rekor-wrong-rekor-key');
    expect(v.expected).toBe('invalid');
    const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture(sigFiles[0]!)));
    const key = publicKey(trustPath(v, 'key'));
    expect(verifySignature(key, layer.payload, layer.signature)).toBe(true);
    const wrong = rekorKey(fixtureText(trustPath(v, 'rekor')));
    // As configured: the key's log ID is not the bundle's, so the log is unknown.
    expect(() => verifyRekorSET(layer.bundle!, [wrong])).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    // Even claimed under the bundle's log ID, the signature check fails.
    expect(() => verifyRekorSET(layer.bundle!, [{ logId: layer.bundle!.payload.logID, key: wrong.key }])).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_INVALID' }),
    );
    expect(evaluateLayer(layer, { key, manifest: fixture('containers-image/dir-img-cosign-key-rekor-valid/manifest.json'), rekorKeys: [wrong] })).toBe(
      'SIGNATURE_INVALID',
    );
  });
});

describe('vectors: legacy-sig/payload+sig', () => {
  for (const id of ['rs-key-busybox', 'rs-key-busybox-wrong-key']) {
    it(`${id}: ${vector(id).expected}`, () => {
      const v = vector(id);
      const payloadBytes = fixture(v.files[0]!);
      const signature = decodeBase64Strict(fixtureText(v.files[1]!).trim(), 'signature.b64');
      const layer = parseSignatureLayer(buildSignatureLayer({ payload: payloadBytes, signature }).descriptor, payloadBytes);
      const p = parsePayload(layer.payload);
      const key = publicKey(trustPath(v, 'key'));
      const outcome = evaluateLayer(layer, { key, manifest: undefined });
      if (v.expected === 'valid') {
        expect(outcome).toBe('NO_MANIFEST'); // no manifest in this vector: signature and payload are what is checked
        expect(() => checkClaims(p, { digest: p.manifestDigest })).not.toThrow();
      } else {
        expect(outcome).toBe('SIGNATURE_INVALID');
      }
      expect(verifySignature(key, layer.payload, layer.signature)).toBe(v.expected === 'valid');
    });
  }
});

describe('vectors: rekor-set', () => {
  it('ci-rekor-set-standalone: SET valid, signature valid with the certificate key', () => {
    const v = vector('ci-rekor-set-standalone');
    expect(v.expected).toBe('valid');
    const [setFile, payloadFile, sigFile, certFile] = v.files as [string, string, string, string];
    const bundle = parseRekorBundle(fixtureText(setFile));
    expect(bundle.payload.integratedTime).toBe(1670870899);
    verifyRekorSET(bundle, [rekorKey(fixtureText(trustPath(v, 'rekor')))]);
    const payloadBytes = fixture(payloadFile);
    const signature = decodeBase64Strict(fixtureText(sigFile).trim(), 'rekor-sig');
    const certPem = fixtureText(certFile);
    const entry = checkRekorBody(bundle, { payload: payloadBytes, signature, publicKeyOrCertPem: certPem });
    expect(entry.kind).toBe('hashedrekord');
    expect(verifySignature(new X509Certificate(certPem).publicKey, payloadBytes, signature)).toBe(true);
    expect(parsePayload(payloadBytes).dockerReference).toBe('192.168.64.2:5000/test-repo-2100826901021538654/alpine');
  });

  it('rs-rekord-set-key: rekord v0.0.1 SET valid; unknown log ID refused', () => {
    const v = vector('rs-rekord-set-key');
    expect(v.expected).toBe('valid');
    const bundle = parseRekorBundle(fixtureText(v.files[0]!));
    const keys = [rekorKey(fixtureText(trustPath(v, 'rekor')))];
    verifyRekorSET(bundle, keys);
    expect(bundle.payload.integratedTime).toBe(1634714179);
    const entry = parseRekorEntry(bundle);
    expect(entry.kind).toBe('rekord');
    const unknown = { ...bundle, payload: { ...bundle.payload, logID: 'cf1199' + bundle.payload.logID.slice(6) } };
    expect(() => verifyRekorSET(unknown, keys)).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
  });

  it('rs-rekord-set-wrong-key: invalid with a non-Rekor P-256 key', () => {
    const v = vector('rs-rekord-set-wrong-key');
    expect(v.expected).toBe('invalid');
    const bundle = parseRekorBundle(fixtureText(v.files[0]!));
    const wrong = rekorKey(fixtureText(trustPath(v, 'rekor')));
    expect(() => verifyRekorSET(bundle, [wrong])).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    expect(() => verifyRekorSET(bundle, [{ logId: bundle.payload.logID, key: wrong.key }])).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
  });
});

describe('vectors: config', () => {
  it('ci-rsa-rekor-key-config: an RSA key is refused as a Rekor key', () => {
    const v = vector('ci-rsa-rekor-key-config');
    expect(v.expected).toMatch(/^invalid/);
    expect(() => rekorKey(fixtureText(v.files[0]!))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_KEY' }));
    const rsa = publicKey(v.files[0]!);
    expect(() => verifyRekorSET(parseRekorBundle(fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json')), [{ logId: 'x', key: rsa }])).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_KEY' }),
    );
  });
});

describe('vectors: legacy-sig/oci-1.1-manifest', () => {
  it('harbor-oci11-sig-manifest: manifest parses, SET valid, config digest reproduced', () => {
    const v = vector('harbor-oci11-sig-manifest');
    const m = parseSignatureManifest(fixture(v.files[0]!));
    expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(m.config.mediaType).toBe('application/vnd.dev.cosign.artifact.sig.v1+json');
    expect(m.layers).toHaveLength(1);
    const desc = m.layers[0]!;
    const bundle = parseRekorBundle(desc.annotations['dev.sigstore.cosign/bundle']!);
    verifyRekorSET(bundle, [rekorKey(fixtureText(trustPath(v, 'rekor')))]);
    const entry = parseRekorEntry(bundle);
    expect(`sha256:${entry.hashValue}`).toBe(desc.digest); // the body hash is the (missing) payload blob's digest
    expect(Buffer.from(entry.signature).toString('base64')).toBe(desc.annotations['dev.cosignproject.cosign/signature']);
    const signerKey = publicKey('harbor/signer-key-from-rekor-entry.derived.pub');
    expect(parsePublicKey(entry.publicKeyPem).equals(signerKey)).toBe(true);
    // The config cosign wrote for this one layer: 233 bytes, same digest.
    const config = buildSignatureConfig([desc.digest]);
    expect(config.byteLength).toBe(233);
    expect(digestOf(config)).toBe(m.config.digest);
  });
});

describe('vector coverage', () => {
  it('every covered id exists', () => {
    for (const id of [...COVERED_LEGACY_VECTOR_IDS, ...COVERED_KEYLESS_VECTOR_IDS]) expect(byId.has(id), id).toBe(true);
  });

  it('every vector in vectors.json is covered by some test file', async () => {
    const covered = new Set<string>(COVERED_LEGACY_VECTOR_IDS);
    // Merge every `covered-*.ts` list in this folder (other helpers add theirs).
    const dir = path.dirname(new URL(import.meta.url).pathname);
    for (const f of readdirSync(dir).filter((n) => /^covered-.*\.ts$/.test(n))) {
      const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as Record<string, unknown>;
      for (const value of Object.values(mod)) {
        if (Array.isArray(value)) for (const id of value) if (typeof id === 'string') covered.add(id);
      }
    }
    const missing = ALL.filter((v) => !covered.has(v.id) && !KEYS_TEST_KINDS.includes(v.kind)).map((v) => v.id);
    expect(missing).toEqual([]);
  });
});

describe('byte identity with cosign-made fixtures', () => {
  it('payload for sigstore-rs legacy-sig-key-busybox', () => {
    const raw = fixture('sigstore-rs/legacy-sig-key-busybox/payload.json');
    const p = parsePayload(raw);
    expect(Buffer.from(buildPayload({ dockerReference: 'registry-testing.svc.lan/busybox', digest: p.manifestDigest })).equals(raw)).toBe(true);
  });

  it('payload and layer for containers-image dir-img-cosign-valid/signature-1', () => {
    const file = parseSigstoreJsonSignature(fixture('containers-image/dir-img-cosign-valid/signature-1'));
    const digest = digestOf(fixture('containers-image/dir-img-cosign-valid/manifest.json'));
    const built = buildPayload({ dockerReference: '192.168.64.2:5000/cosign-signed-single-sample', digest });
    expect(Buffer.from(built).equals(Buffer.from(file.payload))).toBe(true);
    const sig = decodeBase64Strict(file.annotations['dev.cosignproject.cosign/signature']!, 'sig');
    const layer = buildSignatureLayer({ payload: built, signature: sig });
    expect(layer.descriptor.mediaType).toBe(file.mediaType);
    expect(layer.descriptor.annotations).toEqual(file.annotations);
    expect(layer.descriptor.digest).toBe(digestOf(file.payload));
  });

  it('other cosign payloads in the fixtures rebuild byte for byte', () => {
    for (const f of [
      'sigstore-rs/legacy-sig-custom-ca/payload.json',
      'sigstore-rs/legacy-sig-fulcio-2021/payload.json',
      'containers-image/rekor-set-standalone/rekor-payload',
    ]) {
      const raw = fixture(f);
      const p = parsePayload(raw);
      expect(Buffer.from(buildPayload({ dockerReference: p.dockerReference, digest: p.manifestDigest })).equals(raw), f).toBe(true);
    }
  });

  it('the 245-byte cosign v3 payload shape (cosign-formats.md §1)', () => {
    const digest = `sha256:f20c${'0'.repeat(56)}7268` as const;
    const built = buildPayload({ dockerReference: 'localhost:15381/tobby/fixture', digest });
    expect(built.byteLength).toBe(245);
    expect(Buffer.from(built).toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"localhost:15381/tobby/fixture"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":null}`,
    );
  });

  it('the Harbor tag-mode manifest config digest is reproduced', () => {
    const m = parseSignatureManifest(fixture('harbor/legacy-sig-manifest-tag-mode.json'));
    expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json'); // no mediaType field: read as OCI
    const config = buildSignatureConfig(m.layers.map((l) => l.digest));
    expect(config.byteLength).toBe(m.config.size);
    expect(digestOf(config)).toBe(m.config.digest);
  });
});
