/**
 * `verifyImage` / `verifyImages`: resolve an image to its digest, fetch its signatures, verify each
 * layer with {@link verifyLayer}, and return the verified payloads in the shape `cosign verify` prints.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { parseDigest, type Digest } from '../digest.js';
import { CosignError, fail, isCosignError } from '../errors.js';
import type { RegistryReader } from '../oci/client.js';
import { parseImageIndex } from '../oci/manifest.js';
import { withDeadline } from '../oci/transport.js';
import { verifyOutputJson } from '../payload/payload.js';
import { rekorBundleOutputValue } from '../artifact/rekor.js';
import { goStruct } from '../json/gojson.js';
import type { ReferenceMatch } from '../payload/payload.js';
import { formatReference, parseReference, withDigest, type ImageReference } from '../reference.js';
import { authorityFingerprint, type Authority } from './authority.js';
import type { VerificationCache } from './cache.js';
import { certificateOutputFields, type KeylessOptions } from './keyless.js';
import { verifyLayer, type LayerFailure, type TlogOptions, type VerifiedSignature } from './layer.js';
import { cosignSignatureSource, type SignatureSource } from './source.js';
import { mapLimit } from '../concurrency.js';

/** Options for {@link verifyImage}. */
export interface VerifyImageOptions {
  /** The registry client (shared connections and tokens). */
  readonly client: RegistryReader;
  /** Keys (or, later, identities) a signature must verify with; any one suffices. */
  readonly authorities: ReadonlyArray<Authority>;
  /** Each pair must be in the payload's `optional` with an equal value (`cosign verify -a`). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Where signatures are stored, like `COSIGN_REPOSITORY` (`registry/repo`). Default: the image's repository. */
  readonly signatureRepository?: string | ImageReference;
  /**
   * Where signatures are read from. Default: what `cosign verify` 3 reads, in `signatureRepository`:
   * Sigstore bundles attached as referrers, else the legacy `.sig` tag (`cosignSignatureSource`).
   */
  readonly source?: SignatureSource;
  /** Check `docker-reference` (cosign does not: default `ignore`). */
  readonly referenceMatch?: ReferenceMatch;
  /** Transparency-log options (offline SET checks). */
  readonly tlog?: TlogOptions;
  /** Keyless verification (trust material, SCT and tlog options), for identity authorities. */
  readonly keyless?: KeylessOptions;
  /**
   * Verify a platform manifest through its signed index: the signature is looked up and checked on
   * this index digest, then the index (fetched and digest-checked) must list the image's digest.
   * A plain string is accepted and checked at run time (`BAD_DIGEST` when it is not a digest).
   */
  readonly throughIndex?: Digest | string;
  /** Digest-keyed cache of outcomes (successes for a TTL, definitive failures for a short one). */
  readonly cache?: VerificationCache<VerifyImageResult | CosignError>;
  /** Max signature layers fetched in parallel. Default 8. */
  readonly concurrency?: number;
  /** Max bytes per signature payload blob. Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** Abort the verification. */
  readonly signal?: AbortSignal;
  /**
   * Deadline of the whole verification in ms (every registry request, retry and token fetch), on top
   * of `signal`: a stalled or trickling registry fails with `REGISTRY_UNAVAILABLE` ("timed out") by then.
   * Default {@link DEFAULT_VERIFY_TIMEOUT_MS} (45 s); 0 for none (then only `signal` and the client's
   * per-request deadlines bound it).
   */
  readonly timeoutMs?: number;
}

/** Default deadline of one {@link verifyImage} call: 45 s. */
export const DEFAULT_VERIFY_TIMEOUT_MS = 45_000;

