/**
 * The product path for legacy signatures: every containers/image `dir:` vector, run through the
 * library's own `verifyLayer` (media type → signature → payload → claims → tlog), reproduces the
 * expected outcome. (test/vectors/ checks the same vectors primitive by primitive.)
 */
import { describe, expect, it } from 'vitest';
import { parseSigstoreJsonSignature, rekorKey, signatureLayerFromSigstoreJson, type SignatureLayer } from '../../src/artifact/index.js';
import { digestOf, type Digest } from '../../src/digest.js';
import { isCosignError } from '../../src/errors.js';
import { generateKeyPair, parsePrivateKey, parsePublicKey, signerFromPrivateKey } from '../../src/keys/index.js';
import { buildPayload } from '../../src/payload/index.js';
import { buildSignatureLayer } from '../../src/artifact/index.js';
import { keyAuthority, verifyLayer, type Authority } from '../../src/verify/index.js';
import { fixture, vectors } from '../helpers/fixtures.js';

function layerOf(rel: string): SignatureLayer | Error {
  try {
    return signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture(rel)));
  } catch (e) {
    return e as Error;
  }
}

function authority(rel: string): Authority {
  return keyAuthority(parsePublicKey(fixture(rel)), rel);
}

const dirVectors = vectors().filter((v) => v.kind.startsWith('legacy-sig/containers-image-dir') && !v.kind.includes('fulcio') && !v.kind.includes('pki'));

describe('verifyLayer over containers/image dir vectors', () => {
  it('covers the key-based dir vectors', () => {
    expect(dirVectors.map((v) => v.id).sort()).toEqual(
      [
        'ci-key-mixed',
        'ci-key-rekor-valid',
        'ci-key-rekor-wrong-rekor-key',
        'ci-key-valid',
        'ci-key-valid-2',
        'ci-key-valid-wrong-key',
        'ci-key-valid-with-tag',
        'ci-manifest-digest-error',
        'ci-modified-manifest',
        'ci-no-manifest',
        'ci-other-attachment',
        'ci-unknown-key',
      ].sort(),
    );
  });

  for (const v of dirVectors) {
    it(`${v.id}: ${v.expected}`, () => {
      const manifestFile = v.files.find((f) => f.endsWith('manifest.json'));
      const sigFiles = v.files.filter((f) => !f.endsWith('manifest.json'));
      const digest: Digest | undefined = manifestFile === undefined ? undefined : digestOf(fixture(manifestFile));
      const auth = authority(v.trust.key as string);
      const rekor = typeof v.trust.rekor === 'string' ? [rekorKey(fixture(v.trust.rekor))] : undefined;
      const outcomes = sigFiles.map((f) => {
        const layer = layerOf(f);
        if (layer instanceof Error) {
          expect(isCosignError(layer)).toBe(true);
          return false;
        }
        if (digest === undefined) return false; // nothing to compare the claim with: never accepted
        const r = verifyLayer(layer, [auth], { digest, ...(rekor === undefined ? {} : { tlog: { rekorKeys: rekor, required: true } }) });
        return r.ok;
      });
      const expected = v.expected.startsWith('valid (image)')
        ? [false, true] // ci-key-mixed: signature-1 by an unknown key, signature-2 valid
        : sigFiles.map(() => v.expected === 'valid');
      expect(outcomes).toEqual(expected);
    });
  }
});

describe('verifyLayer rules', () => {
  const pair = generateKeyPair('');
  const priv = parsePrivateKey(pair.privateKeyPem, '');
  const signer = signerFromPrivateKey(priv, 'test.key');
  const auth = keyAuthority(parsePublicKey(pair.publicKeyPem), 'test.pub');
  const digest = digestOf('image manifest');
  const payload = buildPayload({ dockerReference: 'localhost:5000/app', digest, annotations: { env: 'prod' } });
  const signature = signer.signSync(payload);
  const good = buildSignatureLayer({ payload, signature });

  it('accepts a good layer and reports the authority', () => {
    const r = verifyLayer(good, [auth], { digest });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.signature.authority).toBe('test.pub');
      expect(r.signature.payload.dockerReference).toBe('localhost:5000/app');
    }
  });

  it('any one of several keys suffices', () => {
    const other = keyAuthority(parsePublicKey(generateKeyPair('').publicKeyPem), 'other.pub');
    expect(verifyLayer(good, [other, auth], { digest }).ok).toBe(true);
    const r = verifyLayer(good, [other], { digest });
    expect(r.ok ? 'ok' : r.code).toBe('SIGNATURE_INVALID');
  });

  it.each([
    ['DIGEST_MISMATCH', { digest: digestOf('another image') }],
    ['ANNOTATION_MISMATCH', { digest, annotations: { env: 'dev' } }],
    ['ANNOTATION_MISMATCH', { digest, annotations: { team: 'x' } }],
    ['REFERENCE_MISMATCH', { digest, reference: { ref: 'localhost:5000/other', match: 'repository' as const } }],
    ['SIGNATURE_INVALID', { digest, tlog: { required: true } }],
  ])('fails closed with %s', (code, expectations) => {
    const r = verifyLayer(good, [auth], expectations);
    expect(r.ok ? 'ok' : r.code).toBe(code);
  });

  it('a tampered payload fails, a wrong media type fails', () => {
    const tampered = { ...good, payload: Buffer.from(Buffer.from(good.payload).toString().replace('prod', 'dev0')) };
    expect(verifyLayer(tampered, [auth], { digest }).ok).toBe(false);
    const wrongType = { ...good, descriptor: { ...good.descriptor, mediaType: 'text/plain' } };
    const r = verifyLayer(wrongType, [auth], { digest });
    expect(r.ok ? 'ok' : r.code).toBe('TYPE_MISMATCH');
  });

  it('keyless authorities fail closed until supported', () => {
    const r = verifyLayer(good, [{ kind: 'identity', issuer: 'https://issuer', subject: 'me' }], { digest });
    expect(r.ok ? 'ok' : r.code).toBe('UNSUPPORTED');
  });
});
