/**
 * Keys for cosign: public key parsing and export, signature verification (`cosign verify --key`),
 * cosign's encrypted private key format, key generation and import, and a key-file {@link Signer}.
 *
 * Supported key types are cosign's: ECDSA P-256/P-384/P-521, RSA (2048/3072/4096 with e=65537 for
 * private keys, ≥ 2048 bits for public keys; PKCS#1 v1.5, PSS on request) and Ed25519.
 *
 * Behaviour worth knowing (each choice mirrors cosign unless stated):
 * - PEM: the first block is used (Go's `pem.Decode`); inside it, labels, base64 and padding are strict;
 *   RFC 1421 headers (legacy encrypted PEM) are refused; CRLF is fine. Inputs are limited to 1 MiB.
 * - Encrypted keys: both `ENCRYPTED SIGSTORE PRIVATE KEY` and `ENCRYPTED COSIGN PRIVATE KEY` load;
 *   scrypt N ∈ {32768, 65536, 131072}, r=8, p=1; the plaintext must be PKCS#8 (an SEC1 plaintext is
 *   `BAD_KEY`, as in cosign). A failed Poly1305 check is `WRONG_PASSWORD`. An undefined password means
 *   the empty password (cosign without a password function); `""` is a valid password.
 * - Unencrypted `PRIVATE KEY` / `EC PRIVATE KEY` / `RSA PRIVATE KEY` are accepted by {@link parsePrivateKey}
 *   (cosign only imports them); a non-empty password with such a key is `BAD_INPUT` (as sigstore-rs).
 *   Ed25519 PKCS#8 v2 (embedded public key) is accepted after checking the embedded key.
 * - Signing ({@link FileSigner}): ECDSA → ASN.1 DER with the curve's hash; RSA → PKCS#1 v1.5 SHA-256;
 *   Ed25519 → pure Ed25519, as cosign 2.5 signs (observed: `sign`, `sign-blob`; Ed25519ph, what
 *   cosign 2.6+ signs for images, with `{ ed25519ph: true }`). `cosign verify --key` checks Ed25519 as
 *   pure Ed25519 and hashes with sha256 by default, so P-384 and P-521 signatures made by cosign's
 *   default signer need `{ hash }` in {@link verifySignature}, and Ed25519ph ones `{ ed25519ph: true }`.
 * - Verifying: ECDSA accepts ASN.1 DER and raw r‖s (IEEE P1363) of exactly twice the field size.
 *   Verification never throws for a bad signature.
 * - Ed25519ph runs on `@noble/curves` (constant-time), imported on first use: asynchronous signing
 *   loads it; the synchronous Ed25519ph calls need {@link loadEd25519ph} to have completed once.
 *
 * ```ts
 * import { generateKeyPair, parsePrivateKey, parsePublicKey, signerFromPrivateKey } from 'cosign-ts/keys';
 *
 * const { privateKeyPem, publicKeyPem } = generateKeyPair('password'); // cosign's encrypted format
 * const signer = signerFromPrivateKey(parsePrivateKey(privateKeyPem, 'password'), 'cosign.key');
 * const publicKey = parsePublicKey(publicKeyPem);
 * ```
 *
 * @module cosign-ts/keys
 */
export type { HashAlgorithm, Signer, SignatureVerifier, SigningCertificate } from './signer.js';
export {
  parsePublicKey,
  publicKeyToPem,
  publicKeyToDer,
  keyDescription,
  keyInfo,
  defaultHashFor,
  type KeyInfo,
  type EcdsaKeyInfo,
  type RsaKeyInfo,
  type Ed25519KeyInfo,
} from './public.js';
export { verifySignature, PublicKeyVerifier, type VerifyOptions } from './verify.js';
export {
  parsePrivateKey,
  parsePrivateKeyAsync,
  encryptPrivateKey,
  generateKeyPair,
  importKeyPair,
  type KeyPairPem,
  type EncryptOptions,
} from './private.js';
export { FileSigner, signerFromPrivateKey, type FileSignerOptions } from './file-signer.js';
export { loadEd25519ph } from './ed25519ph.js';
export {
  writeKeyPair,
  writeKeyPairFiles,
  loadSignerFromFile,
  type WriteKeyFilesOptions,
  type WriteKeyPairOptions,
  type WrittenKeyPair,
} from './files.js';
export { resolvePassword, type PasswordSource } from './password.js';
export { readKeyFile, readKeyReference, type KeyPassword, type KeyReferenceOptions, type ReadKeyOptions } from './resolve.js';
