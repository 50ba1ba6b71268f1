/**
 * cosign-ts: sign and verify container images exactly the way Sigstore's cosign does, in TypeScript.
 *
 * The main entry point re-exports the small API most users need; each concept also has its own
 * subpath (`cosign-ts/keys`, `cosign-ts/oci`, `cosign-ts/verify`, …) with the full surface.
 *
 * ```ts
 * import { RegistryClient, signImage, verifyImage, keyAuthority, loadSignerFromFile, parsePublicKey } from 'cosign-ts';
 *
 * const client = new RegistryClient();
 * const signer = await loadSignerFromFile('cosign.key', process.env.COSIGN_PASSWORD);
 * await signImage('registry.example.com/app@sha256:…', signer, { client });
 * const result = await verifyImage('registry.example.com/app@sha256:…', {
 *   client,
 *   authorities: [keyAuthority(parsePublicKey(await readFile('cosign.pub')), 'cosign.pub')],
 * });
 * process.stdout.write(result.output); // the bytes `cosign verify` prints
 * ```
 *
 * @module cosign-ts
 */
export { CosignError, ERROR_CODES, isCosignError, type CosignErrorCode } from './errors.js';
export { digestOf, isDigest, parseDigest, type Digest, type ParsedDigest } from './digest.js';
export { formatReference, parseReference, parseRepository, withDigest, withTag, type ImageReference, type ParseReferenceOptions } from './reference.js';
export type { HashAlgorithm, Signer, SignatureVerifier } from './keys/signer.js';
export { generateKeyPair, loadSignerFromFile, parsePrivateKey, parsePublicKey, publicKeyToPem, signerFromPrivateKey, writeKeyPair } from './keys/index.js';
export { buildPayload, parsePayload, type SimpleSigningPayload } from './payload/index.js';
export { RegistryClient, dockerConfigKeychain, staticKeychain, type Keychain, type RegistryClientOptions } from './oci/index.js';
export { signImage, type SignImageOptions, type SignImageResult } from './sign/index.js';
export {
  keyAuthority,
  verifyImage,
  verifyImages,
  verifyLayer,
  VerificationCache,
  type Authority,
  type VerifyImageOptions,
  type VerifyImageResult,
} from './verify/index.js';
export { resolvePublicKey, resolveSigner, registerKmsProvider, type KmsOptions, type KmsSignerFactory } from './kms/index.js';
