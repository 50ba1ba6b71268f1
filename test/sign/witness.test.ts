/**
 * `witnessSignature` with Rekor v1 and Rekor v2 logs (the `@sigstore/mock` services of the test harness):
 * what each log is asked to record, and what it returns.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sigstoreCore } from '../../src/internal/deps.js';
import { rekorBundleFromEntry, rekorV2Content, witnessSignature, type WitnessedContent } from '../../src/sign/witness.js';
import { fixtureText } from '../helpers/fixtures.js';
import { startRekorV2Mock, startSigstoreMock, type RekorV2Mock, type SigstoreMock } from '../helpers/sigstore-mock.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
// A P-256 Fulcio certificate: what Rekor v2 is told signed (the mock log does not check the signature).
const certPem = fixtureText('containers-image/rekor-set-standalone/fulcio-cert');
const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
const payloadType = 'application/vnd.in-toto+json';
const pae = sigstoreCore().dsse.preAuthEncoding(payloadType, payload);
const dsse: WitnessedContent = { kind: 'dsse', payloadType, payload, signature: sign('sha256', pae, privateKey) };
const message: WitnessedContent = { kind: 'message', payload, signature: sign('sha256', payload, privateKey) };

describe('rekorV2Content', () => {
  it('a message signature as it is; an envelope as a hashedrekord over SHA-256 of its PAE', () => {
    const m = rekorV2Content(message);
    expect(m.$case).toBe('messageSignature');
    if (m.$case !== 'messageSignature') return;
    expect(Buffer.from(m.messageSignature.messageDigest!.digest).equals(createHash('sha256').update(payload).digest())).toBe(true);
    const d = rekorV2Content(dsse);
    expect(d.$case).toBe('messageSignature');
    if (d.$case !== 'messageSignature') return;
    expect(Buffer.from(d.messageSignature.messageDigest!.digest).equals(createHash('sha256').update(pae).digest())).toBe(true);
    expect(Buffer.from(d.messageSignature.signature).equals(Buffer.from(dsse.signature))).toBe(true);
  });
});

describe('witnessSignature', () => {
  let v1: SigstoreMock;
  let v2: RekorV2Mock;
  beforeAll(async () => {
    v1 = await startSigstoreMock();
    v2 = await startRekorV2Mock();
  });
  afterAll(async () => {
    await v2?.stop();
    await v1?.stop();
  });

  it('Rekor v2: a v0.0.2 hashedrekord entry for an envelope, with an inclusion proof and checkpoint, no SET; not usable as a .sig bundle', async () => {
    const w = await witnessSignature(dsse, certPem, { rekorURL: v2.url, rekorVersion: 2 });
    const e = w.tlogEntry!;
    expect(e.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    expect(e.inclusionPromise).toBeUndefined();
    expect(e.inclusionProof?.checkpoint?.envelope).toMatch(/^127\.0\.0\.1\n1\n/);
    const body = JSON.parse(Buffer.from(e.canonicalizedBody).toString('utf8')) as {
      spec: { hashedRekordV002: { data: { digest: string }; signature: { content: string } } };
    };
    expect(Buffer.from(body.spec.hashedRekordV002.data.digest, 'base64').equals(createHash('sha256').update(pae).digest())).toBe(true);
    expect(body.spec.hashedRekordV002.signature.content).toBe(Buffer.from(dsse.signature).toString('base64'));
    expect(() => rekorBundleFromEntry(e)).toThrow(expect.objectContaining({ code: 'SIGSTORE_ERROR' }));
    expect(v2.entries()).toBe(1);
  });

  it('Rekor v2: a message signature is a hashedrekord over the payload digest', async () => {
    const w = await witnessSignature(message, certPem, { rekorURL: v2.url, rekorVersion: 2 });
    const body = JSON.parse(Buffer.from(w.tlogEntry!.canonicalizedBody).toString('utf8')) as { spec: { hashedRekordV002: { data: { digest: string } } } };
    expect(Buffer.from(body.spec.hashedRekordV002.data.digest, 'base64').equals(createHash('sha256').update(payload).digest())).toBe(true);
  });

  it('Rekor v1: an envelope is a dsse v0.0.1 entry with a SET', async () => {
    const w = await witnessSignature(dsse, pem, { rekorURL: v1.rekorURL });
    expect(w.tlogEntry?.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(rekorBundleFromEntry(w.tlogEntry!).payload.logID).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('witnessSignature refuses what Rekor v2 would log under a wrong verifier', () => {
  it('a public key (no certificate) and junk', async () => {
    for (const notCert of [pem, 'junk']) {
      await expect(witnessSignature(message, notCert, { rekorURL: 'http://127.0.0.1:9', rekorVersion: 2 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    }
  });
});
