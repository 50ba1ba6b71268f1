/**
 * `signImage`: resolve → payload → sign → append to the `.sig` artifact (de-duplicated) → push.
 *
 * @module
 */
import { appendSignature, buildSignatureImage, parseSignatureManifest, type ImageLayer } from '../artifact/image.js';
import { buildSignatureLayer, parseSignatureLayer } from '../artifact/layer.js';
import { signatureTag } from '../artifact/tags.js';
import type { Digest } from '../digest.js';
import { fail, isCosignError } from '../errors.js';
import type { Signer } from '../keys/signer.js';
import { loadEd25519ph } from '../keys/ed25519ph.js';
import { PublicKeyVerifier } from '../keys/verify.js';
import type { RegistryClient } from '../oci/client.js';
import { isIndexMediaType, isManifestMediaType, parseImageIndexIfAny } from '../oci/manifest.js';
import { buildPayload } from '../payload/payload.js';
import { buildBundleReferrer } from './bundle.js';
import { rekorBundleFromEntry, witnessSignature, type WitnessOptions } from './witness.js';
import { mapLimit } from '../concurrency.js';
import { formatReference, parseReference, repositoryOption, withDigest, withTag, type ImageReference } from '../reference.js';

/** Options for {@link signImage}. */
export interface SignImageOptions {
  /** The registry client. */
  readonly client: RegistryClient;
  /** Annotations written into the payload's `optional` (`cosign sign -a k=v`). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Where to store signatures, like `COSIGN_REPOSITORY` (`registry/repo`). Default: the image's repository. */
  readonly signatureRepository?: string | ImageReference;
  /** Also sign every child of an image index, recursively (`cosign sign -r`). */
  readonly recursive?: boolean;
  /** Docker v2 media types for the signature manifest (`COSIGN_DOCKER_MEDIA_TYPES=1`). */
  readonly dockerMediaTypes?: boolean;
  /** How many digests are signed and pushed at once (recursive signing). Default 4. */
  readonly concurrency?: number;
  /** Warnings (e.g. signing a tag rather than a digest). Default: none are printed. */
  readonly onWarning?: (message: string) => void;
  /** Progress of a multi-digest signing. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * `'legacy'` (default): the `.sig` tag image cosign 2.x writes, which cosign 2.x/3.x, Kyverno and
   * policy-controller verify. `'bundle'`: a Sigstore bundle v0.3 as an OCI 1.1 referrer of the image,
   * as `cosign sign --new-bundle-format` (cosign 3) writes it (referrers API, else the fallback tag).
   */
  readonly format?: 'legacy' | 'bundle';
  /**
   * Record each signature as cosign does by default: a Rekor entry (`rekorURL`, written into the `.sig`
   * layer's bundle annotation or the bundle's `tlogEntries`) and/or an RFC 3161 timestamp (`tsaURL`). With a
   * keyless signer (`fulcioSigner`) the entry names the certificate. Default: no witness (`--tlog-upload=false`).
   */
  readonly witness?: WitnessOptions;
  /** Creation time written in bundle referrers (`org.opencontainers.image.created`). Default now. */
  readonly created?: Date;
  /** Abort. */
  readonly signal?: AbortSignal;
}

/** What was signed for one digest. */
export interface SignedDigest {
  /** The signed manifest digest. */
  readonly digest: Digest;
  /** Where the signature artifact lives (`registry/repo:sha256-….sig`; `registry/repo@<referrer digest>` for bundles). */
  readonly signatureReference: ImageReference;
  /** Digest of the signature manifest written (or already there). */
  readonly signatureManifestDigest: Digest;
  /** False when an identical signature was already present and nothing was written. */
  readonly appended: boolean;
  /** The exact payload bytes that were signed (the in-toto statement, in the bundle format). */
  readonly payload: Uint8Array;
  /** The raw signature. */
  readonly signature: Uint8Array;
  /** The Rekor log index, when the signature was recorded in a transparency log. */
  readonly tlogIndex?: number;
  /** The signing certificate (PEM), for keyless signatures. */
  readonly certificate?: string;
}

