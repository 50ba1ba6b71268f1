/**
 * The OCI document model: image manifests and indexes are untrusted JSON, parsed strictly (duplicate
 * keys, escaped keys, non-objects, invalid UTF-8) and checked with one schema per document; every
 * failure is a typed `BAD_MANIFEST` naming the document and the path, never a crash or a wrong answer.
 */
import { describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import {
  DOCKER_MANIFEST_LIST_MEDIA_TYPE,
  DOCKER_MANIFEST_MEDIA_TYPE,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  isIndexMediaType,
  isManifestMediaType,
  manifestMediaType,
  parseImageIndex,
  parseImageIndexIfAny,
  parseManifest,
  referrersFallbackTag,
} from '../../src/oci/index.js';
import { codeOf } from '../helpers/errors.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const C = `sha512:${'c'.repeat(128)}`;
const entry = (d: string): string => `{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","size":10,"digest":"${d}"}`;
const layer = (d: string): string => `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":3,"digest":"${d}"}`;
const config = `{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"${A}"}`;
const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const manifest = (extra = '', mediaType = OCI_MANIFEST_MEDIA_TYPE): Uint8Array =>
  bytes(`{"schemaVersion":2,"mediaType":"${mediaType}","config":${config},"layers":[${layer(B)},${layer(C)}]${extra}}`);

/** The error `f` throws: a `CosignError` (anything else fails the test). */
function errorOf(f: () => unknown): { code: string; message: string; details: unknown } {
  try {
    f();
  } catch (e) {
    if (!isCosignError(e)) throw e;
    return { code: e.code, message: e.message, details: e.details };
  }
  throw new Error('no error');
}

describe('parseManifest', () => {
  it('reads an OCI image manifest and a Docker v2 manifest (media type from the document, else the header, else OCI)', () => {
    expect(parseManifest(manifest(), '', 'm')).toEqual({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: 2, digest: A },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 3, digest: B },
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 3, digest: C },
      ],
    });
    expect(parseManifest(manifest('', DOCKER_MANIFEST_MEDIA_TYPE), OCI_MANIFEST_MEDIA_TYPE, 'm').mediaType).toBe(DOCKER_MANIFEST_MEDIA_TYPE);
    const noField = bytes(`{"schemaVersion":2,"config":${config},"layers":[]}`);
    expect(parseManifest(noField, DOCKER_MANIFEST_MEDIA_TYPE, 'm').mediaType).toBe(DOCKER_MANIFEST_MEDIA_TYPE);
    expect(parseManifest(noField, '', 'm').mediaType).toBe(OCI_MANIFEST_MEDIA_TYPE);
  });

  it('reads OCI 1.1 fields (subject, artifactType, annotations) and drops unknown ones', () => {
    const m = parseManifest(
      manifest(
        `,"artifactType":"application/x-test","subject":{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","size":7,"digest":"${C}","platform":{"os":"linux"}},"annotations":{"k":"v"},"future":[1]`,
      ),
      '',
      'm',
    );
    expect(m.artifactType).toBe('application/x-test');
    expect(m.subject).toEqual({ mediaType: OCI_MANIFEST_MEDIA_TYPE, size: 7, digest: C });
    expect(m.annotations).toEqual({ k: 'v' });
    expect(m).not.toHaveProperty('future');
    const annotated = parseManifest(
      bytes(`{"schemaVersion":2,"config":${config},"layers":[{"mediaType":"x","size":0,"digest":"${B}","annotations":{"a":"b"},"urls":["u"]}]}`),
      '',
      'm',
    );
    expect(annotated.layers).toEqual([{ mediaType: 'x', size: 0, digest: B, annotations: { a: 'b' } }]);
  });

  it('decodes escaped keys as Go does (the same answer as unescaped keys)', () => {
    const escaped = bytes(
      `{"schemaVersion":2,"\\u006dediaType":"${OCI_MANIFEST_MEDIA_TYPE}","c\\u006fnfig":${config},"l\\u0061yers":[${layer(B)},${layer(C)}]}`,
    );
    expect(parseManifest(escaped, '', 'm')).toEqual(parseManifest(manifest(), '', 'm'));
  });

  it.each([
    ['invalid JSON', `{"schemaVersion":2,`, '(root)'],
    ['a duplicate key', `{"schemaVersion":2,"config":${config},"layers":[],"layers":[${layer(B)}]}`, '(root)'],
    ['a duplicate key spelled with escapes', `{"schemaVersion":2,"config":${config},"layers":[],"l\\u0061yers":[${layer(B)}]}`, '(root)'],
    [
      'a duplicate key in a descriptor',
      `{"schemaVersion":2,"config":${config},"layers":[{"mediaType":"x","size":1,"digest":"${A}","digest":"${B}"}]}`,
      '(root)',
    ],
    ['an array', `[${config}]`, '(root)'],
    ['null', 'null', '(root)'],
    ['a non-string mediaType', `{"schemaVersion":2,"mediaType":1,"config":${config},"layers":[]}`, 'mediaType'],
    ['an image index media type', `{"schemaVersion":2,"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(A)}]}`, 'mediaType'],
    ['a Docker manifest list media type', `{"schemaVersion":2,"mediaType":"${DOCKER_MANIFEST_LIST_MEDIA_TYPE}","manifests":[]}`, 'mediaType'],
    ['another media type', `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json+evil","config":${config},"layers":[]}`, 'mediaType'],
    ['no schemaVersion', `{"config":${config},"layers":[]}`, 'schemaVersion'],
    ['schemaVersion 1', `{"schemaVersion":1,"config":${config},"layers":[]}`, 'schemaVersion'],
    ['no config', `{"schemaVersion":2,"layers":[]}`, 'config'],
    ['no layers', `{"schemaVersion":2,"config":${config}}`, 'layers'],
    ['layers not an array', `{"schemaVersion":2,"config":${config},"layers":${layer(B)}}`, 'layers'],
    ['a layer without a digest', `{"schemaVersion":2,"config":${config},"layers":[{"mediaType":"x","size":1}]}`, 'layers.0.digest'],
    ['a layer without a size', `{"schemaVersion":2,"config":${config},"layers":[{"mediaType":"x","digest":"${B}"}]}`, 'layers.0.size'],
    ['a layer without a media type', `{"schemaVersion":2,"config":${config},"layers":[{"size":1,"digest":"${B}"}]}`, 'layers.0.mediaType'],
    ['a bad digest', `{"schemaVersion":2,"config":{"mediaType":"x","size":1,"digest":"sha256:xyz"},"layers":[]}`, 'config.digest'],
    ['an upper-case sha256 digest', `{"schemaVersion":2,"config":{"mediaType":"x","size":1,"digest":"sha256:${'A'.repeat(64)}"},"layers":[]}`, 'config.digest'],
    [
      'a short sha512 digest',
      `{"schemaVersion":2,"config":${config},"layers":[{"mediaType":"x","size":1,"digest":"sha512:${'c'.repeat(64)}"}]}`,
      'layers.0.digest',
    ],
    ['a negative size', `{"schemaVersion":2,"config":${config},"layers":[{"mediaType":"x","size":-1,"digest":"${B}"}]}`, 'layers.0.size'],
    ['a fractional size', `{"schemaVersion":2,"config":${config},"layers":[{"mediaType":"x","size":1.5,"digest":"${B}"}]}`, 'layers.0.size'],
    ['an unsafe size', `{"schemaVersion":2,"config":${config},"layers":[{"mediaType":"x","size":9007199254740993,"digest":"${B}"}]}`, 'layers.0.size'],
    ['non-string annotations', `{"schemaVersion":2,"config":${config},"layers":[],"annotations":{"k":1}}`, 'annotations.k'],
    ['a bad subject', `{"schemaVersion":2,"config":${config},"layers":[],"subject":{"mediaType":"x","size":1}}`, 'subject.digest'],
    ['a non-string artifactType', `{"schemaVersion":2,"config":${config},"layers":[],"artifactType":2}`, 'artifactType'],
  ])('rejects %s: BAD_MANIFEST naming the document and the path', (_name, text, path) => {
    const e = errorOf(() => parseManifest(bytes(text), OCI_MANIFEST_MEDIA_TYPE, 'manifest r.io/a:v1'));
    expect(e.code).toBe('BAD_MANIFEST');
    expect(e.message).toMatch(/^manifest r\.io\/a:v1[: ]/);
    if (path !== '(root)') expect(e.details).toEqual({ path });
  });

  it('rejects invalid UTF-8 and a byte-order mark with BAD_MANIFEST', () => {
    expect(codeOf(() => parseManifest(Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), '', 'm'))).toBe('BAD_MANIFEST');
    expect(codeOf(() => parseManifest(bytes(`\ufeff{"schemaVersion":2,"config":${config},"layers":[]}`), '', 'm'))).toBe('BAD_MANIFEST');
  });

  it('an index where a manifest is expected, served with an index Content-Type and no mediaType field', () => {
    const e = errorOf(() => parseManifest(bytes(`{"schemaVersion":2,"manifests":[${entry(A)}]}`), OCI_INDEX_MEDIA_TYPE, 'm'));
    expect(e).toMatchObject({ code: 'BAD_MANIFEST', details: { path: 'mediaType' } });
    expect(e.message).toContain('is an image index');
  });
});

