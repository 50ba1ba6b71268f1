import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/json/jcs.js';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts by UTF-16 code units and uses ECMAScript number and string forms', () => {
    expect(canonicalJson({ b: 1, a: [1e21, -0, 0.5, 'x<'], '😀': 1, '\uff5e': 2 })).toBe('{"a":[1e+21,0,0.5,"x<"],"b":1,"😀":1,"\uff5e":2}');
    expect(canonicalJson({ body: 'QQ==', integratedTime: 1, logIndex: 2, logID: 'ab' })).toBe('{"body":"QQ==","integratedTime":1,"logID":"ab","logIndex":2}');
  });

  it('refuses non-JSON values', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => canonicalJson(new Date(0))).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});
