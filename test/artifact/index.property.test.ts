/**
 * Property tests: random and mutated-valid inputs to every artifact parser only ever give a typed
 * CosignError or a correct result.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SIGNATURE_ANNOTATION,
  buildSignatureImage,
  buildSignatureLayer,
  encodeRekorBundle,
  encodeSigstoreJsonSignature,
  parseRekorBundle,
  parseRfc3161Timestamp,
  parseSignatureLayer,
  parseSignatureManifest,
  parseSigstoreJsonSignature,
  signatureLayerFromSigstoreJson,
} from '../../src/artifact/index.js';
import { digestOf, isDigest } from '../../src/digest.js';
import { buildPayload } from '../../src/payload/index.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';
import { mutated, typedOnly } from '../helpers/property.js';
import { parseRekorEntry } from '../../src/artifact/rekor.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const payload = buildPayload({ dockerReference: 'r.io/a', digest: `sha256:${'ab'.repeat(32)}` });
const layer = buildSignatureLayer({
  payload,
  signature: new Uint8Array([48, 69, 2, 33, 0, 1, 2, 3]),
  certificate: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n',
  bundle: fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json'),
  rfc3161Timestamp: { signedRfc3161Timestamp: new Uint8Array([1, 2]) },
});
const manifests = [
  buildSignatureImage([layer]).manifest,
  buildSignatureImage([layer, buildSignatureLayer({ payload: enc('x'), signature: new Uint8Array([1]) })], { dockerMediaTypes: true }).manifest,
  new Uint8Array(fixture('harbor/oci11-sig-manifest-key-rekor.json')),
  new Uint8Array(fixture('harbor/legacy-sig-manifest-tag-mode.json')),
];

describe('parseSignatureManifest properties', () => {
  const check = (b: Uint8Array): void => {
    const m = typedOnly(() => parseSignatureManifest(b));
    if (m === undefined) return;
    const doc = JSON.parse(Buffer.from(b).toString('utf8')) as {
      layers: Array<{ digest: string; size: number; annotations?: Record<string, string> }>;
      mediaType?: string;
    };
    expect(m.layers.length).toBe(doc.layers.length);
    expect(m.layers.length).toBeLessThanOrEqual(1000);
    m.layers.forEach((l, i) => {
      expect(isDigest(l.digest)).toBe(true);
      expect(l.digest).toBe(doc.layers[i]!.digest);
      expect(Number.isSafeInteger(l.size) && l.size >= 0).toBe(true);
      expect(l.annotations).toEqual(doc.layers[i]!.annotations ?? {});
    });
    expect(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']).toContain(m.mediaType);
    expect(m.digest).toBe(digestOf(b));
  };
  it('random bytes and JSON: typed errors only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), check), { numRuns: 300 });
    fc.assert(
      fc.property(fc.json(), (s) => check(enc(s))),
      { numRuns: 300 },
    );
  });
  it('mutated valid manifests: typed errors or a correct result', () => {
    for (const m of manifests) fc.assert(fc.property(mutated(m), check), { numRuns: 300 });
  });
  it('random values in random places', () => {
    const base = JSON.parse(Buffer.from(manifests[0]!).toString()) as Record<string, unknown>;
    const place = fc.constantFrom(['schemaVersion'], ['mediaType'], ['config'], ['layers'], ['config', 'size'], ['config', 'digest'], ['x']);
    fc.assert(
      fc.property(place, fc.jsonValue(), fc.boolean(), (where, value, inLayer) => {
        const doc = structuredClone(base);
        let o = (inLayer ? (doc.layers as Array<Record<string, unknown>>)[0]! : doc) as Record<string, unknown>;
        const path = inLayer ? [['mediaType'], ['size'], ['digest'], ['annotations'], ['annotations', SIGNATURE_ANNOTATION]][where.length % 5]! : where;
        for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
        o[path[path.length - 1]!] = value;
        check(enc(JSON.stringify(doc)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseSignatureLayer properties', () => {
  const check = (descriptor: unknown, blob: Uint8Array): void => {
    const l = typedOnly(() => parseSignatureLayer(descriptor, blob));
    if (l === undefined) return;
    expect(digestOf(blob)).toBe(l.descriptor.digest);
    expect(blob.byteLength).toBe(l.descriptor.size);
    // Like Go's StdEncoding (not Strict), non-zero trailing bits before the padding are accepted, so
    // compare decoded bytes rather than re-encoded text.
    const annotation = (l.descriptor.annotations[SIGNATURE_ANNOTATION] ?? '').replace(/[\r\n]/g, '');
    expect(Buffer.from(l.signature).equals(Buffer.from(annotation, 'base64'))).toBe(true);
    expect(Buffer.from(l.signature).toString('base64').length).toBe(annotation.length);
  };
  it('random descriptors and blobs: typed errors only', () => {
    fc.assert(fc.property(fc.anything(), fc.uint8Array({ maxLength: 64 }), check), { numRuns: 500 });
  });
  it('mutated blobs and annotation values: typed errors or a correct result', () => {
    fc.assert(
      fc.property(mutated(payload), (b) => check(layer.descriptor, b)),
      { numRuns: 300 },
    );
    const keys = Object.keys(layer.descriptor.annotations);
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.integer({ min: 0, max: keys.length }), fc.string(), fc.nat(), (key, _i, junk, at) => {
        const v = layer.descriptor.annotations[key]!;
        const p = at % (v.length + 1);
        const annotations = { ...layer.descriptor.annotations, [key]: v.slice(0, p) + junk + v.slice(p) };
        check({ ...layer.descriptor, annotations }, payload);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseRekorBundle / parseRfc3161Timestamp / parseRekorEntry properties', () => {
  const good = enc(fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json').trim());
  const check = (b: Uint8Array): void => {
    const r = typedOnly(() => parseRekorBundle(b));
    if (r === undefined) return;
    // A correct result re-encodes to an equivalent bundle.
    expect(parseRekorBundle(encodeRekorBundle(r))).toEqual(r);
    expect(Number.isSafeInteger(r.payload.integratedTime)).toBe(true);
    typedOnly(() => parseRekorEntry(r));
  };
  it('random input: typed errors only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), check), { numRuns: 300 });
    fc.assert(
      fc.property(fc.json(), (s) => check(enc(s))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string(), (s) => void typedOnly(() => parseRfc3161Timestamp(s))),
      { numRuns: 300 },
    );
  });
  it('mutated valid bundles: typed errors or a correct result', () => {
    fc.assert(fc.property(mutated(good), check), { numRuns: 500 });
    fc.assert(
      fc.property(mutated(enc('{"SignedRFC3161Timestamp":"AQID"}')), (b) => {
        const t = typedOnly(() => parseRfc3161Timestamp(Buffer.from(b).toString('utf8')));
        if (t !== undefined) expect(t.signedRfc3161Timestamp).toBeInstanceOf(Uint8Array);
      }),
      { numRuns: 300 },
    );
  });
  it('bundles with random bodies: parseRekorEntry gives typed errors only', () => {
    const base = parseRekorBundle(good);
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (body) => {
        typedOnly(() => parseRekorEntry({ ...base, payload: { ...base.payload, body: Buffer.from(body).toString('base64') } }));
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseSigstoreJsonSignature properties', () => {
  const good = new Uint8Array(fixture('containers-image/dir-img-cosign-key-rekor-valid/signature-1'));
  const check = (b: Uint8Array): void => {
    const s = typedOnly(() => parseSigstoreJsonSignature(b));
    if (s === undefined) return;
    expect(parseSigstoreJsonSignature(encodeSigstoreJsonSignature(s))).toEqual(s);
    typedOnly(() => signatureLayerFromSigstoreJson(s));
  };
  it('random bytes: typed errors only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), check), { numRuns: 300 });
    fc.assert(
      fc.property(fc.json(), (s) => check(Buffer.concat([Buffer.from([0]), Buffer.from(`sigstore-json\n${s}`)]))),
      { numRuns: 300 },
    );
  });
  it('mutated valid files: typed errors or a correct result', () => {
    fc.assert(fc.property(mutated(good), check), { numRuns: 500 });
  });
});
