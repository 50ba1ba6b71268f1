/**
 * Strict encodings for untrusted input. Node's `Buffer.from(s, 'base64')` silently skips invalid
 * characters and accepts base64url; cosign (Go's `base64.StdEncoding`) rejects them. Use these instead.
 *
 * @module
 */
import { fail, type CosignErrorCode } from './errors.js';

const STD_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decode standard, padded base64 strictly, like Go's `base64.StdEncoding.DecodeString`:
 * only `A–Z a–z 0–9 + /`, correct `=` padding; CR and LF are ignored (Go's decoder skips them).
 * @param what names the field for the error message.
 */
export function decodeBase64Strict(value: string, what: string, code: CosignErrorCode = 'BAD_INPUT'): Buffer {
  if (typeof value !== 'string') throw fail(code, `${what}: expected a base64 string`);
  const s = value.includes('\n') || value.includes('\r') ? value.replace(/[\r\n]/g, '') : value;
  if (!STD_B64.test(s)) throw fail(code, `${what}: not valid standard base64`);
  const out = Buffer.from(s, 'base64');
  // Go rejects non-canonical trailing bits ("strict" is off by default in Go, so we accept them like cosign).
  return out;
}

/** Encode bytes as standard padded base64. */
export function encodeBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/** Parse JSON from bytes or a string, turning any failure into a typed error. */
export function parseJson(data: Uint8Array | string, what: string, code: CosignErrorCode = 'BAD_INPUT'): unknown {
  let text: string;
  try {
    text = typeof data === 'string' ? data : new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch (cause) {
    throw fail(code, `${what}: not valid UTF-8`, { cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw fail(code, `${what}: not valid JSON (${(cause as Error).message})`, { cause });
  }
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