/** A successful verification. */
export interface VerifyImageResult {
  /** The image reference as given, normalised. */
  readonly reference: ImageReference;
  /** The digest that was verified (the image's, or the index's with `throughIndex`). */
  readonly digest: Digest;
  /** Where the signatures were read from (`registry/repo:sha256-….sig`). */
  readonly signatureReference: ImageReference;
  /** The signatures that verified (at least one). */
  readonly signatures: ReadonlyArray<VerifiedSignature>;
  /** Layers present that did not verify, with reasons. */
  readonly rejected: ReadonlyArray<LayerFailure>;
  /** Exactly what `cosign verify` prints on stdout for this result. */
  readonly output: Uint8Array;
  /** `bundle` when the signatures are cosign v3 Sigstore bundles (referrers); absent for `.sig` signatures. */
  readonly format?: 'bundle';
}

/** The checks `cosign verify` reports on stderr, worded as cosign words them, for these options. */
export function verificationChecks(options: {
  annotations?: Readonly<Record<string, string>>;
  tlogVerified?: boolean;
  key?: boolean;
  certificate?: boolean;
}): string[] {
  const lines: string[] = [];
  if (options.annotations !== undefined && Object.keys(options.annotations).length > 0) lines.push('  - The specified annotations were verified.');
  lines.push('  - The cosign claims were validated');
  if (options.tlogVerified === true) lines.push('  - Existence of the claims in the transparency log was verified offline');
  if (options.key !== false) lines.push('  - The signatures were verified against the specified public key');
  if (options.certificate === true) lines.push('  - The code-signing certificate was verified using trusted certificate authority certificates');
  return lines;
}

/** Cache key: digest + everything that changes the answer. Never a tag. */
function cacheKey(digest: Digest, signatureRepo: string, options: VerifyImageOptions): string {
  return JSON.stringify([
    digest,
    signatureRepo,
    options.throughIndex ?? null,
    options.authorities.map(authorityFingerprint).sort(),
    Object.entries(options.annotations ?? {}).sort(),
    options.referenceMatch ?? 'ignore',
    options.tlog?.required ?? false,
    (options.tlog?.rekorKeys ?? []).map((k) => k.logId).sort(),
    options.keyless === undefined
      ? null
      : [
          trustId(options.keyless.trust),
          options.keyless.ignoreSct ?? false,
          options.keyless.ignoreTlog ?? false,
          options.keyless.requireTimestamp ?? false,
          options.keyless.certificate === undefined ? null : createHash('sha256').update(options.keyless.certificate).digest('hex'),
        ],
  ]);
}

const trustIds = new WeakMap<object, number>();
let nextTrustId = 1;
/** A per-process id of a trust object, for cache keys. */
function trustId(trust: object): number {
  let id = trustIds.get(trust);
  if (id === undefined) {
    id = nextTrustId++;
    trustIds.set(trust, id);
  }
  return id;
}

/** Resolve a reference to the digest of its manifest (a GET by tag, digest-checked by the client). */
export async function resolveDigest(client: RegistryReader, ref: ImageReference, signal?: AbortSignal): Promise<Digest> {
  if (ref.digest !== undefined) return ref.digest;
  const m = await client.getManifest(ref, signal === undefined ? {} : { signal });
  return m.digest;
}

/**
 * Verify an image's signatures.
 *
 * The reference is resolved to a digest first (a tag costs one manifest request; a digest reference
 * costs none when cached). Signatures are read from `<sig repo>:sha256-<hex>.sig`; each distinct layer
 * blob is fetched once and verified with {@link verifyLayer}.
 *
 * @throws CosignError `NO_SIGNATURES` when there is no signature artifact or it is empty,
 *   `NO_MATCHING_SIGNATURES` when none verifies (`details.layers` lists each reason),
 *   `NOT_FOUND` when the image itself does not exist, `REGISTRY_*` for transport failures,
 *   `BAD_REFERENCE` for a malformed reference.
 */
export async function verifyImage(reference: string | ImageReference, callOptions: VerifyImageOptions): Promise<VerifyImageResult> {
  const deadline = withDeadline(callOptions.signal, callOptions.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS);
  try {
    return await verifyWithin(reference, deadline.signal === undefined ? callOptions : { ...callOptions, signal: deadline.signal });
  } finally {
    deadline.dispose();
  }
}

