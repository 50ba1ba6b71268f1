/**
 * One signature layer of a `.sig` image: its descriptor (media type, size, digest, annotations) and
 * blob (the payload), built like cosign and parsed strictly.
 *
 * Upstream: sigstore/cosign `pkg/oci/static/signature.go`, `pkg/oci/static/options.go` (writing),
 * `pkg/oci/internal/signature/layer.go` (reading).
 *
 * @module
 */
import { hash } from 'node:crypto';
import { schema } from '../internal/deps.js';
import { assertDigest, isDigest, isSha256DigestAt, type Digest } from '../digest.js';
import { decodeBase64StrictBytes, encodeBase64 } from '../encoding.js';
import { fail, isCosignError } from '../errors.js';
import { plain } from '../json/plain.js';
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  RFC3161_TIMESTAMP_ANNOTATION,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from './media-types.js';
import { encodeRekorBundle, encodeRfc3161Timestamp, parseRekorBundle, parseRfc3161Timestamp, type RekorBundle, type Rfc3161Timestamp } from './rekor.js';

/** Layer descriptors that `parseSignatureManifest` validated and froze. */
const VALIDATED = new WeakSet<object>();

/** Mark `o`, a descriptor `parseSignatureManifest` validated (and is about to freeze), as trusted by {@link parseSignatureLayer}. */
export function brandValidatedDescriptor(o: object): void {
  VALIDATED.add(o);
}

/** Default limit on a signature layer's size (cosign's default attachment limit, 128 MiB). */
export const DEFAULT_MAX_LAYER_BYTES = 128 * 1024 * 1024;

/** An OCI content descriptor as it appears in a manifest's `layers`. */
export interface LayerDescriptor {
  /** Layer media type. */
  readonly mediaType: string;
  /** Blob size in bytes. */
  readonly size: number;
  /** Blob digest. */
  readonly digest: Digest;
  /** Layer annotations (empty object when the manifest has none). */
  readonly annotations: Readonly<Record<string, string>>;
}

/** A parsed (or built) signature layer. */
export interface SignatureLayer {
  /** The descriptor as in the manifest. */
  readonly descriptor: LayerDescriptor;
  /** The blob: the exact signed payload bytes. */
  readonly payload: Uint8Array;
  /** Decoded `dev.cosignproject.cosign/signature` (empty for attestations). */
  readonly signature: Uint8Array;
  /** PEM leaf certificate, when present and non-empty. */
  readonly certificate?: string;
  /** PEM chain, when present and non-empty. */
  readonly chain?: string;
  /** Parsed Rekor bundle, when present and non-empty. */
  readonly bundle?: RekorBundle;
  /** The bundle annotation text, verbatim. */
  readonly bundleRaw?: string;
  /** Parsed RFC 3161 timestamp annotation, when present and non-empty. */
  readonly rfc3161Timestamp?: Rfc3161Timestamp;
  /** The timestamp annotation text, verbatim. */
  readonly rfc3161TimestampRaw?: string;
}

/** Inputs of {@link buildSignatureLayer}. */
export interface BuildSignatureLayerInput {
  /** The payload bytes (the layer blob). */
  readonly payload: Uint8Array;
  /** The raw signature (empty for attestations: the annotation is then `""`). */
  readonly signature: Uint8Array;
  /** PEM certificate; when given, the chain annotation is written too (possibly `""`). */
  readonly certificate?: string;
  /** PEM chain (only written with a certificate). */
  readonly chain?: string;
  /** Rekor bundle: parsed (encoded like cosign) or annotation text (written verbatim). */
  readonly bundle?: RekorBundle | string;
  /** RFC 3161 timestamp: parsed (encoded like cosign) or annotation text (written verbatim). */
  readonly rfc3161Timestamp?: Rfc3161Timestamp | string;
  /** Layer media type. Default {@link SIMPLE_SIGNING_MEDIA_TYPE}. */
  readonly mediaType?: string;
  /** Further annotations (e.g. `predicateType` on attestations). */
  readonly extraAnnotations?: Readonly<Record<string, string>>;
}

/**
 * Build a signature layer as cosign does: blob = payload, digest = sha256(payload), annotations
 * signature (standard base64), certificate + chain, bundle and timestamp when given.
 */
