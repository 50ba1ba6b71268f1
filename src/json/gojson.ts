/**
 * A JSON encoder that writes exactly what Go's `encoding/json` `json.Marshal` writes, so payloads,
 * manifests, configs and `cosign verify` output are byte-identical to cosign's.
 *
 * Go rules reproduced here (golang/go src/encoding/json/encode.go, Go ≥ 1.22):
 * - no white space at all;
 * - maps (plain JS objects, `Map`) have their keys sorted bytewise on the UTF-8 encoding;
 * - structs ({@link GoStruct}) keep their declared field order;
 * - strings: `"` `\` escaped, `\b \f \n \r \t` as short escapes, other bytes below 0x20 as `\u00xx`,
 *   `<` `>` `&` as `\u003c` `\u003e` `\u0026` (HTML escaping is on in `json.Marshal`), U+2028 and
 *   U+2029 as `\u2028` `\u2029`, everything else (including DEL and non-ASCII) verbatim;
 *   a lone UTF-16 surrogate is written as U+FFFD, which is what Go's decoder turns a lone
 *   `\ud800` escape into;
 * - float64 numbers: shortest round-trip digits, plain notation for 1e-6 ≤ |x| < 1e21, otherwise
 *   exponent notation without zero padding (`1e+21`, `1e-7`), `-0` stays `-0`; NaN and ±Infinity
 *   are refused (Go returns `UnsupportedValueError`);
 * - `bigint` is written as an exact integer (Go `int64`), `Uint8Array` as standard base64 (Go `[]byte`).
 *
 * @module
 */
import { fail } from '../errors.js';

/** A value {@link goMarshal} can encode. */
export type GoValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | GoStruct
  | readonly GoValue[]
  | ReadonlyMap<string, GoValue>
  | { readonly [key: string]: GoValue };

/**
 * A Go struct: fields are written in the given order (not sorted). Build one with {@link goStruct}.
 * Fields whose value is `undefined` are left out (like a Go field tagged `omitempty` that is empty).
 */
export class GoStruct {
  /** The fields, in declaration order. */
  readonly fields: ReadonlyArray<readonly [string, GoValue]>;

  /** @param fields field name / value pairs, in declaration order. */
  constructor(fields: ReadonlyArray<readonly [string, GoValue]>) {
    this.fields = fields;
  }
}

/**
 * Make a {@link GoStruct} (fixed key order) from `[name, value]` pairs.
 * Use pairs rather than an object literal: JS objects put integer-like keys first.
 */
export function goStruct(...fields: Array<readonly [string, GoValue]>): GoStruct {
  return new GoStruct(fields);
}

/** Options for {@link goMarshal}. */
export interface GoMarshalOptions {
  /** Escape `<`, `>` and `&` (Go's `json.Marshal` does; an `Encoder` with `SetEscapeHTML(false)` does not). Default true. */
  readonly escapeHTML?: boolean;
}

const MAX_DEPTH = 10_000;
const HEX = '0123456789abcdef';

