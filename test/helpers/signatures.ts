/**
 * Hand-built `.sig` artifacts for verification tests and the memory benchmark: any mix of layers
 * (valid, foreign, missing blob, shared blob, …) written straight into the in-process registry's
 * storage, so a 1000-layer artifact of distinct 1 MiB blobs costs the test process about 1 MiB.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, OCI_CONFIG_MEDIA_TYPE } from '../../src/artifact/media-types.js';
import { signatureTag } from '../../src/artifact/tags.js';
import type { Digest } from '../../src/digest.js';
import { parsePublicKey } from '../../src/keys/index.js';
import { buildPayload } from '../../src/payload/index.js';
import { keyAuthority, type KeyAuthority } from '../../src/verify/authority.js';
import type { TestRegistry } from '../../src/testing/index.js';
import { buildSignatureImage, type ImageLayer } from '../../src/artifact/image.js';

/** One layer of a hand-built `.sig`. */
export interface RawSigLayer {
  /** The blob. */
  readonly blob: Uint8Array;
  /** Layer annotations (default: none). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Layer media type (default simple signing). */
  readonly mediaType?: string;
  /** Leave the blob out of the registry (the layer's GET answers 404). */
  readonly missing?: boolean;
}

/** sha256 digest of bytes. */
export function sha256(data: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** A P-256 key pair: `sign` for layers, `authority` to verify with. */
export function testKey(name = 'test-key'): { sign: (payload: Uint8Array) => string; authority: KeyAuthority; privateKey: KeyObject; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    privateKey,
    publicKeyPem: pem,
    sign: (payload) => sign('sha256', payload, privateKey).toString('base64'),
    authority: keyAuthority(parsePublicKey(pem), name) as KeyAuthority,
  };
}

/** A simple-signing payload for `repo@digest` and the layer carrying `key`'s signature over it. */
export function signedLayer(
  key: { sign: (payload: Uint8Array) => string },
  dockerReference: string,
  digest: Digest,
  annotations?: Record<string, string>,
): RawSigLayer {
  const blob = buildPayload(annotations === undefined ? { dockerReference, digest } : { dockerReference, digest, annotations });
  return { blob, annotations: { [SIGNATURE_ANNOTATION]: key.sign(blob) } };
}

/**
 * Store a `.sig` (OCI manifest, config, layer blobs) for `imageDigest` in `repo` of the registry,
 * directly in its storage (blobs as given: views of one buffer stay views). Returns the manifest bytes.
 */
export function storeSignatures(reg: TestRegistry, repo: string, imageDigest: Digest, layers: ReadonlyArray<RawSigLayer>): Buffer {
  const held = reg.storage.repoBlobs.get(repo) ?? new Set<string>();
  reg.storage.repoBlobs.set(repo, held);
  const put = (data: Uint8Array, digest: Digest): void => {
    reg.storage.blobs.set(digest, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    held.add(digest);
  };
  const descriptors = layers.map((l) => {
    const digest = sha256(l.blob);
    if (l.missing !== true) put(l.blob, digest);
    const annotations = l.annotations === undefined || Object.keys(l.annotations).length === 0 ? undefined : l.annotations;
    return { mediaType: l.mediaType ?? SIMPLE_SIGNING_MEDIA_TYPE, size: l.blob.byteLength, digest, ...(annotations === undefined ? {} : { annotations }) };
  });
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      os: '',
      rootfs: { type: 'layers', diff_ids: descriptors.map((d) => d.digest) },
      config: {},
    }),
  );
  const configDigest = sha256(config);
  put(config, configDigest);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: OCI_CONFIG_MEDIA_TYPE, size: config.byteLength, digest: configDigest },
      layers: descriptors,
    }),
  );
  const manifestDigest = sha256(manifest);
  reg.storage.manifests.set(`${repo}@${manifestDigest}`, { bytes: manifest, mediaType: OCI_MANIFEST_MEDIA_TYPE });
  reg.storage.tags.set(`${repo}:${signatureTag(imageDigest)}`, manifestDigest);
  return manifest;
}

/**
 * `count` distinct blobs of `size` bytes, each signed with a signature that does not verify, as views
 * of one buffer of `size + count` random bytes (blob i starts at byte i): distinct digests, ~`size` bytes
 * of memory in all.
 */
export function distinctJunkLayers(count: number, size: number): RawSigLayer[] {
  const base = randomBytes(size + count);
  const junkSignature = Buffer.alloc(64, 7).toString('base64');
  return Array.from({ length: count }, (_, i) => ({ blob: base.subarray(i, i + size), annotations: { [SIGNATURE_ANNOTATION]: junkSignature } }));
}

/**
 * Store an image manifest (Docker v2 media type) and a `.sig` built from `layers` with the library's own
 * `buildSignatureImage`, straight into the in-process registry's storage. Returns `host/repo@digest`.
 */
export function storeSignedImage(reg: TestRegistry, repo: string, manifest: Uint8Array, layers: readonly ImageLayer[]): string {
  const digest = sha256(manifest);
  reg.storage.manifests.set(`${repo}@${digest}`, { bytes: Buffer.from(manifest), mediaType: 'application/vnd.docker.distribution.manifest.v2+json' });
  const img = buildSignatureImage(layers);
  const held = reg.storage.repoBlobs.get(repo) ?? new Set<string>();
  reg.storage.repoBlobs.set(repo, held);
  for (const [d, b] of img.blobs) {
    reg.storage.blobs.set(d, Buffer.from(b));
    held.add(d);
  }
  reg.storage.manifests.set(`${repo}@${img.manifestDigest}`, { bytes: Buffer.from(img.manifest), mediaType: img.manifestMediaType });
  reg.storage.tags.set(`${repo}:${digest.replace(':', '-')}.sig`, img.manifestDigest);
  return `${reg.host}/${repo}@${digest}`;
}
