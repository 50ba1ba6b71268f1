/**
 * typedPredicate: cosign 2.5's Go-struct re-encoding of `vuln` and SLSA v0.2 predicates (byte layouts observed
 * on the real cosign; the full comparison with it is in test/interop/blob-attest.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { typedPredicate } from '../../src/blob/predicate.js';
import { goMarshal, type GoValue } from '../../src/json/gojson.js';

const enc = (type: string, v: unknown) => goMarshal(typedPredicate(type, v) as GoValue);

describe('typedPredicate', () => {
  it('vuln: struct order, zero values for absent members, unknown members dropped (cosign 2.5 output)', () => {
    expect(enc('vuln', { z: 1, buildType: 'x' })).toBe(
      '{"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},"scanner":{"uri":"","version":"","db":{"uri":"","version":""},"result":null},"metadata":{"scanStartedOn":"0001-01-01T00:00:00Z","scanFinishedOn":"0001-01-01T00:00:00Z"}}',
    );
    expect(
      enc('vuln', {
        metadata: { scanFinishedOn: '2024-05-01T10:00:00.500+00:00', scanStartedOn: '2024-05-01T09:00:00.000+02:00' },
        scanner: { result: { b: 1, a: [true] }, URI: 'pkg:grype', db: { version: '5' } },
      }),
    ).toBe(
      '{"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},"scanner":{"uri":"pkg:grype","version":"","db":{"uri":"","version":"5"},"result":{"a":[true],"b":1}},"metadata":{"scanStartedOn":"2024-05-01T09:00:00+02:00","scanFinishedOn":"2024-05-01T10:00:00.5Z"}}',
    );
  });

  it('slsaprovenance: the struct order and omitempty rules of in-toto-golang v0.2 (cosign 2.5 output)', () => {
    expect(enc('slsaprovenance', { buildType: 'x', builder: { id: 'me' }, z: 1, a: [1, 2] })).toBe(
      '{"builder":{"id":"me"},"buildType":"x","invocation":{"configSource":{}}}',
    );
    expect(
      enc('slsaprovenance02', {
        builder: {},
        buildType: 't',
        materials: [{ uri: 'git+https://x', digest: { sha1: 'ab' } }, {}],
        metadata: { completeness: { materials: true }, buildStartedOn: '2024-01-01T00:00:00Z' },
        buildConfig: {},
        invocation: { parameters: {}, configSource: { entryPoint: 'e', digest: {} } },
      }),
    ).toBe(
      '{"builder":{"id":""},"buildType":"t","invocation":{"configSource":{"entryPoint":"e"},"parameters":{}},"buildConfig":{},"metadata":{"buildStartedOn":"2024-01-01T00:00:00Z","completeness":{"parameters":false,"environment":false,"materials":true},"reproducible":false},"materials":[{"uri":"git+https://x","digest":{"sha1":"ab"}},{}]}',
    );
  });

  it('slsaprovenance1: in-toto-golang v1 order, invocationID, omitempty resource descriptors (cosign 2.5 output)', () => {
    expect(
      enc('slsaprovenance1', {
        buildDefinition: {
          buildType: 't',
          externalParameters: { b: 1, a: 2 },
          resolvedDependencies: [{ uri: 'u', digest: { sha1: 'ab' }, annotations: { x: 1 } }],
        },
        runDetails: { builder: { id: 'b' }, metadata: { invocationId: 'i', startedOn: '2024-01-01T00:00:00.10Z' } },
        zz: 1,
      }),
    ).toBe(
      '{"buildDefinition":{"buildType":"t","externalParameters":{"a":2,"b":1},"resolvedDependencies":[{"uri":"u","digest":{"sha1":"ab"},"annotations":{"x":1}}]},"runDetails":{"builder":{"id":"b"},"metadata":{"invocationID":"i","startedOn":"2024-01-01T00:00:00.1Z"}}}',
    );
    expect(enc('slsaprovenance1', { buildDefinition: null, runDetails: {} })).toBe(
      '{"buildDefinition":{"buildType":"","externalParameters":null},"runDetails":{"builder":{"id":""},"metadata":{}}}',
    );
    expect(
      enc('slsaprovenance1', {
        runDetails: {
          byproducts: [{ content: 'aGk=', mediaType: 'm', downloadLocation: 'd', name: 'n', digest: {}, uri: '' }],
          builder: { builderDependencies: [{}], version: { v: '1' }, id: '' },
          metadata: { finishedOn: '2024-01-01T00:00:00+01:00', startedOn: null },
        },
        buildDefinition: { internalParameters: {}, externalParameters: null, resolvedDependencies: [] },
      }),
    ).toBe(
      '{"buildDefinition":{"buildType":"","externalParameters":null,"internalParameters":{}},"runDetails":{"builder":{"id":"","version":{"v":"1"},"builderDependencies":[{}]},"metadata":{"finishedOn":"2024-01-01T00:00:00+01:00"},"byproducts":[{"name":"n","downloadLocation":"d","mediaType":"m","content":"aGk="}]}}',
    );
    expect(() => typedPredicate('slsaprovenance1', {})).toThrow('provenance predicate: required field buildDefinition missing');
    expect(() => typedPredicate('slsaprovenance1', { buildDefinition: {} })).toThrow('required field runDetails missing');
    expect(() => typedPredicate('slsaprovenance1', { buildDefinition: {}, runDetails: { byproducts: [{ content: '!' }] } })).toThrow(/content/);
  });

  it('leaves other types to the generic map encoding, and refuses members that do not fit the Go types', () => {
    expect(typedPredicate('spdxjson', { a: 1 })).toBeUndefined();
    expect(typedPredicate('custom', {})).toBeUndefined();
    expect(() => typedPredicate('vuln', { scanner: { uri: 1 } })).toThrow(/scanner.uri/);
    expect(() => typedPredicate('vuln', { metadata: { scanStartedOn: 'yesterday' } })).toThrow(/RFC 3339/);
    expect(() => typedPredicate('slsaprovenance', [])).toThrow(/\(root\)/);
    expect(() => typedPredicate('slsaprovenance', { buildType: 't' })).toThrow('provenance predicate: required field builder missing');
    expect(() => typedPredicate('slsaprovenance', { Builder: {}, BuildType: 't' })).toThrow('required field builder missing');
    expect(enc('slsaprovenance', { builder: null, buildType: null })).toBe('{"builder":{"id":""},"buildType":"","invocation":{"configSource":{}}}');
    const base = { builder: {}, buildType: 't' };
    expect(() => typedPredicate('slsaprovenance', { ...base, materials: {} })).toThrow(/materials/);
    expect(() => typedPredicate('slsaprovenance', { ...base, metadata: { reproducible: 'yes' } })).toThrow(/reproducible/);
  });
});