/** Encode a JS string the way Go's `appendString` does. */
export function goQuote(s: string, escapeHTML = true): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c && !(escapeHTML && (c === 0x3c || c === 0x3e || c === 0x26))) continue;
      switch (c) {
        case 0x22:
          rep = '\\"';
          break;
        case 0x5c:
          rep = '\\\\';
          break;
        case 0x08:
          rep = '\\b';
          break;
        case 0x0c:
          rep = '\\f';
          break;
        case 0x0a:
          rep = '\\n';
          break;
        case 0x0d:
          rep = '\\r';
          break;
        case 0x09:
          rep = '\\t';
          break;
        default:
          rep = `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
      }
    } else if (c === 0x2028) {
      rep = '\\u2028';
    } else if (c === 0x2029) {
      rep = '\\u2029';
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid pair: copied verbatim
        continue;
      }
      rep = '\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      rep = '\ufffd';
    } else {
      continue;
    }
    out += s.slice(start, i) + rep;
    start = i + 1;
  }
  return out + s.slice(start) + '"';
}

/**
 * Format a float64 exactly like Go's `encoding/json` float encoder.
 * @throws CosignError `BAD_INPUT` for NaN and ±Infinity.
 */
export function goFormatFloat(n: number): string {
  if (!Number.isFinite(n)) throw fail('BAD_INPUT', `JSON cannot represent the number ${String(n)}`);
  if (Object.is(n, -0)) return '-0';
  // ECMAScript Number::toString uses the same shortest round-trip digits and the same plain/exponent
  // cut-offs (1e-6, 1e21) as Go's encoder, and writes exponents without zero padding like Go's clean-up.
  return String(n);
}

const utf8 = new TextEncoder();

/** Compare two strings by their UTF-8 bytes (Go's `sort.Strings` on map keys). */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(utf8.encode(a), utf8.encode(b));
}

function isPlainObject(v: object): v is { readonly [key: string]: GoValue } {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function encode(v: GoValue, escapeHTML: boolean, depth: number): string {
  if (depth > MAX_DEPTH) throw fail('BAD_INPUT', `JSON value nested deeper than ${MAX_DEPTH} levels`);
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return goFormatFloat(v);
    case 'bigint':
      return v.toString();
    case 'string':
      return goQuote(v, escapeHTML);
    case 'object':
      break;
    default:
      throw fail('BAD_INPUT', `cannot encode a ${typeof v} as JSON`);
  }
  if (v instanceof Uint8Array) return `"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"`;
  if (v instanceof GoStruct) {
    const parts: string[] = [];
    for (const [k, fv] of v.fields) {
      if (fv === undefined) continue;
      parts.push(`${goQuote(k, escapeHTML)}:${encode(fv, escapeHTML, depth + 1)}`);
    }
    return `{${parts.join(',')}}`;
  }
  if (Array.isArray(v)) {
    return `[${(v as readonly GoValue[]).map((x) => encode(x, escapeHTML, depth + 1)).join(',')}]`;
  }
  let entries: Array<[string, GoValue]>;
  if (v instanceof Map) {
    entries = [...(v as ReadonlyMap<string, GoValue>).entries()];
  } else if (isPlainObject(v)) {
    entries = Object.entries(v as { readonly [key: string]: GoValue });
  } else {
    throw fail('BAD_INPUT', 'cannot encode this object as JSON (use a plain object, Map, array, Uint8Array or GoStruct)');
  }
  for (const [k] of entries) {
    if (typeof k !== 'string') throw fail('BAD_INPUT', 'JSON map keys must be strings');
  }
  entries = entries.filter(([, x]) => x !== undefined);
  entries.sort((a, b) => compareUtf8(a[0], b[0]));
  return `{${entries.map(([k, x]) => `${goQuote(k, escapeHTML)}:${encode(x, escapeHTML, depth + 1)}`).join(',')}}`;
}

/**
 * Encode `value` as Go's `json.Marshal` would: compact, maps sorted bytewise, structs in field order,
 * Go's string escaping and float formatting. Map entries and struct fields whose value is `undefined`
 * are left out; `undefined` inside an array is written as `null`.
 * @throws CosignError `BAD_INPUT` for values JSON cannot hold (NaN, functions, class instances, nesting over 10 000).
 */
export function goMarshal(value: GoValue, options: GoMarshalOptions = {}): string {
  return encode(value, options.escapeHTML ?? true, 0);
}

/**
 * Encode `value` as Go's `json.MarshalIndent(value, "", indent)`: {@link goMarshal}'s output with each
 * element on its own line, `": "` after keys, empty objects and arrays kept as `{}` and `[]`, and no
 * final newline (Go's `json.Indent`).
 */
export function goMarshalIndent(value: GoValue, indent: string, options: GoMarshalOptions = {}): string {
  const compact = goMarshal(value, options);
  let out = '';
  let depth = 0;
  let inString = false;
  let pendingOpen = false;
  const newline = (): string => `\n${indent.repeat(depth)}`;
  for (let i = 0; i < compact.length; i++) {
    const c = compact[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += compact[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (pendingOpen && c !== '}' && c !== ']') {
      pendingOpen = false;
      out += newline();
    }
    switch (c) {
      case '"':
        inString = true;
        out += c;
        break;
      case '{':
      case '[':
        depth++;
        pendingOpen = true;
        out += c;
        break;
      case '}':
      case ']':
        depth--;
        if (pendingOpen) pendingOpen = false;
        else out += newline();
        out += c;
        break;
      case ',':
        out += `,${newline()}`;
        break;
      case ':':
        out += ': ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

/** {@link goMarshal} as UTF-8 bytes. */
export function goMarshalBytes(value: GoValue, options: GoMarshalOptions = {}): Uint8Array {
  return utf8.encode(goMarshal(value, options));
}
