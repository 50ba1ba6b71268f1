/**
 * Where signatures come from: the legacy `sha256-<hex>.sig` tag ({@link sigTagSource}), Sigstore
 * bundles attached as OCI 1.1 referrers (cosign v3's default, {@link referrerBundleSource}), and
 * what `cosign verify` 3 does, bundles first and the `.sig` tag when there are none
 * ({@link cosignSignatureSource}, the default of `verifyImage`).
 *
 * A source hands out its signatures one layer at a time ({@link SignatureSource.read}), as their blobs
 * arrive, with a bounded number of blobs in memory: a `.sig` of 1000 distinct 1 MiB payloads must not
 * cost 1 GiB to verify.
 *
 * @module
 */
import { parseSignatureManifest } from '../artifact/image.js';
import { parseSignatureLayer, type SignatureLayer } from '../artifact/layer.js';
import { signatureTag } from '../artifact/tags.js';
import type { Digest } from '../digest.js';
import { fail, isCosignError } from '../errors.js';
import type { RegistryReader } from '../oci/client.js';
import { formatReference, repositoryOption, withDigest, withTag, type ImageReference } from '../reference.js';
import type { LayerFailure } from './layer.js';
import { mapLimit } from '../concurrency.js';
import { isManifestMediaType, parseManifest, type Descriptor } from '../oci/manifest.js';
import { isSigstoreBundleMediaType } from './bundle.js';

/** Default max bytes per signature blob (1 MiB). */
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Default number of signature blobs fetched (and held) at once. */
const DEFAULT_CONCURRENCY = 8;

/** Options passed to {@link SignatureSource.read}. */
export interface FetchOptions {
  readonly signal?: AbortSignal;
  /** Max bytes per signature blob. Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** Blobs fetched in parallel, which is also the most blobs held in memory at once. Default 8. */
  readonly concurrency?: number;
}

/**
 * One layer as a {@link SignatureSource} reads it: parsed and ready for `verifyLayer`, or the reason it
 * could not even be read (unreadable blob, digest mismatch, too large, bad annotations).
 */
export type SourceLayer = { readonly ok: true; readonly layer: SignatureLayer } | ({ readonly ok: false } & LayerFailure);

/**
 * Called by {@link SignatureSource.read} once per layer, with the layer's position in the signature
 * listing. Calls come in no particular order. The layer (and its blob) is not kept by the source once
 * the call returns (or, if it returns a promise, once that settles): keep only what you need.
 * Throwing (or rejecting) stops the read and rejects it with that error.
 */
export type LayerVisitor = (entry: SourceLayer, index: number) => void | Promise<void>;

/** What {@link SignatureSource.read} resolves to once every layer has been visited. */
export interface SignatureListing {
  /** Where the signatures were read from (e.g. `registry/repo:sha256-….sig`). */
  readonly reference: ImageReference;
  /** How many layers the listing has (each was visited once, with an index below this). */
  readonly count: number;
  /** `bundle` when the layers are Sigstore bundles (cosign v3 referrers); absent for `.sig` layers. */
  readonly format?: 'bundle';
}

/** A place signatures for an image digest are read from. */
export interface SignatureSource {
  /** Identifies the source (and its settings) in cache keys. */
  readonly id: string;
  /**
   * Read the signatures attached to `digest` (of `image`'s repository), calling `visit` for each layer
   * as its blob arrives, with at most `options.concurrency` blobs fetched and held at once.
   * @throws CosignError `NO_SIGNATURES` when there are none, `REGISTRY_*` on transport failures, or
   *   whatever `visit` threw.
   */
  read(image: ImageReference, digest: Digest, visit: LayerVisitor, options?: FetchOptions): Promise<SignatureListing>;
}

/** Signatures fetched for one digest, all at once ({@link fetchSignatures}). */
export interface FetchedSignatures {
  /** Where they were read from (e.g. `registry/repo:sha256-….sig`). */
  readonly reference: ImageReference;
  /** Layers ready for `verifyLayer`, in listing order. */
  readonly layers: ReadonlyArray<SignatureLayer>;
  /** Layers rejected before verification (unreadable blob, digest mismatch, bad annotations), in listing order. */
  readonly unreadable: ReadonlyArray<LayerFailure>;
}

/**
 * Read every layer of `source` into memory at once, in listing order. Convenient for a few small
 * signatures (inspection, tests); verification itself reads layer by layer ({@link SignatureSource.read})
 * so that it never holds more than a few blobs.
 */
