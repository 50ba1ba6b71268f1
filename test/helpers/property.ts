/** Shared helpers for the parser property tests (payload and artifact). */
import fc from 'fast-check';
import { CosignError } from '../../src/errors.js';

/** Arbitrary byte-level mutations of a valid input. */
export function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('insertText' as const),
      at: fc.nat(),
      text: fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\\u0000', 'null', '1e999', '-0', '"x":1,', '\ud800', '\u2028', '\uffff'),
    }),
  );
  return fc.array(op, { minLength: 1, maxLength: 4 }).map((ops) => {
    let b = Buffer.from(valid);
    for (const o of ops) {
      const at = b.length === 0 ? 0 : o.at % (b.length + 1);
      switch (o.kind) {
        case 'flip':
          if (b.length > 0) b[at % b.length] = (b[at % b.length] ?? 0) ^ (1 << o.bit);
          break;
        case 'set':
          if (b.length > 0) b[at % b.length] = o.value;
          break;
        case 'insert':
          b = Buffer.concat([b.subarray(0, at), Buffer.from(o.bytes), b.subarray(at)]);
          break;
        case 'insertText':
          b = Buffer.concat([b.subarray(0, at), Buffer.from(o.text), b.subarray(at)]);
          break;
        case 'delete':
          b = Buffer.concat([b.subarray(0, at), b.subarray(at + o.n)]);
          break;
        case 'truncate':
          b = b.subarray(0, at);
          break;
      }
    }
    return new Uint8Array(b);
  });
}

/** Run `f`; a CosignError is fine, any other exception fails the property. Returns the result or undefined. */
export function typedOnly<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof CosignError) return undefined;
    throw e;
  }
}
