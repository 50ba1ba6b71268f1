import { describe, expect, it } from 'vitest';
import { parseReference } from '../../src/reference.js';
import {
  buildPayload,
  buildPayloadForImage,
  checkClaims,
  matchDockerReference,
  parsePayload,
  verifyOutputJson,
  type ReferenceMatch,
} from '../../src/payload/index.js';
import { rekorBundleOutputValue } from '../../src/artifact/rekor.js';
import { rfc3161TimestampOutputValue } from '../../src/payload/payload.js';

const D = `sha256:${'ab'.repeat(32)}` as const;
const D2 = `sha256:${'cd'.repeat(32)}` as const;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const payloadJson = (critical: string, optional = 'null'): Uint8Array => enc(`{"critical":${critical},"optional":${optional}}`);
const critical = (ref = 'r.io/a/b', digest: string = D, type = 'cosign container image signature'): string =>
  `{"identity":{"docker-reference":"${ref}"},"image":{"docker-manifest-digest":"${digest}"},"type":"${type}"}`;

function errorOf(f: () => unknown): { code: string; details?: Record<string, unknown>; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code: string; details?: Record<string, unknown>; message: string };
  }
  throw new Error('did not throw');
}

describe('buildPayload', () => {
  it('writes cosign bytes with optional null', () => {
    expect(text(buildPayload({ dockerReference: 'index.docker.io/library/ubuntu', digest: D }))).toBe(
      `{"critical":{"identity":{"docker-reference":"index.docker.io/library/ubuntu"},"image":{"docker-manifest-digest":"${D}"},"type":"cosign container image signature"},"optional":null}`,
    );
    expect(text(buildPayload({ dockerReference: 'r/x', digest: D, annotations: {} }))).toMatch(/"optional":null}$/);
  });

  it('writes annotations as a sorted string map with Go escaping', () => {
    expect(text(buildPayload({ dockerReference: 'r/x', digest: D, annotations: { z: '1', a: '<b>&', é: '\u2028' } }))).toMatch(
      /"optional":\{"a":"\\u003cb\\u003e\\u0026","z":"1","é":"\\u2028"\}\}$/,
    );
  });

  it('uses ref.name for an ImageReference, never the tag or digest', () => {
    const ref = parseReference(`ubuntu:22.04@${D2}`);
    expect(text(buildPayloadForImage(ref, D))).toContain('"docker-reference":"index.docker.io/library/ubuntu"');
    expect(text(buildPayloadForImage(parseReference('docker.io/foo/bar:1'), D, { k: 'v' }))).toContain('"optional":{"k":"v"}');
  });

  it('refuses bad input', () => {
    expect(errorOf(() => buildPayload({ dockerReference: 'r/x', digest: 'sha256:xyz' as never })).code).toBe('BAD_DIGEST');
    expect(errorOf(() => buildPayload({ dockerReference: '', digest: D })).code).toBe('BAD_INPUT');
    expect(errorOf(() => buildPayload({ dockerReference: 'r', digest: D, annotations: { a: 1 as never } })).code).toBe('BAD_INPUT');
  });

  it('round-trips through parsePayload', () => {
    const raw = buildPayload({ dockerReference: 'r.io/a', digest: D, annotations: { a: 'b' } });
    const p = parsePayload(raw);
    expect(p).toMatchObject({ dockerReference: 'r.io/a', manifestDigest: D, type: 'cosign container image signature', optional: { a: 'b' } });
    expect(p.raw).toBe(raw);
  });
});

