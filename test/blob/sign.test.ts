import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signBlob } from '../../src/blob/sign.js';
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE as BUNDLE_V03_MEDIA_TYPE } from '../../src/artifact/media-types.js';
import { publicKeyHint } from '../../src/sign/bundle.js';
import { publicKeyToDer } from '../../src/keys/public.js';
import { signerFromPrivateKey } from '../../src/keys/file-signer.js';
import { verifySignature } from '../../src/keys/verify.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = signerFromPrivateKey(privateKey, 'test.key');
const blob = Buffer.from('hello\n');

describe('signBlob', () => {
  it('signs the blob bytes and returns the three cosign shapes', async () => {
    const r = await signBlob(blob, signer);
    expect(verifySignature(publicKey, blob, Buffer.from(r.signature, 'base64'))).toBe(true);
    expect(r.legacyBundle).toBe(`{"base64Signature":"${r.signature}"}`);
    const b = JSON.parse(r.bundle) as Record<string, unknown>;
    expect(Object.keys(b)).toEqual(['mediaType', 'verificationMaterial', 'messageSignature']);
    expect(b).toEqual({
      mediaType: BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: { publicKey: { hint: publicKeyHint(publicKeyToDer(publicKey)) } },
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(blob).digest('base64') }, signature: r.signature },
    });
  });

  it('hints with the SHA-256 of the DER public key, as cosign', () => {
    const der = publicKeyToDer(publicKey);
    expect(publicKeyHint(der)).toBe(createHash('sha256').update(der).digest('base64'));
  });

  it('uses the key’s hash for the message digest (P-384 → SHA2_384)', async () => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const r = await signBlob(blob, signerFromPrivateKey(k.privateKey, 'p384.key'));
    expect((JSON.parse(r.bundle) as { messageSignature: { messageDigest: { algorithm: string } } }).messageSignature.messageDigest.algorithm).toBe('SHA2_384');
  });

  it('refuses an Ed25519ph signer (cosign signs blobs with pure Ed25519)', async () => {
    const k = generateKeyPairSync('ed25519');
    await expect(signBlob(blob, signerFromPrivateKey(k.privateKey, 'ed.key', { ed25519ph: true }))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});
