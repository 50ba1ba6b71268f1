import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  RFC3161_TIMESTAMP_ANNOTATION,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  appendSignature,
  buildSignatureImage,
  buildSignatureLayer,
  encodeRekorBundle,
  encodeSigstoreJsonSignature,
  parseRekorBundle,
  parseRfc3161Timestamp,
  parseSignatureLayer,
  parseSignatureManifest,
  parseSigstoreJsonSignature,
  rekorKey,
  signatureLayerFromSigstoreJson,
  signatureTag,
  type SignatureLayer,
} from '../../src/artifact/index.js';
import { buildSignatureConfig } from '../../src/artifact/image.js';
import { digestOf, type Digest } from '../../src/digest.js';
import { buildPayload } from '../../src/payload/index.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';
import { codeOf } from '../helpers/errors.js';

const D = `sha256:${'ab'.repeat(32)}` as const;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('tags', () => {
  it('names signature, attestation and SBOM tags for any algorithm', () => {
    expect(signatureTag(D)).toBe(`sha256-${'ab'.repeat(32)}.sig`);
    expect(signatureTag(D, 'att')).toBe(`sha256-${'ab'.repeat(32)}.att`);
    expect(signatureTag(D, 'sbom', 'pre-')).toBe(`pre-sha256-${'ab'.repeat(32)}.sbom`);
    expect(signatureTag(`sha512:${'c'.repeat(128)}`)).toBe(`sha512-${'c'.repeat(128)}.sig`);
    expect(signatureTag('blake3:abcDEF_-=')).toBe('blake3-abcDEF_-=.sig');
    expect(codeOf(() => signatureTag('sha256:nothex'))).toBe('BAD_DIGEST');
    expect(codeOf(() => signatureTag(D, 'zip' as never))).toBe('BAD_INPUT');
  });
});

