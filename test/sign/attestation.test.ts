import { createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSignatureManifest } from '../../src/artifact/image.js';
import { DSSE_ENVELOPE_MEDIA_TYPE } from '../../src/artifact/media-types.js';
import { RegistryClient } from '../../src/oci/client.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import type { Digest } from '../../src/digest.js';
import type { Signer } from '../../src/keys/signer.js';
import {
  attestImage,
  buildAttestationStatement,
  buildBundleAttestationStatement,
  COSIGN_CUSTOM_PREDICATE_TYPE,
  MAX_PREDICATE_BYTES,
  predicateType,
  signDsse,
} from '../../src/sign/attestation.js';
import { parseReference } from '../../src/reference.js';

const digest = `sha256:${'ab'.repeat(32)}` as Digest;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('predicateType', () => {
  it('maps cosign short names', () => {
    expect(predicateType('custom')).toBe(COSIGN_CUSTOM_PREDICATE_TYPE);
    expect(predicateType('slsaprovenance')).toBe('https://slsa.dev/provenance/v0.2');
    expect(predicateType('slsaprovenance1')).toBe('https://slsa.dev/provenance/v1');
    expect(predicateType('spdxjson')).toBe('https://spdx.dev/Document');
    expect(predicateType('cyclonedx')).toBe('https://cyclonedx.org/bom');
    expect(predicateType('vuln')).toBe('https://cosign.sigstore.dev/attestation/vuln/v1');
    expect(predicateType('openvex')).toBe('https://openvex.dev/ns');
  });
  it('takes a URI as it is and refuses anything else', () => {
    expect(predicateType('https://example.com/t/v1')).toBe('https://example.com/t/v1');
    expect(() => predicateType('nonsense')).toThrow(/invalid predicate type/);
    expect(() => predicateType('toString')).toThrow(/invalid predicate type/);
  });
});

describe('buildAttestationStatement', () => {
  it('wraps a custom predicate as a string with a timestamp', () => {
    const s = dec(
      buildAttestationStatement({
        predicate: enc('{"x":1}'),
        predicateType: COSIGN_CUSTOM_PREDICATE_TYPE,
        repository: 'r.example/app',
        digest,
        time: new Date('2026-01-02T03:04:05.678Z'),
      }),
    );
    expect(s).toBe(
      `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"${COSIGN_CUSTOM_PREDICATE_TYPE}","subject":[{"name":"r.example/app","digest":{"sha256":"${'ab'.repeat(32)}"}}],"predicate":{"Data":"{\\"x\\":1}","Timestamp":"2026-01-02T03:04:05Z"}}`,
    );
  });
  it('embeds a JSON predicate re-serialised as Go does', () => {
    const s = JSON.parse(
      dec(buildAttestationStatement({ predicate: enc('{"z":1,"a":{"c":2,"b":3}}'), predicateType: 'https://openvex.dev/ns', repository: 'r/app', digest })),
    );
    expect(s.predicate).toEqual({ a: { b: 3, c: 2 }, z: 1 });
    const raw = dec(
      buildAttestationStatement({ predicate: enc('{"b":1,"a":["<&>",null,true,-0]}'), predicateType: 'https://openvex.dev/ns', repository: 'r/app', digest }),
    );
    expect(raw.endsWith('"predicate":{"a":["\\u003c\\u0026\\u003e",null,true,-0],"b":1}}')).toBe(true);
    expect(() => buildAttestationStatement({ predicate: enc('{'), predicateType: 'https://openvex.dev/ns', repository: 'r/app', digest })).toThrow();
  });
});

describe('signDsse', () => {
  it('signs PAE(payloadType, payload) and serialises as cosign', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer: Signer = {
      keyRef: 'test',
      publicKey: async () => createPublicKey(publicKey),
      sign: async (m) => new Uint8Array(cryptoSign('sha256', m, privateKey)),
    };
    const env = await signDsse(enc('{"a":1}'), signer);
    const parsed = JSON.parse(dec(env.bytes));
    expect(Object.keys(parsed)).toEqual(['payloadType', 'payload', 'signatures']);
    expect(parsed.signatures[0].keyid).toBe('');
    const pae = enc('DSSEv1 28 application/vnd.in-toto+json 7 {"a":1}');
    expect(cryptoVerify('sha256', pae, publicKey, Buffer.from(parsed.signatures[0].sig, 'base64'))).toBe(true);
  });
});