/** Result of {@link signImage}. */
export interface SignImageResult {
  /** The reference as given, normalised. */
  readonly reference: ImageReference;
  /** One entry per signed digest: the image's first, then children when recursive. */
  readonly signed: ReadonlyArray<SignedDigest>;
}

async function collectDigests(client: RegistryClient, ref: ImageReference, root: Digest, recursive: boolean, signal?: AbortSignal): Promise<Digest[]> {
  const out: Digest[] = [root];
  if (!recursive) return out;
  const seen = new Set<string>([root]);
  const queue: Digest[] = [root];
  while (queue.length > 0) {
    const d = queue.shift() as Digest;
    const m = await client.getManifest(withDigest(ref, d), signal === undefined ? {} : { signal });
    const index = parseImageIndexIfAny(m.bytes, m.mediaType, `manifest ${d}`);
    if (index === undefined) continue;
    for (const child of index.manifests) {
      if (seen.has(child.digest)) continue;
      seen.add(child.digest);
      out.push(child.digest);
      if (isIndexMediaType(child.mediaType)) queue.push(child.digest);
      else if (!isManifestMediaType(child.mediaType)) {
        throw fail('BAD_MANIFEST', `index ${d}: child ${child.digest} has unsupported media type ${JSON.stringify(child.mediaType.slice(0, 200))}`);
      }
    }
  }
  return out;
}

/**
 * Sign an image as `cosign sign --key … --tlog-upload=false` does (legacy `.sig` format), or with
 * `format: 'bundle'` as `cosign sign --new-bundle-format` (cosign 3) does.
 *
 * A tag is resolved to its digest first (and `onWarning` is told: sign by digest to be sure what you
 * sign). The payload names the image's own repository; the signature artifact goes to
 * `sha256-<hex>.sig` in the signature repository, appended to what is there, unless an identical
 * signature is already present.
 */
export async function signImage(reference: string | ImageReference, signer: Signer, options: SignImageOptions): Promise<SignImageResult> {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  const { client, signal } = options;
  let root: Digest;
  if (ref.digest !== undefined) root = ref.digest;
  else {
    const m = await client.getManifest(ref, signal === undefined ? {} : { signal });
    root = m.digest;
    options.onWarning?.(
      `Image reference ${formatReference(ref)} uses a tag, not a digest, to identify the image to sign.\n` +
        `    This can lead you to sign a different image than the intended one. Please use a\n` +
        `    digest (example.com/ubuntu@sha256:abc123...) rather than tag\n` +
        `    (example.com/ubuntu:latest) for the input to cosign.`,
    );
  }
  if (options.format !== 'bundle' && options.witness?.rekorURL !== undefined && options.witness.rekorVersion === 2) {
    throw fail('UNSUPPORTED', 'Rekor v2 entries have no signed entry timestamp, which the .sig format needs: sign in the bundle format, or use Rekor v1');
  }
  const digests = await collectDigests(client, ref, root, options.recursive === true, signal);
  const sigRepo = repositoryOption(options.signatureRepository) ?? ref;
  const publicKey = await signer.publicKey();
  // the same Ed25519 scheme as the signer, so that re-signing recognises its own signature (as cosign)
  const ed25519ph = signer.ed25519ph === true;
  if (ed25519ph) await loadEd25519ph();
  const verifier = new PublicKeyVerifier(publicKey, signer.keyRef, ed25519ph ? { ed25519ph } : {});
  let done = 0;
  const results = await mapLimit(digests, options.concurrency ?? 4, async (d) => {
    const r = options.format === 'bundle' ? await signOneBundle(ref, d, sigRepo, signer, options) : await signOne(ref, d, sigRepo, signer, verifier, options);
    options.onProgress?.(++done, digests.length);
    return r;
  });
  return { reference: ref, signed: results };
}

