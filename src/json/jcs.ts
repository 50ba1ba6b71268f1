/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), used for Rekor signed entry timestamps.
 *
 * Object members are sorted by their names as UTF-16 code-unit sequences, strings and numbers are
 * serialised as ECMAScript's `JSON.stringify` does (which is what RFC 8785 specifies), no white space.
 *
 * @module
 */
import { fail } from '../errors.js';

const MAX_DEPTH = 1000;

function canon(v: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw fail('BAD_INPUT', `JSON value nested deeper than ${MAX_DEPTH} levels`);
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw fail('BAD_INPUT', `JCS cannot represent the number ${String(v)}`);
      return JSON.stringify(v);
    case 'string':
      return JSON.stringify(v);
    case 'object':
      break;
    default:
      throw fail('BAD_INPUT', `JCS cannot represent a ${typeof v}`);
  }
  if (Array.isArray(v)) return `[${v.map((x) => canon(x, depth + 1)).join(',')}]`;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) throw fail('BAD_INPUT', 'JCS input must be plain JSON data');
  const keys = Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
  // Default string comparison in JS is by UTF-16 code units, exactly what RFC 8785 §3.2.3 asks for.
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`;
}

/**
 * Canonical JSON text (RFC 8785) of plain JSON data (`null`, booleans, finite numbers, strings, arrays,
 * plain objects). Object members whose value is `undefined` are left out.
 * @throws CosignError `BAD_INPUT` for anything else.
 */
export function canonicalJson(value: unknown): string {
  return canon(value, 0);
}
