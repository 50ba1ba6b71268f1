/**
 * The OCI document model: image manifests (OCI, Docker v2 schema 2) and image indexes (OCI image index,
 * Docker manifest list) as a registry serves them, untrusted: strict JSON (`src/json/strict.ts`) and one schema
 * per document, descriptors with a valid digest and a non-negative safe-integer size; every failure a
 * `BAD_MANIFEST` naming the document and the path. Also the media types and the referrers fallback tag.
 * The `.sig` manifest has its own reader with a fast path (`parseSignatureManifest`, `cosign-ts/artifact`);
 * it shares the descriptor schema.
 *
 * Upstream: opencontainers/image-spec `manifest.md`, `image-index.md`, `descriptor.md`;
 * opencontainers/distribution-spec "Referrers Tag Schema"; sigstore/cosign `pkg/oci/mutate/map.go`.
 *
 * @module
 */
import { DescriptorSchema } from '../artifact/layer.js';
import { DOCKER_MANIFEST_LIST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE } from '../artifact/media-types.js';
import { parseDigest, type Digest } from '../digest.js';
import { parseJson } from '../json/strict.js';
import { fail } from '../errors.js';
import { schema } from '../internal/deps.js';

export { DOCKER_MANIFEST_LIST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE };

/** A content descriptor (of a blob or another manifest); `artifactType` and `annotations` when present. */
export interface Descriptor {
  readonly mediaType: string;
  /** Syntax checked. */
  readonly digest: Digest;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** What image manifests and indexes have in common: OCI 1.1's `artifactType`, `subject`, `annotations` when present. */
export interface OciDocument {
  /** The `mediaType` field, else the media type the document was served with. */
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A parsed image manifest (OCI image manifest or Docker v2 schema 2): the config and the layers, in order. */
export interface ImageManifest extends OciDocument {
  readonly schemaVersion: 2;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/** A parsed image index (OCI image index or Docker manifest list): the manifests it lists, in order. */
export interface ImageIndex extends OciDocument {
  /** Absent in some indexes (always accepted). */
  readonly schemaVersion?: 2;
  readonly manifests: readonly Descriptor[];
}

// z.object: the model keeps the known members only (`urls`, `platform`, … are dropped). Digests are
// checked by DescriptorSchema: the `as` casts below only brand them as `Digest`.
const EntrySchema = schema((z) => z.object({ ...DescriptorSchema().shape, artifactType: z.string().optional() }));
const DocumentSchema = schema((z) =>
  z.object({
    mediaType: z.string().optional(),
    artifactType: z.string().optional(),
    subject: EntrySchema().optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
);
const ManifestSchema = schema((z) =>
  z.object({ schemaVersion: z.literal(2, { error: 'must be 2' }), ...DocumentSchema().shape, config: EntrySchema(), layers: z.array(EntrySchema()) }),
);
const IndexSchema = schema((z) =>
  z.object({ schemaVersion: z.literal(2, { error: 'must be 2' }).optional(), ...DocumentSchema().shape, manifests: z.array(EntrySchema()) }),
);

/** True for the media types of an image index (OCI) or manifest list (Docker), exactly. */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === OCI_INDEX_MEDIA_TYPE || mediaType === DOCKER_MANIFEST_LIST_MEDIA_TYPE;
}

/** True for the media types of an image manifest (OCI, Docker v2 schema 2), exactly: what cosign signs in an index. */
export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === OCI_MANIFEST_MEDIA_TYPE || mediaType === DOCKER_MANIFEST_MEDIA_TYPE;
}

/** Strict JSON, an object, `mediaType` a string when present (no zod: the registry client's hot path). */
function readDocument(bytes: Uint8Array, headerMediaType: string, what: string): { doc: object; mediaType: string } {
  const doc = parseJson(bytes, what, 'BAD_MANIFEST');
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw fail('BAD_MANIFEST', `${what}: not a JSON object`);
  const mt = (doc as { mediaType?: unknown }).mediaType;
  if (mt === undefined) return { doc, mediaType: headerMediaType };
  if (typeof mt !== 'string') throw fail('BAD_MANIFEST', `${what}: mediaType: not a string`, { details: { path: 'mediaType' } });
  return { doc, mediaType: mt };
}

/**
 * The media type of a manifest document: its `mediaType` field, else `headerMediaType` (the
 * Content-Type it was served with).
 * @throws CosignError `BAD_MANIFEST` when the bytes are not strict JSON, not an object, or `mediaType`
 *   is not a string.
 */
export function manifestMediaType(bytes: Uint8Array, headerMediaType: string, what: string): string {
  return readDocument(bytes, headerMediaType, what).mediaType;
}

function check<T>(
  parsed: { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } },
  what: string,
): T {
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
  throw fail('BAD_MANIFEST', `${what}: ${path}: ${issue?.message ?? 'invalid'}`, { details: { path } });
}

/**
 * Parse an image manifest (OCI image manifest or Docker v2 schema 2). The media type is the
 * `mediaType` field, else `headerMediaType`; with neither, OCI (which allows the field to be missing).
 * @throws CosignError `BAD_MANIFEST` when the bytes are not strict JSON or not an object, when the
 *   media type is not an image manifest type (an index included), or when `schemaVersion` is not 2 or
 *   `config`/`layers` are not descriptors.
 */
export function parseManifest(bytes: Uint8Array, headerMediaType: string, what: string): ImageManifest {
  const { doc, mediaType: given } = readDocument(bytes, headerMediaType, what);
  const mediaType = given === '' ? OCI_MANIFEST_MEDIA_TYPE : given;
  if (!isManifestMediaType(mediaType)) {
    throw fail(
      'BAD_MANIFEST',
      `${what}: media type ${JSON.stringify(mediaType.slice(0, 200))} is ${isIndexMediaType(mediaType) ? 'an image index' : 'not an image manifest type'}`,
      { details: { path: 'mediaType' } },
    );
  }
  return { ...check(ManifestSchema().safeParse(doc), what), mediaType } as ImageManifest;
}

/**
 * Parse manifest bytes and, when they are an image index (by {@link manifestMediaType}: the exact OCI
 * index or Docker manifest list media type), the index; `undefined` for any other kind of manifest
 * (not checked further).
 * @throws CosignError `BAD_MANIFEST` when the bytes are not strict JSON or not an object, or when an
 *   index does not match the schema (a `manifests` array of descriptors; `schemaVersion` 2 if present).
 */
export function parseImageIndexIfAny(bytes: Uint8Array, headerMediaType: string, what: string): ImageIndex | undefined {
  const { doc, mediaType } = readDocument(bytes, headerMediaType, what);
  if (!isIndexMediaType(mediaType)) return undefined;
  return { ...check(IndexSchema().safeParse(doc), what), mediaType } as ImageIndex;
}

/**
 * Parse an image index (OCI image index or Docker manifest list).
 * @throws CosignError `BAD_MANIFEST` as {@link parseImageIndexIfAny}, and when the document is another
 *   kind of manifest.
 */
export function parseImageIndex(bytes: Uint8Array, headerMediaType: string, what: string): ImageIndex {
  const index = parseImageIndexIfAny(bytes, headerMediaType, what);
  if (index === undefined) throw fail('BAD_MANIFEST', `${what} is not an image index`);
  return index;
}

/**
 * The referrers fallback tag for a subject digest: `<alg>-<hex>` with the algorithm truncated to
 * 32 characters and the encoded part to 64, characters not allowed in tags replaced by `-`.
 * @throws CosignError `BAD_DIGEST` for a malformed digest.
 */
export function referrersFallbackTag(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm.slice(0, 32)}-${hex.slice(0, 64)}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
}
