/**
 * The small interfaces every signing backend implements: a key file, each KMS, later Fulcio.
 * Nothing above `sign/` knows which one it has.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';

/** Hash algorithms cosign uses. */
export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

/**
 * Something that can produce a cosign signature over message bytes.
 *
 * `sign()` receives the *message* (e.g. the simple-signing payload bytes); an implementation hashes it
 * with the key's default algorithm (see `defaultHashFor`) and signs, so a KMS receives only a digest.
 * The returned signature is in the form cosign stores it: ASN.1 DER for ECDSA, PKCS#1 v1.5 for RSA,
 * raw 64 bytes for Ed25519 (pure Ed25519 unless {@link Signer.ed25519ph} is true).
 */
export interface Signer {
  /** The public half, for verification, `publicKey` export and Rekor bodies. Implementations cache it. */
  publicKey(): Promise<KeyObject>;
  /** Sign `message` (not a digest). */
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** A human/log-friendly, secret-free description: a file path or a KMS URI. */
  readonly keyRef: string;
  /**
   * True when the signatures are Ed25519ph rather than pure Ed25519 (see `FileSignerOptions.ed25519ph`).
   * Absent or false for every other signer. `signImage` checks existing signatures in the same scheme.
   */
  readonly ed25519ph?: boolean;
  /**
   * Keyless signers only (`fulcioSigner` in `cosign-ts/sign`): the short-lived certificate that binds
   * {@link Signer.publicKey} to an OIDC identity, obtained on the first call. `signImage` writes it into the
   * signature (the `.sig` layer's certificate and chain annotations, or the bundle's verification material)
   * and uploads the certificate, not the key, to the transparency log. Key files and KMS keys have none.
   */
  certificate?(): Promise<SigningCertificate>;
}

/** A signing certificate and the chain above it, as PEM (what Fulcio returned). */
export interface SigningCertificate {
  /** The leaf certificate, PEM. */
  readonly certificate: string;
  /** The intermediates and root above it, PEM, leaf's issuer first (may be empty). */
  readonly chain: ReadonlyArray<string>;
}

/** Something that can check a signature over message bytes (local public key, or remote KMS verify). */
export interface SignatureVerifier {
  /** True when `signature` is valid over `message`. Never throws for a merely invalid signature. */
  verify(message: Uint8Array, signature: Uint8Array): Promise<boolean> | boolean;
  readonly keyRef: string;
}
