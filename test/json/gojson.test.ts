import { describe, expect, it } from 'vitest';
import { compareUtf8, goFormatFloat, goMarshal, goQuote, goStruct } from '../../src/json/gojson.js';

describe('goQuote (Go encoding/json string escaping)', () => {
  it('escapes HTML characters and the JS line separators', () => {
    expect(goQuote('<a href="x">&</a>')).toBe('"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"');
    expect(goQuote('\u2028\u2029')).toBe('"\\u2028\\u2029"');
    expect(goQuote('<&>', false)).toBe('"<&>"');
  });

  it('uses short escapes for \\b \\f \\n \\r \\t and \\u00xx for other control characters', () => {
    expect(goQuote('\b\f\n\r\t')).toBe('"\\b\\f\\n\\r\\t"');
    expect(goQuote('\u0000\u0001\u001f')).toBe('"\\u0000\\u0001\\u001f"');
    expect(goQuote('"\\')).toBe('"\\"\\\\"');
  });

  it('leaves DEL, non-ASCII and astral characters as they are', () => {
    expect(goQuote('\u007fé€😀')).toBe('"\u007fé€😀"');
  });

  it('writes a lone surrogate as U+FFFD (what Go decodes \\ud800 into)', () => {
    expect(goQuote('a\ud800b')).toBe('"a\ufffdb"');
    expect(goQuote('\udc00')).toBe('"\ufffd"');
    expect(goQuote('\ud83d\ude00')).toBe('"😀"');
  });
});

describe('goFormatFloat (Go float64 encoding)', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-1.5, '-1.5'],
    [1657296609, '1657296609'],
    [1e20, '100000000000000000000'],
    [1e21, '1e+21'],
    [1.5e300, '1.5e+300'],
    [0.000001, '0.000001'],
    [1e-7, '1e-7'],
    [1.2345e-7, '1.2345e-7'],
    [5e-324, '5e-324'],
    [0.1 + 0.2, '0.30000000000000004'],
    [12345678901234567890, '12345678901234567000'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
  ];
  for (const [n, s] of cases) it(`${String(n)} → ${s}`, () => expect(goFormatFloat(n)).toBe(s));

  it('refuses NaN and infinities', () => {
    expect(() => goFormatFloat(Number.NaN)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => goFormatFloat(Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});

describe('goMarshal', () => {
  it('sorts map keys bytewise on UTF-8, at every level', () => {
    expect(goMarshal({ b: 1, a: { d: 1, c: 2 }, B: 0 })).toBe('{"B":0,"a":{"c":2,"d":1},"b":1}');
    // U+FF5E (3 UTF-8 bytes, EF…) sorts before U+1F600 (4 bytes, F0…), the opposite of UTF-16 order.
    expect(compareUtf8('\uff5e', '😀')).toBeLessThan(0);
    expect('\uff5e' < '😀').toBe(false);
    expect(goMarshal({ '😀': 1, '\uff5e': 2 })).toBe('{"\uff5e":2,"😀":1}');
    expect(goMarshal({ 10: 'a', 9: 'b', a: 'c' })).toBe('{"10":"a","9":"b","a":"c"}');
  });

  it('keeps struct field order and drops undefined fields', () => {
    expect(goMarshal(goStruct(['z', 1], ['a', undefined], ['m', null]))).toBe('{"z":1,"m":null}');
    expect(goMarshal(goStruct())).toBe('{}');
  });

  it('encodes the other Go types', () => {
    expect(goMarshal(null)).toBe('null');
    expect(goMarshal([true, false, null, undefined])).toBe('[true,false,null,null]');
    expect(goMarshal(new Uint8Array([0xfb, 0xff]))).toBe('"+/8="');
    expect(goMarshal(9007199254740993n)).toBe('9007199254740993');
    expect(
      goMarshal(
        new Map([
          ['b', 1],
          ['a', 2],
        ]),
      ),
    ).toBe('{"a":2,"b":1}');
    expect(goMarshal([])).toBe('[]');
    expect(goMarshal({})).toBe('{}');
  });

  it('escapes map keys like strings', () => {
    expect(goMarshal({ '<k>': '&' })).toBe('{"\\u003ck\\u003e":"\\u0026"}');
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => goMarshal({ f: Number.NaN })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => goMarshal(new Date(0) as never)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => goMarshal((() => 1) as never)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});
