/**
 * Property test of src/digest.ts: the sha256 digest check (a loop) against the regular expression it stands in for.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSha256Digest } from '../src/digest.js';

const DIGEST = `sha256:${'ab'.repeat(32)}` as const;

describe('isSha256Digest ≡ /^sha256:[0-9a-f]{64}$/', () => {
  it('agrees on near-valid and random strings', () => {
    const re = /^sha256:[0-9a-f]{64}$/;
    const near = fc.tuple(fc.nat(70), fc.string({ unit: 'binary', minLength: 0, maxLength: 2 }), fc.boolean()).map(([at, ins, del]) => {
      const s = DIGEST.replace('ab', '0f');
      return s.slice(0, at) + ins + s.slice(at + (del ? 1 : 0));
    });
    fc.assert(
      fc.property(
        fc.oneof(near, fc.string(), fc.constantFrom(DIGEST, `sha256:${'g'.repeat(64)}`, `sha256:${'F'.repeat(64)}`, `SHA256:${'a'.repeat(64)}`)),
        (s) => {
          expect(isSha256Digest(s)).toBe(re.test(s));
        },
      ),
      {
        numRuns: 3000,
      },
    );
  });
});
