/**
 * Tiny sample images for demos, tests and benchmarks: one text layer and a config whose labels make
 * each image distinct.
 *
 * @module
 */
import { digestOf, type Digest } from '../digest.js';
import type { RegistryClient } from '../oci/client.js';
import { parseReference, type ImageReference } from '../reference.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const LAYER = Buffer.from('hello from cosign-ts\n');

/**
 * Push a one-layer OCI image to `reference` (`registry/repo:tag`) with `labels` in its config, so
 * different labels give different digests. Returns the manifest digest.
 */
export async function pushSampleImage(
  client: RegistryClient,
  reference: string | ImageReference,
  labels: Readonly<Record<string, string>> = {},
): Promise<Digest> {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  const layerDigest = digestOf(LAYER);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels }, rootfs: { type: 'layers', diff_ids: [layerDigest] } }),
  );
  await client.uploadBlob(ref, layerDigest, LAYER);
  await client.uploadBlob(ref, digestOf(config), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.byteLength, digest: digestOf(config) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', size: LAYER.byteLength, digest: layerDigest }],
    }),
  );
  await client.putManifest(ref, manifest, OCI_MANIFEST);
  return digestOf(manifest);
}