describe('byte compatibility with cosign 2.5 attest-blob', () => {
  // cosign 2.5 `attest-blob --type custom` / `--type openvex` over a blob named `blob` holding "hi\n",
  // predicate file `{"z":1,"a":"<x>"}`: the statements it signed, decoded from its envelopes.
  const blobDigest = 'sha256:98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4' as Digest;
  const predicate = enc('{"z":1,"a":"<x>"}');
  it('custom', () => {
    const ours = buildAttestationStatement({
      predicate,
      predicateType: predicateType('custom'),
      repository: 'blob',
      digest: blobDigest,
      time: new Date('2026-12-05T12:24:27Z'),
    });
    expect(dec(ours)).toBe(
      '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cosign.sigstore.dev/attestation/v1","subject":[{"name":"blob","digest":{"sha256":"98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4"}}],"predicate":{"Data":"{\\"z\\":1,\\"a\\":\\"\\u003cx\\u003e\\"}","Timestamp":"2026-12-05T12:24:27Z"}}',
    );
  });
  it('openvex', () => {
    const ours = buildAttestationStatement({ predicate, predicateType: predicateType('openvex'), repository: 'blob', digest: blobDigest });
    expect(dec(ours)).toBe(
      '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://openvex.dev/ns","subject":[{"name":"blob","digest":{"sha256":"98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4"}}],"predicate":{"a":"\\u003cx\\u003e","z":1}}',
    );
  });
});

describe('attestImage', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer: Signer = {
    keyRef: 'test',
    publicKey: async () => createPublicKey(publicKey),
    sign: async (m) => new Uint8Array(cryptoSign('sha256', m, privateKey)),
  };
  beforeAll(async () => {
    reg = await startTestRegistry();
    client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  });
  afterAll(async () => {
    client.close();
    await reg.close();
  });

  it('appends envelopes to the .att tag, and replaces by predicate type', async () => {
    const name = `${reg.host}/att/app`;
    const d = await pushSampleImage(client, `${name}:v1`, { n: '1' });
    const a = await attestImage(`${name}@${d}`, signer, { client, predicate: enc('{"a":1}'), type: 'openvex' });
    expect(a.appended).toBe(true);
    expect(a.attestationReference.tag).toBe(`sha256-${d.slice(7)}.att`);
    await attestImage(`${name}:v1`, signer, { client, predicate: enc('{"b":1}'), type: 'custom' });
    let m = parseSignatureManifest((await client.getManifest(a.attestationReference)).bytes);
    expect(m.layers.map((l) => l.annotations.predicateType)).toEqual(['https://openvex.dev/ns', COSIGN_CUSTOM_PREDICATE_TYPE]);
    expect(m.layers[0]?.mediaType).toBe(DSSE_ENVELOPE_MEDIA_TYPE);
    await attestImage(`${name}@${d}`, signer, { client, predicate: enc('{"c":1}'), type: 'openvex', replace: true });
    m = parseSignatureManifest((await client.getManifest(a.attestationReference)).bytes);
    expect(m.layers.map((l) => l.annotations.predicateType)).toEqual([COSIGN_CUSTOM_PREDICATE_TYPE, 'https://openvex.dev/ns']);
    const blob = await client.getBlob(a.attestationReference, m.layers[1]?.digest as Digest);
    const env = JSON.parse(dec(blob));
    expect(JSON.parse(Buffer.from(env.payload, 'base64').toString()).predicate).toEqual({ c: 1 });
  });
});

