/**
 * The signature-manifest fast path (PlainJsonReader) is equivalent to the checked path
 * (parseStrictJson + zod): whenever it answers, the checked path accepts the same text with a strictly
 * equal result; when it declines, the checked path decides as before. Also: the small base64 decoder
 * and the sha256 digest check against the general ones they stand in for.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSignatureImage, buildSignatureLayer, parseSignatureLayer, parseSignatureManifest } from '../../src/artifact/index.js';
import { readManifestChecked, readManifestFast } from '../../src/artifact/image.js';
import { isSha256Digest } from '../../src/digest.js';
import { decodeBase64Strict, decodeBase64StrictBytes } from '../../src/encoding.js';
import { buildPayload } from '../../src/payload/index.js';
import { agree, textOf, trickyString, type FastPathStats, checkRandomJsonAndText, checkDocuments, checkMutations, documentBuilders } from '../helpers/fast-path.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';
import { mutated } from '../helpers/property.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const DIGEST = `sha256:${'ab'.repeat(32)}` as const;
const payload = buildPayload({ dockerReference: 'r.io/a', digest: DIGEST });
const plainLayer = buildSignatureLayer({ payload, signature: new Uint8Array([48, 69, 2, 33, 0, 1, 2, 3]) });
const fullLayer = buildSignatureLayer({
  payload,
  signature: new Uint8Array([48, 69, 2, 33, 0, 1, 2, 3]),
  certificate: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n',
  bundle: fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json'),
  rfc3161Timestamp: { signedRfc3161Timestamp: new Uint8Array([1, 2]) },
});
const MANIFESTS = [
  buildSignatureImage([plainLayer]).manifest,
  buildSignatureImage([plainLayer, buildSignatureLayer({ payload: enc('x'), signature: new Uint8Array([1]) })], { dockerMediaTypes: true }).manifest,
  buildSignatureImage([fullLayer]).manifest,
  new Uint8Array(fixture('harbor/oci11-sig-manifest-key-rekor.json')),
  new Uint8Array(fixture('harbor/legacy-sig-manifest-tag-mode.json')),
];

const fast = (t: string): ReturnType<typeof readManifestFast> => readManifestFast(t, 3);
const checked = (t: string): ReturnType<typeof readManifestChecked> => readManifestChecked(t, 3);
function check(text: string | undefined, stats: FastPathStats): void {
  if (text !== undefined) agree(text, fast, checked, stats);
}

const value: fc.Arbitrary<unknown> = fc.oneof(
  trickyString,
  fc.integer(),
  fc.constantFrom(0, -0, 2, 2.0, 1.5, 1e3, 2 ** 53, 123456789012345, 1234567890123456, true, false, null, [], {}),
  fc.jsonValue({ maxDepth: 2 }),
);

describe('manifest fast path ≡ parseStrictJson + zod', () => {
  it('answers for what cosign writes, with the checked result', () => {
    for (const m of MANIFESTS) {
      const text = textOf(m)!;
      expect(readManifestFast(text, 1000)).toBeDefined();
      expect(readManifestFast(text, 1000)).toStrictEqual(readManifestChecked(text, 1000));
    }
  });

  it('declines over the layer limit, so the checked path reports TOO_LARGE', () => {
    const text = textOf(MANIFESTS[1]!)!;
    expect(readManifestFast(text, 1)).toBeUndefined();
    const stats = { accepted: 0, declined: 0 };
    for (const limit of [-1, 0, 1, 2, 3, Number.NaN, Infinity]) {
      for (const t of [text, text.replace(/"layers":\[.*\]\}$/, '"layers":[]}')]) agree(t, (x) => readManifestFast(x, limit), (x) => readManifestChecked(x, limit), stats);
    }
    expect(stats.accepted).toBeGreaterThan(0);
    expect(() => parseSignatureManifest(MANIFESTS[1]!, { maxLayers: 1 })).toThrow(/more than the limit of 1/);
  });

  it('random members, key orders and values at every level', () => {
    // Mostly well-formed members, sometimes odd keys or values, sometimes a missing, repeated or extra
    // member, in any order.
    const { json, pick, object, keyOr } = documentBuilders(value, 15, 30);
    const digest = pick(fc.constant(DIGEST), fc.constantFrom(`sha512:${'ab'.repeat(64)}`, `sha256:${'AB'.repeat(32)}`, `sha256:${'a'.repeat(63)}`, 'sha256:', `${DIGEST}\n`, 'x'));
    const mediaType = pick(
      fc.constantFrom('application/vnd.dev.cosign.simplesigning.v1+json', 'application/vnd.oci.image.config.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'text/plain'),
      trickyString,
    );
    const size = pick(fc.nat(), fc.oneof(fc.integer(), fc.constantFrom(-0, 1.5, 1e3, 2 ** 53, 123456789012345, 1234567890123456)));
    const annotations = object(fc.array(fc.tuple(pick(fc.constantFrom('dev.cosignproject.cosign/signature', 'a', 'b'), trickyString), pick(json(trickyString), json(value))), { maxLength: 3 }));
    const descriptor = object(
      fc
        .tuple(
          fc.tuple(keyOr('mediaType'), pick(json(mediaType), json(value))),
          fc.tuple(keyOr('size'), pick(json(size), json(value))),
          fc.tuple(keyOr('digest'), pick(json(digest), json(value))),
          fc.option(fc.tuple(keyOr('annotations'), pick(annotations, json(value)))),
        )
        .map(([a, b, c, d]) => (d === null ? [a, b, c] : [a, b, c, d])),
    );
    const layers = fc.array(pick(descriptor, json(value)), { maxLength: 4 }).map((ds) => `[${ds.join(',')}]`);
    const manifestType = pick(fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'), json(trickyString));
    const doc = object(
      fc
        .tuple(
          fc.tuple(keyOr('schemaVersion'), pick(fc.constant('2'), json(value))),
          fc.option(fc.tuple(keyOr('mediaType'), pick(json(manifestType), json(value)))),
          fc.tuple(keyOr('config'), pick(descriptor, json(value))),
          fc.tuple(keyOr('layers'), pick(layers, json(value))),
          fc.option(fc.tuple(keyOr('subject'), pick(descriptor, json(value)))),
          fc.option(fc.tuple(keyOr('artifactType'), json(trickyString))),
          fc.option(fc.tuple(keyOr('annotations'), pick(annotations, json(value)))),
        )
        .map((members) => members.filter((m): m is [string, string] => m !== null)),
    );
    const stats = checkDocuments(doc, ['', ' ', '\n', '\t'], check, 5000);
    expect(stats.accepted).toBeGreaterThan(50);
  });

  it('mutated valid manifests', () => {
    const stats = checkMutations(MANIFESTS, mutated, check, 800);
    expect(stats.accepted).toBeGreaterThan(100);
  });

  it('random JSON and random text', () => {
    checkRandomJsonAndText(check);
  });

  it('declines (rather than accepts) the hard cases', () => {
    const d = `{"mediaType":"m","size":1,"digest":"${DIGEST}"}`;
    const declined = [
      `{"schemaVersion":2,"schemaVersion":2,"config":${d},"layers":[]}`,
      `{"schemaVersion":2.0,"config":${d},"layers":[]}`,
      `{"schemaVersion":2,"config":${d},"layers":[${d.replace('}', ',"annotations":{"a":"1","a":"2"}}')}]}`,
      `{"schemaVersion":2,"config":${d},"layers":[${d.replace('}', ',"annotations":{"__proto__":"x"}}')}]}`,
      `{"schemaVersion":2,"config":${d},"layers":[${d.replace('}', ',"annotations":{"a":"\u0000"}}')}]}`,
      `{"schemaVersion":2,"config":${d},"layers":[${d.replace('"m"', '"m\t"')}]}`,
      `{"schemaVersion":2,"config":${d},"layers":[${d.replace('"size":1', '"size":-0')}]}`,
      `{"schemaVersion":2,"config":${d},"layers":[${d.replace('"size":1', '"size":1e0')}]}`,
      `{"schemaVersion":2,"config":${d},"layers":[${d.replace(DIGEST, `sha512:${'ab'.repeat(64)}`)}]}`,
      `{"schemaVersion":2,"config":${d},"layers":[],"subject":${d.replace('}', ',"artifactType":"x"}')}}`,
      `{"schemaVersion":2,"config":${d},"layers":[],"subject":${d},"subject":${d}}`,
      `{"schemaVersion":2,"config":${d},"layers":[],"annotations":{"a":"1","a":"1"}}`,
      `{"schemaVersion":2,"config":${d},"layers":[],"artifactType":1}`,
      `{"schemaVersion":2,"config":${d},"layers":[],"x":1}`,
      `{"schemaVersion":2,"config":${d},"layers":[]}\f`,
      `{"schemaVersion":2,"config":${d.replace('"m"', '"\\u006d"')},"layers":[]}`,
      `{"schemaVersion":2,"config":${d},"layers":[${d.replace('}', ',"annotations":{"\\u0061":"x"}}')}]}`,
      `{"schemaVersion":2,"config":${d},"layers":[${d.replace('}', ',"annotations":{"a":"\\q"}}')}]}`,
      `{"schemaVersion":2,"config":${d},"layers":[${d},${d},${d},${d}]}`,
    ];
    for (const text of declined) expect(fast(text), text).toBeUndefined();
  });
});

describe('parseSignatureManifest → parseSignatureLayer on fast-path descriptors', () => {
  it('gives the same layer as an unbranded copy of the descriptor (which is validated again)', () => {
    const m = parseSignatureManifest(MANIFESTS[2]!);
    const blob = payload;
    const branded = parseSignatureLayer(m.layers[0], blob);
    const copy = parseSignatureLayer(JSON.parse(JSON.stringify(m.layers[0])), blob);
    expect(branded).toStrictEqual(copy);
    expect(Object.isFrozen(m) && Object.isFrozen(m.layers[0]) && Object.isFrozen(m.layers[0]!.annotations)).toBe(true);
    expect(Object.keys(m)).toEqual(['raw', 'digest', 'mediaType', 'config', 'layers']);
    expect({ ...m }.digest).toBe(m.digest);
  });
});

describe('decodeBase64StrictBytes ≡ decodeBase64Strict', () => {
  const outcome = (f: () => Uint8Array): { bytes?: number[]; error?: string } => {
    try {
      return { bytes: [...f()] };
    } catch (e) {
      return { error: `${(e as { code: string }).code}: ${(e as Error).message}` };
    }
  };
  const b64ish = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')),
    fc.stringMatching(/^[A-Za-z0-9+/=]{0,12}$/),
    fc.string({ unit: fc.constantFrom(...'AQgw+/=\r\n-_ !*é'.split('')), maxLength: 16 }),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.constantFrom('\n', '\r\n', '=', '-', ' ', 'é', '\u0000')).map(([b, at, ins]) => {
      const s = Buffer.from(b).toString('base64');
      const i = at % (s.length + 1);
      return s.slice(0, i) + ins + s.slice(i);
    }),
    // Non-canonical trailing bits before the padding (accepted, like Go's StdEncoding).
    fc.constantFrom('AB==', 'AAB=', 'QR==', '////', 'A'.repeat(5000), `${'QUJD'.repeat(1100)}QQ==`),
  );
  it('same bytes or the same error, as a plain Uint8Array', () => {
    fc.assert(
      fc.property(b64ish, (s) => {
        const ours = outcome(() => decodeBase64StrictBytes(s, 'w', 'BAD_SIGNATURE_LAYER'));
        expect(ours).toEqual(outcome(() => new Uint8Array(decodeBase64Strict(s, 'w', 'BAD_SIGNATURE_LAYER'))));
        if (ours.bytes !== undefined) expect(Object.getPrototypeOf(decodeBase64StrictBytes(s, 'w'))).toBe(Uint8Array.prototype);
      }),
      { numRuns: 3000 },
    );
  });
  it('refuses non-strings like the general decoder', () => {
    for (const v of [undefined, null, 1, {}]) expect(outcome(() => decodeBase64StrictBytes(v as unknown as string, 'w'))).toEqual(outcome(() => new Uint8Array(decodeBase64Strict(v as unknown as string, 'w'))));
  });
});

describe('isSha256Digest ≡ /^sha256:[0-9a-f]{64}$/', () => {
  it('agrees on near-valid and random strings', () => {
    const re = /^sha256:[0-9a-f]{64}$/;
    const near = fc.tuple(fc.nat(70), fc.string({ unit: 'binary', minLength: 0, maxLength: 2 }), fc.boolean()).map(([at, ins, del]) => {
      const s = DIGEST.replace('ab', '0f');
      return s.slice(0, at) + ins + s.slice(at + (del ? 1 : 0));
    });
    fc.assert(fc.property(fc.oneof(near, fc.string(), fc.constantFrom(DIGEST, `sha256:${'g'.repeat(64)}`, `sha256:${'F'.repeat(64)}`, `SHA256:${'a'.repeat(64)}`)), (s) => {
      expect(isSha256Digest(s)).toBe(re.test(s));
    }), {
      numRuns: 3000,
    });
  });
});
