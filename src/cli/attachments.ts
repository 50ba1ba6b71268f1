/**
 * Shared helpers of the attachment verbs (`triangulate`, `tree`, `clean`, `copy`): parse the image
 * reference, resolve its digest, name its `.sig` / `.att` / `.sbom` tags (honouring
 * `COSIGN_REPOSITORY` and `--attachment-tag-prefix`).
 *
 * @module
 */
import type { Digest } from '../digest.js';
import type { ImageReference } from '../reference.js';
import { CliError } from './errors.js';
import type { RegistrySettings } from './registry.js';

/** Attachment kinds and their tag suffixes. */
export type Kind = 'sig' | 'att' | 'sbom';

/** Parse an image reference, with cosign's `parsing reference:` prefix on failure. */
export async function parseImage(input: string): Promise<ImageReference> {
  const { parseReference } = await import('../reference.js');
  try {
    return parseReference(input);
  } catch (e) {
    throw new CliError(`parsing reference: ${(e as Error).message}`, 1, 'BAD_REFERENCE');
  }
}

/** The digest of `ref` (no request when it has one). */
export async function digestOf(reg: RegistrySettings, ref: ImageReference, signal: AbortSignal): Promise<Digest> {
  if (ref.digest !== undefined) return ref.digest;
  const m = await reg.client.getManifest(ref, { signal });
  return m.digest;
}

/** `<sig repo>:<prefix>sha256-<hex>.<kind>` as a reference. */
export async function attachmentRef(reg: RegistrySettings, ref: ImageReference, digest: Digest, kind: Kind): Promise<ImageReference> {
  const { signatureTag } = await import('../artifact/tags.js');
  const { withTag } = await import('../reference.js');
  return withTag(reg.signatureRepository ?? ref, signatureTag(digest, kind, reg.tagPrefix));
}

/** True when the error is a registry "not found". */
export function isNotFound(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'NOT_FOUND';
}
