/**
 * Runs the keyless and Sigstore bundle vectors of fixtures/vectors.json (containers/image and
 * sigstore-rs keyless `.sig` signatures, cosign 3 and sigstore-go bundles, the sigstore-conformance
 * cases) through `src/verify/keyless.ts` and `src/verify/trust.ts`, and reproduces the expected outcome.
 */
import { describe, expect, it } from 'vitest';
import { parseSigstoreJsonSignature, signatureLayerFromSigstoreJson, buildSignatureLayer, parseRekorBundle } from '../../src/artifact/index.js';
import { decodeBase64Strict } from '../../src/encoding.js';
import { isCosignError } from '../../src/errors.js';
import { parsePublicKey } from '../../src/keys/index.js';
import { identityAuthority, type IdentityAuthority } from '../../src/verify/authority.js';
import { verifyKeylessLayer, verifySigstoreBundleBytes } from '../../src/verify/keyless.js';
import { trustFromPems, trustFromTrustedRootJson, type SigstoreTrust } from '../../src/verify/trust.js';
import { fixture, fixtureText, vectors, type Vector } from '../helpers/fixtures.js';
import { COVERED_KEYLESS_VECTOR_IDS } from './covered-keyless.js';

const byId = new Map(vectors().map((v) => [v.id, v]));
function vector(id: string): Vector {
  const v = byId.get(id);
  if (v === undefined) throw new Error(`no vector ${id}`);
  return v;
}
function t(v: Vector, k: string): string {
  const x = v.trust[k];
  if (typeof x !== 'string') throw new Error(`${v.id}: no trust.${k}`);
  return x;
}
const roots = new Map<string, SigstoreTrust>();
function rootTrust(rel: string): SigstoreTrust {
  let r = roots.get(rel);
  if (r === undefined) {
    r = trustFromTrustedRootJson(fixture(rel), rel);
    roots.set(rel, r);
  }
  return r;
}

function outcome(f: () => unknown): string {
  try {
    f();
    return 'valid';
  } catch (e) {
    if (isCosignError(e)) return e.code;
    throw e;
  }
}

describe('keyless legacy .sig vectors', () => {
  it('ci-fulcio-rekor-valid: chain, SET, body, signature, identity', () => {
    const v = vector('ci-fulcio-rekor-valid');
    const trust = trustFromPems({ fulcioCertificates: fixtureText(t(v, 'fulcio_root')), rekorPublicKeys: fixtureText(t(v, 'rekor')) });
    const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture('containers-image/dir-img-cosign-fulcio-rekor-valid/signature-1')));
    const id = identityAuthority({ subject: t(v, 'email'), issuer: t(v, 'oidc_issuer') });
    // The 2021/2022 Fulcio intermediate comes from the chain annotation: trust it as cosign does with SIGSTORE_ROOT_FILE.
    const withChain = trustFromPems({
      fulcioCertificates: `${layer.chain ?? ''}${fixtureText(t(v, 'fulcio_root'))}`,
      rekorPublicKeys: fixtureText(t(v, 'rekor')),
    });
    const r = verifyKeylessLayer(layer, [id], { trust: layer.chain === undefined ? trust : withChain, ignoreSct: true });
    expect(r.tlogVerified).toBe(true);
    expect(r.certificate.subject).toBe('mitr@redhat.com');
    expect(r.certificate.issuer).toBe('https://github.com/login/oauth');
    // Regexp forms, and an exact value that would match only as a regular expression.
    expect(
      outcome(() =>
        verifyKeylessLayer(layer, [identityAuthority({ subjectRegExp: '@redhat\\.com$', issuerRegExp: 'github' })], { trust: withChain, ignoreSct: true }),
      ),
    ).toBe('valid');
    expect(
      outcome(() =>
        verifyKeylessLayer(layer, [identityAuthority({ subject: 'mitr@redhat.co.', issuer: t(v, 'oidc_issuer') })], { trust: withChain, ignoreSct: true }),
      ),
    ).toBe('IDENTITY_MISMATCH');
    expect(
      outcome(() =>
        verifyKeylessLayer(layer, [identityAuthority({ subject: t(v, 'email'), issuer: 'https://accounts.google.com' })], {
          trust: withChain,
          ignoreSct: true,
        }),
      ),
    ).toBe('IDENTITY_MISMATCH');
    // Without the intermediate the chain does not build; an SCT is required by default.
    expect(outcome(() => verifyKeylessLayer(layer, [id], { trust, ignoreSct: true }))).toBe(layer.chain === undefined ? 'valid' : 'CERTIFICATE_INVALID');
    // Tampered payload: the Rekor body's hash no longer matches.
    const tampered = buildSignatureLayer({
      payload: Buffer.concat([layer.payload, Buffer.from(' ')]),
      signature: layer.signature,
      certificate: layer.certificate ?? '',
      ...(layer.chain === undefined ? {} : { chain: layer.chain }),
      ...(layer.bundleRaw === undefined ? {} : { bundle: layer.bundleRaw }),
    });
    expect(outcome(() => verifyKeylessLayer(tampered, [id], { trust: withChain, ignoreSct: true }))).toBe('TLOG_INVALID');
  });

  it('ci-fulcio-rekor-wrong-email: identity mismatch', () => {
    const v = vector('ci-fulcio-rekor-wrong-email');
    const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture('containers-image/dir-img-cosign-fulcio-rekor-valid/signature-1')));
    const trust = trustFromPems({ fulcioCertificates: `${layer.chain ?? ''}${fixtureText(t(v, 'fulcio_root'))}`, rekorPublicKeys: fixtureText(t(v, 'rekor')) });
    const id = identityAuthority({ subject: t(v, 'email'), issuer: t(v, 'oidc_issuer') });
    expect(outcome(() => verifyKeylessLayer(layer, [id], { trust, ignoreSct: true }))).toBe('IDENTITY_MISMATCH');
  });

  it('ci-pki-valid: RSA leaf chained to a private CA (no tlog, checked now)', () => {
    const v = vector('ci-pki-valid');
    const trust = trustFromPems({ fulcioCertificates: `${fixtureText(t(v, 'ca_intermediates'))}${fixtureText(t(v, 'ca_roots'))}` });
    const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture('containers-image/dir-img-cosign-pki-valid/signature-1')));
    const id = identityAuthority({ subject: t(v, 'email'), issuerRegExp: '.*' });
    expect(outcome(() => verifyKeylessLayer(layer, [id], { trust, ignoreSct: true, ignoreTlog: true }))).toBe('valid');
    expect(outcome(() => verifyKeylessLayer(layer, [id], { trust, ignoreSct: true }))).toBe('TLOG_INVALID');
    expect(outcome(() => verifyKeylessLayer(layer, [id], { trust, ignoreTlog: true }))).toBe('CERTIFICATE_INVALID');
  });

  it('rs-fulcio-2021-rekord: a rekord entry and a certificate issued by the 2021 root', () => {
    const v = vector('rs-fulcio-2021-rekord');
    const rootsPem = (v.trust.fulcio_roots as string[]).map((r) => fixtureText(r)).join('');
    const trust = trustFromPems({ fulcioCertificates: rootsPem, rekorPublicKeys: fixtureText(t(v, 'rekor')) });
    const dir = 'sigstore-rs/legacy-sig-fulcio-2021';
    const layer = buildSignatureLayer({
      payload: fixture(`${dir}/payload.json`),
      signature: decodeBase64Strict(fixtureText(`${dir}/signature.b64`).trim(), 'sig'),
      certificate: fixtureText(`${dir}/cert.pem`),
      bundle: parseRekorBundle(fixtureText(`${dir}/rekor-bundle.json`)),
    });
    const r = verifyKeylessLayer(layer, [identityAuthority({ subjectRegExp: '.*', issuerRegExp: '.*' })], { trust, ignoreSct: true });
    expect(r.tlogVerified).toBe(true);
  });
});

