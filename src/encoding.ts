/**
 * Strict encodings for untrusted input. Node's `Buffer.from(s, 'base64')` silently skips invalid
 * characters and accepts base64url; cosign (Go's `base64.StdEncoding`) rejects them. Use these instead.
 *
 * @module
 */
import { fail, type CosignErrorCode } from './errors.js';
import { decodeUtf8Strict, parseStrictJson } from './json.js';

const STD_B64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decode standard, padded base64 strictly, like Go's `base64.StdEncoding.DecodeString`:
 * only `A–Z a–z 0–9 + /`, correct `=` padding; CR and LF are ignored (Go's decoder skips them).
 * @param what names the field for the error message.
 */
export function decodeBase64Strict(value: string, what: string, code: CosignErrorCode = 'BAD_INPUT'): Buffer {
  if (typeof value !== 'string') throw fail(code, `${what}: expected a base64 string`);
  const s = value.includes('\n') || value.includes('\r') ? value.replace(/[\r\n]/g, '') : value;
  // Same language as /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, checked in linear
  // time without backtracking: a multiple of 4, alphabet only, at most two '=' and only at the end.
  if (s.length % 4 !== 0 || !STD_B64_CHARS.test(s) || s.charCodeAt(s.length - 3) === 0x3d) throw fail(code, `${what}: not valid standard base64`);
  const out = Buffer.from(s, 'base64');
  // Go rejects non-canonical trailing bits ("strict" is off by default in Go, so we accept them like cosign).
  return out;
}

/** Sextet of each standard base64 character by char code, -1 for anything else. */
const B64_SEXTET = ((): Int8Array => {
  const t = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
})();

/** Longest text {@link decodeBase64StrictBytes} decodes in JavaScript; longer text goes to Node's decoder. */
const SMALL_BASE64 = 4096;

/** Sextet of the character at `i`, or -1 when it is not in the standard alphabet. */
function sextet(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 128 ? (B64_SEXTET[c] as number) : -1;
}

/**
 * Decode small, single-line standard padded base64 into a fresh array; undefined when the text is not
 * exactly that (invalid, line breaks, too long). Trailing bits before the padding are ignored, as
 * Node's decoder (and Go's non-strict one) do.
 */
function decodeSmallBase64(s: string): Uint8Array | undefined {
  const n = s.length;
  if (n % 4 !== 0 || n > SMALL_BASE64) return undefined;
  if (n === 0) return new Uint8Array(0);
  const padding = s.charCodeAt(n - 1) !== 0x3d ? 0 : s.charCodeAt(n - 2) !== 0x3d ? 1 : 2;
  const out = new Uint8Array((n / 4) * 3 - padding);
  const full = padding === 0 ? n : n - 4;
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const a = sextet(s, i);
    const b = sextet(s, i + 1);
    const c = sextet(s, i + 2);
    const d = sextet(s, i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (padding > 0) {
    const a = sextet(s, full);
    const b = sextet(s, full + 1);
    const c = padding === 1 ? sextet(s, full + 2) : 0;
    if ((a | b | c) < 0) return undefined;
    const v = (a << 18) | (b << 12) | (c << 6);
    out[o++] = v >>> 16;
    if (padding === 1) out[o] = (v >>> 8) & 0xff;
  }
  return out;
}

/**
 * {@link decodeBase64Strict} into a plain `Uint8Array` that owns an ArrayBuffer of exactly the decoded
 * length (never a view into Node's shared Buffer pool). Same acceptance, bytes and errors. Small
 * single-line values (signatures) are decoded here directly: cheaper than Node's pooled decode plus a copy.
 */
export function decodeBase64StrictBytes(value: string, what: string, code: CosignErrorCode = 'BAD_INPUT'): Uint8Array {
  if (typeof value === 'string') {
    const out = decodeSmallBase64(value);
    if (out !== undefined) return out;
  }
  // Line breaks, long, or invalid: the general decoder handles (or refuses) it.
  return new Uint8Array(decodeBase64Strict(value, what, code));
}

/** Encode bytes as standard padded base64. */
export function encodeBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
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