export async function fetchSignatures(source: SignatureSource, image: ImageReference, digest: Digest, options: FetchOptions = {}): Promise<FetchedSignatures> {
  const entries: SourceLayer[] = [];
  const listing = await source.read(
    image,
    digest,
    (entry, i) => {
      entries[i] = entry;
    },
    options,
  );
  const layers: SignatureLayer[] = [];
  const unreadable: LayerFailure[] = [];
  for (const e of entries) {
    if (e === undefined) continue;
    if (e.ok) layers.push(e.layer);
    else unreadable.push({ digest: e.digest, code: e.code, reason: e.reason });
  }
  return { reference: listing.reference, layers, unreadable };
}

/** `value` if it is a positive safe integer, `fallback` if undefined; anything else is a usage error. */
function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw fail('USAGE', `${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** Blob errors that disqualify the layers using that blob, not the whole image. */
function isLayerBlobError(e: unknown): boolean {
  return isCosignError(e) && (e.code === 'DIGEST_MISMATCH' || e.code === 'TOO_LARGE' || e.code === 'NOT_FOUND');
}

/**
 * The legacy cosign layout: an image manifest at tag `sha256-<hex>.sig` in the image's repository (or
 * `signatureRepository`, like `COSIGN_REPOSITORY`), one simple-signing layer per signature. Each
 * distinct blob is fetched once (cosign fetches once per layer), every layer using it is visited, and
 * the blob is dropped.
 */
export function sigTagSource(client: RegistryReader, options: { signatureRepository?: string | ImageReference } = {}): SignatureSource {
  const fixedRepo = repositoryOption(options.signatureRepository);
  return {
    id: `sig-tag:${fixedRepo?.name ?? ''}`,
    async read(image, digest, visit, opts = {}) {
      return readSigLayers(client, await lookupSig(client, fixedRepo, image, digest, opts.signal), image, digest, visit, opts);
    },
  };
}

/** The `.sig` manifest of `digest`: found, or `NO_SIGNATURES` (a 404). */
interface SigLookup {
  readonly repo: ImageReference;
  readonly sigRef: ImageReference;
  readonly manifest: ReturnType<typeof parseSignatureManifest>;
}

async function lookupSig(
  client: RegistryReader,
  fixedRepo: ImageReference | undefined,
  image: ImageReference,
  digest: Digest,
  signal: AbortSignal | undefined,
): Promise<SigLookup> {
  const repo = fixedRepo ?? image;
  const sigRef = withTag(repo, signatureTag(digest));
  try {
    const m = await client.getManifest(sigRef, signal === undefined ? {} : { signal });
    return { repo, sigRef, manifest: parseSignatureManifest(m.bytes) };
  } catch (e) {
    if (isCosignError(e, 'NOT_FOUND')) {
      throw fail('NO_SIGNATURES', `no signatures found for ${formatReference(withDigest(image, digest))} (looked for ${formatReference(sigRef)})`, {
        cause: e,
        details: { digest, signatureReference: formatReference(sigRef) },
      });
    }
    throw e;
  }
}

/** Fetch and visit the layers of a `.sig` manifest, a bounded number of blobs at once. */
async function readSigLayers(
  client: RegistryReader,
  { repo, sigRef, manifest }: SigLookup,
  image: ImageReference,
  digest: Digest,
  visit: Parameters<SignatureSource['read']>[2],
  opts: FetchOptions,
): Promise<{ reference: ImageReference; count: number }> {
  const signal = opts.signal;
  const maxBytes = positiveInteger(opts.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES, 'maxPayloadBytes');
  const concurrency = positiveInteger(opts.concurrency, DEFAULT_CONCURRENCY, 'concurrency');
  const descriptors = manifest.layers;
  if (descriptors.length === 0) {
    throw fail('NO_SIGNATURES', `no signatures found for ${formatReference(withDigest(image, digest))}: the signature artifact has no layers`);
  }
  // Layer positions by blob digest, in order of first use: one fetch per distinct blob.
  const byDigest = new Map<string, number[]>();
  descriptors.forEach((desc, i) => {
    const at = byDigest.get(desc.digest);
    if (at === undefined) byDigest.set(desc.digest, [i]);
    else at.push(i);
  });
  // The first failure (transport error, or `visit` throwing) stops the remaining fetches.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted === true) onAbort();
  try {
    await mapLimit([...byDigest], concurrency, async ([blobDigest, positions]) => {
      if (stop.signal.aborted) return;
      try {
        let blob: Uint8Array | undefined;
        let blobError: unknown;
        try {
          blob = await client.getBlob(repo, blobDigest as Digest, { maxBytes, signal: stop.signal });
        } catch (e) {
          if (!isLayerBlobError(e) || stop.signal.aborted) throw e;
          blobError = e;
        }
        for (const i of positions) {
          if (stop.signal.aborted) return;
          const desc = descriptors[i]!;
          let entry: SourceLayer;
          try {
            if (blob === undefined) throw blobError;
            entry = { ok: true, layer: parseSignatureLayer(desc, blob) };
          } catch (e) {
            if (!isCosignError(e)) throw e;
            entry = { ok: false, digest: desc.digest, code: e.code, reason: e.message };
          }
          await visit(entry, i);
        }
      } catch (e) {
        stop.abort(e);
        throw e;
      }
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  // An abort that arrived between fetches leaves layers unvisited: that is a failure, not a result.
  if (signal?.aborted === true) throw fail('REGISTRY_UNAVAILABLE', `reading ${formatReference(sigRef)}: aborted`);
  return { reference: sigRef, count: descriptors.length };
}

/** Most referrers of one digest that {@link referrerBundleSource} looks at. */
const MAX_REFERRERS = 1000;
/** The empty config / fallback-index artifact type (`application/vnd.oci.empty.v1+json`). */
const OCI_EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';

/** A referrer that is (or may be) a bundle: its bundle layer, or why its manifest could not be read. */
type BundleEntry = { readonly manifest: Digest; readonly layer: Descriptor } | { readonly manifest: Digest; readonly failure: LayerFailure };

/**
 * cosign v3 signatures: Sigstore bundles stored as OCI 1.1 referrers of the image digest in the
 * image's repository (or `signatureRepository`), found through the referrers API or, on registries
 * without it, the fallback tag index `sha256-<hex>` (`RegistryClient.referrers`). Every referrer
 * manifest whose single layer has a Sigstore bundle media type is a signature; its layer (the
 * bundle, at most `maxPayloadBytes`) is visited as a `SignatureLayer` whose `payload` is the bundle
 * and whose `signature` is empty (the signature is inside), verified by `verifyLayer`.
 * Referrers whose `artifactType` says they are something else (an SBOM, …) are not fetched; the
 * fallback index's entries carry the empty artifact type and are all looked at.
 * @throws CosignError `NO_SIGNATURES` when no referrer is a bundle, `TOO_LARGE` beyond 1000 referrers.
 */
export function referrerBundleSource(client: RegistryReader, options: { signatureRepository?: string | ImageReference } = {}): SignatureSource {
  const fixedRepo = repositoryOption(options.signatureRepository);
  return {
    id: `referrer-bundle:${fixedRepo?.name ?? ''}`,
    async read(image, digest, visit, opts = {}) {
      const signal = opts.signal;
      const maxBytes = positiveInteger(opts.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES, 'maxPayloadBytes');
      const concurrency = positiveInteger(opts.concurrency, DEFAULT_CONCURRENCY, 'concurrency');
      const repo = fixedRepo ?? image;
      const sig = signal === undefined ? {} : { signal };
      const where = formatReference(withDigest(image, digest));
      const referrers = (await client.referrers(repo, digest, sig)).filter(
        (d) =>
          isManifestMediaType(d.mediaType) &&
          (d.artifactType === undefined || d.artifactType === OCI_EMPTY_MEDIA_TYPE || isSigstoreBundleMediaType(d.artifactType)),
      );
      if (referrers.length > MAX_REFERRERS) {
        throw fail('TOO_LARGE', `${where} has ${referrers.length} referrers, more than the ${MAX_REFERRERS} looked at`);
      }
      // Phase 1: the referrer manifests (small, bounded by the client), keeping only their bundle layer.
      const found = await mapLimit(referrers, concurrency, async (d): Promise<BundleEntry | undefined> => {
        try {
          const m = await client.getManifest(withDigest(repo, d.digest), { ...sig, accept: d.mediaType });
          const manifest = parseManifest(m.bytes, m.mediaType, `referrer manifest ${d.digest}`);
          const layer = manifest.layers.length === 1 ? manifest.layers[0] : undefined;
          return layer !== undefined && isSigstoreBundleMediaType(layer.mediaType) ? { manifest: d.digest, layer } : undefined;
        } catch (e) {
          if (!isCosignError(e) || (e.code !== 'BAD_MANIFEST' && !isLayerBlobError(e))) throw e;
          return { manifest: d.digest, failure: { digest: d.digest, code: e.code, reason: e.message } };
        }
      });
      const entries = found.filter((x): x is BundleEntry => x !== undefined);
      if (entries.length === 0) {
        throw fail('NO_SIGNATURES', `no signatures found for ${where}: no Sigstore bundle among its ${referrers.length} referrers`, {
          details: { digest },
        });
      }
      // Phase 2: the bundles, each visited as it arrives; at most `concurrency` held at once. The first
      // failure (transport error, or `visit` throwing) stops the remaining fetches.
      const stop = new AbortController();
      const onAbort = (): void => stop.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted === true) onAbort();
      try {
        await mapLimit(entries, concurrency, async (entry, i) => {
          if (stop.signal.aborted) return;
          try {
            if ('failure' in entry) {
              await visit({ ok: false, ...entry.failure }, i);
              return;
            }
            const desc = entry.layer;
            let result: SourceLayer;
            try {
              const blob = await client.getBlob(repo, desc.digest, { maxBytes, signal: stop.signal });
              result = {
                ok: true,
                layer: {
                  descriptor: { mediaType: desc.mediaType, size: desc.size, digest: desc.digest, annotations: desc.annotations ?? {} },
                  payload: blob,
                  signature: new Uint8Array(0),
                },
              };
            } catch (e) {
              if (!isLayerBlobError(e) || stop.signal.aborted) throw e;
              result = { ok: false, digest: desc.digest, code: (e as { code: LayerFailure['code'] }).code, reason: (e as Error).message };
            }
            if (stop.signal.aborted) return;
            await visit(result, i);
          } catch (e) {
            stop.abort(e);
            throw e;
          }
        });
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      if (signal?.aborted === true) throw fail('REGISTRY_UNAVAILABLE', `reading the referrers of ${where}: aborted`);
      return { reference: withDigest(repo, entries[0]!.manifest), count: entries.length, format: 'bundle' };
    },
  };
}

/**
 * Per client, the repositories whose images were last found signed with bundles: for those the `.sig` lookup is
 * not started beside the referrers lookup (it would be a wasted request), only after it finds no bundle. Bounded.
 */
const bundleRepos = new WeakMap<RegistryReader, Set<string>>();
const MAX_BUNDLE_REPOS = 10_000;

function bundleRepoSet(client: RegistryReader): Set<string> {
  let set = bundleRepos.get(client);
  if (set === undefined) {
    set = new Set();
    bundleRepos.set(client, set);
  }
  return set;
}

/**
 * What `cosign verify` 3 reads: the Sigstore bundles attached as referrers ({@link referrerBundleSource})
 * and, when there are none, the legacy `.sig` tag ({@link sigTagSource}). The default source of
 * `verifyImage`.
 */
export function cosignSignatureSource(client: RegistryReader, options: { signatureRepository?: string | ImageReference } = {}): SignatureSource {
  const bundles = referrerBundleSource(client, options);
  const fixedRepo = repositoryOption(options.signatureRepository);
  const seen = bundleRepoSet(client);
  return {
    id: `cosign:${bundles.id}:sig-tag:${fixedRepo?.name ?? ''}`,
    async read(image, digest, visit, opts = {}) {
      // The .sig lookup starts with the referrers lookup, so an image signed the legacy way costs no extra
      // round trip; it is used only when there is no bundle, and cancelled when there is one. In a repository
      // whose images were found signed with bundles, it waits for the referrers answer instead (no wasted request).
      const repoKey = (fixedRepo ?? image).name;
      const legacyStop = new AbortController();
      const onAbort = (): void => legacyStop.abort(opts.signal?.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted === true) onAbort();
      let legacy: ReturnType<typeof lookupSig> | undefined;
      if (!seen.has(repoKey)) {
        legacy = lookupSig(client, fixedRepo, image, digest, legacyStop.signal);
        legacy.catch(() => {}); // settled below, or abandoned when a bundle is found
      }
      try {
        const r = await bundles.read(image, digest, visit, opts);
        if (!seen.has(repoKey)) {
          if (seen.size >= MAX_BUNDLE_REPOS) seen.delete(seen.values().next().value as string);
          seen.add(repoKey);
        }
        return r;
      } catch (e) {
        if (!isCosignError(e, 'NO_SIGNATURES')) throw e;
        seen.delete(repoKey);
        legacy ??= lookupSig(client, fixedRepo, image, digest, legacyStop.signal);
        return await readSigLayers(client, await legacy, image, digest, visit, opts);
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
        legacyStop.abort();
      }
    },
  };
}
