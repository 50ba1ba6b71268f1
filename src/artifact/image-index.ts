/**
 * Image indexes (OCI image index, Docker manifest list) read from a registry: untrusted JSON, parsed
 * strictly (strict UTF-8, no duplicate keys, escaped keys decoded correctly — see `src/json.ts`) and
 * checked with a schema. Used wherever an index is followed: verification through a signed index, the
 * killer's index resolution, recursive signing.
 *
 * @module
 */
import { type Digest } from '../digest.js';
import { fail } from '../errors.js';
import { parseJson } from '../encoding.js';
import { schema } from '../zod.js';
import { DescriptorSchema } from './layer.js';
import { DOCKER_MANIFEST_LIST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE } from './media-types.js';

/** One manifest an index lists. */
export interface ImageIndexEntry {
  /** The child manifest's media type. */
  readonly mediaType: string;
  /** The child manifest's digest (syntax checked). */
  readonly digest: Digest;
  /** The child manifest's size in bytes. */
  readonly size: number;
}

/** A parsed image index. */
export interface ImageIndex {
  /** OCI image index or Docker manifest list media type. */
  readonly mediaType: string;
  /** The manifests it lists, in order. */
  readonly manifests: ReadonlyArray<ImageIndexEntry>;
}

const TopLevelSchema = schema((z) => z.looseObject({ mediaType: z.string().optional() }));
const IndexSchema = schema((z) => z.looseObject({ manifests: z.array(DescriptorSchema()) }));

/** True for the media types of an image index (OCI) or manifest list (Docker). */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === OCI_INDEX_MEDIA_TYPE || mediaType === DOCKER_MANIFEST_LIST_MEDIA_TYPE;
}

function schemaError(what: string, issue: { path: ReadonlyArray<PropertyKey>; message: string } | undefined): never {
  const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
  throw fail('BAD_MANIFEST', `${what}: ${path}: ${issue?.message ?? 'invalid'}`, { details: { path } });
}

/**
 * The media type of a manifest document: its `mediaType` field, else `headerMediaType` (the
 * Content-Type it was served with).
 * @throws CosignError `BAD_MANIFEST` when the bytes are not strict JSON, not an object, or `mediaType`
 *   is not a string.
 */
export function manifestMediaType(bytes: Uint8Array, headerMediaType: string, what: string): string {
  return readManifest(bytes, headerMediaType, what).mediaType;
}

function readManifest(bytes: Uint8Array, headerMediaType: string, what: string): { doc: unknown; mediaType: string } {
  const doc = parseJson(bytes, what, 'BAD_MANIFEST');
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw fail('BAD_MANIFEST', `${what}: not a JSON object`);
  const top = TopLevelSchema().safeParse(doc);
  if (!top.success) schemaError(what, top.error.issues[0]);
  return { doc, mediaType: top.data.mediaType ?? headerMediaType };
}

/**
 * Parse manifest bytes and, when they are an image index (by {@link manifestMediaType}), its
 * entries; `undefined` for any other kind of manifest.
 * @throws CosignError `BAD_MANIFEST` when the bytes are not strict JSON or not an object, or when an
 *   index has no `manifests` array of descriptors (media type, size, valid digest).
 */
export function parseImageIndexIfAny(bytes: Uint8Array, headerMediaType: string, what: string): ImageIndex | undefined {
  const { doc, mediaType } = readManifest(bytes, headerMediaType, what);
  if (!isIndexMediaType(mediaType)) return undefined;
  const parsed = IndexSchema().safeParse(doc);
  if (!parsed.success) schemaError(what, parsed.error.issues[0]);
  const manifests = parsed.data.manifests.map((m): ImageIndexEntry => ({ mediaType: m.mediaType, digest: m.digest as Digest, size: m.size }));
  return { mediaType, manifests };
}

/**
 * Parse an image index.
 * @throws CosignError `BAD_MANIFEST` as {@link parseImageIndexIfAny}, and when the document is another
 *   kind of manifest.
 */
export function parseImageIndex(bytes: Uint8Array, headerMediaType: string, what: string): ImageIndex {
  const index = parseImageIndexIfAny(bytes, headerMediaType, what);
  if (index === undefined) throw fail('BAD_MANIFEST', `${what} is not an image index`);
  return index;
}
