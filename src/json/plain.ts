/**
 * The JSON fast path: one table-driven reader for the compact documents cosign and registries write
 * (signature manifests, simple-signing payloads). It answers exactly what `parseStrictJson` + the
 * document's zod schema answer, or steps aside so that checked path runs.
 *
 * @module
 */
/** Thrown inside {@link readPlainJson} when the text leaves what its shape describes; never escapes it. */
const OFF_FAST_PATH: unique symbol = Symbol('off the JSON fast path');

/**
 * What one value of a {@link PlainShape} may be. Every kind accepts only values the document's checked
 * path (`parseStrictJson` + its zod schema) accepts unchanged.
 */
export type PlainKind =
  /** A string (escapes decoded; a raw control character leaves the fast path). */
  | { readonly t: 'string' }
  /**
   * A string without escapes that `valid(text, start, end)` accepts, checked in the document before it
   * is sliced out. `valid` must refuse control characters and backslashes (a digest).
   */
  | { readonly t: 'token'; readonly valid: (text: string, start: number, end: number) => boolean }
  /** An integer of at most 15 digits (every one is exact in a double), from `min` to `max` when given. */
  | { readonly t: 'integer'; readonly min?: number; readonly max?: number }
  /** An object of strings (annotations). */
  | { readonly t: 'strings' }
  /** `null`, or an object of strings, integers (at most 15 digits), booleans and `null`s (a payload's `optional`). */
  | { readonly t: 'scalarsOrNull' }
  /** An object with these members. */
  | { readonly t: 'object'; readonly shape: PlainShape }
  /** An array of values of one kind. */
  | { readonly t: 'array'; readonly of: PlainKind };

/** One member of a {@link PlainShape}: its kind, and whether it may be absent. */
export interface PlainField {
  readonly kind: PlainKind;
  readonly optional: boolean;
}

/** The members an object may have, in the order they are usually written. No other key is read. */
export interface PlainShape {
  readonly keys: readonly string[];
  readonly fields: readonly PlainField[];
  /** Bit mask of the members that must be present. */
  readonly required: number;
}

/** Builders of {@link PlainKind} values and {@link PlainShape}s: one small table per document. */
export const plain = {
  string: { t: 'string' } as PlainKind,
  strings: { t: 'strings' } as PlainKind,
  scalarsOrNull: { t: 'scalarsOrNull' } as PlainKind,
  token: (valid: (text: string, start: number, end: number) => boolean): PlainKind => ({ t: 'token', valid }),
  integer: (min?: number, max?: number): PlainKind => ({ t: 'integer', ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) }),
  array: (of: PlainKind): PlainKind => ({ t: 'array', of }),
  /** A member that may be absent. */
  optional: (kind: PlainKind): PlainField => ({ kind, optional: true }),
  /** An object: member name → kind (required) or {@link plain.optional}(kind). At most 31 members. */
  object(members: Readonly<Record<string, PlainKind | PlainField>>): PlainKind & { readonly t: 'object' } {
    const keys = Object.keys(members);
    if (keys.length > 31 || keys.includes('__proto__')) throw new Error('plain.object: at most 31 members, no __proto__');
    const fields = keys.map((k) => {
      const m = members[k] as PlainKind | PlainField;
      return 'optional' in m ? m : { kind: m, optional: false };
    });
    let required = 0;
    fields.forEach((f, i) => {
      if (!f.optional) required |= 1 << i;
    });
    return { t: 'object', shape: { keys, fields, required } };
  },
};

/** A control character: never raw inside a JSON string, and not white space the reader skips. */
const CONTROL = /[\u0000-\u001f]/;

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

/** Most digits of an integer read: up to 15 digits every integer is exact in a double. */
const MAX_INTEGER_DIGITS = 15;

/**
 * A fast path in front of `parseStrictJson` + a zod schema, for the compact JSON that cosign and
 * registries write: reads `text` as the object `shape` describes and returns exactly the value
 * `parseStrictJson(text)` returns (same keys in the same order, same values), or undefined when the text
 * leaves the shape (another key, a duplicate, a missing member, another kind of value, a number that is
 * not a short integer, an escape in a key, `__proto__` as a map key), in which case the caller runs the
 * checked path, which gives its result or error as always. Every value the shape admits is one the
 * document's schema accepts, so the caller need not run the schema on what this returns.
 *
 * Keys never contain an escape here, so they are compared exactly as Go (and the checked path) compare
 * them; the text comes from a strict UTF-8 decoder, so it has no lone surrogates. A string value with
 * escapes (a PEM certificate, a bundle's JSON) is decoded by `JSON.parse` of that one string token,
 * which decodes values correctly (V8's bug, see `parseStrictJson`, is with escaped object keys).
 */
export function readPlainJson(text: string, shape: PlainKind & { readonly t: 'object' }): Record<string, unknown> | undefined {
  const r = new PlainReader(text);
  try {
    const value = r.object(shape.shape);
    r.end();
    return value;
  } catch (e) {
    if (e === OFF_FAST_PATH) return undefined;
    throw e;
  }
}

