/**
 * Helpers for the fast-path equivalence tests: a fast reader (which may decline) must agree with the
 * checked reader (parseStrictJson + zod) whenever it answers.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { CosignError } from '../../src/errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text a parser would see for `bytes`, or undefined when the bytes are not UTF-8 (rejected before either reader runs). */
export function textOf(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Counts of how the fast path answered, so a test can prove it was not vacuous. */
export interface FastPathStats {
  accepted: number;
  declined: number;
}

/**
 * Check one input: when `fast` answers, `checked` must accept the same text with a strictly equal
 * result (same values, prototypes, key order; `-0` is not `0`). When `fast` declines, nothing is
 * claimed (the checked reader decides, as before). `fast` must never throw.
 */
export function agree<T>(text: string, fast: (t: string) => T | undefined, checked: (t: string) => T, stats: FastPathStats): void {
  const f = fast(text);
  if (f === undefined) {
    stats.declined++;
    return;
  }
  stats.accepted++;
  let c: T;
  try {
    c = checked(text);
  } catch (e) {
    if (e instanceof CosignError)
      throw new Error(`fast path accepted what the checked path refuses (${e.code}: ${e.message}): ${JSON.stringify(text).slice(0, 400)}`);
    throw e;
  }
  expect(f).toStrictEqual(c);
  expect(JSON.stringify(f)).toBe(JSON.stringify(c));
  expectSameKeyOrder(f, c);
}

function expectSameKeyOrder(a: unknown, b: unknown): void {
  if (a === null || typeof a !== 'object') return;
  expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b));
  expect(Reflect.ownKeys(a)).toEqual(Reflect.ownKeys(b as object));
  for (const k of Reflect.ownKeys(a)) expectSameKeyOrder((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k]);
}

/** Strings that stress the fast path: control characters, escapes, quotes, `__proto__`, non-ASCII, JSON punctuation. */
export const trickyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom(
    '',
    '__proto__',
    'constructor',
    'a b',
    '\u0000',
    '\t',
    '\n',
    '\u001f',
    '\u007f',
    '\u2028',
    'é',
    '😀',
    '"',
    '\\',
    '\\u0061',
    ':',
    ',',
    '{',
    '}',
    '[',
    ']',
    '1',
    '-0',
    'null',
  ),
);

/** Re-space a JSON text: spaces (or other white space) after punctuation, which both readers must treat alike. */
export function respaced(text: string, ws: string): string {
  return text.replace(/([,:{}[\]])/g, `$1${ws}`);
}

/** Run `check` on random JSON documents and on random text (the fast path may answer or decline; it must never disagree). */
export function checkRandomJsonAndText(check: (text: string, stats: FastPathStats) => void): FastPathStats {
  const stats = { accepted: 0, declined: 0 };
  fc.assert(
    fc.property(fc.json(), (s) => check(s, stats)),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string(), (s) => check(s, stats)),
    { numRuns: 500 },
  );
  return stats;
}

/** Run `check` on generated documents, as written and re-spaced with each white space in `spaces`. */
export function checkDocuments(
  doc: fc.Arbitrary<string>,
  spaces: readonly string[],
  check: (text: string, stats: FastPathStats) => void,
  numRuns: number,
): FastPathStats {
  const stats = { accepted: 0, declined: 0 };
  fc.assert(
    fc.property(doc, fc.constantFrom(...spaces), (text, ws) => {
      check(text, stats);
      check(respaced(text, ws), stats);
    }),
    { numRuns },
  );
  return stats;
}

/** Run `check` on byte-level mutations of each valid document (`mutate` makes them). */
export function checkMutations(
  valid: readonly Uint8Array[],
  mutate: (v: Uint8Array) => fc.Arbitrary<Uint8Array>,
  check: (text: string | undefined, stats: FastPathStats) => void,
  numRuns: number,
): FastPathStats {
  const stats = { accepted: 0, declined: 0 };
  for (const v of valid)
    fc.assert(
      fc.property(mutate(v), (b) => check(textOf(b), stats)),
      { numRuns },
    );
  return stats;
}

/**
 * Builders for JSON documents that are mostly well formed: `pick(good, odd)` takes `good` `goodWeight`
 * times out of `goodWeight + 1`; `object(members)` writes the members in any order and, one time in
 * `dice + 1` each, drops one, adds an extra (random key, a `value`) or repeats one; `keyOr(name)` is
 * mostly `name`.
 */
export function documentBuilders(value: fc.Arbitrary<unknown>, goodWeight: number, dice: number) {
  const json = (a: fc.Arbitrary<unknown>): fc.Arbitrary<string> => a.map((v) => JSON.stringify(v) ?? 'null');
  const pick = <T>(good: fc.Arbitrary<T>, odd: fc.Arbitrary<T>): fc.Arbitrary<T> =>
    fc.oneof({ arbitrary: good, weight: goodWeight }, { arbitrary: odd, weight: 1 });
  const object = (members: fc.Arbitrary<Array<[string, string]>>): fc.Arbitrary<string> =>
    members
      .chain((ms) => fc.tuple(fc.shuffledSubarray(ms, { minLength: ms.length }), fc.nat(dice), trickyString, value))
      .map(([ms, roll, k, v]) => {
        let list = ms;
        if (roll === 0) list = list.slice(1); // a member missing
        if (roll === 1) list = [...list, [k, JSON.stringify(v) ?? 'null']]; // an extra member
        if (roll === 2 && list[0] !== undefined) list = [...list, list[0]]; // a repeated member
        return `{${list.map(([key, val]) => `${JSON.stringify(key)}:${val}`).join(',')}}`;
      });
  const keyOr = (name: string): fc.Arbitrary<string> => pick(fc.constant(name), trickyString);
  return { json, pick, object, keyOr };
}
