/**
 * Signing images: {@link signImage} resolves a reference, builds cosign's payload, signs it with any
 * {@link Signer} (key file or KMS), and appends the signature to the image's `.sig` artifact.
 *
 * @module
 */
export { signImage, type SignImageOptions, type SignImageResult, type SignedDigest } from './image.js';
export type { Signer } from '../keys/signer.js';