/** The cursor of {@link readPlainJson}. Any departure from the shape throws {@link OFF_FAST_PATH}. */
class PlainReader {
  readonly #text: string;
  /** Whether the text has a backslash anywhere: if not, every `"` ends a string. */
  readonly #escapes: boolean;
  #i = 0;

  constructor(text: string) {
    this.#text = text;
    this.#escapes = text.includes('\\');
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

  value(kind: PlainKind): unknown {
    switch (kind.t) {
      case 'string':
        return this.#string();
      case 'token': {
        const start = this.#skipString();
        const end = this.#i - 1;
        if (!kind.valid(this.#text, start, end)) throw OFF_FAST_PATH;
        return this.#text.slice(start, end);
      }
      case 'integer': {
        const n = this.#integer();
        if ((kind.min !== undefined && n < kind.min) || (kind.max !== undefined && n > kind.max)) throw OFF_FAST_PATH;
        return n;
      }
      case 'strings':
        return this.#map(false);
      case 'scalarsOrNull':
        if (this.#literal() === null) return null;
        return this.#map(true);
      case 'object':
        return this.object(kind.shape);
      case 'array': {
        const out: unknown[] = [];
        this.#expect(OPEN_ARRAY);
        if (this.#accept(CLOSE_ARRAY)) return out;
        do out.push(this.value(kind.of));
        while (this.#more(CLOSE_ARRAY));
        return out;
      }
    }
  }

  /** An object of `shape`: each member at most once, every required one present, built in text order. */
  object(shape: PlainShape): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let seen = 0;
    this.#expect(OPEN_OBJECT);
    if (!this.#accept(CLOSE_OBJECT)) {
      do {
        const n = this.#key(shape.keys);
        const bit = 1 << n;
        if ((seen & bit) !== 0) throw OFF_FAST_PATH;
        seen |= bit;
        out[shape.keys[n] as string] = this.value((shape.fields[n] as PlainField).kind);
      } while (this.#more(CLOSE_OBJECT));
    }
    if ((seen & shape.required) !== shape.required) throw OFF_FAST_PATH;
    return out;
  }

  /** An object of strings, or (`scalars`) of strings, short integers, booleans and nulls. */
  #map(scalars: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.#expect(OPEN_OBJECT);
    if (this.#accept(CLOSE_OBJECT)) return out;
    do {
      const start = this.#skipString();
      const k = this.#text.slice(start, this.#i - 1);
      // `out[k] = …` with `__proto__` would set the prototype; JSON.parse makes an own key.
      if ((this.#escapes && k.includes('\\')) || CONTROL.test(k) || k === '__proto__' || Object.hasOwn(out, k)) throw OFF_FAST_PATH;
      this.#expect(COLON);
      if (!scalars || this.#peek() === QUOTE) {
        out[k] = this.#string();
      } else {
        const literal = this.#literal();
        out[k] = literal === undefined ? this.#integer() : literal;
      }
    } while (this.#more(CLOSE_OBJECT));
    return out;
  }

  /** Read a key that must be one of `keys`, and the `:` after it; returns its index. Matched in place: no string is made. */
  #key(keys: readonly string[]): number {
    if (this.#peek() !== QUOTE) throw OFF_FAST_PATH;
    const t = this.#text;
    const at = this.#i + 1;
    for (let n = 0; n < keys.length; n++) {
      const name = keys[n] as string;
      if (t.charCodeAt(at + name.length) === QUOTE && matchesAt(t, at, name)) {
        this.#i = at + name.length + 1;
        this.#expect(COLON);
        return n;
      }
    }
    throw OFF_FAST_PATH;
  }

  /** A string value: escapes are decoded; a raw control character leaves the fast path. */
  #string(): string {
    const start = this.#skipString();
    const end = this.#i - 1;
    const s = this.#text.slice(start, end);
    if (this.#escapes && s.includes('\\')) return decodeStringToken(this.#text.slice(start - 1, end + 1));
    if (CONTROL.test(s)) throw OFF_FAST_PATH;
    return s;
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

  /** A JSON integer (`-?(0|[1-9][0-9]*)`, at most 15 digits); a fraction or exponent is left unread, so the next token check fails. */
  #integer(): number {
    let c = this.#peek();
    const negative = c === MINUS;
    if (negative) c = this.#text.charCodeAt(++this.#i);
    const start = this.#i;
    let n = 0;
    while (c >= DIGIT_0 && c <= DIGIT_9) {
      n = n * 10 + (c - DIGIT_0);
      c = this.#text.charCodeAt(++this.#i);
    }
    const digits = this.#i - start;
    // No digits, a leading zero (`01`), more digits than a double holds exactly.
    if (digits === 0 || digits > MAX_INTEGER_DIGITS || (digits > 1 && this.#text.charCodeAt(start) === DIGIT_0)) throw OFF_FAST_PATH;
    return negative ? -n : n;
  }

  /** `null`, `true` or `false` if one is next (undefined when none is). */
  #literal(): null | boolean | undefined {
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
