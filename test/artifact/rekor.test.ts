import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkDsseRekorBody, type RekorBundle } from '../../src/artifact/rekor.js';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
const pem = (der: string) => `-----BEGIN CERTIFICATE-----\n${b64(der)}\n-----END CERTIFICATE-----\n`;
const bundleOf = (body: unknown): RekorBundle => ({
  signedEntryTimestamp: new Uint8Array(),
  payload: { body: b64(JSON.stringify(body)), integratedTime: 1, logIndex: 0, logID: '0'.repeat(64) },
});

describe('checkDsseRekorBody', () => {
  const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1"}');
  const signature = Buffer.from('sig-bytes');
  const envelope = Buffer.from(JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: b64(payload), signatures: [{ sig: b64(signature) }] }));
  const cert = pem('leaf-der');
  const expected = { envelope, payload, signature, certificatePem: cert };
  const dsse = (over: Record<string, unknown> = {}) => ({
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha(envelope) },
      payloadHash: { algorithm: 'sha256', value: sha(payload) },
      signatures: [{ signature: b64(signature), verifier: b64(cert) }],
      ...over,
    },
  });
  const intoto = (content: Record<string, unknown> = {}) => ({
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: { payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: b64(b64(signature)), publicKey: b64(cert) }] },
        hash: { algorithm: 'sha256', value: sha(envelope) },
        payloadHash: { algorithm: 'sha256', value: sha(payload) },
        ...content,
      },
    },
  });

  it('accepts a dsse v0.0.1 entry (cosign 2.5) and an intoto v0.0.2 entry about the envelope', () => {
    expect(() => checkDsseRekorBody(bundleOf(dsse()), expected)).not.toThrow();
    expect(() => checkDsseRekorBody(bundleOf(intoto()), expected)).not.toThrow();
    // a PEM with other line breaks names the same certificate
    expect(() => checkDsseRekorBody(bundleOf(dsse()), { ...expected, certificatePem: cert.replace(/\n/g, '\r\n') })).not.toThrow();
  });

  it.each([
    ['another envelope hash', dsse({ envelopeHash: { algorithm: 'sha256', value: sha('other') } }), /envelope hash/],
    ['another hash algorithm', dsse({ envelopeHash: { algorithm: 'sha512', value: sha(envelope) } }), /envelope hash/],
    ['another payload hash', dsse({ payloadHash: { algorithm: 'sha256', value: sha('other') } }), /payload hash/],
    ['another signature', dsse({ signatures: [{ signature: b64('other'), verifier: b64(cert) }] }), /signature in the bundle/],
    ['another certificate', dsse({ signatures: [{ signature: b64(signature), verifier: b64(pem('other')) }] }), /certificate in the bundle/],
    [
      'two signatures',
      dsse({
        signatures: [
          { signature: b64(signature), verifier: b64(cert) },
          { signature: b64(signature), verifier: b64(cert) },
        ],
      }),
      /multiple DSSE signatures/,
    ],
    ['intoto: another envelope hash', intoto({ hash: { algorithm: 'sha256', value: sha('x') } }), /envelope hash/],
    [
      'intoto: another certificate',
      intoto({ envelope: { payloadType: 'application/vnd.in-toto+json', signatures: [{ publicKey: b64(pem('other')) }] } }),
      /certificate in the bundle/,
    ],
  ])('refuses an entry with %s (SIGNATURE_INVALID)', (_, body, message) => {
    expect(() => checkDsseRekorBody(bundleOf(body), expected)).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_INVALID', message: expect.stringMatching(message) }),
    );
  });

  it('refuses other kinds and malformed bodies (BAD_INPUT)', () => {
    const hashedrekord = { apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: { hash: { algorithm: 'sha256', value: sha(envelope) } } } };
    for (const body of [hashedrekord, { ...dsse(), apiVersion: '0.0.2' }, { kind: 'dsse' }, []]) {
      expect(() => checkDsseRekorBody(bundleOf(body), expected)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    }
    const notJson: RekorBundle = { ...bundleOf({}), payload: { ...bundleOf({}).payload, body: b64('{') } };
    expect(() => checkDsseRekorBody(notJson, expected)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});