describe('signature layers', () => {
  const payload = buildPayload({ dockerReference: 'r.io/a', digest: D });
  const signature = new Uint8Array([1, 2, 3, 250]);

  it('builds a key-signed layer with only the signature annotation', () => {
    const l = buildSignatureLayer({ payload, signature });
    expect(l.descriptor).toEqual({
      mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
      size: payload.byteLength,
      digest: digestOf(payload),
      annotations: { [SIGNATURE_ANNOTATION]: 'AQID+g==' },
    });
    expect(parseSignatureLayer(l.descriptor, payload)).toMatchObject({ signature, payload });
  });

  it('writes the chain whenever a certificate is given, and bundle / timestamp JSON like cosign', () => {
    const bundleText = fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json').trim();
    const bundle = parseRekorBundle(bundleText);
    expect(encodeRekorBundle(bundle)).toBe(bundleText);
    const l = buildSignatureLayer({ payload, signature, certificate: 'CERT', bundle, rfc3161Timestamp: { signedRfc3161Timestamp: new Uint8Array([7]) } });
    expect(l.descriptor.annotations[CHAIN_ANNOTATION]).toBe('');
    expect(l.descriptor.annotations[BUNDLE_ANNOTATION]).toBe(bundleText);
    expect(l.descriptor.annotations[RFC3161_TIMESTAMP_ANNOTATION]).toBe('{"SignedRFC3161Timestamp":"Bw=="}');
    const parsed = parseSignatureLayer(l.descriptor, payload);
    expect(parsed.certificate).toBe('CERT');
    expect(parsed.chain).toBeUndefined(); // empty = absent
    expect(parsed.bundle?.payload.logIndex).toBe(783606);
    expect(parsed.rfc3161Timestamp?.signedRfc3161Timestamp).toEqual(new Uint8Array([7]));
  });

  it('treats empty certificate, chain, bundle and timestamp values as absent', () => {
    const annotations = {
      [SIGNATURE_ANNOTATION]: 'AQID',
      [CERTIFICATE_ANNOTATION]: '',
      [CHAIN_ANNOTATION]: '',
      [BUNDLE_ANNOTATION]: '',
      [RFC3161_TIMESTAMP_ANNOTATION]: '',
    };
    const l = parseSignatureLayer({ mediaType: SIMPLE_SIGNING_MEDIA_TYPE, size: payload.byteLength, digest: digestOf(payload), annotations }, payload);
    expect(l.certificate ?? l.chain ?? l.bundle ?? l.rfc3161Timestamp).toBeUndefined();
  });

  const withSig = (sig: string) => ({
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    size: payload.byteLength,
    digest: digestOf(payload),
    annotations: { [SIGNATURE_ANNOTATION]: sig },
  });

  it('decodes the signature annotation strictly: line breaks accepted; !, *, base64url, bad padding refused', () => {
    expect(parseSignatureLayer(withSig('AQID\n+g=='), payload).signature).toEqual(signature);
    expect(parseSignatureLayer(withSig('AQ\r\nID+g==\n'), payload).signature).toEqual(signature);
    for (const bad of ['AQID!+g==', 'AQ*D+g==', 'AQID-g==', 'AQID_g==', 'AQID+g', 'AQID+g=', ' AQID+g==', 'AQID+g==\t']) {
      expect(
        codeOf(() => parseSignatureLayer(withSig(bad), payload)),
        bad,
      ).toBe('BAD_SIGNATURE_LAYER');
    }
  });

  it('checks media type, size and digest of the blob', () => {
    expect(codeOf(() => parseSignatureLayer({ ...withSig('AQID'), mediaType: 'text/plain' }, payload))).toBe('TYPE_MISMATCH');
    expect(codeOf(() => parseSignatureLayer(withSig('AQID'), payload.subarray(1)))).toBe('DIGEST_MISMATCH');
    const other = new Uint8Array(payload);
    other[5] = (other[5] ?? 0) ^ 1;
    expect(codeOf(() => parseSignatureLayer(withSig('AQID'), other))).toBe('DIGEST_MISMATCH');
    expect(codeOf(() => parseSignatureLayer({ ...withSig('AQID'), size: -1 }, payload))).toBe('BAD_SIGNATURE_LAYER');
    expect(codeOf(() => parseSignatureLayer({ ...withSig('AQID'), digest: 'sha256:zz' }, payload))).toBe('BAD_SIGNATURE_LAYER');
    expect(codeOf(() => parseSignatureLayer({ ...withSig('AQID'), annotations: { [SIGNATURE_ANNOTATION]: 5 } }, payload))).toBe('BAD_SIGNATURE_LAYER');
    expect(codeOf(() => parseSignatureLayer({ ...withSig('AQID'), annotations: {} }, payload))).toBe('BAD_SIGNATURE_LAYER');
    expect(codeOf(() => parseSignatureLayer(withSig('AQID'), payload, { maxBytes: 10 }))).toBe('TOO_LARGE');
    expect(codeOf(() => parseSignatureLayer(null, payload))).toBe('BAD_SIGNATURE_LAYER');
  });

  it('refuses a malformed bundle or timestamp annotation', () => {
    const d = (k: string, v: string) => ({ ...withSig('AQID'), annotations: { [SIGNATURE_ANNOTATION]: 'AQID', [k]: v } });
    expect(codeOf(() => parseSignatureLayer(d(BUNDLE_ANNOTATION, '{'), payload))).toBe('BAD_SIGNATURE_LAYER');
    expect(codeOf(() => parseSignatureLayer(d(BUNDLE_ANNOTATION, '{"SignedEntryTimestamp":"AA==","Payload":{}}'), payload))).toBe('BAD_SIGNATURE_LAYER');
    expect(codeOf(() => parseSignatureLayer(d(RFC3161_TIMESTAMP_ANNOTATION, '{"SignedRFC3161Timestamp":"!"}'), payload))).toBe('BAD_SIGNATURE_LAYER');
  });
});

