/**
 * Strict encodings for untrusted input. Node's `Buffer.from(s, 'base64')` silently skips invalid
 * characters and accepts base64url; cosign (Go's `base64.StdEncoding`) rejects them. Use these instead.
 *
 * @module
 */
import { fail, type CosignErrorCode } from './errors.js';

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

/**
 * {@link decodeBase64Strict} as a plain `Uint8Array` (same acceptance, bytes and errors) viewing the
 * decoded Buffer's memory, which for small values is Node's shared Buffer pool (Node marks it
 * untransferable), like the blob bytes the registry client returns. Copying into an own ArrayBuffer
 * instead would cost more than the rest of parsing a signature layer: a fresh backing store above
 * 64 bytes (every ECDSA or RSA signature) is an off-heap allocation the garbage collector must track.
 */
export function decodeBase64StrictBytes(value: string, what: string, code: CosignErrorCode = 'BAD_INPUT'): Uint8Array {
  const b = decodeBase64Strict(value, what, code);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Encode bytes as standard padded base64. */
export function encodeBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}
