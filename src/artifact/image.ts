/**
 * The `.sig` image around signature layers: manifest and config built byte-identical to
 * go-containerregistry/cosign, strict manifest parsing, and cosign's append-with-deduplication.
 *
 * Upstream: sigstore/cosign `pkg/oci/empty/empty.go`, `pkg/oci/mutate/signatures.go`,
 * `pkg/oci/mutate/mutate.go` (`dedupeAndReplace`), `pkg/cosign/remote/remote.go` (duplicate
 * detector), `pkg/oci/remote/signatures.go` (1000-layer limit); google/go-containerregistry
 * `pkg/v1/manifest.go`, `pkg/v1/config.go`, `pkg/v1/mutate/image.go`.
 *
 * @module
 */
import { schema } from '../internal/deps.js';
import type { Digest } from '../digest.js';
import { fail } from '../errors.js';
import { goMarshal, goStruct, type GoValue } from '../json/gojson.js';
import { decodeUtf8Strict, parseStrictJson } from '../json/strict.js';
import { plain, readPlainJson } from '../json/plain.js';
import { brandValidatedDescriptor, DescriptorSchema, PLAIN_DESCRIPTOR, sha256Digest, type DescriptorFields, type LayerDescriptor } from './layer.js';
import {
  DOCKER_CONFIG_MEDIA_TYPE,
  DOCKER_MANIFEST_MEDIA_TYPE,
  OCI_CONFIG_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  SIGNATURE_ANNOTATION,
  SIGNATURE_MANIFEST_MEDIA_TYPES,
} from './media-types.js';

/** Most layers a signature manifest may have (cosign refuses more). */
export const DEFAULT_MAX_LAYERS = 1000;
/** Largest signature manifest accepted (4 MiB, what registries themselves accept). */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const utf8 = new TextEncoder();
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** A layer to put into a signature image: descriptor and blob. */
export interface ImageLayer {
  /** Descriptor (media type, size, digest, annotations). */
  readonly descriptor: LayerDescriptor;
  /** The blob bytes. */
  readonly payload: Uint8Array;
}

/** Options for {@link buildSignatureImage}. */
export interface BuildSignatureImageOptions {
  /** Docker v2 media types for manifest and config (cosign's `COSIGN_DOCKER_MEDIA_TYPES`). Default false (OCI). */
  readonly dockerMediaTypes?: boolean;
  /** Override the config descriptor's media type (e.g. the referrers-mode artifact type). */
  readonly configMediaType?: string;
}

/** A complete signature image, ready to push. */
export interface SignatureImage {
  /** Manifest bytes (compact Go JSON). */
  readonly manifest: Uint8Array;
  /** Digest of {@link SignatureImage.manifest}. */
  readonly manifestDigest: Digest;
  /** Manifest media type (also the Content-Type to push with). */
  readonly manifestMediaType: string;
  /** Config bytes. */
  readonly config: Uint8Array;
  /** Digest of {@link SignatureImage.config}. */
  readonly configDigest: Digest;
  /** Every blob the manifest refers to (config and layers), by digest. */
  readonly blobs: ReadonlyMap<Digest, Uint8Array>;
}

/**
 * The config go-containerregistry writes for a cosign signature image: zero times, one `history`
 * entry and one `diff_id` per layer (diff ID = layer digest, the blobs are uncompressed).
 * With one layer it is exactly 233 bytes.
 */
export function buildSignatureConfig(layerDigests: readonly Digest[]): Uint8Array {
  const history = layerDigests.map(() => goStruct(['created', ZERO_TIME]));
  const cfg = goStruct(
    ['architecture', ''],
    ['created', ZERO_TIME],
    // ggcr's empty image has no history (omitempty); each appended layer adds one entry.
    ['history', history.length === 0 ? undefined : history],
    ['os', ''],
    ['rootfs', goStruct(['type', 'layers'], ['diff_ids', [...layerDigests]])],
    ['config', goStruct()],
  );
  return utf8.encode(goMarshal(cfg));
}

