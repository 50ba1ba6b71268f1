/**
 * The table-driven fast path of src/json.ts (`readPlainJson` with a document's shape) is equivalent to
 * that document's checked path (`parseStrictJson` + its zod schema), for every document it serves:
 * whenever it answers, the checked path accepts the same text and gives a strictly equal value (same
 * keys in the same order, same prototypes); when it declines, the checked path decides as before.
 * Built, random, mutated and hand-picked documents; each document's fast path must answer a minimum
 * number of times (the test is not vacuous).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSignatureImage, buildSignatureLayer, parseSignatureManifest } from '../../src/artifact/index.js';
import { PLAIN_MANIFEST, readManifestChecked } from '../../src/artifact/image.js';
import { readPlainJson, type PlainKind } from '../../src/json/plain.js';
import { buildPayload, parsePayload } from '../../src/payload/index.js';
import { PLAIN_PAYLOAD, readPayloadChecked } from '../../src/payload/payload.js';
import {
  agree,
  checkDocuments,
  checkMutations,
  checkRandomJsonAndText,
  documentBuilders,
  respaced,
  textOf,
  trickyString,
  type FastPathStats,
} from '../helpers/fast-path.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';
import { mutated } from '../helpers/property.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The fast path and the checked path of one document. */
function checker(shape: PlainKind & { readonly t: 'object' }, checked: (text: string) => unknown): (text: string | undefined, stats: FastPathStats) => void {
  return (text, stats) => {
    if (text !== undefined) agree(text, (t) => readPlainJson(t, shape), checked, stats);
  };
}

/** Every text is declined by the fast path; where the checked path refuses one, `parse` refuses it with the same message. */
function expectDeclined(
  texts: readonly string[],
  shape: PlainKind & { readonly t: 'object' },
  checked: (text: string) => unknown,
  parse: (text: string) => unknown,
): void {
  for (const text of texts) {
    expect(readPlainJson(text, shape), text).toBeUndefined();
    let checkedError: unknown;
    try {
      checked(text);
    } catch (e) {
      checkedError = e;
    }
    if (checkedError !== undefined) expect(() => parse(text)).toThrow((checkedError as Error).message);
  }
}

// --- signature manifests ----------------------------------------------------------------------------

