/**
 * Many small signed images in the in-process registry, for batch tests (connection counts, output
 * order): each image is distinct (its config labels) and signed with the given key in cosign's exact
 * form (`buildPayload`).
 */
import type { KeyObject } from 'node:crypto';
import { mapLimit } from '../../src/concurrency.js';
import type { RegistryClient } from '../../src/oci/index.js';
import { buildPayload } from '../../src/payload/index.js';
import { parseReference } from '../../src/reference.js';
import { pushSampleImage } from '../../src/testing/index.js';
import { pushSignatureLayers, signedLayer } from './signed-images.js';

/** Push and sign `count` images in `host/<prefix>N` (10 repositories); returns `repo@digest` references. */
export async function pushSignedImages(client: RegistryClient, host: string, prefix: string, count: number, key: KeyObject): Promise<string[]> {
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    16,
    async (i) => {
      const repo = parseReference(`${host}/${prefix}${i % 10}`, { defaultTag: null });
      const digest = await pushSampleImage(client, `${repo.name}:v${i}`, { prefix, i: String(i) });
      await pushSignatureLayers(client, repo, digest, [signedLayer(buildPayload({ dockerReference: repo.name, digest }), key)]);
      return `${repo.name}@${digest}`;
    },
  );
}