async function signOne(
  ref: ImageReference,
  digest: Digest,
  sigRepo: ImageReference,
  signer: Signer,
  verifier: PublicKeyVerifier,
  options: SignImageOptions,
): Promise<SignedDigest> {
  const { client, signal } = options;
  const sig = signal === undefined ? {} : { signal };
  const payload = buildPayload({ dockerReference: ref.name, digest, ...(options.annotations === undefined ? {} : { annotations: options.annotations }) });
  const signature = await signer.sign(payload);
  let layer = buildSignatureLayer({ payload, signature });
  const sigRef = withTag(sigRepo, signatureTag(digest));

  let existing: ImageLayer[] = [];
  try {
    const m = await client.getManifest(sigRef, sig);
    const parsed = parseSignatureManifest(m.bytes);
    existing = await Promise.all(
      parsed.layers.map(async (d) => ({ descriptor: d, payload: await client.getBlob(sigRepo, d.digest, { maxBytes: 1024 * 1024, ...sig }) })),
    );
  } catch (e) {
    if (!isCosignError(e, 'NOT_FOUND')) throw e;
  }
  const dedup = {
    verifiesWithSignerKey: (l: ImageLayer) => {
      try {
        return verifier.verify(payload, parseSignatureLayer(l.descriptor, l.payload).signature);
      } catch {
        return false;
      }
    },
  };
  let appended = appendSignature(existing, layer, dedup);
  const cert = await signer.certificate?.();
  let tlogIndex: number | undefined;
  if (appended.appended && (cert !== undefined || options.witness?.rekorURL !== undefined || options.witness?.tsaURL !== undefined)) {
    // the certificate and the witnesses only for a signature that is really added (nothing is uploaded to Rekor for a duplicate)
    const keyPem = cert?.certificate ?? (await signer.publicKey()).export({ type: 'spki', format: 'pem' }).toString();
    const w = options.witness === undefined ? {} : await witnessSignature({ kind: 'message', payload, signature }, keyPem, options.witness);
    layer = buildSignatureLayer({
      payload,
      signature,
      ...(cert === undefined ? {} : { certificate: cert.certificate, chain: cert.chain.join('') }),
      ...(w.tlogEntry === undefined ? {} : { bundle: rekorBundleFromEntry(w.tlogEntry) }),
      ...(w.rfc3161Timestamp === undefined ? {} : { rfc3161Timestamp: { signedRfc3161Timestamp: w.rfc3161Timestamp } }),
    });
    appended = appendSignature(existing, layer, dedup);
    if (w.tlogEntry !== undefined) tlogIndex = Number(w.tlogEntry.logIndex);
  }
  const image = buildSignatureImage(appended.layers, options.dockerMediaTypes === true ? { dockerMediaTypes: true } : {});
  if (appended.appended) {
    for (const [d, bytes] of image.blobs) await client.uploadBlob(sigRepo, d, bytes, sig);
    await client.putManifest(sigRef, image.manifest, image.manifestMediaType, sig);
  }
  return {
    digest,
    signatureReference: sigRef,
    signatureManifestDigest: image.manifestDigest,
    appended: appended.appended,
    payload,
    signature,
    ...(tlogIndex === undefined ? {} : { tlogIndex }),
    ...(cert === undefined ? {} : { certificate: cert.certificate }),
  };
}

async function signOneBundle(ref: ImageReference, digest: Digest, sigRepo: ImageReference, signer: Signer, options: SignImageOptions): Promise<SignedDigest> {
  const { client, signal } = options;
  const sig = signal === undefined ? {} : { signal };
  const m = await client.getManifest(withDigest(ref, digest), sig);
  const built = await buildBundleReferrer({
    subject: { mediaType: m.mediaType, digest, size: m.size },
    signer,
    ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    ...(options.created === undefined ? {} : { created: options.created }),
    ...(options.witness === undefined ? {} : { witness: options.witness }),
  });
  for (const [d, bytes] of built.blobs) await client.uploadBlob(sigRepo, d, bytes, sig);
  await client.pushReferrer(sigRepo, built.manifest, built.manifestMediaType, digest, sig);
  return {
    digest,
    signatureReference: withDigest(sigRepo, built.manifestDigest),
    signatureManifestDigest: built.manifestDigest,
    appended: true,
    payload: built.statement,
    signature: built.signature,
    ...(built.tlogIndex === undefined ? {} : { tlogIndex: built.tlogIndex }),
    ...(built.certificate === undefined ? {} : { certificate: built.certificate }),
  };
}
