/**
 * Identity checks of keyless verification (exact values never read as regular expressions, the
 * regexp forms unanchored, GitHub workflow fields), the certificate summary and the output fields,
 * on real Fulcio certificates from the fixtures.
 */
import { describe, expect, it } from 'vitest';
import { parseSigstoreJsonSignature, signatureLayerFromSigstoreJson } from '../../src/artifact/index.js';
import { isCosignError } from '../../src/errors.js';
import { sigstoreCore } from '../../src/internal/deps.js';
import { identityAuthority } from '../../src/verify/authority.js';
import {
  certificateOutputFields,
  certificateSummary,
  checkIdentity,
  identityMismatch,
  verifyCertificate,
  verifyKeylessLayer,
  verifyKeylessSignature,
  verifySigstoreBundleBytes,
} from '../../src/verify/keyless.js';
import { trustFromPems, trustFromTrustedRootJson } from '../../src/verify/trust.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';

const GH_BUNDLE = 'sigstore-rs/bundle-v03-image-signature/bundle_v03.json';
const GH_SAN = 'https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0';
const GH_ISSUER = 'https://token.actions.githubusercontent.com';

function ghCert() {
  const b = JSON.parse(fixtureText(GH_BUNDLE)) as { verificationMaterial: { certificate: { rawBytes: string } } };
  return sigstoreCore().X509Certificate.parse(Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64'));
}

describe('certificateSummary', () => {
  it('reads the SAN, the issuer and the GitHub workflow extensions of a GitHub Actions certificate', () => {
    const s = certificateSummary(ghCert());
    expect(s.subject).toBe(GH_SAN);
    expect(s.sans).toContain(GH_SAN);
    expect(s.issuer).toBe(GH_ISSUER);
    expect(s.githubWorkflow.repository).toBe('kubewarden/kubewarden-controller');
    expect(s.githubWorkflow.ref).toBe('refs/tags/v1.34.0');
    expect(s.githubWorkflow.trigger).toBe('push');
    const out = certificateOutputFields(s);
    // As cosign's PrintVerification: the friendly names and the OIDs.
    expect(Object.keys(out).sort()).toEqual(
      [
        '1.3.6.1.4.1.57264.1.1',
        '1.3.6.1.4.1.57264.1.2',
        '1.3.6.1.4.1.57264.1.3',
        '1.3.6.1.4.1.57264.1.4',
        '1.3.6.1.4.1.57264.1.5',
        '1.3.6.1.4.1.57264.1.6',
        'Issuer',
        'Subject',
        'githubWorkflowName',
        'githubWorkflowRef',
        'githubWorkflowRepository',
        'githubWorkflowSha',
        'githubWorkflowTrigger',
      ].sort(),
    );
    expect(out['1.3.6.1.4.1.57264.1.5']).toBe('kubewarden/kubewarden-controller');
    expect(out.Subject).toBe(GH_SAN);
  });
});

describe('identity policy (cosign CheckCertificatePolicy)', () => {
  const s = () => certificateSummary(ghCert());
  it('exact identity and issuer match by equality only', () => {
    expect(identityMismatch(s(), identityAuthority({ subject: GH_SAN, issuer: GH_ISSUER }))).toBeUndefined();
    // Regular-expression metacharacters in an exact value are literal: '.' is not a wildcard, no partial match.
    expect(identityMismatch(s(), identityAuthority({ subject: GH_SAN.replace('release.yml', 'release.ym.'), issuer: GH_ISSUER }))).toContain(
      'none of the expected identities',
    );
    expect(identityMismatch(s(), identityAuthority({ subject: GH_SAN.slice(0, -3), issuer: GH_ISSUER }))).toBeDefined();
    expect(identityMismatch(s(), identityAuthority({ subject: '.*', issuer: GH_ISSUER }))).toBeDefined();
    expect(identityMismatch(s(), identityAuthority({ subject: GH_SAN, issuer: 'https://token.actions.githubusercontent.co.' }))).toContain('oidc issuer');
  });
  it('regexp forms are unanchored searches', () => {
    expect(identityMismatch(s(), identityAuthority({ subjectRegExp: 'kubewarden-controller/', issuerRegExp: 'githubusercontent' }))).toBeUndefined();
    expect(identityMismatch(s(), identityAuthority({ subjectRegExp: '^https://github\\.com/other/', issuerRegExp: '.*' }))).toBeDefined();
  });
  it('both the exact and the regexp form must match when both are given', () => {
    expect(identityMismatch(s(), identityAuthority({ subject: GH_SAN, subjectRegExp: 'nomatch', issuer: GH_ISSUER }))).toBeDefined();
  });
  it('GitHub workflow fields compare exactly', () => {
    const ok = identityAuthority({
      subject: GH_SAN,
      issuer: GH_ISSUER,
      githubWorkflow: { trigger: 'push', repository: 'kubewarden/kubewarden-controller', ref: 'refs/tags/v1.34.0' },
    });
    expect(identityMismatch(s(), ok)).toBeUndefined();
    const bad = identityAuthority({ subject: GH_SAN, issuer: GH_ISSUER, githubWorkflow: { trigger: 'workflow_dispatch' } });
    expect(identityMismatch(s(), bad)).toContain('GitHub workflow trigger');
  });
  it('checkIdentity accepts any one of several identities and throws IDENTITY_MISMATCH otherwise', () => {
    const other = identityAuthority({ subject: 'someone@example.com', issuer: GH_ISSUER });
    expect(checkIdentity(ghCert(), [other, identityAuthority({ subject: GH_SAN, issuer: GH_ISSUER })]).subject).toBe(GH_SAN);
    try {
      checkIdentity(ghCert(), [other]);
      expect.unreachable();
    } catch (e) {
      expect(isCosignError(e, 'IDENTITY_MISMATCH')).toBe(true);
    }
  });
  it('identityAuthority needs a subject and an issuer, and valid expressions', () => {
    expect(() => identityAuthority({ subject: 'a' })).toThrow(/certificate-oidc-issuer/);
    expect(() => identityAuthority({ issuer: 'a' })).toThrow(/certificate-identity/);
    expect(() => identityAuthority({ subjectRegExp: '(', issuer: 'a' })).toThrow(/invalid regular expression/);
  });
});

describe('verifySigstoreBundleBytes and verifyKeylessLayer fail closed', () => {
  it('a keyless bundle needs trust that knows its CA', () => {
    const empty = trustFromPems({ fulcioCertificates: fixtureText('containers-image/keys/fulcio_v1.crt.pem') });
    const r = (() => {
      try {
        verifySigstoreBundleBytes(fixture(GH_BUNDLE), [identityAuthority({ subject: GH_SAN, issuer: GH_ISSUER })], { trust: empty });
        return 'valid';
      } catch (e) {
        return isCosignError(e) ? e.code : 'other';
      }
    })();
    expect(r).not.toBe('valid');
  });
  it('a legacy layer with a certificate but no Rekor bundle needs --insecure-ignore-tlog', () => {
    const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture('containers-image/dir-img-cosign-pki-valid/signature-1')));
    const trust = trustFromPems({
      fulcioCertificates: fixtureText('containers-image/keys/pki_intermediate_crts.pem') + fixtureText('containers-image/keys/pki_root_crts.pem'),
    });
    const id = identityAuthority({ subject: 'qiwan@redhat.com', issuerRegExp: '.*' });
    expect(() => verifyKeylessLayer(layer, [id], { trust, ignoreSct: true })).toThrow(/no transparency-log bundle/);
    // cosign's Subject is the first SAN in Go's order: the DNS name before the email.
    expect(verifyKeylessLayer(layer, [id], { trust, ignoreSct: true, ignoreTlog: true }).certificate.subject).toBe('myhost.example.com');
    // A DNS SAN is an identity too (cosign matches any SAN).
    expect(
      verifyKeylessLayer(layer, [identityAuthority({ subject: 'myhost.example.com', issuerRegExp: '.*' })], { trust, ignoreSct: true, ignoreTlog: true })
        .tlogVerified,
    ).toBe(false);
    // The certificate must be valid at the time used: long before it was issued it is not.
    expect(() => verifyKeylessLayer(layer, [id], { trust, ignoreSct: true, ignoreTlog: true, now: new Date('2000-01-01T00:00:00Z') })).toThrow();
  });
  it('the trusted root of the public-good instance parses', () => {
    const t = trustFromTrustedRootJson(fixture('sigstore-go/trust/trusted-root-public-good.json'));
    expect(t.material.certificateAuthorities.length).toBeGreaterThan(0);
    expect(t.rekorKeys.length).toBeGreaterThan(0);
  });
});

