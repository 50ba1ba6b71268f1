/**
 * A strict, iterative JSON (RFC 8259) parser used where `JSON.parse` cannot be trusted.
 *
 * Why: V8 in Node 24.21 mis-decodes object keys that contain escape sequences once the parser is warm
 * (for example `{"\u0061":1}` can come back with the key `\`), while string values are decoded
 * correctly. Untrusted documents whose keys contain a backslash are therefore parsed here instead.
 * This parser also reports duplicate keys (comparing keys as Go decodes them: a lone surrogate escape is
 * U+FFFD) and enforces a nesting limit, like the fast path does.
 *
 * Objects are built with own data properties, so `__proto__` is an ordinary key (as with `JSON.parse`).
 *
 * @module
 */
import { fail, type CosignErrorCode } from './errors.js';

type Container = { readonly kind: 'object'; readonly value: Record<string, unknown>; readonly keys: Set<string>; key: string | undefined } | { readonly kind: 'array'; readonly value: unknown[] };

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Object keys are compared as Go sees them: a lone surrogate escape decodes to U+FFFD. */
function goKey(key: string): string {
  return key.replace(LONE_SURROGATE, '\ufffd');
}

function define(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Parse JSON text strictly. Throws `code` on any syntax error, on a duplicate key in any object, and
 * when nesting exceeds `maxDepth`.
 */
export function parseJsonStrictSlow(text: string, what: string, code: CosignErrorCode, maxDepth = 10_000): unknown {
  let i = 0;
  const n = text.length;
  const err = (msg: string): never => {
    throw fail(code, `${what}: not valid JSON (${msg} at position ${i})`);
  };
  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const parseString = (): string => {
    // text[i] is the opening quote
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) err('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) err('control character in string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) err('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          err('bad escape');
      }
      i += 2;
      start = i;
    }
  };
  /** Read `"key" :` into the object on top of the stack, refusing a duplicate. */
  const readKey = (top: Container & { kind: 'object' }): void => {
    if (text[i] !== '"') err('expected a key');
    const key = goKey(parseString());
    if (top.keys.has(key)) throw fail(code, `${what}: duplicate key ${JSON.stringify(key)}`);
    top.keys.add(key);
    top.key = key;
    ws();
    if (text[i] !== ':') err('expected :');
    i++;
  };
  const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  const parseScalar = (): unknown => {
    const c = text[i];
    if (c === '"') return parseString();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null || m[0].length === 0) return err('unexpected character');
    i += m[0].length;
    return Number(m[0]);
  };

  const stack: Container[] = [];
  let root: unknown;
  let haveRoot = false;
  const attach = (value: unknown): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      root = value;
      haveRoot = true;
    } else if (top.kind === 'array') {
      top.value.push(value);
    } else {
      define(top.value, top.key as string, value);
      top.key = undefined;
    }
  };
  ws();
  for (;;) {
    // Expect a value.
    ws();
    const c = text[i];
    let opened = false;
    if (c === '{' || c === '[') {
      if (stack.length >= maxDepth) throw fail(code, `${what}: nested deeper than ${maxDepth} levels`);
      i++;
      ws();
      if (c === '{') {
        const obj: Record<string, unknown> = {};
        if (text[i] === '}') {
          i++;
          attach(obj);
        } else {
          stack.push({ kind: 'object', value: obj, keys: new Set(), key: undefined });
          opened = true;
        }
      } else {
        const arr: unknown[] = [];
        if (text[i] === ']') {
          i++;
          attach(arr);
        } else {
          stack.push({ kind: 'array', value: arr });
          opened = true;
        }
      }
    } else if (c === undefined) {
      err('unexpected end');
    } else {
      attach(parseScalar());
    }
    if (opened) {
      const top = stack[stack.length - 1]!;
      if (top.kind === 'object') readKey(top);
      continue;
    }
    // After a value: close containers or move to the next element.
    for (;;) {
      ws();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (i !== n) err('unexpected data after the document');
        if (!haveRoot) err('no value');
        return root;
      }
      const d = text[i];
      if (d === ',') {
        i++;
        ws();
        if (top.kind === 'object') readKey(top);
        break;
      }
      if ((d === '}' && top.kind === 'object') || (d === ']' && top.kind === 'array')) {
        i++;
        stack.pop();
        attach(top.value);
        continue;
      }
      err('expected , or a closing bracket');
    }
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Deepest JSON nesting accepted (Go's `encoding/json` refuses more than 10 000 levels). */
export const MAX_JSON_DEPTH = 10_000;

/** Decode strict UTF-8 without swallowing a byte-order mark (Go's JSON decoder refuses one). */
export function decodeUtf8Strict(data: Uint8Array, what: string, code: CosignErrorCode): string {
  try {
    // One shared decoder: without `stream`, each decode() starts afresh, and creating a decoder per
    // call costs more than decoding a signature manifest.
    return STRICT_UTF8.decode(data);
  } catch (cause) {
    throw fail(code, `${what}: not valid UTF-8`, { cause });
  }
}

/**
 * Parse untrusted JSON text like Go would accept it, but stricter: no duplicate keys, no numbers
 * that overflow float64, nesting at most 10 000 deep.
 */
export function parseStrictJson(text: string, what: string, code: CosignErrorCode): unknown {
  const keys = scanJsonKeys(text);
  let value: unknown;
  if (keys.escaped) {
    // V8 (Node 24.21) can mis-decode escaped object keys: parse such documents ourselves.
    value = parseJsonStrictSlow(text, what, code, MAX_JSON_DEPTH);
  } else {
    try {
      value = JSON.parse(text) as unknown;
    } catch (cause) {
      throw fail(code, `${what}: not valid JSON (${(cause as Error).message})`, { cause });
    }
  }
  // Iterative walk: depth limit, finite numbers, and the number of object members the parser kept.
  let members = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) throw fail(code, `${what}: number out of float64 range`);
    if (v !== null && typeof v === 'object') {
      if (depth >= MAX_JSON_DEPTH) throw fail(code, `${what}: nested deeper than ${MAX_JSON_DEPTH} levels`);
      if (Array.isArray(v)) {
        for (const x of v) stack.push([x, depth + 1]);
      } else {
        const ks = Object.keys(v);
        members += ks.length;
        for (const k of ks) stack.push([(v as Record<string, unknown>)[k], depth + 1]);
      }
    }
  }
  // JSON.parse keeps the last of duplicate keys, so the text has more keys than the value has members
  // exactly when some object repeats a key. Only then run the slower scanner, for its precise message.
  if (keys.count !== members) {
    assertNoDuplicateKeys(text, what, code);
    throw fail(code, `${what}: duplicate key`);
  }
  return value;
}

