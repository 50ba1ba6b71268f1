/**
 * Public keys: parse (SPKI, PKCS#1, X.509 certificate; PEM or DER), export exactly like cosign's
 * `cosign.pub`, describe, and check against cosign's list of supported key types.
 *
 * @module
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { fail, isCosignError } from '../errors.js';
import type { HashAlgorithm } from './signer.js';
import { decodeFirstPem, encodePem, looksLikePem, MAX_PEM_SIZE } from './pem.js';

/** What kind of key cosign sees, with the details signing and verifying need. */
export type KeyInfo = EcdsaKeyInfo | RsaKeyInfo | Ed25519KeyInfo;

/** An ECDSA key on a NIST curve cosign supports. */
export interface EcdsaKeyInfo {
  /** Always `ecdsa`. */
  readonly kind: 'ecdsa';
  /** The curve. */
  readonly curve: 'P-256' | 'P-384' | 'P-521';
  /** Bytes per coordinate/scalar (32, 48, 66): a raw r‖s signature is twice this. */
  readonly fieldSize: 32 | 48 | 66;
}

/** An RSA key. */
export interface RsaKeyInfo {
  /** Always `rsa`. */
  readonly kind: 'rsa';
  /** Modulus size in bits. */
  readonly bits: number;
}

/** An Ed25519 key. */
export interface Ed25519KeyInfo {
  /** Always `ed25519`. */
  readonly kind: 'ed25519';
}

const CURVES: Readonly<Record<string, { curve: 'P-256' | 'P-384' | 'P-521'; fieldSize: 32 | 48 | 66 }>> = {
  prime256v1: { curve: 'P-256', fieldSize: 32 },
  secp384r1: { curve: 'P-384', fieldSize: 48 },
  secp521r1: { curve: 'P-521', fieldSize: 66 },
};
const CURVE_NAMES: Readonly<Record<string, string>> = { secp224r1: 'P-224', secp256k1: 'secp256k1' };

/** Largest RSA modulus accepted for a public key (bits). */
const MAX_RSA_BITS = 16384;

/**
 * Classify a key (public or private) and check that cosign supports it: ECDSA P-256/P-384/P-521,
 * RSA (at least 2048 bits; with `strictRsa`, exactly 2048, 3072 or 4096 with exponent 65537, as
 * cosign requires of keys it generates, imports or loads), Ed25519.
 * @throws CosignError `UNSUPPORTED_KEY` for any other type, curve or size.
 */
export function keyInfo(key: KeyObject, strictRsa = false): KeyInfo {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec') {
    const name = details.namedCurve ?? '(explicit parameters)';
    const c = CURVES[name];
    if (c === undefined) throw fail('UNSUPPORTED_KEY', `ECDSA curve ${CURVE_NAMES[name] ?? name} not allowed (P-256, P-384, P-521 only)`);
    return { kind: 'ecdsa', curve: c.curve, fieldSize: c.fieldSize };
  }
  if (type === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (strictRsa) {
      if (bits !== 2048 && bits !== 3072 && bits !== 4096) throw fail('UNSUPPORTED_KEY', `RSA key size ${bits} not allowed (2048, 3072, 4096 only)`);
      if (details.publicExponent !== 65537n) throw fail('UNSUPPORTED_KEY', 'RSA public exponent must be 65537');
    } else if (bits < 2048 || bits > MAX_RSA_BITS) {
      throw fail('UNSUPPORTED_KEY', `RSA key size ${bits} not allowed (at least 2048)`);
    }
    return { kind: 'rsa', bits };
  }
  if (type === 'ed25519') return { kind: 'ed25519' };
  throw fail('UNSUPPORTED_KEY', `unsupported key type ${type ?? 'unknown'} (ECDSA, RSA or Ed25519 only)`);
}

/**
 * A short human description such as `ECDSA P-256`, `RSA 4096` or `Ed25519`.
 * @throws CosignError `UNSUPPORTED_KEY` for a key type cosign does not support.
 */
export function keyDescription(key: KeyObject): string {
  const info = keyInfo(key);
  switch (info.kind) {
    case 'ecdsa':
      return `ECDSA ${info.curve}`;
    case 'rsa':
      return `RSA ${info.bits}`;
    case 'ed25519':
      return 'Ed25519';
  }
}

/**
 * The hash cosign signs with for this key (sigstore's default algorithm per key, spec §3):
 * ECDSA P-256 → sha256, P-384 → sha384, P-521 → sha512, RSA → sha256, Ed25519 → sha512
 * (the Ed25519ph prehash).
 */
