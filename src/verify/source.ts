/**
 * Where signatures come from. Today: the legacy `sha256-<hex>.sig` tag ({@link sigTagSource}). Next:
 * Sigstore bundles attached as OCI 1.1 referrers (cosign v3's default) — another implementation of
 * the same interface, so `verifyImage`, the killer and the webhook do not change.
 *
 * @module
 */
import { parseSignatureManifest } from '../artifact/image.js';
import { parseSignatureLayer, type SignatureLayer } from '../artifact/layer.js';
import { signatureTag } from '../artifact/tags.js';
import type { Digest } from '../digest.js';
import { CosignError, fail, isCosignError } from '../errors.js';
import type { RegistryClient } from '../oci/client.js';
import { formatReference, parseRepository, withDigest, withTag, type ImageReference } from '../reference.js';
import type { LayerFailure } from './layer.js';
import { mapLimit } from '../concurrency.js';

/** Signatures fetched for one digest: parsed layers, and layers that could not even be read. */
export interface FetchedSignatures {
  /** Where they were read from (e.g. `registry/repo:sha256-….sig`). */
  readonly reference: ImageReference;
  /** Layers ready for `verifyLayer`. */
  readonly layers: ReadonlyArray<SignatureLayer>;
  /** Layers rejected before verification (unreadable blob, digest mismatch, bad annotations). */
  readonly unreadable: ReadonlyArray<LayerFailure>;
}

/** Options passed to {@link SignatureSource.fetch}. */
export interface FetchOptions {
  readonly signal?: AbortSignal;
  /** Max bytes per signature blob. */
  readonly maxPayloadBytes?: number;
  /** Blobs fetched in parallel. */
  readonly concurrency?: number;
}

/** A place signatures for an image digest are read from. */
export interface SignatureSource {
  /** Identifies the source (and its settings) in cache keys. */
  readonly id: string;
  /**
   * The signatures attached to `digest` (of `image`'s repository).
   * @throws CosignError `NO_SIGNATURES` when there are none, `REGISTRY_*` on transport failures.
   */
  fetch(image: ImageReference, digest: Digest, options?: FetchOptions): Promise<FetchedSignatures>;
}


/**
 * The legacy cosign layout: an image manifest at tag `sha256-<hex>.sig` in the image's repository (or
 * `signatureRepository`, like `COSIGN_REPOSITORY`), one simple-signing layer per signature. Each
 * distinct blob is fetched once (cosign fetches once per layer).
 */
export function sigTagSource(client: RegistryClient, options: { signatureRepository?: string | ImageReference } = {}): SignatureSource {
  const fixedRepo = options.signatureRepository === undefined ? undefined : typeof options.signatureRepository === 'string' ? parseRepository(options.signatureRepository) : options.signatureRepository;
  return {
    id: `sig-tag:${fixedRepo?.name ?? ''}`,
    async fetch(image, digest, opts = {}) {
      const signal = opts.signal;
      const repo = fixedRepo ?? image;
      const sigRef = withTag(repo, signatureTag(digest));
      let manifest;
      try {
        const m = await client.getManifest(sigRef, signal === undefined ? {} : { signal });
        manifest = parseSignatureManifest(m.bytes);
      } catch (e) {
        if (isCosignError(e, 'NOT_FOUND')) {
          throw fail('NO_SIGNATURES', `no signatures found for ${formatReference(withDigest(image, digest))} (looked for ${formatReference(sigRef)})`, {
            cause: e,
            details: { digest, signatureReference: formatReference(sigRef) },
          });
        }
        throw e;
      }
      if (manifest.layers.length === 0) {
        throw fail('NO_SIGNATURES', `no signatures found for ${formatReference(withDigest(image, digest))}: the signature artifact has no layers`);
      }
      const blobs = new Map<string, Uint8Array | CosignError>();
      await mapLimit([...new Set(manifest.layers.map((l) => l.digest))], opts.concurrency ?? 8, async (d) => {
        try {
          blobs.set(d, await client.getBlob(repo, d, { maxBytes: opts.maxPayloadBytes ?? 1024 * 1024, ...(signal === undefined ? {} : { signal }) }));
        } catch (e) {
          // A bad blob disqualifies its layer, not the whole image; transport failures propagate.
          if (isCosignError(e) && (e.code === 'DIGEST_MISMATCH' || e.code === 'TOO_LARGE' || e.code === 'NOT_FOUND')) blobs.set(d, e);
          else throw e;
        }
      });
      const layers: SignatureLayer[] = [];
      const unreadable: LayerFailure[] = [];
      for (const desc of manifest.layers) {
        const blob = blobs.get(desc.digest);
        try {
          if (blob instanceof CosignError) throw blob;
          layers.push(parseSignatureLayer(desc, blob as Uint8Array));
        } catch (e) {
          if (!isCosignError(e)) throw e;
          unreadable.push({ digest: desc.digest, code: e.code, reason: e.message });
        }
      }
      return { reference: sigRef, layers, unreadable };
    },
  };
}