/**
 * Count the object keys in JSON text (strings followed, after white space, by `:`) and note whether
 * any key contains a backslash. Exact for valid JSON; for invalid text the result only has to send
 * it to a parser that reports the error (`escaped` is set when the text cannot be scanned).
 */
function scanJsonKeys(text: string): { count: number; escaped: boolean } {
  let count = 0;
  let escaped = false;
  let i = text.indexOf('"');
  while (i >= 0) {
    let end = text.indexOf('"', i + 1);
    for (;;) {
      if (end < 0) return { count: -1, escaped: true };
      let backslashes = 0;
      while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
      if (backslashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    let j = end + 1;
    let c = text.charCodeAt(j);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++j);
    if (c === 0x3a) {
      count++;
      if (!escaped && text.slice(i + 1, end).includes('\\')) escaped = true;
    }
    i = text.indexOf('"', j);
  }
  return { count, escaped };
}

/**
 * Throw `code` if `text` (a JSON document) has an object with a repeated key anywhere.
 * Go's encoding/json silently keeps the last duplicate; containers/image rejects them, and so do we:
 * a signature only counts when it is unambiguous.
 */
export function assertNoDuplicateKeys(text: string, what: string, code: CosignErrorCode = 'BAD_INPUT'): void {
  // A small scanner over valid JSON (call after JSON.parse succeeded).
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack[stack.length - 1];
        if (keys instanceof Set) {
          if (keys.has(key)) throw fail(code, `${what}: duplicate key ${JSON.stringify(key)}`);
          keys.add(key);
        }
        expectKey = false;
      }
      i = j;
    }
  }
}

/**
 * Thrown by {@link PlainJsonReader} when the text leaves the subset it reads. Never escapes a fast
 * path: the caller catches it and runs the full parser and schema, which then give exactly the result
 * or error they always gave.
 */
export const OFF_FAST_PATH: unique symbol = Symbol('off the JSON fast path');

/** A control character: never raw inside a JSON string, and not white space the reader skips. */
const CONTROL = /[\u0000-\u001f]/;