describe('Rekor bundle annotation', () => {
  const good = fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json');
  const obj = JSON.parse(good) as { SignedEntryTimestamp: string; Payload: Record<string, unknown> };
  it('refuses wrong shapes with a path', () => {
    const variants: Array<[unknown, string]> = [
      [{ ...obj, Extra: 1 }, 'BAD_INPUT'],
      [{ ...obj, Payload: { ...obj.Payload, integratedTime: 1.5 } }, 'BAD_INPUT'],
      [{ ...obj, Payload: { ...obj.Payload, logIndex: '1' } }, 'BAD_INPUT'],
      [{ ...obj, Payload: { ...obj.Payload, logID: 'XYZ' } }, 'BAD_INPUT'],
      [{ ...obj, Payload: { ...obj.Payload, body: 'a-b_' } }, 'BAD_INPUT'],
      [{ ...obj, SignedEntryTimestamp: 'AA=A' }, 'BAD_INPUT'],
      [{ signedEntryTimestamp: obj.SignedEntryTimestamp, Payload: obj.Payload }, 'BAD_INPUT'],
    ];
    for (const [v, code] of variants) expect(codeOf(() => parseRekorBundle(JSON.stringify(v)))).toBe(code);
    expect(codeOf(() => parseRekorBundle(good.replace('"logID"', '"logIndex":1,"logID"')))).toBe('BAD_INPUT');
    expect(codeOf(() => parseRekorBundle('x'.repeat(1024 * 1024 + 1)))).toBe('TOO_LARGE');
    expect(codeOf(() => parseRfc3161Timestamp('{"SignedRFC3161Timestamp":1}'))).toBe('BAD_INPUT');
  });

  it('refuses non-ECDSA Rekor keys and garbage', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(codeOf(() => rekorKey(publicKey))).toBe('UNSUPPORTED_KEY');
    expect(codeOf(() => rekorKey('not a key'))).toBe('BAD_KEY');
    expect(rekorKey(fixtureText('containers-image/keys/rekor.pub')).logId).toBe('c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d');
  });
});

describe('containers/image sigstore-json signature files', () => {
  it('round-trips and converts to a layer', () => {
    const raw = fixture('containers-image/dir-img-cosign-valid/signature-1');
    const sig = parseSigstoreJsonSignature(raw);
    expect(Buffer.from(encodeSigstoreJsonSignature(sig)).equals(raw)).toBe(true);
    expect(signatureLayerFromSigstoreJson(sig).descriptor.size).toBe(sig.payload.byteLength);
  });

  it('refuses other formats', () => {
    const json = '{"mimeType":"x","payload":"","annotations":{}}';
    expect(codeOf(() => parseSigstoreJsonSignature(enc(`sigstore-json\n${json}`)))).toBe('BAD_SIGNATURE_LAYER');
    expect(codeOf(() => parseSigstoreJsonSignature(Buffer.concat([Buffer.from([0]), Buffer.from(`other\n${json}`)])))).toBe('BAD_SIGNATURE_LAYER');
    expect(codeOf(() => parseSigstoreJsonSignature(Buffer.concat([Buffer.from([0]), Buffer.from('sigstore-json')])))).toBe('BAD_SIGNATURE_LAYER');
    expect(
      codeOf(() =>
        parseSigstoreJsonSignature(Buffer.concat([Buffer.from([0]), Buffer.from('sigstore-json\n{"mimeType":"x","payload":"!","annotations":{}}')])),
      ),
    ).toBe('BAD_SIGNATURE_LAYER');
    expect(parseSigstoreJsonSignature(Buffer.concat([Buffer.from([0]), Buffer.from(`sigstore-json\n${json}`)])).mediaType).toBe('x');
  });
});