describe('buildBundleAttestationStatement (cosign 3.1 attest, bundle format)', () => {
  // What cosign 3.1.1 `attest --new-bundle-format` signed for the predicate file `{"b":{"z":1,"a":[2]},"a":"<x>"}`
  // (decoded from the bundles it pushed to 127.0.0.1:37483/x/app).
  const d = 'sha256:9a43714cc25c3f2b37688074d067b891140f425ab1f246e89e37a45a9855ead9' as Digest;
  const predicate = enc('{"b":{"z":1,"a":[2]},"a":"<x>"}');
  it('openvex: protojson field order, sorted predicate keys, no HTML escaping', () => {
    const ours = buildBundleAttestationStatement({ predicate, predicateType: predicateType('openvex'), repository: '127.0.0.1:37483/x/app', digest: d });
    expect(dec(ours)).toBe(
      '{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"127.0.0.1:37483/x/app","digest":{"sha256":"9a43714cc25c3f2b37688074d067b891140f425ab1f246e89e37a45a9855ead9"}}],"predicateType":"https://openvex.dev/ns","predicate":{"a":"<x>","b":{"a":[2],"z":1}}}',
    );
  });
  it('custom: the file text with a timestamp', () => {
    const ours = buildBundleAttestationStatement({
      predicate,
      predicateType: predicateType('custom'),
      repository: '127.0.0.1:37483/x/app',
      digest: d,
      time: new Date('2026-12-05T20:39:29.900Z'),
    });
    expect(dec(ours)).toBe(
      '{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"127.0.0.1:37483/x/app","digest":{"sha256":"9a43714cc25c3f2b37688074d067b891140f425ab1f246e89e37a45a9855ead9"}}],"predicateType":"https://cosign.sigstore.dev/attestation/v1","predicate":{"Data":"{\\"b\\":{\\"z\\":1,\\"a\\":[2]},\\"a\\":\\"<x>\\"}","Timestamp":"2026-12-05T20:39:29Z"}}',
    );
  });
  it("vuln: reduced to cosign's Go structure (known fields, zero values), as cosign 3.1.1 signed it", () => {
    const ours = buildBundleAttestationStatement({
      predicate: enc('{"scanner":{"uri":"u","version":"1"}}'),
      predicateType: predicateType('vuln'),
      repository: '127.0.0.1:34037/x/a3',
      digest: 'sha256:f2e5d7b79232fbeaeda4720c8236d17c2a42e38059e9a1b6948a4c5bcbb540e7' as Digest,
    });
    expect(dec(ours)).toBe(
      '{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"127.0.0.1:34037/x/a3","digest":{"sha256":"f2e5d7b79232fbeaeda4720c8236d17c2a42e38059e9a1b6948a4c5bcbb540e7"}}],"predicateType":"https://cosign.sigstore.dev/attestation/vuln/v1","predicate":{"invocation":{"builder.id":"","event_id":"","parameters":null,"uri":""},"metadata":{"scanFinishedOn":"0001-01-01T00:00:00Z","scanStartedOn":"0001-01-01T00:00:00Z"},"scanner":{"db":{"uri":"","version":""},"result":null,"uri":"u","version":"1"}}}',
    );
    const t = JSON.parse(
      dec(
        buildBundleAttestationStatement({
          predicate: enc('{"Metadata":{"scanStartedOn":"2026-01-02T03:04:05.500000+00:00"},"extra":1,"scanner":{"result":{"x":[1]}}}'),
          predicateType: predicateType('vuln'),
          repository: 'r/app',
          digest: d,
        }),
      ),
    );
    expect(t.predicate.metadata.scanStartedOn).toBe('2026-01-02T03:04:05.5Z');
    expect(t.predicate.extra).toBeUndefined();
    expect(t.predicate.scanner.result).toEqual({ x: [1] });
    for (const bad of ['{"scanner":{"uri":1}}', '{"metadata":{"scanStartedOn":"yesterday"}}', '{"scanner":[]}']) {
      expect(() => buildBundleAttestationStatement({ predicate: enc(bad), predicateType: predicateType('vuln'), repository: 'r/app', digest: d })).toThrow(
        expect.objectContaining({ code: 'BAD_INPUT' }),
      );
    }
  });
  it("escapes as protojson: control characters only; numbers as Go's float64", () => {
    const raw = dec(
      buildBundleAttestationStatement({
        predicate: enc('{"s":"a\\u2028b\\n\\u0001\\"\\\\&","n":[1.0,1e21,0.000001,-0,12345678901234567890],"t":true,"x":null}'),
        predicateType: 'https://example.com/t',
        repository: 'r/app',
        digest: d,
      }),
    );
    expect(raw.endsWith('"predicate":{"n":[1,1e+21,0.000001,-0,12345678901234567000],"s":"a\u2028b\\n\\u0001\\"\\\\&","t":true,"x":null}}')).toBe(true);
  });
  it('refuses a predicate that is not a JSON object, and an oversized one', () => {
    for (const p of ['[1]', '"s"', '{']) {
      expect(() => buildBundleAttestationStatement({ predicate: enc(p), predicateType: 'https://openvex.dev/ns', repository: 'r/app', digest: d })).toThrow(
        expect.objectContaining({ code: 'BAD_INPUT' }),
      );
    }
    expect(() =>
      buildBundleAttestationStatement({
        predicate: new Uint8Array(MAX_PREDICATE_BYTES + 1),
        predicateType: 'https://openvex.dev/ns',
        repository: 'r/app',
        digest: d,
      }),
    ).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
  });
});