describe('parsePayload', () => {
  it('accepts skopeo payloads (creator, timestamp, tag or digest in the reference)', () => {
    const p = parsePayload(payloadJson(critical(`r.io/a/b@${D2}`), '{"creator":"containers/image 5.21","timestamp":1657296609,"other":[1]}'));
    expect(p.creator).toBe('containers/image 5.21');
    expect(p.timestamp).toBe(1657296609);
    expect(p.dockerReference).toBe(`r.io/a/b@${D2}`);
  });

  it('accepts a missing or empty optional', () => {
    expect(parsePayload(enc(`{"critical":${critical()}}`)).optional).toBeNull();
    expect(parsePayload(payloadJson(critical(), '{}')).optional).toEqual({});
  });

  const bad: Array<[string, Uint8Array, string]> = [
    ['not JSON', enc('{'), '(root)'],
    ['an array', enc('[]'), '(root)'],
    ['missing critical', enc('{"optional":null}'), 'critical'],
    ['extra top-level key', enc(`{"critical":${critical()},"optional":null,"x":1}`), 'x'],
    ['extra critical key', payloadJson(`{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"${D}"},"type":"t","x":1}`), 'critical.x'],
    ['missing type', payloadJson(`{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"${D}"}}`), 'critical.type'],
    [
      'non-string reference',
      payloadJson(`{"identity":{"docker-reference":5},"image":{"docker-manifest-digest":"${D}"},"type":"t"}`),
      'critical.identity.docker-reference',
    ],
    ['bad digest', payloadJson(critical('r', 'sha256:123')), 'critical.image.docker-manifest-digest'],
    ['upper-case digest', payloadJson(critical('r', D.toUpperCase())), 'critical.image.docker-manifest-digest'],
    ['optional array', payloadJson(critical(), '[]'), 'optional'],
    ['optional string', payloadJson(critical(), '"x"'), 'optional'],
    ['creator not a string', payloadJson(critical(), '{"creator":1}'), 'optional.creator'],
    ['fractional timestamp', payloadJson(critical(), '{"timestamp":1.5}'), 'optional.timestamp'],
    ['string timestamp', payloadJson(critical(), '{"timestamp":"1"}'), 'optional.timestamp'],
  ];
  for (const [name, bytes, path] of bad) {
    it(`refuses ${name} (path ${path})`, () => {
      const e = errorOf(() => parsePayload(bytes));
      expect(e.code).toBe('BAD_PAYLOAD');
      if (path !== '(root)') expect(e.details?.path).toBe(path);
    });
  }

  it('refuses duplicate keys anywhere', () => {
    expect(errorOf(() => parsePayload(enc(`{"critical":${critical()},"critical":${critical()},"optional":null}`))).code).toBe('BAD_PAYLOAD');
    expect(errorOf(() => parsePayload(payloadJson(critical(), '{"a":1,"\\u0061":2}'))).code).toBe('BAD_PAYLOAD');
    expect(
      errorOf(() =>
        parsePayload(payloadJson(`{"identity":{"docker-reference":"a","docker-reference":"b"},"image":{"docker-manifest-digest":"${D}"},"type":"t"}`)),
      ).code,
    ).toBe('BAD_PAYLOAD');
  });

  it('refuses invalid UTF-8, a byte-order mark, float64 overflow and deep nesting', () => {
    const raw = payloadJson(critical('r\u00e9'));
    const i = Buffer.from(raw).indexOf(0xc3);
    const broken = Buffer.from(raw);
    broken[i] = 0xff;
    expect(errorOf(() => parsePayload(broken)).code).toBe('BAD_PAYLOAD');
    expect(errorOf(() => parsePayload(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), raw]))).code).toBe('BAD_PAYLOAD');
    expect(errorOf(() => parsePayload(payloadJson(critical(), '{"n":1e400}'))).code).toBe('BAD_PAYLOAD');
    expect(errorOf(() => parsePayload(payloadJson(critical(), `{"n":${'['.repeat(20000)}${']'.repeat(20000)}}`))).code).toBe('BAD_PAYLOAD');
  });

  it('enforces the size limit', () => {
    const raw = payloadJson(critical());
    expect(errorOf(() => parsePayload(raw, { maxBytes: raw.byteLength - 1 })).code).toBe('TOO_LARGE');
    expect(parsePayload(raw, { maxBytes: raw.byteLength }).manifestDigest).toBe(D);
    expect(errorOf(() => parsePayload(new Uint8Array(1024 * 1024 + 1))).code).toBe('TOO_LARGE');
  });

  it('refuses a non-byte input with a typed error', () => {
    expect(errorOf(() => parsePayload('{}' as never)).code).toBe('BAD_PAYLOAD');
  });
});

