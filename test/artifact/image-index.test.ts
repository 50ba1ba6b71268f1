/**
 * Image indexes are untrusted JSON: strict parsing (duplicate keys, escaped keys, non-objects,
 * invalid UTF-8) and a schema, every failure a typed `BAD_MANIFEST`, never a crash or a wrong answer.
 */
import { describe, expect, it } from 'vitest';
import { DOCKER_MANIFEST_LIST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, isIndexMediaType, manifestMediaType, parseImageIndex, parseImageIndexIfAny } from '../../src/artifact/index.js';
import { isCosignError } from '../../src/errors.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const entry = (d: string): string => `{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","size":10,"digest":"${d}"}`;
const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!isCosignError(e)) throw e; // a crash, not a typed error
    return e.code;
  }
}

describe('parseImageIndex', () => {
  it('reads an OCI index and a Docker manifest list (media type from the document, else the header)', () => {
    const oci = parseImageIndex(bytes(`{"schemaVersion":2,"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(A)},${entry(B)}]}`), '', 'index');
    expect(oci).toEqual({ mediaType: OCI_INDEX_MEDIA_TYPE, manifests: [{ mediaType: OCI_MANIFEST_MEDIA_TYPE, size: 10, digest: A }, { mediaType: OCI_MANIFEST_MEDIA_TYPE, size: 10, digest: B }] });
    const docker = parseImageIndex(bytes(`{"schemaVersion":2,"manifests":[${entry(A)}]}`), DOCKER_MANIFEST_LIST_MEDIA_TYPE, 'index');
    expect(docker.mediaType).toBe(DOCKER_MANIFEST_LIST_MEDIA_TYPE);
    expect(docker.manifests.map((m) => m.digest)).toEqual([A]);
  });

  it('decodes escaped keys as Go does (the same answer as unescaped keys)', () => {
    const plain = parseImageIndex(bytes(`{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(A)}]}`), '', 'index');
    const escaped = parseImageIndex(bytes(`{"\\u006dediaType":"${OCI_INDEX_MEDIA_TYPE}","manifest\\u0073":[{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","\\u0073ize":10,"d\\u0069gest":"${A}"}]}`), '', 'index');
    expect(escaped).toEqual(plain);
  });

  it.each([
    ['a duplicate key', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[],"manifests":[${entry(A)}]}`],
    ['a duplicate key spelled with escapes', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[],"manifest\\u0073":[${entry(A)}]}`],
    ['a duplicate mediaType', `{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(A)}]}`],
    ['a duplicate key inside an entry', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":1,"digest":"${A}","digest":"${B}"}]}`],
    ['an array', `[${entry(A)}]`],
    ['null', 'null'],
    ['a string', '"index"'],
    ['a number', '1'],
    ['invalid JSON', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[`],
    ['a byte-order mark', `\ufeff{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[]}`],
    ['a non-string mediaType', `{"mediaType":1,"manifests":[]}`],
    ['no manifests', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}"}`],
    ['manifests not an array', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":{"0":${entry(A)}}}`],
    ['an entry that is not an object', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":["${A}"]}`],
    ['an entry without a digest', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":1}]}`],
    ['an entry with an invalid digest', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":1,"digest":"sha256:xyz"}]}`],
    ['an entry with a negative size', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":-1,"digest":"${A}"}]}`],
    ['a deep nesting', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[],"x":${'['.repeat(20000)}${']'.repeat(20000)}}`],
  ])('rejects %s with BAD_MANIFEST', (_name, text) => {
    expect(codeOf(() => parseImageIndex(bytes(text), OCI_INDEX_MEDIA_TYPE, 'index'))).toBe('BAD_MANIFEST');
  });

  it('rejects invalid UTF-8 with BAD_MANIFEST', () => {
    expect(codeOf(() => parseImageIndex(Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), OCI_INDEX_MEDIA_TYPE, 'index'))).toBe('BAD_MANIFEST');
  });

  it('another kind of manifest: undefined from parseImageIndexIfAny, BAD_MANIFEST from parseImageIndex', () => {
    const m = bytes(`{"schemaVersion":2,"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","config":{},"layers":[]}`);
    expect(parseImageIndexIfAny(m, OCI_INDEX_MEDIA_TYPE, 'm')).toBeUndefined();
    expect(codeOf(() => parseImageIndex(m, '', 'm'))).toBe('BAD_MANIFEST');
    // Look-alike media types are not indexes (no pattern matching).
    for (const mt of ['application/vnd.oci.image.index.v1+json+evil', 'application/vnd.evil.image.index', 'x/manifest.list']) {
      expect(isIndexMediaType(mt)).toBe(false);
      expect(parseImageIndexIfAny(bytes(`{"mediaType":"${mt}","manifests":[${entry(A)}]}`), '', 'm')).toBeUndefined();
    }
    expect(manifestMediaType(m, 'x', 'm')).toBe(OCI_MANIFEST_MEDIA_TYPE);
    expect(manifestMediaType(bytes('{}'), 'x', 'm')).toBe('x');
  });
});
