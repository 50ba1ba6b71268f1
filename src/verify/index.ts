/**
 * Verifying images: {@link verifyLayer} is pure and synchronous (verify from files, caches or
 * batches without extra fetches); {@link verifyImage} and {@link verifyImages} fetch from a registry.
 *
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { parsePublicKey } from 'cosign-ts/keys';
 * import { RegistryClient } from 'cosign-ts/oci';
 * import { keyAuthority, VerificationCache, verifyImages } from 'cosign-ts/verify';
 *
 * const authorities = [keyAuthority(parsePublicKey(await readFile('cosign.pub')), 'cosign.pub')];
 * const results = await verifyImages(['registry.example.com/a@sha256:…', 'registry.example.com/b:v1'], {
 *   client: new RegistryClient(),
 *   authorities,
 *   cache: new VerificationCache(),
 *   onProgress: (done, total) => console.error(`${done}/${total}`),
 * });
 * for (const r of results) if (!r.ok) console.error(r.error.code, r.error.message);
 * ```
 *
 * @module cosign-ts/verify
 */
export { verifyLayer, type LayerExpectations, type LayerFailure, type LayerResult, type TlogOptions, type VerifiedSignature } from './layer.js';
export {
  verifyImage,
  verifyImages,
  resolveDigest,
  verificationChecks,
  DEFAULT_VERIFY_TIMEOUT_MS,
  type BatchResult,
  type VerifyImageOptions,
  type VerifyImageResult,
} from './image.js';
export {
  keyAuthority,
  identityAuthority,
  type Authority,
  type GithubWorkflowIdentity,
  type IdentityAuthority,
  type IdentityAuthorityOptions,
  type KeyAuthority,
  type KeyAuthorityOptions,
} from './authority.js';
export {
  verifyKeylessLayer,
  verifyKeylessSignature,
  verifyCertificate,
  verifySigstoreBundle,
  verifySigstoreBundleBytes,
  certificateSummary,
  certificateOutputFields,
  checkIdentity,
  identityMismatch,
  describeIdentity,
  type BundleVerification,
  type BundleVerifyOptions,
  type CertificateSummary,
  type KeylessLayerResult,
  type KeylessOptions,
  type KeylessSignatureParts,
} from './keyless.js';
export {
  trustFromTrustedRootJson,
  trustFromTrustedRootFile,
  trustFromPems,
  applySigstoreEnv,
  publicGoodTrust,
  PUBLIC_GOOD_TUF_MIRROR,
  SIGSTORE_TRUST_ENV,
  MAX_TRUST_FILE_BYTES,
  type PemTrustOptions,
  type PublicGoodTrustOptions,
  type SigstoreTrust,
} from './trust.js';
export { VerificationCache, type CacheStats, type ShareKeep, type VerificationCacheOptions } from './cache.js';
export {
  parseCosignBundle,
  parseInTotoStatement,
  verifyBundleLayer,
  isSigstoreBundleMediaType,
  COSIGN_SIGN_PREDICATE_TYPE,
  SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
  type CosignBundle,
  type InTotoStatement,
} from './bundle.js';
export {
  sigTagSource,
  referrerBundleSource,
  cosignSignatureSource,
  fetchSignatures,
  type FetchedSignatures,
  type FetchOptions,
  type LayerVisitor,
  type SignatureListing,
  type SignatureSource,
  type SourceLayer,
} from './source.js';
export {
  verifyAttestations,
  MAX_ATTESTATION_BYTES,
  type AttestationFormat,
  type AttestationRejection,
  type AttestationStatement,
  type VerifiedAttestation,
  type VerifyAttestationsOptions,
  type VerifyAttestationsResult,
} from './attestation.js';