export function defaultHashFor(key: KeyObject | KeyInfo): HashAlgorithm {
  const info = 'kind' in key ? key : keyInfo(key);
  switch (info.kind) {
    case 'ecdsa':
      return info.curve === 'P-256' ? 'sha256' : info.curve === 'P-384' ? 'sha384' : 'sha512';
    case 'rsa':
      return 'sha256';
    case 'ed25519':
      return 'sha512';
  }
}

function fromDer(der: Buffer, type: 'spki' | 'pkcs1', what: string): KeyObject {
  try {
    return createPublicKey({ key: der, format: 'der', type });
  } catch (cause) {
    throw fail('BAD_KEY', `${what}: cannot parse ${type === 'spki' ? 'PKIX' : 'PKCS#1 RSA'} public key`, { cause });
  }
}

function fromCertificate(der: Buffer, what: string): KeyObject {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (cause) {
    throw fail('BAD_KEY', `${what}: cannot parse X.509 certificate`, { cause });
  }
  try {
    return cert.publicKey;
  } catch (cause) {
    throw fail('BAD_KEY', `${what}: cannot parse the certificate's public key`, { cause });
  }
}

/**
 * Parse a public key as cosign reads `--key`: PEM `PUBLIC KEY` (PKIX/SPKI), `RSA PUBLIC KEY`
 * (PKCS#1) or `CERTIFICATE` (the certificate's key), using the first PEM block; or DER bytes (SPKI,
 * else an X.509 certificate). The key must be ECDSA P-256/P-384/P-521, RSA ≥ 2048 bits or Ed25519.
 * @param what names the input in error messages.
 * @throws CosignError `BAD_KEY` (unparseable), `UNSUPPORTED_KEY` (parses but not supported by cosign), `TOO_LARGE`.
 */
export function parsePublicKey(pemOrDer: string | Uint8Array, what = 'public key'): KeyObject {
  let key: KeyObject;
  if (typeof pemOrDer === 'string' || looksLikePem(pemOrDer)) {
    const block = decodeFirstPem(pemOrDer, what);
    switch (block.label) {
      case 'PUBLIC KEY':
        key = fromDer(block.bytes, 'spki', what);
        break;
      case 'RSA PUBLIC KEY':
        key = fromDer(block.bytes, 'pkcs1', what);
        break;
      case 'CERTIFICATE':
        key = fromCertificate(block.bytes, what);
        break;
      default:
        throw fail('BAD_KEY', `${what}: PEM block "${block.label}" is not a public key or certificate`);
    }
  } else if (pemOrDer instanceof Uint8Array) {
    if (pemOrDer.byteLength > MAX_PEM_SIZE) throw fail('TOO_LARGE', `${what}: larger than ${MAX_PEM_SIZE} bytes`);
    const der = Buffer.from(pemOrDer.buffer, pemOrDer.byteOffset, pemOrDer.byteLength);
    try {
      key = fromDer(der, 'spki', what);
    } catch (e) {
      if (!isCosignError(e, 'BAD_KEY')) throw e;
      try {
        key = fromCertificate(der, what);
      } catch {
        throw fail('BAD_KEY', `${what}: neither a PEM public key nor DER SPKI or certificate`);
      }
    }
  } else {
    throw fail('BAD_KEY', `${what}: expected PEM text or DER bytes`);
  }
  if (key.asymmetricKeyType === 'rsa-pss') {
    throw fail('UNSUPPORTED_KEY', `${what}: RSASSA-PSS-only (id-RSASSA-PSS) keys are not supported by cosign`);
  }
  try {
    keyInfo(key);
  } catch (e) {
    if (isCosignError(e)) throw fail(e.code, `${what}: ${e.message}`, { cause: e });
    throw e;
  }
  return key;
}

/** DER SubjectPublicKeyInfo of a key (a private key is reduced to its public half). */
export function publicKeyToDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.type !== 'public') throw fail('BAD_KEY', 'not an asymmetric key');
  return pub.export({ type: 'spki', format: 'der' });
}

/**
 * PEM `PUBLIC KEY` exactly as cosign writes `cosign.pub` (PKIX DER, 64-column base64, trailing `\n`).
 * A private key is reduced to its public half.
 */
export function publicKeyToPem(key: KeyObject): string {
  return encodePem('PUBLIC KEY', publicKeyToDer(key));
}
