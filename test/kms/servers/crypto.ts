/**
 * Test-server crypto: sign a precomputed digest for real, as a KMS does (node:crypto only hashes
 * internally, so ECDSA is done here with ECDH for the point multiplication and BigInt for the rest).
 */
import { constants, createECDH, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';

const CURVES: Record<string, { ecdh: string; n: bigint; size: number }> = {
  prime256v1: { ecdh: 'prime256v1', n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n, size: 32 },
  secp384r1: {
    ecdh: 'secp384r1',
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    size: 48,
  },
  secp521r1: {
    ecdh: 'secp521r1',
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    size: 66,
  },
  secp256k1: { ecdh: 'secp256k1', n: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n, size: 32 },
};

function toBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}
function toBuf(v: bigint, size: number): Buffer {
  return Buffer.from(v.toString(16).padStart(size * 2, '0'), 'hex');
}
function modInv(a: bigint, n: bigint): bigint {
  let [t, newT, r, newR] = [0n, 1n, n, ((a % n) + n) % n];
  while (newR !== 0n) {
    const q = r / newR;
    [t, newT] = [newT, t - q * newT];
    [r, newR] = [newR, r - q * newR];
  }
  return ((t % n) + n) % n;
}

function derInt(v: bigint): Buffer {
  let b = Buffer.from(
    v
      .toString(16)
      .padStart(2, '0')
      .replace(/^(.(..)*)$/, '0$1'),
    'hex',
  );
  while (b.length > 1 && b[0] === 0 && ((b[1] ?? 0) & 0x80) === 0) b = b.subarray(1);
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}
function derLen(n: number): Buffer {
  return n < 0x80 ? Buffer.from([n]) : Buffer.from([0x81, n]);
}

/** ECDSA over a digest: returns DER, or r‖s with `p1363`. */
export function ecdsaSignDigest(privateKey: KeyObject, digest: Uint8Array, p1363 = false): Buffer {
  const curveName = privateKey.asymmetricKeyDetails?.namedCurve ?? '';
  const c = CURVES[curveName];
  if (c === undefined) throw new Error(`unsupported curve ${curveName}`);
  const d = toBig(Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url'));
  const nBits = c.n.toString(2).length;
  let z = toBig(digest);
  if (digest.length * 8 > nBits) z >>= BigInt(digest.length * 8 - nBits);
  for (;;) {
    const k = (toBig(randomBytes(c.size + 8)) % (c.n - 1n)) + 1n;
    const ecdh = createECDH(c.ecdh);
    ecdh.setPrivateKey(toBuf(k, c.size));
    const pub = ecdh.getPublicKey(); // 04 ‖ x ‖ y
    const r = toBig(pub.subarray(1, 1 + c.size)) % c.n;
    if (r === 0n) continue;
    const s = (modInv(k, c.n) * (z + r * d)) % c.n;
    if (s === 0n) continue;
    if (p1363) return Buffer.concat([toBuf(r, c.size), toBuf(s, c.size)]);
    const body = Buffer.concat([derInt(r), derInt(s)]);
    return Buffer.concat([Buffer.from([0x30]), derLen(body.length), body]);
  }
}

const DIGEST_INFO: Record<string, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** RSASSA-PKCS1-v1_5 over a digest. */
export function rsaSignDigest(privateKey: KeyObject, hash: 'sha256' | 'sha384' | 'sha512', digest: Uint8Array): Buffer {
  const prefix = DIGEST_INFO[hash] as Buffer;
  return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([prefix, digest]));
}

/** Sign a digest with whatever key type. */
export function signDigest(privateKey: KeyObject, hash: 'sha256' | 'sha384' | 'sha512', digest: Uint8Array, p1363 = false): Buffer {
  if (privateKey.asymmetricKeyType === 'ec') return ecdsaSignDigest(privateKey, digest, p1363);
  if (privateKey.asymmetricKeyType === 'rsa') return rsaSignDigest(privateKey, hash, digest);
  throw new Error(`cannot sign a digest with ${privateKey.asymmetricKeyType}`);
}
