/**
 * Cosign signature artifacts: media types and annotation keys, tag names, signature layers, the
 * `.sig` image (manifest + config), Rekor bundle annotations and containers/image signature files.
 *
 * ```ts
 * import { parseSignatureLayer, signatureTag } from 'cosign-ts/artifact';
 *
 * signatureTag('sha256:…'); // 'sha256-….sig', where cosign stores an image's signatures
 * const layer = parseSignatureLayer(descriptor, blobBytes); // a layer of the .sig manifest, strictly checked
 * ```
 *
 * @module cosign-ts/artifact
 */
export * from './media-types.js';
export { signatureTag } from './tags.js';
export type { AttachmentKind } from './tags.js';
export { DEFAULT_MAX_LAYER_BYTES, buildSignatureLayer, parseSignatureLayer } from './layer.js';
export type { BuildSignatureLayerInput, LayerDescriptor, ParseSignatureLayerOptions, SignatureLayer } from './layer.js';
export {
  DEFAULT_MAX_LAYERS,
  DEFAULT_MAX_MANIFEST_BYTES,
  appendSignature,
  buildSignatureImage,
  parseSignatureManifest,
} from './image.js';
export type {
  AppendSignatureOptions,
  AppendSignatureResult,
  BuildSignatureImageOptions,
  ImageLayer,
  ParseSignatureManifestOptions,
  SignatureImage,
  SignatureManifest,
} from './image.js';
export { encodeRekorBundle, encodeRfc3161Timestamp, parseRekorBundle, parseRfc3161Timestamp, rekorKey, verifyRekorSET } from './rekor.js';
export type { RekorBundle, RekorKey, Rfc3161Timestamp } from './rekor.js';
export {
  encodeSigstoreJsonSignature,
  parseSigstoreJsonSignature,
  signatureLayerFromSigstoreJson,
} from './sigstore-json.js';
export type { SigstoreJsonSignature } from './sigstore-json.js';
