/** `goMarshalIndent`: Go's `json.MarshalIndent` layout (tab or spaces, empty containers kept compact, no final newline). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goMarshalIndent, goStruct } from '../../src/json/gojson.js';

describe('goMarshalIndent', () => {
  it('lays out as json.MarshalIndent: one element a line, ": " after keys, {} and [] compact, no final newline', () => {
    const v = goStruct(['auths', { 'b:1': goStruct(['auth', 'x']), a: {} }], ['list', []], ['s', 'a,b:{c}[d] "q" \\ <&>'], ['n', [1, [2]]]);
    expect(goMarshalIndent(v, '\t')).toBe(
      '{\n\t"auths": {\n\t\t"a": {},\n\t\t"b:1": {\n\t\t\t"auth": "x"\n\t\t}\n\t},\n\t"list": [],\n\t"s": "a,b:{c}[d] \\"q\\" \\\\ \\u003c\\u0026\\u003e",\n\t"n": [\n\t\t1,\n\t\t[\n\t\t\t2\n\t\t]\n\t]\n}',
    );
    expect(goMarshalIndent('x', '  ')).toBe('"x"');
  });

  it('matches JSON.stringify(v, null, indent) on ASCII JSON without HTML characters (property)', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9 ,:{}[\]"\\]{0,5}$/); // not integer-like: JS would reorder those
    const leaf = fc.oneof(fc.boolean(), fc.integer(), fc.constant(null), fc.stringMatching(/^[a-zA-Z0-9 ,:{}[\]"\\]{0,8}$/));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(key, tie('v'), { maxKeys: 3 })),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        // JSON.stringify keeps insertion order; Go sorts map keys: compare on a sorted copy.
        const sort = (x: unknown): unknown =>
          Array.isArray(x)
            ? x.map(sort)
            : x !== null && typeof x === 'object'
              ? Object.fromEntries(
                  Object.entries(x)
                    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
                    .map(([k, y]) => [k, sort(y)]),
                )
              : x;
        const sorted = sort(v);
        const expected = JSON.stringify(sorted, null, '\t')
          .replace(/\{\n\t*\}/g, '{}')
          .replace(/\[\n\t*\]/g, '[]');
        expect(goMarshalIndent(v as never, '\t')).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