/** True when `s` has a control character (U+0000–U+001F), which JSON strings may not hold raw. */
export function hasControlCharacter(s: string): boolean {
  return CONTROL.test(s);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Most digits {@link PlainJsonReader.integer} reads: up to 15 digits every integer is exact in a double. */
const MAX_INTEGER_DIGITS = 15;

/**
 * A forward-only reader for the plain JSON that cosign and registries write (compact), used by
 * shape-specific fast paths in front of `parseStrictJson` + zod. It reads a strict subset of RFC 8259:
 * strings (escapes only in values, not in keys), integers of at most 15 digits, `null`, `true`,
 * `false`, and white space between tokens. Anything else throws {@link OFF_FAST_PATH}.
 *
 * Keys never contain an escape here, so they are compared exactly as Go (and the slow path) compare
 * them; the text comes from a strict UTF-8 decoder, so it has no lone surrogates. A value with escapes
 * (a PEM certificate, a bundle's JSON) is decoded by `JSON.parse` of that one string token, which
 * decodes values correctly (V8's bug is with escaped object keys) and gives exactly the string the
 * whole-document parse would. Duplicate keys are the caller's to detect (it knows which keys it expects).
 *
 * Control characters are looked for only where they could pass unnoticed: {@link PlainJsonReader.string}
 * and {@link PlainJsonReader.mapKey} check, {@link PlainJsonReader.keyIn} only matches given names, and
 * {@link PlainJsonReader.token} leaves it to the caller, who must compare the result with fixed names
 * or a pattern without control characters (scanning a whole manifest costs more than the rest of the reader).
 */
export class PlainJsonReader {
  readonly #text: string;
  /** Whether the text has a backslash anywhere: if not, every `"` ends a string. */
  readonly #escapes: boolean;
  #i = 0;

  private constructor(text: string) {
    this.#text = text;
    this.#escapes = text.includes('\\');
  }

  /** A reader over `text`. */
  static over(text: string): PlainJsonReader {
    return new PlainJsonReader(text);
  }

  /** Skip JSON white space and return the next char code (NaN at the end). */
  #peek(): number {
    let c = this.#text.charCodeAt(this.#i);
    while (c <= SPACE && (c === SPACE || c === LF || c === CR || c === TAB)) c = this.#text.charCodeAt(++this.#i);
    return c;
  }

  /** Consume `c` (after white space) or leave the fast path. */
  #expect(c: number): void {
    if (this.#peek() !== c) throw OFF_FAST_PATH;
    this.#i++;
  }

  /** Consume `c` (after white space) if it is next. */
  #accept(c: number): boolean {
    if (this.#peek() !== c) return false;
    this.#i++;
    return true;
  }

  /** After a member or element: true at `,` (another follows), false at `close` (consumed). */
  #more(close: number): boolean {
    const c = this.#peek();
    this.#i++;
    if (c === COMMA) return true;
    if (c === close) return false;
    throw OFF_FAST_PATH;
  }

  /** Consume `{`; false when the object is empty (its `}` is consumed too). Loop with {@link PlainJsonReader.objectNext}. */
  objectStart(): boolean {
    this.#expect(OPEN_OBJECT);
    return !this.#accept(CLOSE_OBJECT);
  }

  /** After a member: true at `,` (read the next key), false at `}` (consumed). */
  objectNext(): boolean {
    return this.#more(CLOSE_OBJECT);
  }

  /** Consume `[`; false when the array is empty (its `]` is consumed too). Loop with {@link PlainJsonReader.arrayNext}. */
  arrayStart(): boolean {
    this.#expect(OPEN_ARRAY);
    return !this.#accept(CLOSE_ARRAY);
  }

  /** After an element: true at `,`, false at `]` (consumed). */
  arrayNext(): boolean {
    return this.#more(CLOSE_ARRAY);
  }

  /** True when the next value is a string. */
  atString(): boolean {
    return this.#peek() === QUOTE;
  }

  /** Read a string value: escapes are decoded; a raw control character leaves the fast path. */
  string(): string {
    const start = this.#skipString();
    const end = this.#i - 1;
    const s = this.#text.slice(start, end);
    if (this.#escapes && s.includes('\\')) return decodeStringToken(this.#text.slice(start - 1, end + 1));
    if (hasControlCharacter(s)) throw OFF_FAST_PATH;
    return s;
  }

  /**
   * Read a string without escapes, and without looking for control characters: only for values the
   * caller then compares with fixed strings or checks with a pattern that refuses control characters
   * (a digest, a media type).
   */
  token(): string {
    const start = this.#skipString();
    const s = this.#text.slice(start, this.#i - 1);
    if (this.#escapes && s.includes('\\')) throw OFF_FAST_PATH;
    return s;
  }

  /**
   * Read a string that `isValidAt(text, start, end)` accepts (checked in the document, before slicing),
   * else leave the fast path. For patterns that exclude control characters and backslashes (a digest).
   */
  tokenMatching(isValidAt: (text: string, start: number, end: number) => boolean): string {
    const start = this.#skipString();
    const end = this.#i - 1;
    if (!isValidAt(this.#text, start, end)) throw OFF_FAST_PATH;
    return this.#text.slice(start, end);
  }

  /** Consume the string at the cursor; returns where its content starts (it ends before the closing quote, at the cursor - 1). */
  #skipString(): number {
    if (this.#peek() !== QUOTE) throw OFF_FAST_PATH;
    const t = this.#text;
    const start = this.#i + 1;
    let end = t.indexOf('"', start);
    // A quote preceded by an odd number of backslashes is escaped (the run stops at the opening quote).
    while (this.#escapes && end > 0 && isEscaped(t, end)) end = t.indexOf('"', end + 1);
    if (end < 0) throw OFF_FAST_PATH;
    this.#i = end + 1;
    return start;
  }

  /**
   * Read an object key that must be one of `names` and the `:` after it; returns the entry of `names`
   * (the caller's own string constant, so a `switch` on it compares cheaply), or leaves the fast path
   * for any other key. Matched in place: no string is made. List the names in the order they are
   * usually written.
   */
  keyIn(names: readonly string[]): string {
    if (this.#peek() !== QUOTE) throw OFF_FAST_PATH;
    const t = this.#text;
    const at = this.#i + 1;
    for (let n = 0; n < names.length; n++) {
      const name = names[n] as string;
      if (t.charCodeAt(at + name.length) === QUOTE && matchesAt(t, at, name)) {
        this.#i = at + name.length + 1;
        this.#expect(COLON);
        return name;
      }
    }
    throw OFF_FAST_PATH;
  }

  /** Read a free-form object key (a map's, no escapes) and the `:` after it; a control character leaves the fast path. */
  mapKey(): string {
    const k = this.token();
    if (hasControlCharacter(k)) throw OFF_FAST_PATH;
    this.#expect(COLON);
    return k;
  }

  /** Read a JSON integer (`-?(0|[1-9][0-9]*)`, at most 15 digits); a fraction or exponent is left unread, so the caller's next token check fails. */
  integer(allowNegative: boolean): number {
    let c = this.#peek();
    const negative = c === MINUS;
    if (negative) {
      if (!allowNegative) throw OFF_FAST_PATH;
      c = this.#text.charCodeAt(++this.#i);
    }
    const start = this.#i;
    let n = 0;
    while (c >= DIGIT_0 && c <= DIGIT_9) {
      n = n * 10 + (c - DIGIT_0);
      c = this.#text.charCodeAt(++this.#i);
    }
    const digits = this.#i - start;
    // No digits, a leading zero (`01`), or more digits than a double holds exactly.
    if (digits === 0 || digits > MAX_INTEGER_DIGITS || (digits > 1 && this.#text.charCodeAt(start) === DIGIT_0)) throw OFF_FAST_PATH;
    return negative ? -n : n;
  }

  /** Read `null`, `true` or `false` if one is next (returns undefined when none is). */
  literal(): null | boolean | undefined {
    const c = this.#peek();
    const t = this.#text;
    if (c === 0x6e && t.startsWith('null', this.#i)) {
      this.#i += 4;
      return null;
    }
    if (c === 0x74 && t.startsWith('true', this.#i)) {
      this.#i += 4;
      return true;
    }
    if (c === 0x66 && t.startsWith('false', this.#i)) {
      this.#i += 5;
      return false;
    }
    return undefined;
  }

  /** Require the end of the text (after white space). */
  end(): void {
    this.#peek();
    if (this.#i !== this.#text.length) throw OFF_FAST_PATH;
  }
}

/** `text.startsWith(name, at)` as a loop: several times faster for the short keys of a document. */
function matchesAt(text: string, at: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    if (text.charCodeAt(at + i) !== name.charCodeAt(i)) return false;
  }
  return true;
}

/** True when the quote at `at` is preceded by an odd number of backslashes. */
function isEscaped(text: string, at: number): boolean {
  let n = 0;
  while (text.charCodeAt(at - 1 - n) === BACKSLASH) n++;
  return n % 2 === 1;
}

/** Decode one JSON string token (quotes included) that has escapes; invalid leaves the fast path. */
function decodeStringToken(token: string): string {
  try {
    return JSON.parse(token) as string;
  } catch {
    throw OFF_FAST_PATH;
  }
}

/**
 * Run a fast-path reader over `text`: its result, or undefined when the text is not plain JSON or the
 * reader left the fast path (the caller then parses with `parseStrictJson` and its schema).
 */
export function readPlainJson<T>(text: string, read: (r: PlainJsonReader) => T): T | undefined {
  const r = PlainJsonReader.over(text);
  try {
    const value = read(r);
    r.end();
    return value;
  } catch (e) {
    if (e === OFF_FAST_PATH) return undefined;
    throw e;
  }
}