export function buildSignatureLayer(input: BuildSignatureLayerInput): SignatureLayer {
  const { payload, signature } = input;
  if (!(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) throw fail('BAD_INPUT', 'signature layer: payload and signature must be bytes');
  const annotations: Record<string, string> = { ...(input.extraAnnotations ?? {}) };
  annotations[SIGNATURE_ANNOTATION] = encodeBase64(signature);
  if (input.certificate !== undefined) {
    annotations[CERTIFICATE_ANNOTATION] = input.certificate;
    annotations[CHAIN_ANNOTATION] = input.chain ?? '';
  }
  let bundle: RekorBundle | undefined;
  let bundleRaw: string | undefined;
  if (input.bundle !== undefined) {
    bundleRaw = typeof input.bundle === 'string' ? input.bundle : encodeRekorBundle(input.bundle);
    bundle = typeof input.bundle === 'string' ? parseRekorBundle(input.bundle) : input.bundle;
    annotations[BUNDLE_ANNOTATION] = bundleRaw;
  }
  let ts: Rfc3161Timestamp | undefined;
  let tsRaw: string | undefined;
  if (input.rfc3161Timestamp !== undefined) {
    tsRaw = typeof input.rfc3161Timestamp === 'string' ? input.rfc3161Timestamp : encodeRfc3161Timestamp(input.rfc3161Timestamp);
    ts = typeof input.rfc3161Timestamp === 'string' ? parseRfc3161Timestamp(input.rfc3161Timestamp) : input.rfc3161Timestamp;
    annotations[RFC3161_TIMESTAMP_ANNOTATION] = tsRaw;
  }
  const layer: {
    -readonly [K in keyof SignatureLayer]: SignatureLayer[K];
  } = {
    descriptor: Object.freeze({
      mediaType: input.mediaType ?? SIMPLE_SIGNING_MEDIA_TYPE,
      size: payload.byteLength,
      digest: sha256Digest(payload),
      annotations: Object.freeze(annotations),
    }),
    payload,
    signature,
  };
  if (input.certificate !== undefined && input.certificate !== '') layer.certificate = input.certificate;
  if (input.chain !== undefined && input.chain !== '' && input.certificate !== undefined) layer.chain = input.chain;
  if (bundle !== undefined) {
    layer.bundle = bundle;
    layer.bundleRaw = bundleRaw;
  }
  if (ts !== undefined) {
    layer.rfc3161Timestamp = ts;
    layer.rfc3161TimestampRaw = tsRaw;
  }
  return Object.freeze(layer);
}

/** zod schema of a manifest layer descriptor (unknown fields such as `urls`, `data` pass through). */
export const DescriptorSchema = schema((z) =>
  z.looseObject({
    mediaType: z.string(),
    size: z.number().refine((n) => Number.isSafeInteger(n) && n >= 0, { message: 'must be a non-negative integer' }),
    digest: z.string().refine((s) => isDigest(s), { message: 'not a valid digest' }),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
);

/** A descriptor's fields as the manifest parser needs them (annotations: own keys only, `{}` when absent). */
export interface DescriptorFields {
  readonly mediaType: string;
  readonly size: number;
  readonly digest: string;
  readonly annotations: Record<string, string>;
}

/**
 * A descriptor as cosign writes it, for `readPlainJson`: `mediaType`, `size`, a sha256 `digest` and
 * optional `annotations` (other keys or digest algorithms take the checked path, {@link DescriptorSchema}).
 */
export const PLAIN_DESCRIPTOR = plain.object({
  mediaType: plain.string,
  size: plain.integer(0),
  digest: plain.token(isSha256DigestAt),
  annotations: plain.optional(plain.strings),
});

/** `sha256:<hex>` of `data`, with the one-shot hash (faster than a Hash object for small inputs). */
export function sha256Digest(data: Uint8Array): Digest {
  return `sha256:${hash('sha256', data, 'hex')}`;
}

/** A copy of a string record keeping every own key (zod's output would drop `__proto__`). */
export function ownRecord(r: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return r === undefined ? {} : Object.fromEntries(Object.entries(r));
}

/** Layer media types {@link parseSignatureLayer} accepts by default (one shared array, not one per call). */
const DEFAULT_LAYER_MEDIA_TYPES: readonly string[] = Object.freeze([SIMPLE_SIGNING_MEDIA_TYPE]);

/** Options for {@link parseSignatureLayer}. */
export interface ParseSignatureLayerOptions {
  /** Largest accepted layer. Default {@link DEFAULT_MAX_LAYER_BYTES}. */
  readonly maxBytes?: number;
  /** Accepted layer media types. Default: only {@link SIMPLE_SIGNING_MEDIA_TYPE}. */
  readonly mediaTypes?: readonly string[];
}

/**
 * Parse one signature layer from its descriptor and blob.
 *
 * Checks, in order: descriptor shape (`BAD_SIGNATURE_LAYER`), media type (`TYPE_MISMATCH`), size
 * limit (`TOO_LARGE`), blob size and digest (`DIGEST_MISMATCH`), signature annotation present and
 * strict standard base64 — line breaks allowed, `!`, `*`, base64url refused (`BAD_SIGNATURE_LAYER`),
 * bundle and timestamp JSON (`BAD_SIGNATURE_LAYER`). Empty certificate, chain, bundle or timestamp
 * values count as absent.
 */
export function parseSignatureLayer(descriptor: unknown, blob: Uint8Array, options: ParseSignatureLayerOptions = {}): SignatureLayer {
  let desc: { mediaType: string; size: number; digest: string };
  // Descriptors produced by parseSignatureManifest are already validated and frozen: no need to validate again.
  const trusted = typeof descriptor === 'object' && descriptor !== null && VALIDATED.has(descriptor);
  if (trusted) {
    desc = descriptor as LayerDescriptor;
  } else {
    const d = DescriptorSchema().safeParse(descriptor);
    if (!d.success) {
      const issue = d.error.issues[0];
      const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
      throw fail('BAD_SIGNATURE_LAYER', `signature layer descriptor: ${path}: ${issue?.message ?? 'invalid'}`, { details: { path } });
    }
    desc = d.data;
  }
  if (!(blob instanceof Uint8Array)) throw fail('BAD_SIGNATURE_LAYER', 'signature layer: blob must be bytes');
  const accepted = options.mediaTypes ?? DEFAULT_LAYER_MEDIA_TYPES;
  if (!accepted.includes(desc.mediaType)) {
    throw fail('TYPE_MISMATCH', `signature layer has media type ${JSON.stringify(desc.mediaType.slice(0, 200))}, expected ${accepted.join(' or ')}`, {
      details: { expected: [...accepted], actual: desc.mediaType.slice(0, 200) },
    });
  }
  const max = options.maxBytes ?? DEFAULT_MAX_LAYER_BYTES;
  if (desc.size > max || blob.byteLength > max) {
    throw fail('TOO_LARGE', `signature layer: ${Math.max(desc.size, blob.byteLength)} bytes is over the ${max}-byte limit`);
  }
  if (blob.byteLength !== desc.size) {
    throw fail('DIGEST_MISMATCH', `signature layer ${desc.digest}: blob is ${blob.byteLength} bytes, descriptor says ${desc.size}`, {
      details: { expectedSize: desc.size, actualSize: blob.byteLength },
    });
  }
  if (desc.digest.startsWith('sha256:')) {
    const actual = sha256Digest(blob);
    if (actual !== desc.digest) {
      throw fail('DIGEST_MISMATCH', `signature layer blob: content does not match digest ${desc.digest}`, { details: { expected: desc.digest, actual } });
    }
  } else {
    try {
      assertDigest(blob, desc.digest, 'signature layer blob');
    } catch (e) {
      // Unsupported algorithms surface as BAD_DIGEST; a mismatch stays DIGEST_MISMATCH.
      if (isCosignError(e, 'BAD_DIGEST')) throw fail('BAD_SIGNATURE_LAYER', `signature layer: ${e.message}`, { cause: e });
      throw e;
    }
  }
  // Descriptors from parseSignatureManifest carry a frozen own-key record already: no copy needed.
  const annotations = trusted ? (descriptor as LayerDescriptor).annotations : ownRecord((descriptor as { annotations?: Record<string, string> }).annotations);
  const sigText = annotations[SIGNATURE_ANNOTATION];
  if (sigText === undefined) throw fail('BAD_SIGNATURE_LAYER', `signature layer ${desc.digest}: no ${SIGNATURE_ANNOTATION} annotation`);
  const signature = decodeBase64StrictBytes(sigText, `signature layer ${desc.digest}: ${SIGNATURE_ANNOTATION}`, 'BAD_SIGNATURE_LAYER');
  const layer: { -readonly [K in keyof SignatureLayer]: SignatureLayer[K] } = {
    descriptor: trusted
      ? (descriptor as LayerDescriptor)
      : Object.freeze({ mediaType: desc.mediaType, size: desc.size, digest: desc.digest as Digest, annotations: Object.freeze(ownRecord(annotations)) }),
    payload: blob,
    signature,
  };
  const cert = annotations[CERTIFICATE_ANNOTATION];
  if (cert !== undefined && cert !== '') layer.certificate = cert;
  const chain = annotations[CHAIN_ANNOTATION];
  if (chain !== undefined && chain !== '') layer.chain = chain;
  const bundle = annotations[BUNDLE_ANNOTATION];
  if (bundle !== undefined && bundle !== '') {
    try {
      layer.bundle = parseRekorBundle(bundle);
    } catch (e) {
      if (isCosignError(e)) throw fail('BAD_SIGNATURE_LAYER', `signature layer ${desc.digest}: ${BUNDLE_ANNOTATION}: ${e.message}`, { cause: e });
      throw e;
    }
    layer.bundleRaw = bundle;
  }
  const ts = annotations[RFC3161_TIMESTAMP_ANNOTATION];
  if (ts !== undefined && ts !== '') {
    try {
      layer.rfc3161Timestamp = parseRfc3161Timestamp(ts);
    } catch (e) {
      if (isCosignError(e)) throw fail('BAD_SIGNATURE_LAYER', `signature layer ${desc.digest}: ${RFC3161_TIMESTAMP_ANNOTATION}: ${e.message}`, { cause: e });
      throw e;
    }
    layer.rfc3161TimestampRaw = ts;
  }
  return Object.freeze(layer);
}
