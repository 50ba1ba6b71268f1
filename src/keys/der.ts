/**
 * A minimal DER reader: just enough to check PKCS#8 structure and to normalise Ed25519 keys.
 * Everything else is parsed by node:crypto (OpenSSL).
 *
 * @module
 */
import { fail } from '../errors.js';

/** One DER element: tag byte and the content range `[start, end)` inside the buffer. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/** Read the TLV at `offset` (definite lengths only, single-byte tags). */
export function readTlv(buf: Uint8Array, offset: number, limit: number, what: string): Tlv {
  if (offset + 2 > limit) throw fail('BAD_KEY', `${what}: truncated DER`);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw fail('BAD_KEY', `${what}: unsupported DER tag`);
  let len = buf[offset + 1] as number;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw fail('BAD_KEY', `${what}: unsupported DER length`);
    if (start + n > limit) throw fail('BAD_KEY', `${what}: truncated DER`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] as number);
    start += n;
  }
  const end = start + len;
  if (end > limit) throw fail('BAD_KEY', `${what}: truncated DER`);
  return { tag, start, end };
}

/** The parts of a PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` (RFC 5958). */
export interface Pkcs8Parts {
  /** 0 (v1) or 1 (v2, may carry the public key). */
  readonly version: number;
  /** DER bytes of the algorithm OID (content only). */
  readonly algorithmOid: Buffer;
  /** Content of the privateKey OCTET STRING. */
  readonly privateKey: Buffer;
  /** Content of the optional `[1] publicKey` BIT STRING, without the unused-bits byte. */
  readonly publicKey: Buffer | undefined;
}

/**
 * Check that `der` is exactly one PKCS#8 structure (no trailing bytes) and return its parts.
 * @throws CosignError `BAD_KEY` when it is not PKCS#8.
 */
export function parsePkcs8(der: Uint8Array, what: string): Pkcs8Parts {
  const b = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const top = readTlv(b, 0, b.length, what);
  if (top.tag !== 0x30 || top.end !== b.length) throw fail('BAD_KEY', `${what}: not a PKCS#8 private key`);
  const ver = readTlv(b, top.start, top.end, what);
  if (ver.tag !== 0x02 || ver.end - ver.start !== 1) throw fail('BAD_KEY', `${what}: not a PKCS#8 private key`);
  const version = b[ver.start] as number;
  if (version !== 0 && version !== 1) throw fail('BAD_KEY', `${what}: unsupported PKCS#8 version ${version}`);
  const alg = readTlv(b, ver.end, top.end, what);
  if (alg.tag !== 0x30) throw fail('BAD_KEY', `${what}: not a PKCS#8 private key`);
  const oid = readTlv(b, alg.start, alg.end, what);
  if (oid.tag !== 0x06) throw fail('BAD_KEY', `${what}: not a PKCS#8 private key`);
  const pk = readTlv(b, alg.end, top.end, what);
  if (pk.tag !== 0x04) throw fail('BAD_KEY', `${what}: not a PKCS#8 private key`);
  let pos = pk.end;
  let publicKey: Buffer | undefined;
  if (pos < top.end) {
    let t = readTlv(b, pos, top.end, what);
    if (t.tag === 0xa0) {
      pos = t.end;
      t = pos < top.end ? readTlv(b, pos, top.end, what) : t;
    }
    if (pos < top.end) {
      if (t.tag !== 0x81 || version !== 1) throw fail('BAD_KEY', `${what}: unexpected element in PKCS#8 private key`);
      if (t.end - t.start < 1 || b[t.start] !== 0) throw fail('BAD_KEY', `${what}: malformed PKCS#8 public key`);
      publicKey = b.subarray(t.start + 1, t.end);
      pos = t.end;
    }
  }
  if (pos !== top.end) throw fail('BAD_KEY', `${what}: trailing data in PKCS#8 private key`);
  return { version, algorithmOid: b.subarray(oid.start, oid.end), privateKey: b.subarray(pk.start, pk.end), publicKey };
}

/** DER content of the Ed25519 OID 1.3.101.112. */
export const OID_ED25519 = Buffer.from([0x2b, 0x65, 0x70]);

/** PKCS#8 v1 DER of an Ed25519 private key from its 32-byte seed. */
export function ed25519Pkcs8V1(seed: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
}
