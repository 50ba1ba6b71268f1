/**
 * Small crypto helpers shared by the KMS providers: hashing, ECDSA `r‖s` → DER, CRC32C, and the key
 * parsing of `src/keys` the providers use.
 *
 * @module
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { defaultHashFor, keyInfo, parsePublicKey } from '../keys/public.js';
import type { HashAlgorithm } from '../keys/signer.js';

export { defaultHashFor, keyInfo, parsePublicKey };

/** Hash `message` with `alg`. */
export function digest(alg: HashAlgorithm, message: Uint8Array): Buffer {
  return createHash(alg).update(message).digest();
}

function derInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let v = Buffer.from(bytes.subarray(i));
  if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return Buffer.concat([Buffer.from([0x02]), derLength(v.length), v]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

/**
 * Convert an IEEE P1363 ECDSA signature (`r‖s`, each `fieldSize` bytes, as Azure Key Vault returns it)
 * to ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`, the form cosign stores.
 */
export function p1363ToDer(sig: Uint8Array, fieldSize: number): Buffer {
  if (sig.length !== 2 * fieldSize) throw fail('BAD_INPUT', `ECDSA signature has ${sig.length} bytes, expected ${2 * fieldSize}`);
  const body = Buffer.concat([derInteger(sig.subarray(0, fieldSize)), derInteger(sig.subarray(fieldSize))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32C (Castagnoli), as Google Cloud KMS uses for its integrity fields. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = (CRC32C_TABLE[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The public half of a key (a public key is returned unchanged). */
export function publicOf(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}
