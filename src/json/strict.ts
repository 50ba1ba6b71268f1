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
import { fail, type CosignErrorCode } from '../errors.js';

type Container =
  | { readonly kind: 'object'; readonly value: Record<string, unknown>; readonly keys: Set<string>; key: string | undefined }
  | { readonly kind: 'array'; readonly value: unknown[] };

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
  // Two parallel stacks (values, depths) rather than a tuple per value: no garbage per node.
  let members = 0;
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop() as number;
    if (typeof v === 'number' && !Number.isFinite(v)) throw fail(code, `${what}: number out of float64 range`);
    if (v !== null && typeof v === 'object') {
      if (depth >= MAX_JSON_DEPTH) throw fail(code, `${what}: nested deeper than ${MAX_JSON_DEPTH} levels`);
      if (Array.isArray(v)) {
        for (const x of v) {
          if (x !== null && typeof x === 'object') {
            values.push(x);
            depths.push(depth + 1);
          } else if (typeof x === 'number' && !Number.isFinite(x)) throw fail(code, `${what}: number out of float64 range`);
        }
      } else {
        for (const k in v) {
          members++;
          const x = (v as Record<string, unknown>)[k];
          if (x !== null && typeof x === 'object') {
            values.push(x);
            depths.push(depth + 1);
          } else if (typeof x === 'number' && !Number.isFinite(x)) throw fail(code, `${what}: number out of float64 range`);
        }
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
 * Parse untrusted JSON from bytes or a string, turning any failure into a typed error: strict UTF-8
 * (no byte-order mark), no duplicate keys, nesting limit. Uses {@link parseStrictJson}, which also
 * works around a V8 bug in Node 24.21 that mis-decodes escaped object keys.
 */
export function parseJson(data: Uint8Array | string, what: string, code: CosignErrorCode = 'BAD_INPUT'): unknown {
  const text = typeof data === 'string' ? data : decodeUtf8Strict(data, what, code);
  return parseStrictJson(text, what, code);
}