async function verifyWithin(reference: string | ImageReference, options: VerifyImageOptions): Promise<VerifyImageResult> {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  if (options.authorities.length === 0) throw fail('USAGE', 'no key or identity given to verify with');
  const client = options.client;
  const signal = options.signal;
  let digest = ref.digest;
  if (digest === undefined) {
    digest = await resolveDigest(client, ref, signal);
  }
  // A string throughIndex (from plain JS, or typed as string) is checked here: BAD_DIGEST.
  const signedDigest = (options.throughIndex ?? digest) as Digest;
  parseDigest(signedDigest);
  const source =
    options.source ?? cosignSignatureSource(client, options.signatureRepository === undefined ? {} : { signatureRepository: options.signatureRepository });
  const key = options.cache === undefined ? '' : cacheKey(digest, `${source.id}|${ref.name}`, options);
  if (options.cache !== undefined) {
    const hit = options.cache.get(key);
    if (hit instanceof CosignError) throw hit;
    if (hit !== undefined) return hit.reference === ref ? hit : { ...hit, reference: ref };
  }
  try {
    const result = await verifyUncached(ref, digest, signedDigest, source, options);
    options.cache?.set(key, result, true);
    return result;
  } catch (e) {
    if (options.cache !== undefined && isCosignError(e) && (e.code === 'NO_SIGNATURES' || e.code === 'NO_MATCHING_SIGNATURES')) {
      options.cache.set(key, e, false);
    }
    throw e;
  }
}

async function verifyUncached(
  ref: ImageReference,
  digest: Digest,
  signedDigest: Digest,
  source: SignatureSource,
  options: VerifyImageOptions,
): Promise<VerifyImageResult> {
  const { client, signal } = options;
  if (options.throughIndex !== undefined) {
    const index = await client.getManifest(withDigest(ref, signedDigest), signal === undefined ? {} : { signal });
    assertIndexLists(index.bytes, index.mediaType, digest, signedDigest);
  }
  const expectations = {
    digest: signedDigest,
    ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    ...(options.referenceMatch === undefined || options.referenceMatch === 'ignore' ? {} : { reference: { ref, match: options.referenceMatch } }),
    ...(options.tlog === undefined ? {} : { tlog: options.tlog }),
    ...(options.keyless === undefined ? {} : { keyless: options.keyless }),
    // cosign 3 prints the reference as go-containerregistry names it: a tag next to a digest is dropped.
    dockerReference: formatReference(ref.digest === undefined ? ref : withDigest(ref, ref.digest)),
  };
  // Each layer is verified as its blob arrives and then dropped: only the (few, small) verified
  // signatures and the failure reasons are kept, by position, so the answer keeps listing order.
  const verifiedAt: Array<VerifiedSignature | undefined> = [];
  const unreadableAt: Array<LayerFailure | undefined> = [];
  const failedAt: Array<LayerFailure | undefined> = [];
  // Like cosign, a digest reference is not looked up: a missing image shows as "no signatures".
  const listing = await source.read(
    ref,
    signedDigest,
    (entry, i) => {
      if (!entry.ok) {
        unreadableAt[i] = { digest: entry.digest, code: entry.code, reason: entry.reason };
        return;
      }
      const r = verifyLayer(entry.layer, options.authorities, expectations);
      if (r.ok) verifiedAt[i] = r.signature;
      else failedAt[i] = { digest: r.digest, code: r.code, reason: r.reason };
    },
    {
      ...(signal === undefined ? {} : { signal }),
      ...(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    },
  );
  const verified = present(verifiedAt);
  // Layers that could not be read first, then those that did not verify (each in listing order).
  const rejected = [...present(unreadableAt), ...present(failedAt)];
  if (verified.length === 0) {
    // Bundles that cosign-ts cannot check (keyless, a tlog requirement) say so, rather than "no match".
    const first = rejected[0];
    if (listing.format === 'bundle' && first !== undefined && rejected.every((r) => r.code === 'UNSUPPORTED')) {
      throw fail('UNSUPPORTED', `${formatReference(withDigest(ref, signedDigest))}: ${first.reason}`, {
        details: { digest: signedDigest, layers: rejected, format: listing.format },
      });
    }
    // One entry per distinct reason, naming its layers: n layers signed with another key say it once.
    const byReason = new Map<string, string[]>();
    for (const r of rejected) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.digest]);
    const reasons = [...byReason]
      .map(([reason, layers]) => `${reason} (${layers.length === 1 ? 'layer' : `${layers.length} layers`} ${layers.join(', ')})`)
      .join('; ');
    throw fail('NO_MATCHING_SIGNATURES', `no matching signatures for ${formatReference(withDigest(ref, signedDigest))}: ${reasons}`, {
      details: { digest: signedDigest, layers: rejected, ...(listing.format === undefined ? {} : { format: listing.format }) },
    });
  }
  const output = verifyOutputJson(
    verified.map((s) => ({
      payload: s.payload,
      // cosign 3 prints a Sigstore bundle's claims with an empty `optional`, keyless or not: the certificate,
      // the Rekor entry and the timestamp stay in the bundle (measured with cosign 3.1.1).
      ...(s.format === 'bundle' || (s.layer.bundle === undefined && s.certificate === undefined)
        ? {}
        : {
            extraOptional: {
              ...(s.layer.bundle === undefined ? {} : { Bundle: rekorBundleOutputValue(s.layer.bundle) }),
              ...(s.certificate === undefined ? {} : certificateOutputFields(s.certificate)),
              // cosign prints a verified keyless signature's RFC 3161 annotation as its Go struct.
              ...(s.certificate === undefined || s.layer.rfc3161Timestamp === undefined
                ? {}
                : { RFC3161Timestamp: goStruct(['SignedRFC3161Timestamp', s.layer.rfc3161Timestamp.signedRfc3161Timestamp]) }),
            },
          }),
    })),
  );
  return {
    reference: ref,
    digest: signedDigest,
    signatureReference: listing.reference,
    signatures: verified,
    rejected,
    output,
    ...(listing.format === undefined ? {} : { format: listing.format }),
  };
}

