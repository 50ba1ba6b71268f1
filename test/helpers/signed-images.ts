/**
 * Signed images in the in-process registry (`src/testing`) for the tests that run the `cosign-ts` bin
 * and the library side by side: push an image, then a legacy `.sig` artifact whose layers carry
 * exactly the payload bytes given (compact or not, as a test needs).
 */
import { sign, type KeyObject } from 'node:crypto';
import { buildSignatureImage, buildSignatureLayer, signatureTag, type ImageLayer } from '../../src/artifact/index.js';
import type { Digest } from '../../src/digest.js';
import type { RegistryClient } from '../../src/oci/index.js';
import { withTag, type ImageReference } from '../../src/reference.js';

/** Push the `.sig` artifact for `digest` in `repo` with these layers (in order). */
export async function pushSignatureLayers(client: RegistryClient, repo: ImageReference, digest: Digest, layers: readonly ImageLayer[]): Promise<void> {
  const image = buildSignatureImage(layers);
  const sigRef = withTag(repo, signatureTag(digest));
  for (const [d, bytes] of image.blobs) await client.uploadBlob(sigRef, d, bytes);
  await client.putManifest(sigRef, image.manifest, image.manifestMediaType);
}

/** A layer signing exactly `payload` with `key` (ECDSA or RSA: sha256; Ed25519: pure). */
export function signedLayer(payload: Uint8Array, key: KeyObject): ImageLayer {
  const signature = sign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', payload, key);
  const layer = buildSignatureLayer({ payload, signature });
  return { descriptor: layer.descriptor, payload };
}