describe('checkClaims', () => {
  const p = parsePayload(payloadJson(critical('r.io/a/b'), '{"k":"v","n":1}'));

  it('passes when the digest matches and ignores the reference by default', () => {
    expect(() => checkClaims(p, { digest: D })).not.toThrow();
    expect(() => checkClaims(p, { digest: D, annotations: { k: 'v' } })).not.toThrow();
  });

  it('reports a digest mismatch with details', () => {
    const e = errorOf(() => checkClaims(p, { digest: D2 }));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.details).toEqual({ expected: D2, actual: D });
  });

  it('reports missing or different annotations (values compare as strings)', () => {
    expect(errorOf(() => checkClaims(p, { digest: D, annotations: { k: 'w' } })).code).toBe('ANNOTATION_MISMATCH');
    expect(errorOf(() => checkClaims(p, { digest: D, annotations: { x: 'v' } })).code).toBe('ANNOTATION_MISMATCH');
    expect(errorOf(() => checkClaims(p, { digest: D, annotations: { n: '1' } })).code).toBe('ANNOTATION_MISMATCH');
    const noOptional = parsePayload(payloadJson(critical()));
    expect(errorOf(() => checkClaims(noOptional, { digest: D, annotations: { k: 'v' } })).code).toBe('ANNOTATION_MISMATCH');
  });

  it('checks the type exactly unless told not to', () => {
    const other = parsePayload(payloadJson(critical('r', D, 'Cosign Container Image Signature')));
    expect(errorOf(() => checkClaims(other, { digest: D })).code).toBe('TYPE_MISMATCH');
    expect(() => checkClaims(other, { digest: D, requireCosignType: false })).not.toThrow();
  });

  it('reports a reference mismatch with details', () => {
    const e = errorOf(() => checkClaims(p, { digest: D, reference: { ref: 'r.io/a/c', match: 'repository' } }));
    expect(e.code).toBe('REFERENCE_MISMATCH');
    expect(e.details).toMatchObject({ expected: 'r.io/a/c', actual: 'r.io/a/b', match: 'repository' });
  });
});

describe('matchDockerReference (containers/image semantics)', () => {
  const cases: Array<[string, string, ReferenceMatch, boolean]> = [
    // repository: names only
    ['r.io/a/b', 'r.io/a/b:1', 'repository', true],
    ['r.io/a/b:2', 'r.io/a/b:1', 'repository', true],
    [`r.io/a/b@${D}`, 'r.io/a/b', 'repository', true],
    ['r.io/a/c', 'r.io/a/b', 'repository', false],
    ['docker.io/library/busybox', 'busybox', 'repository', true],
    ['index.docker.io/library/busybox', 'docker.io/busybox:latest', 'repository', true],
    ['busybox', 'index.docker.io/library/busybox', 'repository', true],
    ['NotValid', 'r.io/a', 'repository', false],
    // exact
    ['r.io/a/b:1', 'r.io/a/b:1', 'exact', true],
    ['r.io/a/b:1', 'r.io/a/b:2', 'exact', false],
    ['r.io/a/b', 'r.io/a/b:1', 'exact', false],
    ['r.io/a/b:1', 'r.io/a/b', 'exact', false],
    [`r.io/a/b@${D}`, `r.io/a/b@${D}`, 'exact', true],
    [`r.io/a/b@${D}`, `r.io/a/b@${D2}`, 'exact', false],
    [`r.io/a/b:1@${D}`, `r.io/a/b:1@${D}`, 'exact', true],
    [`r.io/a/b:1@${D}`, `r.io/a/b@${D}`, 'exact', false],
    ['docker.io/library/busybox:1', 'busybox:1', 'exact', true],
    // repoDigest
    ['r.io/a/b:1', 'r.io/a/b:1', 'repoDigest', true],
    ['r.io/a/b:2', 'r.io/a/b:1', 'repoDigest', false],
    ['r.io/a/b:2', `r.io/a/b@${D}`, 'repoDigest', true],
    [`r.io/a/b@${D2}`, `r.io/a/b@${D}`, 'repoDigest', true],
    ['r.io/a/b', `r.io/a/b@${D}`, 'repoDigest', false],
    ['r.io/x/y:1', `r.io/a/b@${D}`, 'repoDigest', false],
    ['r.io/a/b:1', 'r.io/a/b', 'repoDigest', false],
    // ignore
    ['anything at all', 'r.io/a/b', 'ignore', true],
  ];
  for (const [sig, expected, mode, result] of cases) {
    it(`${mode}: ${sig} vs ${expected} → ${result}`, () => expect(matchDockerReference(sig, expected, mode)).toBe(result));
  }

  it('takes an ImageReference as expected (its default tag counts)', () => {
    expect(matchDockerReference('index.docker.io/library/busybox:latest', parseReference('busybox'), 'exact')).toBe(true);
    expect(matchDockerReference('index.docker.io/library/busybox', parseReference('busybox'), 'exact')).toBe(false);
  });

  it('throws BAD_REFERENCE for an unparsable expected reference', () => {
    expect(errorOf(() => matchDockerReference('r/a', 'Bad Ref', 'repository')).code).toBe('BAD_REFERENCE');
  });
});

