/**
 * cosign v3 signatures for tests: a Sigstore bundle v0.3 with a DSSE envelope over an in-toto
 * Statement v1 (predicate `https://sigstore.dev/cosign/sign/v1`), built as cosign 3.1 builds it, and a
 * referrer manifest carrying it, stored in a registry (referrers API, optionally the fallback tag index).
 */
import { createHash, sign, type KeyObject } from 'node:crypto';
import { digestOf, type Digest } from '../../src/digest.js';
import type { RegistryClient } from '../../src/oci/index.js';
import type { ImageReference } from '../../src/reference.js';
import { withDigest } from '../../src/reference.js';

/** DSSE PAE, written out independently of `@sigstore/core` (the code under test uses that). */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const t = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${payload.length} `), payload]);
}

/** What {@link cosign3Bundle} may change from what cosign 3 writes. */
export interface BundleOptions {
  readonly annotations?: Record<string, string>;
  readonly predicateType?: string;
  readonly payloadType?: string;
  /** The whole statement, verbatim (overrides the others). */
  readonly statement?: Buffer;
  /** Extra `verificationMaterial` members (e.g. `tlogEntries`). */
  readonly material?: Record<string, unknown>;
}

/** The statement cosign 3 signs for `digest`. */
export function cosign3Statement(digest: Digest, o: BundleOptions = {}): Buffer {
  const hex = digest.slice('sha256:'.length);
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: hex }, ...(o.annotations === undefined ? {} : { annotations: o.annotations }) }],
      predicateType: o.predicateType ?? 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
    }),
  );
}

/** A bundle signed by `privateKey` (ECDSA with SHA-256) over the statement for `digest`. */
export function cosign3Bundle(privateKey: KeyObject, publicKeyDer: Buffer, digest: Digest, o: BundleOptions = {}): Buffer {
  const payload = o.statement ?? cosign3Statement(digest, o);
  const payloadType = o.payloadType ?? 'application/vnd.in-toto+json';
  const sig = sign('sha256', pae(payloadType, payload), privateKey);
  return Buffer.from(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: createHash('sha256').update(publicKeyDer).digest('base64') }, ...o.material },
      dsseEnvelope: { payload: payload.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64') }] },
    }),
  );
}

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const EMPTY = Buffer.from('{}');

/**
 * Push `bundle` as a referrer of `subject` in `repo`, as cosign 3 does: empty config, one bundle layer,
 * the subject, cosign's annotations. With `fallback`, also list it in the `sha256-<hex>` index (as
 * cosign 3 does on registries without the referrers API: entry `artifactType` the empty type).
 * Returns the referrer manifest's digest.
 */
export async function pushBundleReferrer(
  client: RegistryClient,
  repo: ImageReference,
  subject: { digest: Digest; size: number; mediaType: string },
  bundle: Buffer,
  o: { fallback?: boolean; layerMediaType?: string; layers?: number } = {},
): Promise<Digest> {
  await client.uploadBlob(repo, digestOf(EMPTY), EMPTY);
  await client.uploadBlob(repo, digestOf(bundle), bundle);
  const layer = { mediaType: o.layerMediaType ?? BUNDLE_MEDIA_TYPE, size: bundle.length, digest: digestOf(bundle) };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: digestOf(EMPTY), artifactType: BUNDLE_MEDIA_TYPE },
      layers: Array.from({ length: o.layers ?? 1 }, () => layer),
      annotations: {
        'dev.sigstore.bundle.content': 'dsse-envelope',
        'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
        'org.opencontainers.image.created': '2026-01-01T00:00:00Z',
      },
      subject,
      artifactType: BUNDLE_MEDIA_TYPE,
    }),
  );
  const digest = digestOf(manifest);
  await client.putManifest(withDigest(repo, digest), manifest, 'application/vnd.oci.image.manifest.v1+json');
  if (o.fallback === true) {
    await client.addFallbackReferrer(repo, subject.digest, {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: manifest.length,
      digest,
      artifactType: 'application/vnd.oci.empty.v1+json',
    });
  }
  return digest;
}
