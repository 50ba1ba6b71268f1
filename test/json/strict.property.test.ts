/**
 * Property test of src/json.ts: the strict parser's duplicate-key detection agrees with a reference
 * check (`JSON.parse` + `assertNoDuplicateKeys`) on objects with random, repeated and escaped keys.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CosignError } from '../../src/errors.js';
import { assertNoDuplicateKeys, parseStrictJson } from '../../src/json/strict.js';

describe('parseStrictJson duplicate-key detection', () => {
  it('agrees with a reference check on objects with random (possibly repeated, possibly escaped) keys', () => {
    const key = fc.constantFrom('a', 'b', '\\u0061', 'a\\"', 'a\\\\', '\\\\', '', ' :', '\\"');
    const member = fc.tuple(key, fc.oneof(fc.json(), fc.constant('{"a":1,"a":2}'), fc.constant('["x\\":", {"k":":"}]')));
    fc.assert(
      fc.property(fc.array(member, { maxLength: 6 }), fc.constantFrom('', ' ', '\n\t'), (members, ws) => {
        const text = `{${members.map(([k, v]) => `${ws}"${k}"${ws}:${ws}${v}`).join(',')}${ws}}`;
        let reference = false;
        try {
          JSON.parse(text);
          assertNoDuplicateKeys(text, 'x');
        } catch {
          reference = true;
        }
        let ours = false;
        try {
          parseStrictJson(text, 'x', 'BAD_INPUT');
        } catch (e) {
          expect(e).toBeInstanceOf(CosignError);
          ours = true;
        }
        expect(ours).toBe(reference);
      }),
      { numRuns: 2000 },
    );
  });
});
