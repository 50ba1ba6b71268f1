import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CosignError } from '../../src/errors.js';
import { parseJsonStrictSlow, parseStrictJson } from '../../src/json/strict.js';
import { codeOf } from '../helpers/errors.js';

const slow = (t: string): unknown => parseJsonStrictSlow(t, 'doc', 'BAD_INPUT');

describe('parseJsonStrictSlow', () => {
  it('parses what JSON.parse parses, the same way', () => {
    for (const t of [
      '0',
      ' -0 ',
      '1.5e3',
      '"a\\u0062\\n\\"\\\\\\/"',
      '[]',
      '{}',
      '[1,[2,[3,{}]],{"a":{"b":[]}}]',
      '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
      '\n\t{ "x" : [ 1 , 2 ] }\r\n',
      '"\\ud83d\\ude00"',
      '1E400',
    ]) {
      expect(slow(t), t).toEqual(JSON.parse(t));
    }
  });

  it('keeps __proto__ as an own key', () => {
    const v = slow('{"__proto__":{"x":1}}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it('refuses bad syntax, duplicates (also via escapes and lone surrogates) and deep nesting', () => {
    for (const t of [
      '',
      '{',
      '[1,]',
      '{"a":1,}',
      '{"a" 1}',
      '{a:1}',
      '"\\x"',
      '"\\u12"',
      '"a\nb"',
      '01',
      '1.',
      '.5',
      '+1',
      'tru',
      '[1] 2',
      '{"a":1}}',
      "'a'",
      'NaN',
    ]) {
      expect(
        codeOf(() => slow(t)),
        JSON.stringify(t),
      ).toBe('BAD_INPUT');
    }
    expect(codeOf(() => slow('{"a":1,"\\u0061":2}'))).toBe('BAD_INPUT');
    expect(codeOf(() => slow('{"\\ud800":1,"\\ufffd":2}'))).toBe('BAD_INPUT');
    expect(codeOf(() => slow('[{"a":1},{"a":1}]'))).toBe('no error');
    expect(codeOf(() => parseJsonStrictSlow('[[[1]]]', 'doc', 'BAD_INPUT', 2))).toBe('BAD_INPUT');
    expect(codeOf(() => slow('['.repeat(20000) + ']'.repeat(20000)))).toBe('BAD_INPUT');
  });
});

describe('parseStrictJson decodes escaped keys correctly (V8 in Node 24.21 does not, once warm)', () => {
  it('keys come out as a string-value decode of the same escapes', () => {
    const piece = fc.constantFrom('a', 'b', '\\u0061', '\\"', '\\\\', '\\n', '\\u2028', '\\ud83d\\ude00', '\\u003c', 'xyz', '\\/');
    fc.assert(
      fc.property(fc.array(fc.array(piece, { minLength: 1, maxLength: 3 }), { maxLength: 6 }), (rawKeys) => {
        const raws = rawKeys.map((k) => k.join(''));
        const text = `{${raws.map((k, i) => `"${k}":${i}`).join(',')}}`;
        const decoded = raws.map((k) => JSON.parse(`["${k}"]`)[0] as string); // value context: decoded correctly
        let v: Record<string, unknown>;
        try {
          v = parseStrictJson(text, 'doc', 'BAD_INPUT') as Record<string, unknown>;
        } catch (e) {
          expect(e).toBeInstanceOf(CosignError);
          expect(new Set(decoded).size).toBeLessThan(decoded.length); // only for a real duplicate
          return;
        }
        expect(Object.keys(v).sort()).toEqual([...decoded].sort());
        decoded.forEach((k, i) => {
          expect(v[k]).toBe(i);
        });
      }),
      { numRuns: 20000 },
    );
  });
});
