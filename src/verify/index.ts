/**
 * Verifying images: {@link verifyLayer} is pure and synchronous (verify from files, caches or
 * batches without extra fetches); {@link verifyImage} and {@link verifyImages} fetch from a registry.
 *
 * @module
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
export { keyAuthority, authorityFingerprint, type Authority, type IdentityAuthority, type KeyAuthority } from './authority.js';
export { VerificationCache, type CacheStats, type VerificationCacheOptions } from './cache.js';
export { sigTagSource, fetchSignatures, type FetchedSignatures, type FetchOptions, type LayerVisitor, type SignatureListing, type SignatureSource, type SourceLayer } from './source.js';