describe('signature manifest: readPlainJson(PLAIN_MANIFEST) ≡ parseStrictJson + ManifestSchema', () => {
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
  // The layer limit is the caller's rule (tested below): equivalence is checked without one.
  const checked = (t: string): unknown => readManifestChecked(t, Infinity);
  const check = checker(PLAIN_MANIFEST, checked);
  const value: fc.Arbitrary<unknown> = fc.oneof(
    trickyString,
    fc.integer(),
    fc.constantFrom(0, -0, 2, 2.0, 1.5, 1e3, 2 ** 53, 123456789012345, 1234567890123456, true, false, null, [], {}),
    fc.jsonValue({ maxDepth: 2 }),
  );

  it('answers for what cosign writes, with the checked value', () => {
    for (const m of MANIFESTS) {
      const stats = { accepted: 0, declined: 0 };
      check(textOf(m)!, stats);
      expect(stats.accepted).toBe(1);
    }
  });

  it('over the layer limit, parseSignatureManifest reports TOO_LARGE as the checked path does', () => {
    for (const limit of [-1, 0, 1]) {
      expect(() => parseSignatureManifest(MANIFESTS[1]!, { maxLayers: limit })).toThrow(/more than the limit of/);
    }
    expect(parseSignatureManifest(MANIFESTS[1]!, { maxLayers: 2 }).layers).toHaveLength(2);
    expect(parseSignatureManifest(MANIFESTS[1]!, { maxLayers: Infinity }).layers).toHaveLength(2);
  });

  it('random members, key orders and values at every level', () => {
    const { json, pick, object, keyOr } = documentBuilders(value, 15, 30);
    const digest = pick(
      fc.constant(DIGEST),
      fc.constantFrom(`sha512:${'ab'.repeat(64)}`, `sha256:${'AB'.repeat(32)}`, `sha256:${'a'.repeat(63)}`, 'sha256:', `${DIGEST}\n`, 'x'),
    );
    const mediaType = pick(
      fc.constantFrom(
        'application/vnd.dev.cosign.simplesigning.v1+json',
        'application/vnd.oci.image.config.v1+json',
        'application/vnd.docker.distribution.manifest.v2+json',
        'text/plain',
      ),
      trickyString,
    );
    const size = pick(fc.nat(), fc.oneof(fc.integer(), fc.constantFrom(-0, 1.5, 1e3, 2 ** 53, 123456789012345, 1234567890123456)));
    const annotations = object(
      fc.array(fc.tuple(pick(fc.constantFrom('dev.cosignproject.cosign/signature', 'a', 'b'), trickyString), pick(json(trickyString), json(value))), {
        maxLength: 3,
      }),
    );
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
    const manifestType = pick(
      fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'),
      json(trickyString),
    );
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

  it('declines the hard cases, which then pass or fail exactly as before', () => {
    const d = `{"mediaType":"m","size":1,"digest":"${DIGEST}"}`;
    expectDeclined(
      [
        `{"schemaVersion":2,"schemaVersion":2,"config":${d},"layers":[]}`,
        `{"schemaVersion":2.0,"config":${d},"layers":[]}`,
        `{"schemaVersion":3,"config":${d},"layers":[]}`,
        `{"schemaVersion":2,"config":${d},"layers":[${d.replace('}', ',"annotations":{"a":"1","a":"2"}}')}]}`,
        `{"schemaVersion":2,"config":${d},"layers":[${d.replace('}', ',"annotations":{"__proto__":"x"}}')}]}`,
        `{"schemaVersion":2,"config":${d},"layers":[${d.replace('}', ',"annotations":{"a":"\u0000"}}')}]}`,
        `{"schemaVersion":2,"config":${d},"layers":[${d.replace('"m"', '"m\t"')}]}`,
        `{"schemaVersion":2,"config":${d},"layers":[${d.replace('"size":1', '"size":-1')}]}`,
        `{"schemaVersion":2,"config":${d},"layers":[${d.replace('"size":1', '"size":1e0')}]}`,
        `{"schemaVersion":2,"config":${d},"layers":[${d.replace('"size":1', '"size":1234567890123456')}]}`,
        `{"schemaVersion":2,"config":${d},"layers":[${d.replace(DIGEST, `sha512:${'ab'.repeat(64)}`)}]}`,
        `{"schemaVersion":2,"config":${d},"layers":[],"subject":${d.replace('}', ',"artifactType":"x"}')}}`,
        `{"schemaVersion":2,"config":${d},"layers":[],"subject":${d},"subject":${d}}`,
        `{"schemaVersion":2,"config":${d},"layers":[],"annotations":{"a":"1","a":"1"}}`,
        `{"schemaVersion":2,"config":${d},"layers":[],"artifactType":1}`,
        `{"schemaVersion":2,"config":${d},"layers":[],"x":1}`,
        `{"schemaVersion":2,"config":${d},"layers":[]}\f`,
        `{"schemaVersion":2,"config":${d.replace('"mediaType"', '"\\u006dediaType"')},"layers":[]}`,
        `{"schemaVersion":2,"config":${d},"layers":[${d.replace('}', ',"annotations":{"\\u0061":"x"}}')}]}`,
        `{"schemaVersion":2,"config":${d},"layers":[${d.replace('}', ',"annotations":{"a":"\\q"}}')}]}`,
        `{"schemaVersion":2,"config":${d}}`,
        `\ufeff{"schemaVersion":2,"config":${d},"layers":[]}`,
      ],
      PLAIN_MANIFEST,
      checked,
      (t) => parseSignatureManifest(enc(t)),
    );
  });
});

// --- simple-signing payloads ------------------------------------------------------------------------

describe('payload: readPlainJson(PLAIN_PAYLOAD) ≡ parseStrictJson + PayloadSchema', () => {
  const DIGEST = `sha256:${'0f'.repeat(32)}` as const;
  const SKOPEO =
    '{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/skopeo-signed:tag"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":{"creator":"containers/image 5.21.2-dev","timestamp":1657296609}}';
  const VALID = [
    new Uint8Array(fixture('sigstore-rs/legacy-sig-key-busybox/payload.json')),
    buildPayload({ dockerReference: 'r.io/a', digest: DIGEST }),
    buildPayload({ dockerReference: 'r.io/a', digest: DIGEST, annotations: { a: 'b', é: '😀 x' } }),
    enc(SKOPEO),
  ];
  const check = checker(PLAIN_PAYLOAD, readPayloadChecked);
  const value: fc.Arbitrary<unknown> = fc.oneof(
    trickyString,
    fc.integer(),
    fc.constantFrom(0, -0, 1.5, 1e21, 2 ** 53, -(2 ** 53) - 2, 123456789012345, 1234567890123456, true, false, null),
    fc.double(),
    fc.jsonValue({ maxDepth: 2 }),
  );

  it('answers for what cosign, containers/image and our builder write, with the checked value', () => {
    for (const v of VALID) {
      const stats = { accepted: 0, declined: 0 };
      check(textOf(v)!, stats);
      expect(stats.accepted).toBe(1);
    }
  });

  it('built payloads with random references and annotations', () => {
    const stats = { accepted: 0, declined: 0 };
    fc.assert(
      fc.property(
        trickyString,
        fc.dictionary(trickyString, trickyString, { maxKeys: 4 }),
        fc.constantFrom('', ' ', '  ', '\n', '\t'),
        (ref, annotations, ws) => {
          if (ref === '') return;
          const text = textOf(buildPayload({ dockerReference: ref, digest: DIGEST, annotations }))!;
          check(text, stats);
          check(respaced(text, ws), stats);
        },
      ),
      { numRuns: 1000 },
    );
    // Go escapes <, >, &, U+2028/9 and control characters; keys with escapes take the checked path.
    expect(stats.accepted).toBeGreaterThan(300);
  });

  it('random members, key orders and values at every level', () => {
    const { json, pick, object, keyOr } = documentBuilders(value, 8, 15);
    const digest = pick(
      fc.constant(DIGEST),
      fc.constantFrom(`sha512:${'ab'.repeat(64)}`, `sha256:${'AB'.repeat(32)}`, `sha256:${'a'.repeat(63)}`, 'sha256:', `${DIGEST}\n`),
    );
    const identity = object(fc.tuple(keyOr('docker-reference'), pick(json(trickyString), json(value))).map((m) => [m]));
    const image = object(fc.tuple(keyOr('docker-manifest-digest'), pick(json(digest), json(value))).map((m) => [m]));
    const type = pick(json(fc.constant('cosign container image signature')), json(fc.oneof(trickyString, value)));
    const critical = object(
      fc.tuple(fc.tuple(keyOr('identity'), pick(identity, json(value))), fc.tuple(keyOr('image'), pick(image, json(value))), fc.tuple(keyOr('type'), type)),
    );
    const optionalValue = pick(json(fc.oneof(trickyString, fc.integer(), fc.boolean(), fc.constant(null))), json(value));
    const optional = pick(fc.oneof(fc.constant('null'), object(fc.array(fc.tuple(trickyString, optionalValue), { maxLength: 4 }))), json(value));
    const doc = object(fc.tuple(fc.tuple(keyOr('critical'), critical), fc.tuple(keyOr('optional'), optional)));
    const stats = checkDocuments(doc, ['', ' ', '\n'], check, 5000);
    expect(stats.accepted).toBeGreaterThan(150);
  });

  it('mutated valid payloads', () => {
    const stats = checkMutations(VALID, mutated, check, 1000);
    expect(stats.accepted).toBeGreaterThan(100);
  });

  it('random JSON and random text', () => {
    checkRandomJsonAndText(check);
  });

  it('declines the hard cases, which then pass or fail exactly as before', () => {
    const critical = `"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"t"}`;
    expectDeclined(
      [
        `{${critical},${critical}}`,
        `{${critical},"optional":{"a":"1","a":"2"}}`,
        `{${critical},"optional":{"__proto__":"x"}}`,
        `{${critical},"optional":{"a":"\u0001"}}`,
        `{${critical},"optional":{"a":1.0}}`,
        `{${critical},"optional":{"a":1e3}}`,
        `{${critical},"optional":{"a":01}}`,
        `{${critical},"optional":{"a":1234567890123456}}`,
        `{${critical},"optional":{"a":[]}}`,
        `{${critical},"optional":5}`,
        `\ufeff{${critical}}`,
        `{${critical.replace('"docker-reference"', '"docker-\\u0072eference"')}}`,
        `{${critical},"optional":{"\\u0061":"x"}}`,
        `{${critical.replace('"r"', '"\\x"')}}`,
        `{${critical}}\u000b`,
        `{${critical.replace('"r"', '"r\t"')}}`,
        `{${critical.replace(DIGEST, `sha512:${'ab'.repeat(64)}`)}}`,
        `{${critical.replace(',"type":"t"', '')}}`,
        `{${critical}}x`,
        `{${critical}`,
      ],
      PLAIN_PAYLOAD,
      readPayloadChecked,
      (t) => parsePayload(enc(t)),
    );
  });
});