describe('parseImageIndex', () => {
  it('reads an OCI index and a Docker manifest list (media type from the document, else the header)', () => {
    const oci = parseImageIndex(bytes(`{"schemaVersion":2,"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(A)},${entry(B)}]}`), '', 'index');
    expect(oci).toEqual({
      schemaVersion: 2,
      mediaType: OCI_INDEX_MEDIA_TYPE,
      manifests: [
        { mediaType: OCI_MANIFEST_MEDIA_TYPE, size: 10, digest: A },
        { mediaType: OCI_MANIFEST_MEDIA_TYPE, size: 10, digest: B },
      ],
    });
    const docker = parseImageIndex(bytes(`{"schemaVersion":2,"manifests":[${entry(A)}]}`), DOCKER_MANIFEST_LIST_MEDIA_TYPE, 'index');
    expect(docker.mediaType).toBe(DOCKER_MANIFEST_LIST_MEDIA_TYPE);
    expect(docker.manifests.map((m) => m.digest)).toEqual([A]);
    // schemaVersion may be missing (accepted as before); an empty list is an index.
    expect(parseImageIndex(bytes('{"manifests":[]}'), OCI_INDEX_MEDIA_TYPE, 'index')).toEqual({ mediaType: OCI_INDEX_MEDIA_TYPE, manifests: [] });
  });

  it('reads entries with artifactType and annotations (referrers), and the index own OCI 1.1 fields', () => {
    const text = `{"schemaVersion":2,"mediaType":"${OCI_INDEX_MEDIA_TYPE}","artifactType":"application/x-idx","subject":${entry(C)},"annotations":{"a":"b"},"manifests":[{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","size":5,"digest":"${A}","artifactType":"application/x-test","annotations":{"k":"v"},"platform":{"os":"linux","architecture":"arm64"}}]}`;
    expect(parseImageIndex(bytes(text), '', 'index')).toEqual({
      schemaVersion: 2,
      mediaType: OCI_INDEX_MEDIA_TYPE,
      artifactType: 'application/x-idx',
      subject: { mediaType: OCI_MANIFEST_MEDIA_TYPE, size: 10, digest: C },
      annotations: { a: 'b' },
      manifests: [{ mediaType: OCI_MANIFEST_MEDIA_TYPE, size: 5, digest: A, artifactType: 'application/x-test', annotations: { k: 'v' } }],
    });
  });

  it('decodes escaped keys as Go does (the same answer as unescaped keys)', () => {
    const plain = parseImageIndex(bytes(`{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(A)}]}`), '', 'index');
    const escaped = parseImageIndex(
      bytes(
        `{"\\u006dediaType":"${OCI_INDEX_MEDIA_TYPE}","manifest\\u0073":[{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","\\u0073ize":10,"d\\u0069gest":"${A}"}]}`,
      ),
      '',
      'index',
    );
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
    ['schemaVersion 1', `{"schemaVersion":1,"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[]}`],
    ['no manifests', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}"}`],
    ['manifests not an array', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":{"0":${entry(A)}}}`],
    ['an entry that is not an object', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":["${A}"]}`],
    ['an entry without a digest', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":1}]}`],
    ['an entry with an invalid digest', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":1,"digest":"sha256:xyz"}]}`],
    ['an entry with a negative size', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":-1,"digest":"${A}"}]}`],
    [
      'an entry with a non-string artifactType',
      `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":1,"digest":"${A}","artifactType":{}}]}`,
    ],
    ['a deep nesting', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[],"x":${'['.repeat(20000)}${']'.repeat(20000)}}`],
  ])('rejects %s with BAD_MANIFEST', (_name, text) => {
    expect(codeOf(() => parseImageIndex(bytes(text), OCI_INDEX_MEDIA_TYPE, 'index'))).toBe('BAD_MANIFEST');
  });

  it('names the document and the path', () => {
    const e = errorOf(() =>
      parseImageIndex(bytes(`{"manifests":[${entry(A)},{"mediaType":"m","size":1,"digest":"md5:"}]}`), OCI_INDEX_MEDIA_TYPE, 'index r.io/a@x'),
    );
    expect(e).toMatchObject({ code: 'BAD_MANIFEST', details: { path: 'manifests.1.digest' } });
    expect(e.message).toMatch(/^index r\.io\/a@x: manifests\.1\.digest: /);
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
    // Not JSON, or not an object: BAD_MANIFEST whatever the kind.
    expect(codeOf(() => parseImageIndexIfAny(bytes('[]'), OCI_MANIFEST_MEDIA_TYPE, 'm'))).toBe('BAD_MANIFEST');
  });
});

describe('media types', () => {
  it('exact index and manifest media types', () => {
    expect([OCI_INDEX_MEDIA_TYPE, DOCKER_MANIFEST_LIST_MEDIA_TYPE].every(isIndexMediaType)).toBe(true);
    expect([OCI_MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE].every(isManifestMediaType)).toBe(true);
    for (const mt of [
      OCI_INDEX_MEDIA_TYPE,
      'application/vnd.docker.distribution.manifest.v1+json',
      'application/vnd.oci.artifact.manifest.v1+json',
      `${OCI_MANIFEST_MEDIA_TYPE}; charset=utf-8`,
      '',
    ]) {
      expect(isManifestMediaType(mt)).toBe(false);
    }
  });

  it('manifestMediaType: the document field, else the header', () => {
    expect(manifestMediaType(manifest(), 'x', 'm')).toBe(OCI_MANIFEST_MEDIA_TYPE);
    expect(manifestMediaType(bytes('{}'), 'x', 'm')).toBe('x');
    expect(codeOf(() => manifestMediaType(bytes('{"mediaType":null}'), 'x', 'm'))).toBe('BAD_MANIFEST');
  });
});

describe('referrersFallbackTag', () => {
  it('names the referrers fallback tag with truncation', () => {
    expect(referrersFallbackTag(A)).toBe(`sha256-${'a'.repeat(64)}`);
    expect(referrersFallbackTag(`sha512:${'c'.repeat(128)}`)).toBe(`sha512-${'c'.repeat(64)}`);
    expect(referrersFallbackTag(`${'a'.repeat(40)}+x:abc`)).toBe(`${'a'.repeat(32)}-abc`);
    expect(codeOf(() => referrersFallbackTag('sha256:nothex'))).toBe('BAD_DIGEST');
  });
});