describe('signature image', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = buildPayload({ dockerReference: 'r.io/a', digest: D });
  const layer = buildSignatureLayer({ payload, signature: cryptoSign('sha256', payload, privateKey) });

  it('builds the manifest and the 233-byte config like go-containerregistry', () => {
    const img = buildSignatureImage([layer]);
    const config = `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["${layer.descriptor.digest}"]},"config":{}}`;
    expect(text(img.config)).toBe(config);
    expect(img.config.byteLength).toBe(233);
    expect(img.configDigest).toBe(digestOf(config));
    expect(text(img.manifest)).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"${img.configDigest}"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":${payload.byteLength},"digest":"${layer.descriptor.digest}","annotations":{"dev.cosignproject.cosign/signature":"${layer.descriptor.annotations[SIGNATURE_ANNOTATION]}"}}]}`,
    );
    expect(img.manifestDigest).toBe(digestOf(img.manifest));
    expect(img.manifestMediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect([...img.blobs.keys()].sort()).toEqual([img.configDigest, layer.descriptor.digest].sort());
    const parsed = parseSignatureManifest(img.manifest);
    expect(parsed.layers).toEqual([layer.descriptor]);
    expect(parsed.digest).toBe(img.manifestDigest);
  });

  it('writes annotation keys sorted and one history entry / diff_id per layer', () => {
    const l2 = buildSignatureLayer({
      payload: enc('other'),
      signature: new Uint8Array([1]),
      certificate: 'C',
      chain: 'X',
      bundle: fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json'),
    });
    const img = buildSignatureImage([layer, l2]);
    const m = text(img.manifest);
    const keys = [...m.matchAll(/"(dev\.[^"]+)":/g)].map((x) => x[1]);
    expect(keys.slice(1)).toEqual([SIGNATURE_ANNOTATION, BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION].sort());
    const cfg = JSON.parse(text(img.config)) as { history: unknown[]; rootfs: { diff_ids: string[] } };
    expect(cfg.history).toHaveLength(2);
    expect(cfg.rootfs.diff_ids).toEqual([layer.descriptor.digest, l2.descriptor.digest]);
    expect(text(buildSignatureConfig([]))).toBe(
      '{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}',
    );
  });

  it('uses Docker media types on request and refuses a blob that does not match', () => {
    const img = buildSignatureImage([layer], { dockerMediaTypes: true });
    expect(text(img.manifest)).toContain(
      '"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json"',
    );
    expect(parseSignatureManifest(img.manifest).mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(codeOf(() => buildSignatureImage([{ descriptor: layer.descriptor, payload: enc('x') }]))).toBe('DIGEST_MISMATCH');
  });

  it('parses manifests strictly', () => {
    const m = JSON.parse(text(buildSignatureImage([layer]).manifest)) as Record<string, unknown>;
    const bytes = (v: unknown): Uint8Array => enc(JSON.stringify(v));
    expect(codeOf(() => parseSignatureManifest(bytes({ ...m, schemaVersion: 1 })))).toBe('BAD_MANIFEST');
    expect(codeOf(() => parseSignatureManifest(bytes({ ...m, mediaType: 'application/vnd.oci.image.index.v1+json' })))).toBe('BAD_MANIFEST');
    expect(codeOf(() => parseSignatureManifest(bytes({ ...m, layers: 'x' })))).toBe('BAD_MANIFEST');
    expect(codeOf(() => parseSignatureManifest(bytes({ ...m, config: { ...(m.config as object), digest: 'x' } })))).toBe('BAD_MANIFEST');
    expect(codeOf(() => parseSignatureManifest(enc('{"schemaVersion":2,"schemaVersion":2}')))).toBe('BAD_MANIFEST');
    expect(codeOf(() => parseSignatureManifest(bytes(m), { contentType: 'application/vnd.docker.distribution.manifest.v2+json' }))).toBe('BAD_MANIFEST');
    expect(codeOf(() => parseSignatureManifest(bytes(m), { maxBytes: 10 }))).toBe('TOO_LARGE');
    const { mediaType: _omit, ...noType } = m;
    expect(parseSignatureManifest(bytes(noType)).mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(parseSignatureManifest(bytes(noType), { contentType: 'application/vnd.docker.distribution.manifest.v2+json; charset=utf-8' }).mediaType).toBe(
      'application/vnd.docker.distribution.manifest.v2+json',
    );
    expect(codeOf(() => parseSignatureManifest(bytes(noType), { contentType: 'text/plain' }))).toBe('BAD_MANIFEST');
  });

  it('refuses more than 1000 layers up front, accepts exactly 1000', () => {
    const d = layer.descriptor;
    const many = (n: number) =>
      enc(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: d, layers: Array.from({ length: n }, () => d) }));
    expect(codeOf(() => parseSignatureManifest(many(1001)))).toBe('TOO_LARGE');
    expect(parseSignatureManifest(many(1000)).layers).toHaveLength(1000);
    // Refused before the layers are even validated.
    expect(codeOf(() => parseSignatureManifest(enc(JSON.stringify({ layers: Array.from({ length: 1001 }, () => 0) }))))).toBe('TOO_LARGE');
    expect(codeOf(() => parseSignatureManifest(many(3), { maxLayers: 2 }))).toBe('TOO_LARGE');
  });

  describe('appendSignature (cosign de-duplication)', () => {
    const verifies = (l: SignatureLayer): boolean => cryptoVerify('sha256', payload, publicKey, l.signature);
    const again = buildSignatureLayer({ payload, signature: cryptoSign('sha256', payload, privateKey) });

    it('skips a re-sign with the same key and payload (different ECDSA bytes)', () => {
      expect(Buffer.from(again.signature).equals(Buffer.from(layer.signature))).toBe(false);
      const r = appendSignature([layer], again, { verifiesWithSignerKey: verifies });
      expect(r.appended).toBe(false);
      expect(r.duplicateOf).toBe(layer);
      expect(r.layers).toEqual([layer]);
    });

    it('appends a signature by another key', () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const l = buildSignatureLayer({ payload, signature: cryptoSign('sha256', payload, other.privateKey) });
      const r = appendSignature([layer], l, { verifiesWithSignerKey: (x) => cryptoVerify('sha256', payload, other.publicKey, x.signature) });
      expect(r.appended).toBe(true);
      expect(r.layers).toEqual([layer, l]);
    });

    it('appends when digest, media type or annotations differ, or no verifier is given', () => {
      const withBundle = buildSignatureLayer({
        payload,
        signature: again.signature,
        bundle: fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json'),
      });
      expect(appendSignature([layer], withBundle, { verifiesWithSignerKey: verifies }).appended).toBe(true);
      const otherPayload = buildSignatureLayer({
        payload: buildPayload({ dockerReference: 'r.io/a', digest: D, annotations: { a: 'b' } }),
        signature: again.signature,
      });
      expect(appendSignature([layer], otherPayload, { verifiesWithSignerKey: () => true }).appended).toBe(true);
      const otherType = { ...again, descriptor: { ...again.descriptor, mediaType: 'application/vnd.dsse.envelope.v1+json' } };
      expect(appendSignature([layer], otherType, { verifiesWithSignerKey: () => true }).appended).toBe(true);
      expect(appendSignature([layer], again).appended).toBe(true);
      const emptySig = buildSignatureLayer({ payload, signature: new Uint8Array() });
      expect(appendSignature([emptySig], again, { verifiesWithSignerKey: () => true }).appended).toBe(true);
      expect(appendSignature([], again, { verifiesWithSignerKey: () => true }).layers).toEqual([again]);
    });

    it('ignores extra annotations on the existing layer (only the new layer’s must match)', () => {
      const existing = buildSignatureLayer({
        payload,
        signature: layer.signature,
        bundle: fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json'),
      });
      expect(appendSignature([existing], again, { verifiesWithSignerKey: verifies }).appended).toBe(false);
    });
  });
});

