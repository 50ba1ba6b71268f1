/**
 * A strict PEM (RFC 7468) reader and a writer that produces exactly what Go's `pem.EncodeToMemory`
 * writes (64-column base64 lines, `\n` line ends, trailing newline).
 *
 * @module
 */
import { fail } from '../errors.js';

/** One decoded PEM block. */
export interface PemBlock {
  /** The label between `-----BEGIN ` and `-----`, e.g. `PUBLIC KEY`. */
  readonly label: string;
  /** The decoded body (DER or, for cosign keys, JSON). */
  readonly bytes: Buffer;
}

/** Largest PEM input accepted by {@link decodePem} (1 MiB). */
export const MAX_PEM_SIZE = 1024 * 1024;

// RFC 7468 label: printable ASCII except '-', with single '-' or ' ' allowed between characters.
const LABEL = /^[\x21-\x2C\x2E-\x7E](?:[- ]?[\x21-\x2C\x2E-\x7E])*$/;
const BEGIN = /^-----BEGIN (.*)-----$/;
const END = /^-----END (.*)-----$/;
const B64_LINE = /^[A-Za-z0-9+/=]+$/;
const STD_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** True when `data` (text or bytes) contains a PEM BEGIN line; cheap sniffing for "PEM or DER?". */
export function looksLikePem(data: string | Uint8Array): boolean {
  const head = typeof data === 'string' ? data.slice(0, 4096) : Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 4096)).toString('latin1');
  return head.includes('-----BEGIN ');
}

/**
 * Decode every PEM block in `data`.
 *
 * Text outside blocks is ignored (as RFC 7468 and Go allow). Inside a block the reader is strict:
 * matching BEGIN/END labels, no RFC 1421 headers (legacy `Proc-Type: 4,ENCRYPTED` keys are refused),
 * only standard base64 characters with correct padding at the very end. CRLF line ends, trailing
 * spaces/tabs and blank lines inside the body are tolerated (Go's decoder skips them too).
 *
 * @param what names the input in error messages (e.g. a file name).
 * @throws CosignError `TOO_LARGE` over {@link MAX_PEM_SIZE}, `BAD_KEY` for malformed PEM or no block at all.
 */
export function decodePem(data: string | Uint8Array, what = 'PEM input'): PemBlock[] {
  return decode(data, what, Infinity);
}

/**
 * Decode `data` and return its first PEM block, like Go's `pem.Decode` (which cosign uses): anything
 * after the first block is not looked at. The block itself is checked as strictly as by {@link decodePem}.
 */
export function decodeFirstPem(data: string | Uint8Array, what = 'PEM input'): PemBlock {
  return decode(data, what, 1)[0] as PemBlock;
}

function decode(data: string | Uint8Array, what: string, max: number): PemBlock[] {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw fail('BAD_KEY', `${what}: expected PEM text or bytes`);
  }
  const size = typeof data === 'string' ? data.length : data.byteLength;
  if (size > MAX_PEM_SIZE) throw fail('TOO_LARGE', `${what}: PEM input larger than ${MAX_PEM_SIZE} bytes`);
  const text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const lines = text.split('\n');
  const blocks: PemBlock[] = [];
  let label: string | undefined;
  let body: string[] = [];
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/[ \t\r]+$/, '');
    if (label === undefined) {
      const m = BEGIN.exec(line);
      if (m === null) continue;
      const l = m[1] as string;
      if (!LABEL.test(l)) throw fail('BAD_KEY', `${what}: invalid PEM label on line ${n + 1}`);
      label = l;
      body = [];
      continue;
    }
    if (line.startsWith('-----')) {
      const m = END.exec(line);
      if (m === null) throw fail('BAD_KEY', `${what}: ${label}: unexpected line ${n + 1} inside PEM block`);
      if (m[1] !== label) throw fail('BAD_KEY', `${what}: PEM block "${label}" ends with a different label`);
      const b64 = body.join('');
      if (b64.length === 0) throw fail('BAD_KEY', `${what}: ${label}: empty PEM body`);
      if (!STD_B64.test(b64)) throw fail('BAD_KEY', `${what}: ${label}: PEM body is not valid standard base64`);
      blocks.push({ label, bytes: Buffer.from(b64, 'base64') });
      if (blocks.length >= max) return blocks;
      label = undefined;
      continue;
    }
    if (line.length === 0) continue;
    if (line.includes(':')) throw fail('BAD_KEY', `${what}: ${label}: PEM headers (e.g. legacy encrypted PEM) are not supported`);
    if (!B64_LINE.test(line)) throw fail('BAD_KEY', `${what}: ${label}: invalid character in PEM body on line ${n + 1}`);
    body.push(line);
  }
  if (label !== undefined) throw fail('BAD_KEY', `${what}: PEM block "${label}" has no END line`);
  if (blocks.length === 0) throw fail('BAD_KEY', `${what}: no PEM block found`);
  return blocks;
}

/** Encode `der` as a PEM block exactly like Go's `pem.EncodeToMemory` (no headers). */
export function encodePem(label: string, der: Uint8Array): string {
  if (!LABEL.test(label)) throw fail('BAD_INPUT', 'invalid PEM label');
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`;
  return `${out}-----END ${label}-----\n`;
}
