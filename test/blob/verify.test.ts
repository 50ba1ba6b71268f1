import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signBlob } from '../../src/blob/sign.js';
import { MAX_BLOB_BUNDLE_BYTES, verifyBlob } from '../../src/blob/verify.js';
import { signerFromPrivateKey } from '../../src/keys/file-signer.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const signer = signerFromPrivateKey(privateKey, 'test.key');
const blob = Buffer.from('hello\n');
const ok = { insecureIgnoreTlog: true };

// A bundle written by cosign 3.1.1 `sign-blob --key` (its test key), for shape only.
const cosign3Bundle = (signature: string, digest: string, hint: string): string =>
  `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"${hint}"}},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"${digest}"},"signature":"${signature}"}}`;

describe('verifyBlob', async () => {
  const signed = await signBlob(blob, signer);

  it('verifies each shape signBlob writes', async () => {
    await expect(verifyBlob(blob, publicKey, { signature: signed.signature }, ok)).resolves.toEqual({ format: 'signature', signature: signed.signature });
    await expect(verifyBlob(blob, publicKey, { signature: Buffer.from(`${signed.signature}\n`) }, ok)).resolves.toMatchObject({ format: 'signature' });
    await expect(verifyBlob(blob, publicKey, { legacyBundle: signed.legacyBundle }, ok)).resolves.toMatchObject({ format: 'legacy-bundle' });
    await expect(verifyBlob(blob, publicKey, { bundle: signed.bundle }, ok)).resolves.toMatchObject({ format: 'bundle' });
  });

  it('fails closed without insecureIgnoreTlog (no Rekor verification)', async () => {
    for (const source of [{ signature: signed.signature }, { legacyBundle: signed.legacyBundle }, { bundle: signed.bundle }]) {
      await expect(verifyBlob(blob, publicKey, source)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    }
  });

  it('rejects a tampered blob and a wrong key', async () => {
    const tampered = Buffer.from('hellO\n');
    await expect(verifyBlob(tampered, publicKey, { signature: signed.signature }, ok)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    await expect(verifyBlob(tampered, publicKey, { legacyBundle: signed.legacyBundle }, ok)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    await expect(verifyBlob(tampered, publicKey, { bundle: signed.bundle }, ok)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(verifyBlob(blob, other, { signature: signed.signature }, ok)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    await expect(verifyBlob(blob, other, { bundle: signed.bundle }, ok)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('accepts an empty hint, and checks the signature even when the digest matches', async () => {
    const b = JSON.parse(signed.bundle) as { messageSignature: { messageDigest: { digest: string }; signature: string } };
    await expect(
      verifyBlob(blob, publicKey, { bundle: cosign3Bundle(b.messageSignature.signature, b.messageSignature.messageDigest.digest, '') }, ok),
    ).resolves.toBeDefined();
    const forged = cosign3Bundle(Buffer.alloc(70).toString('base64'), b.messageSignature.messageDigest.digest, '');
    await expect(verifyBlob(blob, publicKey, { bundle: forged }, ok)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('ignores the public key cosign 3.1 embeds in a legacy bundle (cert): only the given key is trusted', async () => {
    const { publicKeyToPem } = await import('../../src/keys/public.js');
    const withKey = (pub: typeof publicKey) => JSON.stringify({ base64Signature: signed.signature, cert: Buffer.from(publicKeyToPem(pub)).toString('base64') });
    await expect(verifyBlob(blob, publicKey, { legacyBundle: withKey(publicKey) }, ok)).resolves.toMatchObject({ format: 'legacy-bundle' });
    // a bundle naming another key still verifies only with the given key ...
    await expect(verifyBlob(blob, publicKey, { legacyBundle: withKey(other) }, ok)).resolves.toBeDefined();
    // ... and the embedded key never makes a signature by it acceptable
    await expect(verifyBlob(blob, other, { legacyBundle: withKey(publicKey) }, ok)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('parses untrusted input strictly', async () => {
    const cases: Array<[Parameters<typeof verifyBlob>[2], string]> = [
      [{ legacyBundle: '{"base64Signature":"AAAA","extra":1}' }, 'BAD_BUNDLE'],
      [{ legacyBundle: '{"base64Signature":"AAAA","base64Signature":"AAAA"}' }, 'BAD_BUNDLE'],
      [{ legacyBundle: '[]' }, 'BAD_BUNDLE'],
      [{ legacyBundle: '{"base64Signature":"AAAA","cert":"LS0t"}' }, 'UNSUPPORTED'],
      [{ bundle: '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}' }, 'BAD_BUNDLE'],
      [{ bundle: 'not json' }, 'BAD_BUNDLE'],
      [{ signature: 'not base64!' }, 'BAD_INPUT'],
      [{ signature: 'A'.repeat(MAX_BLOB_BUNDLE_BYTES + 1) }, 'TOO_LARGE'],
    ];
    for (const [source, code] of cases)
      await expect(verifyBlob(blob, publicKey, source, ok), JSON.stringify(source).slice(0, 80)).rejects.toMatchObject({ code });
  });

  it('refuses certificate bundles, DSSE bundles and Rekor entries without insecureIgnoreTlog', async () => {
    const b = JSON.parse(signed.bundle) as Record<string, unknown>;
    const dsse = {
      mediaType: b.mediaType,
      verificationMaterial: b.verificationMaterial,
      dsseEnvelope: { payload: 'e30=', payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: 'AAAA', keyid: '' }] },
    };
    await expect(verifyBlob(blob, publicKey, { bundle: JSON.stringify(dsse) }, ok)).rejects.toMatchObject({ code: 'BAD_BUNDLE' });
    const cert = { ...b, verificationMaterial: { certificate: { rawBytes: 'AAAA' }, tlogEntries: [] } };
    await expect(verifyBlob(blob, publicKey, { bundle: JSON.stringify(cert) }, ok)).rejects.toMatchObject({
      code: expect.stringMatching(/UNSUPPORTED|BAD_BUNDLE/),
    });
    await expect(verifyBlob(blob, publicKey, { legacyBundle: `{"base64Signature":"${signed.signature}","rekorBundle":{}}` })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
    });
  });
});

describe('verifyBlobKeyless', async () => {
  const { verifyBlobKeyless } = await import('../../src/blob/verify.js');
  const { identityAuthority } = await import('../../src/verify/authority.js');
  const { trustFromTrustedRootJson } = await import('../../src/verify/trust.js');
  const { fixture } = await import('../helpers/fixtures.js');
  const signed = await signBlob(blob, signer);
  const trust = trustFromTrustedRootJson(fixture('sigstore-go/trust/trusted-root-public-good.json'));
  const confId = identityAuthority({
    subject:
      'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
    issuer: 'https://token.actions.githubusercontent.com',
  });
  const confBundle = fixture('sigstore-conformance/happy-path-v0.3/bundle.sigstore.json');
  const confArtifact = fixture('sigstore-conformance/a.txt');

  it('verifies a keyless Sigstore bundle over the blob (inclusion proof, chain, SCT, identity)', async () => {
    const r = await verifyBlobKeyless(confArtifact, { bundle: confBundle }, [confId], { trust });
    expect(r).toMatchObject({ format: 'bundle', tlogVerified: true });
    expect(r.certificate.issuer).toBe('https://token.actions.githubusercontent.com');
    await expect(verifyBlobKeyless(Buffer.from('other'), { bundle: confBundle }, [confId], { trust })).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    const wrong = identityAuthority({ subject: 'someone', issuer: 'https://token.actions.githubusercontent.com' });
    await expect(verifyBlobKeyless(confArtifact, { bundle: confBundle }, [wrong], { trust })).rejects.toMatchObject({ code: 'IDENTITY_MISMATCH' });
  });

  it('refuses key-signed documents (they are for verifyBlob) and oversized input', async () => {
    const any = identityAuthority({ subjectRegExp: '.*', issuerRegExp: '.*' });
    // cosign 3.1 puts the signer's public key in `cert` of key-based legacy bundles.
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const withKey = JSON.stringify({ ...JSON.parse(signed.legacyBundle), cert: Buffer.from(pem).toString('base64') });
    await expect(verifyBlobKeyless(blob, { legacyBundle: withKey }, [any], { trust, ignoreTlog: true })).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    await expect(verifyBlobKeyless(blob, { legacyBundle: signed.legacyBundle }, [any], { trust, ignoreTlog: true })).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
    await expect(verifyBlobKeyless(blob, { bundle: signed.bundle }, [any], { trust, ignoreTlog: true })).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    await expect(verifyBlobKeyless(blob, { legacyBundle: Buffer.alloc(MAX_BLOB_BUNDLE_BYTES + 1) }, [any], { trust })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    await expect(verifyBlobKeyless(blob, { legacyBundle: '{"base64Signature":""}' }, [any], { trust })).rejects.toMatchObject({ code: 'BAD_BUNDLE' });
  });
});