describe('attestImage (bundle format)', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer: Signer = {
    keyRef: 'test',
    publicKey: async () => publicKey,
    sign: async (m) => new Uint8Array(cryptoSign('sha256', m, privateKey)),
  };
  beforeAll(async () => {
    reg = await startTestRegistry();
    client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  });
  afterAll(async () => {
    client.close();
    await reg.close();
  });

  it('pushes a Sigstore bundle referrer with the real predicate type; the envelope verifies with the key', async () => {
    const name = `${reg.host}/attb/app`;
    const d = await pushSampleImage(client, `${name}:v1`, { n: 'b1' });
    const r = await attestImage(`${name}:v1`, signer, {
      client,
      predicate: enc('{"a":1}'),
      type: 'slsaprovenance1',
      format: 'bundle',
      created: new Date('2026-01-02T03:04:05Z'),
    });
    expect(r.format).toBe('bundle');
    expect(r.digest).toBe(d);
    expect(r.attestationReference.digest).toBe(r.manifestDigest);
    const refs = await client.referrers(parseReference(`${name}@${d}`), d);
    expect(refs.map((x) => x.digest)).toEqual([r.manifestDigest]);
    const m = JSON.parse(dec((await client.getManifest(r.attestationReference)).bytes));
    expect(m.annotations).toEqual({
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
      'org.opencontainers.image.created': '2026-01-02T03:04:05Z',
    });
    expect(m.subject.digest).toBe(d);
    const bundle = JSON.parse(dec(await client.getBlob(r.attestationReference, m.layers[0].digest)));
    expect(Object.keys(bundle.dsseEnvelope)).toEqual(['payload', 'payloadType', 'signatures']);
    const statement = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    expect(dec(statement)).toBe(dec(r.envelope.payload));
    const pae = Buffer.concat([enc(`DSSEv1 28 application/vnd.in-toto+json ${statement.length} `), statement]);
    expect(cryptoVerify('sha256', pae, publicKey, Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64'))).toBe(true);
    expect(JSON.parse(dec(r.envelope.bytes))).toEqual(bundle.dsseEnvelope);
  });
  it('refuses replace with the bundle format, and an unknown format', async () => {
    const name = `${reg.host}/attb/app2`;
    const d = await pushSampleImage(client, `${name}:v1`, { n: 'b2' });
    await expect(attestImage(`${name}@${d}`, signer, { client, predicate: enc('{}'), format: 'bundle', replace: true })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
    });
    await expect(attestImage(`${name}@${d}`, signer, { client, predicate: enc('{}'), format: 'x' as never })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