function descriptorValue(d: LayerDescriptor): GoValue {
  const annotations = d.annotations !== undefined && Object.keys(d.annotations).length > 0 ? d.annotations : undefined;
  return goStruct(['mediaType', d.mediaType], ['size', d.size], ['digest', d.digest], ['annotations', annotations]);
}

/**
 * Build the signature image around `layers` (in order), byte-identical to cosign:
 * manifest `{"schemaVersion":2,"mediaType":…,"config":{mediaType,size,digest},"layers":[{mediaType,size,digest,annotations}]}`
 * with annotation keys sorted, and cosign's config blob (one `rootfs.diff_ids` entry per layer).
 */
export function buildSignatureImage(layers: readonly ImageLayer[], options: BuildSignatureImageOptions = {}): SignatureImage {
  const docker = options.dockerMediaTypes ?? false;
  const manifestMediaType = docker ? DOCKER_MANIFEST_MEDIA_TYPE : OCI_MANIFEST_MEDIA_TYPE;
  const configMediaType = options.configMediaType ?? (docker ? DOCKER_CONFIG_MEDIA_TYPE : OCI_CONFIG_MEDIA_TYPE);
  const blobs = new Map<Digest, Uint8Array>();
  for (const l of layers) {
    if (l.payload.byteLength !== l.descriptor.size || sha256Digest(l.payload) !== l.descriptor.digest) {
      throw fail('DIGEST_MISMATCH', `layer ${l.descriptor.digest}: blob does not match its descriptor`);
    }
    blobs.set(l.descriptor.digest, l.payload);
  }
  const config = buildSignatureConfig(layers.map((l) => l.descriptor.digest));
  const configDigest = sha256Digest(config);
  blobs.set(configDigest, config);
  const manifestValue = goStruct(
    ['schemaVersion', 2],
    ['mediaType', manifestMediaType],
    ['config', goStruct(['mediaType', configMediaType], ['size', config.byteLength], ['digest', configDigest])],
    ['layers', layers.map((l) => descriptorValue(l.descriptor))],
  );
  const manifest = utf8.encode(goMarshal(manifestValue));
  return Object.freeze({ manifest, manifestDigest: sha256Digest(manifest), manifestMediaType, config, configDigest, blobs });
}

/** A parsed signature manifest. */
export interface SignatureManifest {
  /** The exact manifest bytes. */
  readonly raw: Uint8Array;
  /** sha256 of {@link SignatureManifest.raw}. */
  readonly digest: Digest;
  /** The media type: the `mediaType` field, else the Content-Type, else OCI. */
  readonly mediaType: string;
  /** The config descriptor. */
  readonly config: {
    /** Config media type. */
    readonly mediaType: string;
    /** Config size in bytes. */
    readonly size: number;
    /** Config digest. */
    readonly digest: Digest;
  };
  /** Layer descriptors, in manifest order (not filtered by media type). */
  readonly layers: readonly LayerDescriptor[];
}

/** Options for {@link parseSignatureManifest}. */
export interface ParseSignatureManifestOptions {
  /** Most layers accepted; more → `TOO_LARGE` before anything else is looked at. Default 1000. */
  readonly maxLayers?: number;
  /** Largest manifest accepted. Default 4 MiB. */
  readonly maxBytes?: number;
  /** The registry's Content-Type, if known (parameters are ignored). */
  readonly contentType?: string;
}

const ManifestSchema = schema((z) =>
  z.looseObject({
    schemaVersion: z.literal(2, { error: 'must be 2' }),
    mediaType: z.string().optional(),
    config: DescriptorSchema(),
    layers: z.array(DescriptorSchema()),
  }),
);

