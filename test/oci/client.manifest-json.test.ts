/**
 * `RegistryClient.getManifest` reads the manifest's `mediaType` from untrusted JSON: strict parsing
 * (duplicate keys rejected, escaped keys decoded right), a typed `BAD_MANIFEST` otherwise.
 */
import { describe, expect, it } from 'vitest';
import { OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE } from '../../src/artifact/media-types.js';
import { isCosignError } from '../../src/errors.js';
import type { RegistryClient } from '../../src/oci/index.js';
import { parseReference } from '../../src/reference.js';
import type { TestRegistry } from '../../src/testing/index.js';
import { useTestRegistry } from '../helpers/test-registry.js';
import { sha256 } from '../helpers/signatures.js';

describe('getManifest media type', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  let n = 0;

  useTestRegistry((r, c) => {
    reg = r;
    client = c;
  });

  async function get(json: string, contentType = 'application/octet-stream'): Promise<string> {
    const repo = `oci/m${++n}`;
    const bytes = Buffer.from(json);
    reg.storage.manifests.set(`${repo}@${sha256(bytes)}`, { bytes, mediaType: contentType });
    reg.storage.tags.set(`${repo}:t`, sha256(bytes));
    try {
      return (await client.getManifest(parseReference(`${reg.host}/${repo}:t`))).mediaType;
    } catch (e) {
      if (!isCosignError(e)) throw e;
      return e.code;
    }
  }

  it('from the document, else the Content-Type; escaped keys decoded', async () => {
    expect(await get(`{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}"}`)).toBe(OCI_MANIFEST_MEDIA_TYPE);
    expect(await get('{"schemaVersion":2}', OCI_INDEX_MEDIA_TYPE)).toBe(OCI_INDEX_MEDIA_TYPE);
    expect(await get(`{"\\u006dediaType":"${OCI_MANIFEST_MEDIA_TYPE}"}`, OCI_INDEX_MEDIA_TYPE)).toBe(OCI_MANIFEST_MEDIA_TYPE);
  });

  it.each([
    ['a duplicate mediaType', `{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","mediaType":"${OCI_INDEX_MEDIA_TYPE}"}`],
    ['a duplicate mediaType spelled with escapes', `{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","\\u006dediaType":"${OCI_INDEX_MEDIA_TYPE}"}`],
    ['a duplicate key anywhere', `{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","config":{"a":1,"a":2}}`],
    ['a non-string mediaType', '{"mediaType":["x"]}'],
    ['an array', '[]'],
    ['null', 'null'],
    ['invalid JSON', '{"mediaType":'],
  ])('%s: BAD_MANIFEST', async (_name, json) => {
    expect(await get(json)).toBe('BAD_MANIFEST');
  });
});
