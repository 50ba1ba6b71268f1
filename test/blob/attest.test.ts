/**
 * attestBlob / verifyBlobAttestation: the statement, envelope and bundle bytes in cosign 2.5's and 3.1's
 * layouts (as observed on the real binaries: see test/interop/blob-attest.test.ts), and every check and
 * refusal of the verifier.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attestBlob, buildBlobStatement, verifyBlobAttestation, type BlobAttestationSource } from '../../src/blob/attest.js';
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from '../../src/artifact/media-types.js';
import { signerFromPrivateKey } from '../../src/keys/file-signer.js';
import { publicKeyToDer, publicKeyToPem } from '../../src/keys/public.js';
import { publicKeyHint } from '../../src/sign/bundle.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = signerFromPrivateKey(privateKey, 'test.key');
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherSigner = signerFromPrivateKey(other.privateKey, 'other.key');
const blob = Buffer.from('release contents\n');
const hex = createHash('sha256').update(blob).digest('hex');
const predicate = Buffer.from('{"buildType":"x","builder":{"id":"me"},"z":1,"a":[1,2]}\n');
const time = new Date('2026-12-05T20:39:08.123Z');
const ok = { insecureIgnoreTlog: true } as const;

const b64json = (s: string) => JSON.parse(Buffer.from(s, 'base64').toString('utf8')) as Record<string, unknown>;

describe('buildBlobStatement', () => {
  it('custom: cosign 2.5 order, the file as Data with an RFC 3339 Timestamp', () => {
    const s = Buffer.from(buildBlobStatement(predicate, 'custom', 'blob.bin', hex, 'cosign2', time)).toString();
    expect(s).toBe(
      `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cosign.sigstore.dev/attestation/v1","subject":[{"name":"blob.bin","digest":{"sha256":"${hex}"}}],"predicate":{"Data":"{\\"buildType\\":\\"x\\",\\"builder\\":{\\"id\\":\\"me\\"},\\"z\\":1,\\"a\\":[1,2]}\\n","Timestamp":"2026-12-05T20:39:08Z"}}`,
    );
  });

  it('cosign 3.1 order: _type, subject, predicateType, predicate', () => {
    const s = Buffer.from(buildBlobStatement(predicate, 'spdx', 'blob.bin', hex, 'cosign3', time)).toString();
    // spdx is tag-value SPDX: the file as a string, and cosign 3 then writes the members sorted
    expect(s).toBe(
      `{"_type":"https://in-toto.io/Statement/v0.1","predicate":"{\\"buildType\\":\\"x\\",\\"builder\\":{\\"id\\":\\"me\\"},\\"z\\":1,\\"a\\":[1,2]}\\n","predicateType":"https://spdx.dev/Document","subject":[{"name":"blob.bin","digest":{"sha256":"${hex}"}}]}`,
    );
    const j = Buffer.from(buildBlobStatement(predicate, 'openvex', 'blob.bin', hex, 'cosign3', time)).toString();
    expect(j).toBe(
      `{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"blob.bin","digest":{"sha256":"${hex}"}}],"predicateType":"https://openvex.dev/ns","predicate":{"a":[1,2],"buildType":"x","builder":{"id":"me"},"z":1}}`,
    );
  });

  it('spdxjson (same predicate type as spdx) and the spdx URI are JSON, only the spdx name is a string', () => {
    for (const t of ['spdxjson', 'https://spdx.dev/Document']) {
      expect(Buffer.from(buildBlobStatement(predicate, t, 'x', hex)).toString()).toContain('"predicate":{"a":[1,2],');
    }
  });

  it('vuln: the Go struct in cosign 2.5, its keys sorted in cosign 3.1 (as observed)', () => {
    const p = Buffer.from('{"scanner":{"uri":"x","result":{"b":1,"a":2}},"z":1}');
    const s3 = Buffer.from(buildBlobStatement(p, 'vuln', 'blob.bin', hex, 'cosign3', time)).toString();
    expect(s3.slice(s3.indexOf('"predicate"'))).toBe(
      '"predicate":{"invocation":{"builder.id":"","event_id":"","parameters":null,"uri":""},"metadata":{"scanFinishedOn":"0001-01-01T00:00:00Z","scanStartedOn":"0001-01-01T00:00:00Z"},"scanner":{"db":{"uri":"","version":""},"result":{"a":2,"b":1},"uri":"x","version":""}}}',
    );
    const s2 = Buffer.from(buildBlobStatement(p, 'vuln', 'blob.bin', hex, 'cosign2', time)).toString();
    expect(s2).toContain('"predicate":{"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},"scanner":{"uri":"x",');
  });

  it('JSON predicate types re-serialise the file with sorted keys; non-JSON is refused with the type named', () => {
    const s = Buffer.from(buildBlobStatement(predicate, 'https://example.com/t/v1', 'x', hex, 'cosign2', time)).toString();
    expect(s).toContain('"predicate":{"a":[1,2],"buildType":"x","builder":{"id":"me"},"z":1}}');
    expect(() => buildBlobStatement(Buffer.from('not json\n'), 'https://example.com/t/v1', 'x', hex)).toThrow(
      /invalid JSON payload for predicate type https:\/\/example.com\/t\/v1/,
    );
  });
});

describe('attestBlob', () => {
  it('legacy: cosign 2.5 envelope (keyid ""), bundle = base64(envelope) + the PEM public key', async () => {
    const r = await attestBlob(blob, signer, { predicate, type: 'spdxjson', name: 'blob.bin' });
    expect(r.format).toBe('legacy');
    expect(r.predicateType).toBe('https://spdx.dev/Document');
    expect(r.envelope).toMatch(
      /^\{"payloadType":"application\/vnd.in-toto\+json","payload":"[A-Za-z0-9+/=]+","signatures":\[\{"keyid":"","sig":"[A-Za-z0-9+/=]+"\}\]\}$/,
    );
    expect(Buffer.from(JSON.parse(r.envelope).payload, 'base64')).toEqual(Buffer.from(r.statement));
    const bundle = JSON.parse(r.bundle) as { base64Signature: string; cert: string };
    expect(Object.keys(bundle)).toEqual(['base64Signature', 'cert']);
    expect(Buffer.from(bundle.base64Signature, 'base64').toString()).toBe(r.envelope);
    expect(Buffer.from(bundle.cert, 'base64').toString()).toBe(publicKeyToPem(publicKey));
    await expect(verifyBlobAttestation(blob, publicKey, { envelope: r.envelope }, { ...ok, type: 'spdxjson' })).resolves.toMatchObject({
      format: 'envelope',
      statement: { predicateType: 'https://spdx.dev/Document' },
    });
    await expect(verifyBlobAttestation(blob, publicKey, { legacyBundle: r.bundle }, { ...ok, type: 'spdxjson' })).resolves.toMatchObject({
      format: 'legacy-bundle',
    });
  });

  it('sigstore: bundle v0.3 with the key hint and a DSSE envelope without keyid, cosign 3.1 statement order', async () => {
    const r = await attestBlob(blob, signer, { predicate, name: 'blob.bin', format: 'sigstore', time });
    const b = JSON.parse(r.bundle) as { dsseEnvelope: { payload: string; signatures: unknown[] } };
    expect(Object.keys(b)).toEqual(['mediaType', 'verificationMaterial', 'dsseEnvelope']);
    expect(b).toMatchObject({
      mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: { publicKey: { hint: publicKeyHint(publicKeyToDer(publicKey)) } },
      dsseEnvelope: { payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: Buffer.from(r.signature).toString('base64') }] },
    });
    expect(Object.keys(b.dsseEnvelope)).toEqual(['payload', 'payloadType', 'signatures']);
    expect(Object.keys(b64json(b.dsseEnvelope.payload))).toEqual(['_type', 'subject', 'predicateType', 'predicate']);
    expect(r.envelope.startsWith('{"payload":')).toBe(true);
    await expect(verifyBlobAttestation(blob, publicKey, { bundle: r.bundle }, ok)).resolves.toMatchObject({ format: 'bundle' });
  });

  it('attests a given SHA-256 (--hash) and names the subject as told', async () => {
    const r = await attestBlob({ sha256: hex }, signer, { predicate, type: 'openvex', name: 'x.bin' });
    expect(JSON.parse(Buffer.from(r.statement).toString()).subject).toEqual([{ name: 'x.bin', digest: { sha256: hex } }]);
    await expect(attestBlob({ sha256: 'ABC' }, signer, { predicate, name: 'x' })).rejects.toMatchObject({ code: 'BAD_DIGEST' });
  });

  it('refuses an unknown short type and an Ed25519ph signer', async () => {
    await expect(attestBlob(blob, signer, { predicate, name: 'x', type: 'nonsense' })).rejects.toMatchObject({ code: 'USAGE' });
    const k = generateKeyPairSync('ed25519');
    const ed = signerFromPrivateKey(k.privateKey, 'ed.key');
    const ph = { publicKey: () => ed.publicKey(), sign: (m: Uint8Array) => ed.sign(m), keyRef: 'ed.key', ed25519ph: true };
    await expect(attestBlob(blob, ph, { predicate, name: 'x' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});

describe('verifyBlobAttestation', () => {
  const sources = async (s = signer): Promise<Array<[string, BlobAttestationSource]>> => {
    const legacy = await attestBlob(blob, s, { predicate, type: 'vuln', name: 'blob.bin' });
    const sig = await attestBlob(blob, s, { predicate, type: 'vuln', name: 'blob.bin', format: 'sigstore' });
    return [
      ['envelope', { envelope: legacy.envelope }],
      ['legacy bundle', { legacyBundle: legacy.bundle }],
      ['sigstore bundle', { bundle: sig.bundle }],
    ];
  };

  it('accepts each shape with the right key, type and blob; refuses a wrong key, a wrong type and another blob', async () => {
    for (const [name, src] of await sources()) {
      await expect(verifyBlobAttestation(blob, publicKey, src, { ...ok, type: 'vuln' }), name).resolves.toBeDefined();
      await expect(verifyBlobAttestation(blob, publicKey, src, { ...ok, type: 'https://cosign.sigstore.dev/attestation/vuln/v1' })).resolves.toBeDefined();
      await expect(verifyBlobAttestation(blob, other.publicKey, src, { ...ok, type: 'vuln' }), name).rejects.toMatchObject({
        code: 'SIGNATURE_INVALID',
        message: expect.stringContaining('accepted signatures do not match threshold, Found: 0, Expected 1'),
      });
      await expect(verifyBlobAttestation(blob, publicKey, src, ok), name).rejects.toMatchObject({
        code: 'TYPE_MISMATCH',
        message: 'invalid predicate type, expected custom got https://cosign.sigstore.dev/attestation/vuln/v1',
      });
      await expect(verifyBlobAttestation(Buffer.from('other'), publicKey, src, { ...ok, type: 'vuln' }), name).rejects.toMatchObject({
        code: 'DIGEST_MISMATCH',
      });
      // --check-claims=false: the subject is not checked, the type still is
      await expect(verifyBlobAttestation(Buffer.from('other'), publicKey, src, { ...ok, type: 'vuln', checkClaims: false })).resolves.toBeDefined();
      // cosign 3's --digest/--digestAlg
      await expect(verifyBlobAttestation({ digest: hex, algorithm: 'sha256' }, publicKey, src, { ...ok, type: 'vuln' })).resolves.toBeDefined();
      await expect(verifyBlobAttestation({ digest: '00'.repeat(32), algorithm: 'sha256' }, publicKey, src, { ...ok, type: 'vuln' })).rejects.toMatchObject({
        code: 'DIGEST_MISMATCH',
      });
    }
  });

  it('words failures as cosign does for each shape', async () => {
    const [[, envelope], , [, bundle]] = (await sources()) as [[string, BlobAttestationSource], unknown, [string, BlobAttestationSource]];
    await expect(verifyBlobAttestation(Buffer.from('x'), publicKey, envelope, { ...ok, type: 'vuln' })).rejects.toThrow(/^no matching subject digest found$/);
    await expect(verifyBlobAttestation(Buffer.from('x'), publicKey, bundle, { ...ok, type: 'vuln' })).rejects.toThrow(
      /^failed to verify signature: provided artifact digests do not match digests in statement$/,
    );
    await expect(verifyBlobAttestation({ digest: '00'.repeat(32), algorithm: 'sha256' }, publicKey, bundle, { ...ok, type: 'vuln' })).rejects.toThrow(
      /^failed to verify signature: provided artifact digest does not match any digest in statement$/,
    );
    await expect(verifyBlobAttestation(blob, other.publicKey, bundle, { ...ok, type: 'vuln' })).rejects.toThrow(
      /^failed to verify signature: could not verify envelope: accepted/,
    );
  });

  it('never trusts the key embedded in a legacy bundle (cosign does): a bundle signed by another key fails', async () => {
    const r = await attestBlob(blob, otherSigner, { predicate, name: 'blob.bin' });
    // the bundle carries the other key as `cert`; only the caller's key counts
    expect(Buffer.from((JSON.parse(r.bundle) as { cert: string }).cert, 'base64').toString()).toBe(publicKeyToPem(other.publicKey));
    await expect(verifyBlobAttestation(blob, publicKey, { legacyBundle: r.bundle }, ok)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    // and replacing `cert` with the caller's key does not help either
    const forged = JSON.stringify({ ...JSON.parse(r.bundle), cert: Buffer.from(publicKeyToPem(publicKey)).toString('base64') });
    await expect(verifyBlobAttestation(blob, publicKey, { legacyBundle: forged }, ok)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('rejects a tampered statement (payload changed, signature kept)', async () => {
    const r = await attestBlob(blob, signer, { predicate, name: 'blob.bin', type: 'openvex' });
    const env = JSON.parse(r.envelope) as { payload: string };
    const statement = Buffer.from(env.payload, 'base64').toString().replace('"z":1', '"z":2');
    const tampered = JSON.stringify({ ...env, payload: Buffer.from(statement).toString('base64') });
    await expect(verifyBlobAttestation(blob, publicKey, { envelope: tampered }, { ...ok, type: 'openvex' })).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
    const b = await attestBlob(blob, signer, { predicate, name: 'blob.bin', type: 'openvex', format: 'sigstore' });
    const bundle = JSON.parse(b.bundle) as { dsseEnvelope: { payload: string } };
    bundle.dsseEnvelope.payload = Buffer.from(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString().replace('"z":1', '"z":2')).toString('base64');
    await expect(verifyBlobAttestation(blob, publicKey, { bundle: JSON.stringify(bundle) }, { ...ok, type: 'openvex' })).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
  });

  it('requires insecureIgnoreTlog, and refuses certificates, Rekor entries, message signatures and malformed input', async () => {
    const r = await attestBlob(blob, signer, { predicate, name: 'blob.bin' });
    const s = await attestBlob(blob, signer, { predicate, name: 'blob.bin', format: 'sigstore' });
    await expect(verifyBlobAttestation(blob, publicKey, { envelope: r.envelope })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(verifyBlobAttestation(blob, publicKey, { legacyBundle: r.bundle })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(verifyBlobAttestation(blob, publicKey, { bundle: s.bundle })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    const withRekor = JSON.stringify({ ...JSON.parse(r.bundle), rekorBundle: { SignedEntryTimestamp: 'x' } });
    await expect(verifyBlobAttestation(blob, publicKey, { legacyBundle: withRekor })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    const certBundle = JSON.parse(s.bundle) as Record<string, unknown>;
    certBundle.verificationMaterial = { certificate: { rawBytes: Buffer.from('not a cert').toString('base64') } };
    await expect(verifyBlobAttestation(blob, publicKey, { bundle: JSON.stringify(certBundle) }, ok)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    const msg = {
      mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: { publicKey: { hint: '' } },
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(blob).digest('base64') }, signature: 'AAAA' },
    };
    await expect(verifyBlobAttestation(blob, publicKey, { bundle: JSON.stringify(msg) }, ok)).rejects.toMatchObject({
      code: 'BAD_BUNDLE',
      message: expect.stringContaining('verify-blob'),
    });
    await expect(verifyBlobAttestation(blob, publicKey, { envelope: '{"payloadType":1}' }, ok)).rejects.toMatchObject({ code: 'BAD_BUNDLE' });
    await expect(verifyBlobAttestation(blob, publicKey, { legacyBundle: '{"base64Signature":"!!"}' }, ok)).rejects.toMatchObject({ code: 'BAD_BUNDLE' });
    await expect(verifyBlobAttestation(blob, publicKey, { bundle: '{"mediaType":"x"}' }, ok)).rejects.toMatchObject({ code: 'BAD_BUNDLE' });
    await expect(verifyBlobAttestation(blob, publicKey, { envelope: Buffer.alloc(5 * 1024 * 1024, 32) }, ok)).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    await expect(verifyBlobAttestation({ digest: hex, algorithm: 'md5' }, publicKey, { envelope: r.envelope }, ok)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
    });
  });

  it('hands the verified statement to checkStatement, which can reject it', async () => {
    const r = await attestBlob(blob, signer, { predicate, name: 'blob.bin', type: 'openvex' });
    const seen: unknown[] = [];
    const res = await verifyBlobAttestation(
      blob,
      publicKey,
      { envelope: r.envelope },
      {
        ...ok,
        type: 'openvex',
        checkStatement: (s) => {
          seen.push(s.predicate);
          return true;
        },
      },
    );
    expect(seen).toEqual([{ a: [1, 2], buildType: 'x', builder: { id: 'me' }, z: 1 }]);
    expect(Buffer.from(res.payload)).toEqual(Buffer.from(r.statement));
    await expect(
      verifyBlobAttestation(blob, publicKey, { envelope: r.envelope }, { ...ok, type: 'openvex', checkStatement: () => false }),
    ).rejects.toMatchObject({
      code: 'POLICY_INVALID',
    });
    await expect(
      verifyBlobAttestation(
        blob,
        publicKey,
        { envelope: r.envelope },
        {
          ...ok,
          type: 'openvex',
          checkStatement: () => {
            throw new Error('no');
          },
        },
      ),
    ).rejects.toMatchObject({ code: 'POLICY_INVALID' });
  });
});