describe('a certificate brought by the verifier (KeylessOptions.certificate, cosign --certificate)', () => {
  const pkiLayer = () => signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture('containers-image/dir-img-cosign-pki-valid/signature-1')));
  const chainPem = fixtureText('containers-image/keys/pki_intermediate_crts.pem') + fixtureText('containers-image/keys/pki_root_crts.pem');
  const id = identityAuthority({ subject: 'qiwan@redhat.com', issuerRegExp: '.*' });
  const code = (f: () => unknown): string => {
    try {
      f();
      return 'valid';
    } catch (e) {
      if (isCosignError(e)) return e.code;
      throw e;
    }
  };

  it('replaces the certificate the signature carries, and is checked against the chain (--certificate-chain)', () => {
    const layer = pkiLayer();
    const cert = layer.certificate as string;
    const trust = trustFromPems({ fulcioCertificates: chainPem });
    const bare = { payload: layer.payload, signature: layer.signature };
    expect(code(() => verifyKeylessSignature(bare, [id], { trust, ignoreSct: true, ignoreTlog: true }))).toBe('SIGNATURE_INVALID'); // no certificate at all
    expect(verifyKeylessSignature(bare, [id], { trust, ignoreSct: true, ignoreTlog: true, certificate: cert }).certificate.sans).toContain('qiwan@redhat.com');
    // A certificate from another CA is refused even though the signature carries the right one.
    const other = fixtureText('containers-image/rekor-set-standalone/fulcio-cert');
    expect(code(() => verifyKeylessLayer(layer, [id], { trust, ignoreSct: true, ignoreTlog: true, certificate: other }))).toBe('CERTIFICATE_INVALID');
    expect(code(() => verifyKeylessLayer(layer, [id], { trust, ignoreSct: true, ignoreTlog: true, certificate: 'not a certificate' }))).toBe(
      'CERTIFICATE_INVALID',
    );
  });

  it('a certificate that is itself trusted needs no chain, but needs ignoreSct, and takes no RFC 3161 timestamp', () => {
    const layer = pkiLayer();
    const cert = layer.certificate as string;
    const pinned = trustFromPems({ fulcioCertificates: cert });
    const o = { trust: pinned, ignoreTlog: true, certificate: cert };
    expect(verifyKeylessLayer(layer, [id], { ...o, ignoreSct: true }).certificate.sans).toContain('qiwan@redhat.com');
    expect(code(() => verifyKeylessLayer(layer, [id], o))).toBe('CERTIFICATE_INVALID');
    expect(
      code(() =>
        verifyKeylessSignature(
          { payload: layer.payload, signature: layer.signature, rfc3161Timestamp: { signedRfc3161Timestamp: new Uint8Array([1]) } },
          [id],
          { ...o, ignoreSct: true },
        ),
      ),
    ).toBe('UNSUPPORTED');
    expect(verifyCertificate(cert, [id], { ...o, ignoreSct: true }).sans).toContain('qiwan@redhat.com');
  });

  it('verifyCertificate checks the chain, the SCT unless waived, the time and the identity', () => {
    const cert = pkiLayer().certificate as string;
    const trust = trustFromPems({ fulcioCertificates: chainPem });
    expect(verifyCertificate(cert, [id], { trust, ignoreSct: true }).subject).toBe('myhost.example.com');
    expect(code(() => verifyCertificate(cert, [id], { trust }))).toBe('CERTIFICATE_INVALID'); // no SCT
    expect(code(() => verifyCertificate(cert, [id], { trust, ignoreSct: true, now: new Date('2000-01-01T00:00:00Z') }))).toBe('CERTIFICATE_INVALID');
    expect(code(() => verifyCertificate(cert, [identityAuthority({ subject: 'x@y', issuerRegExp: '.*' })], { trust, ignoreSct: true }))).toBe(
      'IDENTITY_MISMATCH',
    );
  });

  it('a Sigstore bundle must carry the given certificate', () => {
    const trust = trustFromTrustedRootJson(fixture('cosign/new-bundle-attestation/trusted_root_pgi.json'));
    const gh = { trust };
    const own = Buffer.from(
      (JSON.parse(fixtureText(GH_BUNDLE)) as { verificationMaterial: { certificate: { rawBytes: string } } }).verificationMaterial.certificate.rawBytes,
      'base64',
    );
    const ownPem = `-----BEGIN CERTIFICATE-----\n${own.toString('base64')}\n-----END CERTIFICATE-----\n`;
    const ids = [identityAuthority({ subject: GH_SAN, issuer: GH_ISSUER })];
    expect(code(() => verifySigstoreBundleBytes(fixture(GH_BUNDLE), ids, { ...gh, certificate: ownPem }))).toBe('valid');
    expect(code(() => verifySigstoreBundleBytes(fixture(GH_BUNDLE), ids, { ...gh, certificate: pkiLayer().certificate as string }))).toBe(
      'CERTIFICATE_INVALID',
    );
  });
});
