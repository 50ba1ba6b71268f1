/**
 * The payload fast path (PlainJsonReader) is equivalent to the checked path (parseStrictJson + zod):
 * whenever it answers, the checked path accepts the same text with a strictly equal result; when it
 * declines, the checked path decides as before. Random, built and mutated-valid payloads.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPayload, parsePayload } from '../../src/payload/index.js';
import { readPayloadChecked, readPayloadFast } from '../../src/payload/payload.js';
import { agree, respaced, textOf, trickyString, type FastPathStats, checkRandomJsonAndText, checkDocuments, checkMutations, documentBuilders } from '../helpers/fast-path.js';
import { fixture } from '../helpers/fixtures.js';
import { mutated } from '../helpers/property.js';

const DIGEST = `sha256:${'0f'.repeat(32)}` as const;
const SKOPEO =
  '{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/skopeo-signed:tag"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":{"creator":"containers/image 5.21.2-dev","timestamp":1657296609}}';
const VALID = [
  new Uint8Array(fixture('sigstore-rs/legacy-sig-key-busybox/payload.json')),
  buildPayload({ dockerReference: 'r.io/a', digest: DIGEST }),
  buildPayload({ dockerReference: 'r.io/a', digest: DIGEST, annotations: { a: 'b', 'é': '😀 x' } }),
  new TextEncoder().encode(SKOPEO),
];

function check(text: string | undefined, stats: FastPathStats): void {
  if (text !== undefined) agree(text, readPayloadFast, readPayloadChecked, stats);
}

/** A scalar or small structure for `optional` values and misplaced values. */
const value: fc.Arbitrary<unknown> = fc.oneof(
  trickyString,
  fc.integer(),
  fc.constantFrom(0, -0, 1.5, 1e21, 2 ** 53, -(2 ** 53) - 2, 123456789012345, 1234567890123456, true, false, null),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
);

describe('payload fast path ≡ parseStrictJson + zod', () => {
  it('accepts what cosign, containers/image and our builder write', () => {
    for (const v of VALID) {
      const text = textOf(v)!;
      expect(readPayloadFast(text)).toBeDefined();
      expect(readPayloadFast(text)).toStrictEqual(readPayloadChecked(text));
    }
  });

  it('built payloads with random references and annotations', () => {
    const stats = { accepted: 0, declined: 0 };
    fc.assert(
      fc.property(trickyString, fc.dictionary(trickyString, trickyString, { maxKeys: 4 }), fc.constantFrom('', ' ', '  ', '\n', '\t'), (ref, annotations, ws) => {
        if (ref === '') return;
        const text = textOf(buildPayload({ dockerReference: ref, digest: DIGEST, annotations }))!;
        check(text, stats);
        check(respaced(text, ws), stats);
      }),
      { numRuns: 1000 },
    );
    // Go escapes <, >, &, U+2028/9 and control characters: such payloads take the checked path.
    expect(stats.accepted).toBeGreaterThan(300);
  });

  it('random members, key orders and values at every level', () => {
    // Mostly well-formed members (so the fast path often answers), sometimes odd keys or values,
    // sometimes a missing, repeated or extra member, in any order.
    const { json, pick, object, keyOr } = documentBuilders(value, 8, 15);
    const digest = pick(fc.constant(DIGEST), fc.constantFrom(`sha512:${'ab'.repeat(64)}`, `sha256:${'AB'.repeat(32)}`, `sha256:${'a'.repeat(63)}`, 'sha256:', `${DIGEST}\n`));
    const identity = object(fc.tuple(keyOr('docker-reference'), pick(json(trickyString), json(value))).map((m) => [m]));
    const image = object(fc.tuple(keyOr('docker-manifest-digest'), pick(json(digest), json(value))).map((m) => [m]));
    const type = pick(json(fc.constant('cosign container image signature')), json(fc.oneof(trickyString, value)));
    const critical = object(fc.tuple(fc.tuple(keyOr('identity'), pick(identity, json(value))), fc.tuple(keyOr('image'), pick(image, json(value))), fc.tuple(keyOr('type'), type)));
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

  it('declines (rather than accepts) the hard cases, which then fail or pass exactly as before', () => {
    const critical = `"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"t"}`;
    const declined = [
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
      `{${critical.replace('"t"', '"\\u0074"')}}`,
      `{${critical}}\u000b`,
      `{${critical.replace('"r"', '"r\t"')}}`,
      `{${critical.replace(DIGEST, `sha512:${'ab'.repeat(64)}`)}}`,
      `{${critical}}x`,
      `{${critical}`,
    ];
    for (const text of declined) expect(readPayloadFast(text), text).toBeUndefined();
    // And where the checked path refuses, the public parser refuses with the same error.
    for (const text of declined) {
      let checkedError: unknown;
      try {
        readPayloadChecked(text);
      } catch (e) {
        checkedError = e;
      }
      if (checkedError === undefined) continue;
      expect(() => parsePayload(new TextEncoder().encode(text))).toThrow((checkedError as Error).message);
    }
  });
});
