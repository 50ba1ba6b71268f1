/**
 * Signature verification with a local public key, mirroring `cosign verify --key`.
 *
 * @module
 */
import { constants, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { ed25519phVerify } from './ed25519ph.js';
import { keyInfo, type KeyInfo } from './public.js';
import type { HashAlgorithm, SignatureVerifier } from './signer.js';

/** Options for {@link verifySignature} and {@link PublicKeyVerifier}. */
export interface VerifyOptions {
  /**
   * Hash for ECDSA and RSA. Default `sha256`, like cosign's `--signature-digest-algorithm` default
   * (so P-384/P-521 signatures made by cosign with their default hash need `sha384`/`sha512` here).
   */
  readonly hash?: HashAlgorithm;
  /** RSA only: check RSASSA-PSS (salt length auto-detected) instead of PKCS#1 v1.5. */
  readonly rsaPss?: boolean;
  /**
   * Ed25519 only: check Ed25519ph (SHA-512 prehash: cosign 2.6+ image signatures, earlier cosign-ts
   * versions) instead of pure Ed25519 (the default: what cosign 2.5 signs, and the only Ed25519 signature
   * `cosign verify --key` accepts). Needs `await loadEd25519ph()` once before the first check (else
   * `UNSUPPORTED` is thrown): its implementation is loaded on demand.
   */
  readonly ed25519ph?: boolean;
}

const INFO_CACHE = new WeakMap<KeyObject, KeyInfo>();
const HASHES: ReadonlySet<string> = new Set(['sha256', 'sha384', 'sha512']);

function checkHash(hash: HashAlgorithm | undefined): HashAlgorithm {
  if (hash === undefined) return 'sha256';
  if (!HASHES.has(hash)) throw fail('BAD_INPUT', `unsupported signature hash ${JSON.stringify(String(hash))} (sha256, sha384, sha512)`);
  return hash;
}

function infoOf(key: KeyObject): KeyInfo {
  let info = INFO_CACHE.get(key);
  if (info === undefined) {
    info = keyInfo(key);
    INFO_CACHE.set(key, info);
  }
  return info;
}

function rawEd25519(key: KeyObject): Buffer {
  const spki = key.export({ type: 'spki', format: 'der' });
  return spki.subarray(spki.length - 32);
}

/**
 * A {@link SignatureVerifier} over one local public key. The key is classified once; `verify` is a
 * thin wrapper over `crypto.verify` (the hot path of verification):
 * - ECDSA: ASN.1 DER, and also raw `r‖s` (IEEE P1363) when the signature is exactly twice the field size;
 * - RSA: PKCS#1 v1.5, or PSS with {@link VerifyOptions.rsaPss};
 * - Ed25519: pure Ed25519, or Ed25519ph with {@link VerifyOptions.ed25519ph}.
 *
 * `verify` never throws for a bad signature: a malformed signature (or message) is simply `false`
 * (Ed25519ph only: `UNSUPPORTED` if `loadEd25519ph()` has not completed yet).
 */
export class PublicKeyVerifier implements SignatureVerifier {
  /** A secret-free description of where the key came from (file path, `env://…`, …). */
  readonly keyRef: string;
  /** The verification key. */
  readonly key: KeyObject;
  /** The key's type, curve or size. */
  readonly info: KeyInfo;
  readonly #hash: HashAlgorithm | null;
  readonly #p1363: { key: KeyObject; dsaEncoding: 'ieee-p1363' } | undefined;
  readonly #keyArg: KeyObject | { key: KeyObject; padding: number; saltLength: number };
  readonly #p1363Len: number;
  readonly #ed25519phKey: Buffer | undefined;

  /**
   * @param key a public key (a private key is reduced to its public half); must be a type cosign supports.
   * @param keyRef names the key in logs and errors.
   * @param options hash, RSA-PSS and Ed25519ph choices, fixed for this verifier.
   * @throws CosignError `UNSUPPORTED_KEY` for a key type cosign does not support, `BAD_INPUT` for an unknown hash.
   */
  constructor(key: KeyObject, keyRef = 'public key', options: VerifyOptions = {}) {
    const pub = key.type === 'private' ? createPublicKey(key) : key;
    if (pub.type !== 'public') throw fail('BAD_KEY', `${keyRef}: not an asymmetric key`);
    this.key = pub;
    this.keyRef = keyRef;
    this.info = infoOf(pub);
    const hash = checkHash(options.hash);
    this.#hash = this.info.kind === 'ed25519' ? null : hash;
    this.#p1363Len = this.info.kind === 'ecdsa' ? 2 * this.info.fieldSize : -1;
    this.#p1363 = this.info.kind === 'ecdsa' ? { key: pub, dsaEncoding: 'ieee-p1363' } : undefined;
    this.#keyArg =
      this.info.kind === 'rsa' && options.rsaPss === true
        ? { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }
        : pub;
    this.#ed25519phKey = this.info.kind === 'ed25519' && options.ed25519ph === true ? rawEd25519(pub) : undefined;
  }

  /** True when `signature` is valid over `message`. Never throws for a bad signature (see the class description). */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    if (this.#ed25519phKey !== undefined) return ed25519phVerify(this.#ed25519phKey, message, signature, this.keyRef);
    try {
      if (cryptoVerify(this.#hash, message, this.#keyArg, signature)) return true;
    } catch {
      // malformed DER and the like: fall through to the raw r||s form for ECDSA
    }
    if (this.#p1363 !== undefined && signature?.length === this.#p1363Len) {
      try {
        return cryptoVerify(this.#hash, message, this.#p1363, signature);
      } catch {
        return false;
      }
    }
    return false;
  }
}

function safe(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}

/**
 * Check `signature` over `message` with `publicKey`, as `cosign verify --key` does (see
 * {@link PublicKeyVerifier} for the accepted encodings). Returns `false` for any invalid or malformed
 * signature; throws only for an unsupported key (`UNSUPPORTED_KEY`), an unknown hash name (`BAD_INPUT`), or
 * Ed25519ph before `loadEd25519ph()` (`UNSUPPORTED`). For many checks with one key, build one
 * {@link PublicKeyVerifier} instead.
 */
export function verifySignature(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array, opts: VerifyOptions = {}): boolean {
  const info = infoOf(publicKey);
  if (info.kind === 'ed25519') {
    if (opts.ed25519ph === true) {
      return ed25519phVerify(rawEd25519(publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey), message, signature);
    }
    return safe(() => cryptoVerify(null, message, publicKey, signature));
  }
  const hash = checkHash(opts.hash);
  if (info.kind === 'rsa') {
    const keyArg = opts.rsaPss === true ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO } : publicKey;
    return safe(() => cryptoVerify(hash, message, keyArg, signature));
  }
  if (safe(() => cryptoVerify(hash, message, publicKey, signature))) return true;
  return signature?.length === 2 * info.fieldSize && safe(() => cryptoVerify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature));
}