describe('verifyOutputJson (cosign verify stdout)', () => {
  it('is newline, compact array, newline; key-signed payloads keep optional null', () => {
    const raw = buildPayload({ dockerReference: 'r.io/a', digest: D });
    expect(text(verifyOutputJson([parsePayload(raw)]))).toBe(`\n[${text(raw)}]\n`);
  });

  it('re-encodes optional like Go: sorted keys at every level, HTML and U+2028 escapes, -0 kept, {} kept', () => {
    const raw = payloadJson(critical(), '{"z":{"b":1,"a":[{"y":2,"x":-0}]},"a":"<\\u2028>","e":1E3,"f":0.0000001,"s":"\\ud800"}');
    const out = text(verifyOutputJson([parsePayload(raw)]));
    expect(out).toBe(
      `\n[{"critical":${critical()},"optional":{"a":"\\u003c\\u2028\\u003e","e":1000,"f":1e-7,"s":"\ufffd","z":{"a":[{"x":-0,"y":2}],"b":1}}}]\n`,
    );
    expect(text(verifyOutputJson([parsePayload(payloadJson(critical(), '{}'))]))).toContain('"optional":{}');
    expect(text(verifyOutputJson([parsePayload(enc(`{"critical":${critical()}}`))]))).toContain('"optional":null');
  });

  it('re-escapes strings in critical and lists several payloads', () => {
    const a = parsePayload(payloadJson(critical('r.io/a', D, 'cosign container image signature')));
    const b = parsePayload(
      enc(`{"critical":{"type":"t<","image":{"docker-manifest-digest":"${D2}"},"identity":{"docker-reference":"r\\u002fb"}},"optional":null}`),
    );
    expect(text(verifyOutputJson([a, b]))).toBe(
      `\n[{"critical":${critical('r.io/a')},"optional":null},{"critical":{"identity":{"docker-reference":"r/b"},"image":{"docker-manifest-digest":"${D2}"},"type":"t\\u003c"},"optional":null}]\n`,
    );
  });

  it('adds Bundle and RFC3161Timestamp to optional like cosign', () => {
    const p = parsePayload(payloadJson(critical(), '{"k":"v"}'));
    const bundle = rekorBundleOutputValue({
      signedEntryTimestamp: new Uint8Array([1, 2, 3]),
      payload: { body: 'Ym9keQ==', integratedTime: 1674251859, logIndex: 11608800, logID: 'c0d2' },
    });
    const out = text(verifyOutputJson([{ payload: p, extraOptional: { Bundle: bundle, RFC3161Timestamp: rfc3161TimestampOutputValue(new Uint8Array([9])) } }]));
    expect(out).toBe(
      `\n[{"critical":${critical()},"optional":{"Bundle":{"SignedEntryTimestamp":"AQID","Payload":{"body":"Ym9keQ==","integratedTime":1674251859,"logIndex":11608800,"logID":"c0d2"}},"RFC3161Timestamp":{"SignedRFC3161Timestamp":"CQ=="},"k":"v"}}]\n`,
    );
    const nullOptional = parsePayload(payloadJson(critical()));
    expect(text(verifyOutputJson([{ payload: nullOptional, extraOptional: { Subject: 'a@b' } }]))).toContain('"optional":{"Subject":"a@b"}');
  });
});

describe('__proto__ is an ordinary key, like in Go', () => {
  it('keeps a __proto__ key in optional and does not read creator through it', () => {
    const p = parsePayload(payloadJson(critical(), '{"__proto__":{"creator":5,"x":1},"k":"v"}'));
    expect(Object.keys(p.optional!)).toEqual(['__proto__', 'k']);
    expect(p.creator).toBeUndefined();
    expect(text(verifyOutputJson([p]))).toContain('"optional":{"__proto__":{"creator":5,"x":1},"k":"v"}');
    expect(() => checkClaims(p, { digest: D, annotations: { k: 'v' } })).not.toThrow();
  });
});