describe('manifest parsing of fixture manifests', () => {
  it('reads pretty-printed manifests without a mediaType field', () => {
    const m = parseSignatureManifest(fixture('harbor/legacy-sig-manifest-tag-mode.json'));
    expect(m.layers[0]?.annotations[SIGNATURE_ANNOTATION]).toMatch(/^MEUCIQD/);
    expect(m.config.size).toBe(233);
    const digest: Digest = m.layers[0]!.digest;
    expect(digest).toBe('sha256:91a821a0e2412f1b99b07bfe176451bcc343568b761388718abbf38076048564');
  });
});

describe('__proto__ annotation keys are kept', () => {
  it('in layers, manifests and signature files', () => {
    const payload = enc('p');
    const annotations = JSON.parse(`{"${SIGNATURE_ANNOTATION}":"AQID","__proto__":"x"}`) as Record<string, string>;
    const desc = { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, size: 1, digest: digestOf(payload), annotations };
    expect(Object.keys(parseSignatureLayer(desc, payload).descriptor.annotations)).toEqual([SIGNATURE_ANNOTATION, '__proto__']);
    const manifest = enc(
      `{"schemaVersion":2,"config":${JSON.stringify(desc)},"layers":[{"mediaType":"${SIMPLE_SIGNING_MEDIA_TYPE}","size":1,"digest":"${digestOf(payload)}","annotations":{"__proto__":"x"}}]}`,
    );
    expect(Object.keys(parseSignatureManifest(manifest).layers[0]!.annotations)).toEqual(['__proto__']);
    const file = Buffer.concat([Buffer.from([0]), Buffer.from(`sigstore-json\n{"mimeType":"x","payload":"cA==","annotations":{"__proto__":"y"}}`)]);
    expect(Object.keys(parseSigstoreJsonSignature(file).annotations)).toEqual(['__proto__']);
  });
});