/** What the manifest JSON contributes to a {@link SignatureManifest}. */
export interface ManifestFields {
  readonly mediaType: string | undefined;
  readonly config: { readonly mediaType: string; readonly size: number; readonly digest: string };
  readonly layers: readonly DescriptorFields[];
}

/**
 * The manifests cosign writes, for {@link readPlainJson}: `schemaVersion`, optional `mediaType`,
 * `config` and `layers` (descriptors as {@link PLAIN_DESCRIPTOR} reads them), and OCI 1.1's optional
 * `subject`, `artifactType` and `annotations` (referrers-mode signatures have a subject).
 */
export const PLAIN_MANIFEST = plain.object({
  schemaVersion: plain.integer(2, 2),
  mediaType: plain.optional(plain.string),
  config: PLAIN_DESCRIPTOR,
  layers: plain.array(PLAIN_DESCRIPTOR),
  subject: plain.optional(PLAIN_DESCRIPTOR),
  artifactType: plain.optional(plain.string),
  annotations: plain.optional(plain.strings),
});

/**
 * The manifest JSON value: {@link PLAIN_MANIFEST}'s fast path, else {@link readManifestChecked}. Either
 * way, the value `parseStrictJson` gives, checked.
 */
function readManifestJson(text: string, maxLayers: number): unknown {
  const fast = readPlainJson(text, PLAIN_MANIFEST);
  // Over the layer limit: the checked path reports TOO_LARGE (after checking the JSON, as always).
  return fast !== undefined && (fast.layers as unknown[]).length <= maxLayers ? fast : readManifestChecked(text, maxLayers);
}

/** The checked path: `parseStrictJson`, the layer limit, then `ManifestSchema`; its errors are the reference behaviour. */
export function readManifestChecked(text: string, maxLayers: number): unknown {
  const value = parseStrictJson(text, 'signature manifest', 'BAD_MANIFEST');
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const layers = (value as { layers?: unknown }).layers;
    if (Array.isArray(layers) && layers.length > maxLayers) {
      throw fail('TOO_LARGE', `signature manifest has ${layers.length} layers, more than the limit of ${maxLayers}`, {
        details: { layers: layers.length, limit: maxLayers },
      });
    }
  }
  const parsed = ManifestSchema().safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    throw fail('BAD_MANIFEST', `signature manifest: ${path}: ${issue?.message ?? 'invalid'}`, { details: { path } });
  }
  return value;
}

/** The fields of a checked manifest value (its own objects: the annotations records keep a `__proto__` key, unlike zod's copies). */
function manifestFields(value: unknown): ManifestFields {
  const m = value as {
    mediaType?: string;
    config: DescriptorFields;
    layers: Array<Omit<DescriptorFields, 'annotations'> & { annotations?: Record<string, string> }>;
  };
  return {
    mediaType: m.mediaType,
    config: { mediaType: m.config.mediaType, size: m.config.size, digest: m.config.digest },
    layers: m.layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest, annotations: l.annotations ?? {} })),
  };
}

/**
 * Parse a signature image manifest (OCI or Docker v2 schema 2) strictly.
 *
 * The media type comes from the `mediaType` field; when the field is missing, the Content-Type
 * decides (a missing field with no Content-Type is read as OCI, which allows it); both must be one of
 * the two manifest types and must agree. More than `maxLayers` layers is refused up front.
 * @throws CosignError `TOO_LARGE`, `BAD_MANIFEST` (with `details.path`).
 */
