/**
 * The Rekor bundle fast path (PlainJsonReader) is equivalent to the checked path (parseStrictJson +
 * zod): whenever it answers, the checked path accepts the same text with a strictly equal result;
 * when it declines, the checked path decides as before.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRekorBundle, readRekorBundleChecked, readRekorBundleFast } from '../../src/artifact/rekor.js';
import { agree, checkRandomJsonAndText, trickyString, type FastPathStats, checkDocuments, checkMutations } from '../helpers/fast-path.js';
import { fixtureText } from '../helpers/fixtures.js';
import { mutated } from '../helpers/property.js';

const REAL = fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json').trim();
const LOG_ID = 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d';

function check(text: string | undefined, stats: FastPathStats): void {
  if (text !== undefined) agree(text, readRekorBundleFast, readRekorBundleChecked, stats);
}

/** A JSON object text from [key, value-text] members. */
const object = (members: fc.Arbitrary<Array<[string, string]>>): fc.Arbitrary<string> => members.map((ms) => `{${ms.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
/** Mostly the expected key, sometimes another one. */
const keyOr = (k: string): fc.Arbitrary<string> => fc.oneof({ weight: 20, arbitrary: fc.constant(k) }, { weight: 1, arbitrary: trickyString }, { weight: 1, arbitrary: fc.constant(k.toLowerCase()) });
const anyValue = fc.oneof(
  fc.json(),
  fc.constantFrom('1.0', '1e3', '-0', '0', '01', '9007199254740993', '123456789012345', '1234567890123456', '"\\u0041"', 'null', 'true'),
  trickyString.map((s) => JSON.stringify(s)),
);
/** Mostly a valid value, sometimes anything. */
const mostly = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
const integer = mostly(fc.oneof(fc.integer().map(String), fc.constantFrom('-0', '0', '1700000000', '999999999999999')));
const b64 = mostly(fc.constantFrom('"AAAA"', '"MEUCIQ=="', '"QUJD\\u0044"', '""'));
const logId = mostly(fc.constantFrom(JSON.stringify(LOG_ID), JSON.stringify(LOG_ID), JSON.stringify(LOG_ID.toUpperCase()), `"${LOG_ID.slice(1)}"`));

describe('Rekor bundle fast path', () => {
  it('reads the real bundle and matches the checked path', () => {
    const stats = { accepted: 0, declined: 0 };
    check(REAL, stats);
    expect(stats.accepted).toBe(1);
    expect(parseRekorBundle(REAL).payload.logID).toMatch(/^[0-9a-f]{64}$/);
  });

  it('random bundle-shaped documents (missing, extra, repeated members, any order)', () => {
    const payloadMembers = [fc.tuple(keyOr('body'), b64), fc.tuple(keyOr('integratedTime'), integer), fc.tuple(keyOr('logIndex'), integer), fc.tuple(keyOr('logID'), logId)];
    const payloadOf = (minLength: number): fc.Arbitrary<string> => object(fc.shuffledSubarray(payloadMembers, { minLength }).chain((arbs) => fc.tuple(...arbs)));
    const payload = fc.oneof(payloadOf(3), payloadOf(4), payloadOf(4));
    const member = fc.shuffledSubarray([fc.tuple(keyOr('SignedEntryTimestamp'), b64), fc.tuple(keyOr('Payload'), mostly(payload))], { minLength: 1 });
    // Sometimes a member twice.
    const members = fc.tuple(member, fc.nat(3).map((n) => n === 0)).map(([ms, twice]) => (twice ? [...ms, ms[0] as (typeof ms)[number]] : ms));
    const doc = object(members.chain((arbs) => fc.tuple(...arbs)));
    const stats = checkDocuments(doc, ['', ' ', '\n', '\t'], check, 4000);
    expect(stats.accepted).toBeGreaterThan(100);
  });

  it('mutated real bundles', () => {
    const stats = checkMutations([new TextEncoder().encode(REAL)], mutated, check, 2000);
    expect(stats.accepted).toBeGreaterThan(50);
  });

  it('random JSON and random text', () => {
    checkRandomJsonAndText(check);
  });

  it('declines the hard cases, which then pass or fail exactly as before', () => {
    const p = `{"body":"AAAA","integratedTime":1,"logIndex":2,"logID":"${LOG_ID}"}`;
    const declined = [
      `{"SignedEntryTimestamp":"AAAA","Payload":${p},"Payload":${p}}`,
      `{"SignedEntryTimestamp":"AAAA","Payload":{"body":"AAAA","integratedTime":1.0,"logIndex":2,"logID":"${LOG_ID}"}}`,
      `{"SignedEntryTimestamp":"AAAA","Payload":{"body":"AAAA","integratedTime":1,"logIndex":2,"logID":"${LOG_ID}","extra":1}}`,
      `{"\\u0053ignedEntryTimestamp":"AAAA","Payload":${p}}`,
      `\ufeff{"SignedEntryTimestamp":"AAAA","Payload":${p}}`,
    ];
    for (const text of declined) {
      expect(readRekorBundleFast(text)).toBeUndefined();
      const viaChecked = (() => {
        try {
          return readRekorBundleChecked(text);
        } catch (e) {
          return (e as Error).message;
        }
      })();
      const viaParse = (() => {
        try {
          return parseRekorBundle(text).payload;
        } catch (e) {
          return (e as Error).message;
        }
      })();
      expect(typeof viaChecked === 'string' ? viaParse : viaChecked.Payload).toStrictEqual(viaParse);
    }
  });
});
