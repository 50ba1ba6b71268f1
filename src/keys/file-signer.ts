/**
 * A {@link Signer} over a local private key (a cosign key file, or any supported KeyObject).
 *
 * @module
 */
import { constants, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { ed25519phSign, ed25519phSignSync } from './ed25519ph.js';
import { defaultHashFor, keyInfo, type KeyInfo } from './public.js';
import type { HashAlgorithm, Signer } from './signer.js';

/** Options for {@link FileSigner}. */
export interface FileSignerOptions {
  /**
   * Ed25519 only. `false` (default): pure Ed25519 (RFC 8032 §5.1, no prehash), which is what cosign
   * 2.5 signs with an Ed25519 key file for `sign`, `attest` and `sign-blob`, and the only Ed25519
   * signature `cosign verify --key` / `verify-blob --key` accept (observed with cosign 2.5.0; see
   * the README's Ed25519 section).
   *
   * `true`: Ed25519ph (SHA-512 prehash), what cosign 2.6 and later sign by default for image
   * signatures (read from their source, not run here). `cosign verify --key` rejects those; verify them
   * with `{ ed25519ph: true }` (see `verifySignature`, `keyAuthority`).
   */
  readonly ed25519ph?: boolean;
}

/**
 * Signs with a local private key the way cosign's key-file signer does: the message is hashed with
 * {@link defaultHashFor} the key and signed: ECDSA → ASN.1 DER; RSA → PKCS#1 v1.5 with SHA-256;
 * Ed25519 → pure Ed25519, like cosign 2.5 (or Ed25519ph, see {@link FileSignerOptions.ed25519ph}).
 */
export class FileSigner implements Signer {
  /** Where the key came from (a file path); never secret. */
  readonly keyRef: string;
  /** The key's type, curve or size. */
  readonly info: KeyInfo;
  /** The hash applied to the message before signing (sha512 for Ed25519ph; for pure Ed25519, which hashes internally, it is informative only). */
  readonly hashAlgorithm: HashAlgorithm;
  readonly #key: KeyObject;
  readonly #public: KeyObject;
  readonly #seed: Buffer | undefined;

  /**
   * @param key a private key cosign supports (ECDSA P-256/384/521, RSA 2048/3072/4096, Ed25519).
   * @param keyRef names the key in logs and errors (e.g. the file path).
   * @throws CosignError `BAD_INPUT` for a non-private key, `UNSUPPORTED_KEY` for other key types.
   */
  constructor(key: KeyObject, keyRef: string, options: FileSignerOptions = {}) {
    if (key.type !== 'private') throw fail('BAD_INPUT', `${keyRef}: a private key is required to sign`);
    this.info = keyInfo(key, true);
    this.hashAlgorithm = defaultHashFor(this.info);
    this.keyRef = keyRef;
    this.#key = key;
    this.#public = createPublicKey(key);
    this.#seed = this.info.kind === 'ed25519' && options.ed25519ph === true ? Buffer.from(key.export({ format: 'jwk' }).d as string, 'base64url') : undefined;
  }

  /**
   * True when this signer signs Ed25519ph (only with `{ ed25519ph: true }` on an Ed25519 key; that needs
   * `loadEd25519ph()` before {@link FileSigner.signSync}). False for pure Ed25519 and other key types.
   */
  get ed25519ph(): boolean {
    return this.#seed !== undefined;
  }

  /** The public half (cached). */
  publicKey(): Promise<KeyObject> {
    return Promise.resolve(this.#public);
  }

  /** Sign `message` (not a digest); see the class description for the algorithms. */
  sign(message: Uint8Array): Promise<Uint8Array> {
    if (this.#seed !== undefined) return ed25519phSign(this.#seed, message);
    try {
      return Promise.resolve(this.signSync(message));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * Synchronous {@link FileSigner.sign}. For Ed25519ph, `loadEd25519ph()` must have completed first
   * (`sign()` and `loadSignerFromFile` load it themselves).
   * @throws CosignError `UNSUPPORTED` for Ed25519ph before `loadEd25519ph()`.
   */
  signSync(message: Uint8Array): Uint8Array {
    switch (this.info.kind) {
      case 'ecdsa':
        return cryptoSign(this.hashAlgorithm, message, { key: this.#key, dsaEncoding: 'der' });
      case 'rsa':
        return cryptoSign('sha256', message, { key: this.#key, padding: constants.RSA_PKCS1_PADDING });
      case 'ed25519':
        return this.#seed !== undefined ? ed25519phSignSync(this.#seed, message, this.keyRef) : cryptoSign(null, message, this.#key);
    }
  }
}

/** Build a {@link Signer} over a private key; see {@link FileSigner}. */
export function signerFromPrivateKey(key: KeyObject, keyRef: string, options: FileSignerOptions = {}): FileSigner {
  return new FileSigner(key, keyRef, options);
}