/** The entries of a sparse array, in index order. */
function present<T>(items: ReadonlyArray<T | undefined>): T[] {
  const out: T[] = [];
  for (const x of items) if (x !== undefined) out.push(x);
  return out;
}

function assertIndexLists(bytes: Uint8Array, mediaType: string, child: Digest, index: Digest): void {
  const doc = parseImageIndex(bytes, mediaType, `index ${index}`);
  if (!doc.manifests.some((m) => m.digest === child)) {
    throw fail('DIGEST_MISMATCH', `index ${index} does not list ${child}`, { details: { index, child } });
  }
}

/** One entry of a {@link verifyImages} batch. */
export type BatchResult =
  | { readonly reference: string; readonly ok: true; readonly result: VerifyImageResult }
  | { readonly reference: string; readonly ok: false; readonly error: CosignError };

/**
 * Verify many images with bounded concurrency, sharing the client's connections and tokens (and the
 * cache, when given). Never throws for one image's failure: each entry says what happened.
 */
export async function verifyImages(
  references: ReadonlyArray<string | ImageReference>,
  options: VerifyImageOptions & { readonly batchConcurrency?: number; readonly onProgress?: (done: number, total: number) => void },
): Promise<BatchResult[]> {
  let done = 0;
  return mapLimit(references, options.batchConcurrency ?? 16, async (r) => {
    const name = typeof r === 'string' ? r : formatReference(r);
    try {
      const result = await verifyImage(r, options);
      return { reference: name, ok: true as const, result };
    } catch (e) {
      const error = isCosignError(e) ? e : new CosignError('REGISTRY_ERROR', (e as Error).message, { cause: e });
      return { reference: name, ok: false as const, error };
    } finally {
      options.onProgress?.(++done, references.length);
    }
  });
}
