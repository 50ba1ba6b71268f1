/**
 * Property test of src/encoding.ts: the small base64 decoder for signature annotations
 * (decodeBase64StrictBytes) against the general one it stands in for.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Strict, decodeBase64StrictBytes } from '../src/encoding.js';

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
    for (const v of [undefined, null, 1, {}])
      expect(outcome(() => decodeBase64StrictBytes(v as unknown as string, 'w'))).toEqual(
        outcome(() => new Uint8Array(decodeBase64Strict(v as unknown as string, 'w'))),
      );
  });
});