const CONF_ARTIFACT = 'sigstore-conformance/a.txt';

describe('Sigstore bundle vectors (sigstore-conformance, sigstore-go, cosign 3)', () => {
  const bundleIds = COVERED_KEYLESS_VECTOR_IDS.filter((id) => id.startsWith('conf-') || id.startsWith('sg-'));
  for (const id of bundleIds) {
    it(id, () => {
      const v = vector(id);
      const bundleFile = v.files.find((f) => f.endsWith('.sigstore.json') || f.endsWith('bundle-publish.json'));
      if (bundleFile === undefined) throw new Error(`${id}: no bundle file`);
      const artifactFile = v.files.find((f) => f.endsWith('/artifact') || f === CONF_ARTIFACT);
      const trust = rootTrust(t(v, 'trusted_root'));
      const identities: IdentityAuthority[] = [];
      if (typeof v.trust.identity === 'string') identities.push(identityAuthority({ subject: v.trust.identity, issuer: t(v, 'issuer') }));
      else identities.push(identityAuthority({ subjectRegExp: '.*', issuerRegExp: '.*' }));
      const keyFile = v.trust.key;
      const got = outcome(() =>
        verifySigstoreBundleBytes(fixture(bundleFile), identities, {
          trust,
          keys: typeof keyFile === 'string' ? [parsePublicKey(fixtureText(keyFile), keyFile)] : [],
          // sigstore-go's harness verifies this one without a transparency log (the bundle has no entry).
          ignoreTlog: id === 'sg-public-key-validity',
          ...(artifactFile === undefined ? {} : { artifact: fixture(artifactFile) }),
        }),
      );
      const valid = v.expected === 'valid' || v.expected.startsWith('signature valid');
      if (valid) expect(got).toBe('valid');
      else expect(got).not.toBe('valid');
    });
  }

  for (const [id, expectSubject] of [
    ['rs-bundle-v03-image-signature', true],
    ['cosign-oci-attestation-bundle-v03', false],
  ] as const) {
    it(`${id}: keyless cosign 3 bundle, identity checked exactly and as a regexp`, () => {
      const v = vector(id);
      const trust = rootTrust(t(v, 'trusted_root'));
      const file = v.files[0] as string;
      const exact = expectSubject
        ? identityAuthority({ subject: t(v, 'san'), issuer: t(v, 'issuer') })
        : identityAuthority({ subjectRegExp: '.*', issuerRegExp: '.*' });
      const r = verifySigstoreBundleBytes(fixture(file), [exact], { trust });
      expect(r.certificate?.issuer).toBeDefined();
      expect(outcome(() => verifySigstoreBundleBytes(fixture(file), [identityAuthority({ subjectRegExp: 'wrong', issuerRegExp: '.*' })], { trust }))).toBe(
        'IDENTITY_MISMATCH',
      );
      if (expectSubject) {
        // A '.' in the exact identity is not a wildcard.
        const dotted = t(v, 'san').replace('release.yml', 'release.ym.');
        expect(outcome(() => verifySigstoreBundleBytes(fixture(file), [identityAuthority({ subject: dotted, issuer: t(v, 'issuer') })], { trust }))).toBe(
          'IDENTITY_MISMATCH',
        );
      }
    });
  }
});
