/**
 * Signing images: {@link signImage} resolves a reference, builds cosign's payload, signs it with any
 * {@link Signer} (key file or KMS), and appends the signature to the image's `.sig` artifact.
 *
 * ```ts
 * import { RegistryClient } from 'cosign-ts/oci';
 * import { loadSignerFromFile } from 'cosign-ts/keys';
 * import { signImage } from 'cosign-ts/sign';
 *
 * const signer = await loadSignerFromFile('cosign.key', process.env.COSIGN_PASSWORD);
 * const { signed } = await signImage('registry.example.com/app@sha256:…', signer, { client: new RegistryClient(), annotations: { approvedBy: 'admin' } });
 * ```
 *
 * @module cosign-ts/sign
 */
export { signImage, type SignImageOptions, type SignImageResult, type SignedDigest } from './image.js';
export type { Signer } from '../keys/signer.js';
export {
  attestImage,
  type AttestImageOptions,
  type AttestImageResult,
  buildAttestationStatement,
  buildBundleAttestationStatement,
  COSIGN_CUSTOM_PREDICATE_TYPE,
  COSIGN_VULN_PREDICATE_TYPE,
  IN_TOTO_STATEMENT_V01,
  MAX_PREDICATE_BYTES,
  PREDICATE_TYPE_NAMES,
  predicateType,
  signDsse,
  type AttestationStatementInput,
  type DsseEnvelope,
} from './attestation.js';
export {
  buildBundleReferrer,
  buildBundleReferrerFromStatement,
  type StatementBundleReferrerInput,
  buildStatement,
  publicKeyHint,
  formatCreated,
  type BundleReferrerInput,
  type BundleReferrer,
} from './bundle.js';
export {
  fulcioSigner,
  resolveIdentityToken,
  identityTokenSubject,
  DEFAULT_FULCIO_URL,
  DEFAULT_SIGSTORE_TIMEOUT_MS,
  DEFAULT_TOKEN_FILE,
  type FulcioSignerOptions,
  type IdentityTokenOptions,
} from './keyless.js';
export {
  witnessSignature,
  rekorBundleFromEntry,
  DEFAULT_REKOR_URL,
  type WitnessOptions,
  type Witnessed,
  type WitnessedContent,
  type TransparencyLogEntry,
} from './witness.js';
export type { SigningCertificate } from '../keys/signer.js';
export { parseSigningConfig, MAX_SIGNING_CONFIG_BYTES, SIGNING_CONFIG_V02_MEDIA_TYPE, type SelectedServices } from './signing-config.js';