export function parseSignatureManifest(bytes: Uint8Array, options: ParseSignatureManifestOptions = {}): SignatureManifest {
  if (!(bytes instanceof Uint8Array)) throw fail('BAD_MANIFEST', 'signature manifest: expected bytes');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const maxLayers = options.maxLayers ?? DEFAULT_MAX_LAYERS;
  if (bytes.byteLength > maxBytes) throw fail('TOO_LARGE', `signature manifest: ${bytes.byteLength} bytes is over the ${maxBytes}-byte limit`);
  const text = decodeUtf8Strict(bytes, 'signature manifest', 'BAD_MANIFEST');
  const m = manifestFields(readManifestJson(text, maxLayers));
  const contentType = options.contentType?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== undefined && contentType !== '' && !SIGNATURE_MANIFEST_MEDIA_TYPES.includes(contentType)) {
    throw fail('BAD_MANIFEST', `signature manifest: Content-Type ${JSON.stringify(contentType.slice(0, 200))} is not an image manifest type`);
  }
  if (m.mediaType !== undefined && !SIGNATURE_MANIFEST_MEDIA_TYPES.includes(m.mediaType)) {
    throw fail('BAD_MANIFEST', `signature manifest: mediaType ${JSON.stringify(m.mediaType.slice(0, 200))} is not an image manifest type`, {
      details: { path: 'mediaType' },
    });
  }
  if (m.mediaType !== undefined && contentType !== undefined && contentType !== '' && m.mediaType !== contentType) {
    throw fail('BAD_MANIFEST', `signature manifest: mediaType ${m.mediaType} disagrees with Content-Type ${contentType}`, { details: { path: 'mediaType' } });
  }
  const mediaType = m.mediaType ?? (contentType !== undefined && contentType !== '' ? contentType : OCI_MANIFEST_MEDIA_TYPE);
  const layers = m.layers.map((l) => {
    // Fresh objects (the annotations are the fast path's or JSON.parse's own): ours to brand and freeze.
    Object.freeze(l.annotations);
    brandValidatedDescriptor(l);
    return Object.freeze(l) as LayerDescriptor;
  });
  return Object.freeze({
    raw: bytes,
    digest: sha256Digest(bytes),
    mediaType,
    config: Object.freeze({ mediaType: m.config.mediaType, size: m.config.size, digest: m.config.digest as Digest }),
    layers: Object.freeze(layers),
  });
}

/** Options for {@link appendSignature}. */
export interface AppendSignatureOptions<L extends ImageLayer> {
  /**
   * Whether an existing layer's signature verifies the new payload with the signer's key. Called
   * only for candidates that already match digest, media type and annotations. Omit to never
   * de-duplicate.
   */
  readonly verifiesWithSignerKey?: (existing: L) => boolean;
}

/** Result of {@link appendSignature}. */
export interface AppendSignatureResult<L extends ImageLayer> {
  /** The layers to write (the existing ones, plus the new one unless it was a duplicate). */
  readonly layers: readonly (L | ImageLayer)[];
  /** False when the new layer was a duplicate and nothing changed. */
  readonly appended: boolean;
  /** The existing layer that made the new one redundant. */
  readonly duplicateOf?: L;
}

/**
 * Append `newLayer` after `existing`, unless an existing layer makes it redundant. Like cosign, a
 * layer is a duplicate when it has the same digest and media type, every annotation of the new layer
 * except the signature with an equal value, a non-empty signature, and that signature verifies the
 * new payload with the signer's key (`verifiesWithSignerKey`).
 */
export function appendSignature<L extends ImageLayer>(
  existing: readonly L[],
  newLayer: ImageLayer,
  options: AppendSignatureOptions<L> = {},
): AppendSignatureResult<L> {
  const check = options.verifiesWithSignerKey;
  if (check !== undefined) {
    const want = newLayer.descriptor;
    for (const layer of existing) {
      const have = layer.descriptor;
      if (have.digest !== want.digest || have.mediaType !== want.mediaType) continue;
      const sameAnnotations = Object.entries(want.annotations).every(([k, v]) => k === SIGNATURE_ANNOTATION || have.annotations[k] === v);
      if (!sameAnnotations) continue;
      if ((have.annotations[SIGNATURE_ANNOTATION] ?? '') === '') continue;
      if (check(layer)) return { layers: [...existing], appended: false, duplicateOf: layer };
    }
  }
  return { layers: [...existing, newLayer], appended: true };
}
