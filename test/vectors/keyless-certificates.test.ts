/**
 * The certificate-centred keyless vectors of fixtures/vectors.json, run through the verifier's own code
 * (`src/verify/keyless.ts`, `src/verify/trust.ts`, `src/blob/verify.ts`):
 * - ci-fulcio-cert-standalone: a Fulcio certificate alone (chain, SCT, identity at a given time);
 * - rs-custom-ca: a signature checked with a certificate the verifier brings (cosign `--certificate`);
 * - rs-sign-blob-legacy-bundle: cosign's legacy `sign-blob --bundle` file, signed keyless.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildSignatureLayer, parseRekorBundle, parseSignatureLayer } from '../../src/artifact/index.js';
import { verifyBlobKeyless } from '../../src/blob/verify.js';
import { decodeBase64Strict } from '../../src/encoding.js';
import { isCosignError } from '../../src/errors.js';
import { verifySignature } from '../../src/keys/index.js';
import { identityAuthority } from '../../src/verify/authority.js';
import { verifyCertificate, verifyKeylessLayer, verifyKeylessSignature, type KeylessOptions } from '../../src/verify/keyless.js';
import { trustFromPems, trustFromTrustedRootJson } from '../../src/verify/trust.js';
import { fixture, fixtureText, vectors, type Vector } from '../helpers/fixtures.js';
import { COVERED_KEYLESS_CERTIFICATE_VECTOR_IDS } from './covered-keyless-certificates.js';

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

async function outcome(f: () => unknown): Promise<string> {
  try {
    await f();
    return 'valid';
  } catch (e) {
    if (isCosignError(e)) return e.code;
    throw e;
  }
}

/** The public-good trusted root of 2022-2025 (Fulcio v1 root and intermediate, the 2022 CT log, Rekor): SCTs can be checked. */
const publicGood = () => trustFromTrustedRootJson(fixture('sigstore-go/trust/trusted-root-public-good.json'));

describe('ci-fulcio-cert-standalone (fulcio-cert): validity window, chain and identity', () => {
  const v = vector('ci-fulcio-cert-standalone');
  const [certFile, chainFile] = v.files as [string, string];
  const cert = fixtureText(certFile);
  const trust = trustFromPems({ fulcioCertificates: fixtureText(chainFile) + fixtureText(t(v, 'fulcio_root')) });
  const id = identityAuthority({ subject: t(v, 'email'), issuer: t(v, 'oidc_issuer') });
  const at = (iso: string | number): KeylessOptions => ({ trust, ignoreSct: true, now: typeof iso === 'number' ? new Date(iso * 1000) : new Date(iso) });

  it(`${v.expected}`, async () => {
    expect(v.trust.at_time).toBe(1670870899);
    const summary = verifyCertificate(cert, [id], at(1670870899));
    expect(summary.subject).toBe('mitr@redhat.com');
    expect(summary.issuer).toBe('https://github.com/login/oauth');
    // The window is [18:48:18, 18:58:18] inclusive.
    expect(await outcome(() => verifyCertificate(cert, [id], at('2022-12-12T18:48:18Z')))).toBe('valid');
    expect(await outcome(() => verifyCertificate(cert, [id], at('2022-12-12T18:58:18Z')))).toBe('valid');
    expect(await outcome(() => verifyCertificate(cert, [id], at('2022-12-12T18:48:17Z')))).toBe('CERTIFICATE_INVALID');
    expect(await outcome(() => verifyCertificate(cert, [id], at('2022-12-12T18:58:19Z')))).toBe('CERTIFICATE_INVALID');
    expect(await outcome(() => verifyCertificate(cert, [id], { trust, ignoreSct: true }))).toBe('CERTIFICATE_INVALID'); // now
  });

  it('the SCT verifies with the public-good CT log; without a CT log key it cannot be checked', async () => {
    expect(await outcome(() => verifyCertificate(cert, [id], { trust: publicGood(), now: new Date(1670870899_000) }))).toBe('valid');
    expect(await outcome(() => verifyCertificate(cert, [id], { trust, now: new Date(1670870899_000) }))).toBe('CERTIFICATE_INVALID');
  });

  it('identity and chain mismatches', async () => {
    const o = at(1670870899);
    expect(await outcome(() => verifyCertificate(cert, [identityAuthority({ subject: 'someone@redhat.com', issuer: t(v, 'oidc_issuer') })], o))).toBe(
      'IDENTITY_MISMATCH',
    );
    expect(await outcome(() => verifyCertificate(cert, [identityAuthority({ subject: t(v, 'email'), issuer: 'https://accounts.google.com' })], o))).toBe(
      'IDENTITY_MISMATCH',
    );
    // The root alone: the intermediate is missing, no path.
    const rootOnly = trustFromPems({ fulcioCertificates: fixtureText(t(v, 'fulcio_root')) });
    expect(await outcome(() => verifyCertificate(cert, [id], { ...o, trust: rootOnly }))).toBe('CERTIFICATE_INVALID');
    // Another root (the 2021 Fulcio root).
    const other = trustFromPems({ fulcioCertificates: fixtureText('sigstore-rs/trust/fulcio-root-2021-v0.1.crt.pem') });
    expect(await outcome(() => verifyCertificate(cert, [id], { ...o, trust: other }))).toBe('CERTIFICATE_INVALID');
    // Not a certificate.
    expect(await outcome(() => verifyCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', [id], o))).toBe('CERTIFICATE_INVALID');
  });
});

describe('rs-custom-ca (legacy-sig/cert): a certificate the verifier brings (cosign --certificate)', () => {
  const v = vector('rs-custom-ca');
  const [payloadFile, sigFile, certFile] = v.files as [string, string, string];
  const payload = fixture(payloadFile);
  const signature = decodeBase64Strict(fixtureText(sigFile).trim(), 'signature.b64');
  const certPem = fixtureText(certFile);
  // The CA ("Kubewarden Intermediate CA") is not in the vector: the certificate itself is the trust
  // (cosign --certificate cert.pem --certificate-chain cert.pem; Go's x509 accepts a certificate of the root pool).
  const trust = trustFromPems({ fulcioCertificates: fixtureText(t(v, 'cert')) });
  const id = identityAuthority({ subject: 'user1@kubewarden.io', issuerRegExp: '.*' }); // no OIDC issuer extension in this certificate
  const integrated = new Date((v.trust.integrated_time as number) * 1000);
  const o: KeylessOptions = { trust, certificate: certPem, ignoreSct: true, ignoreTlog: true, now: integrated };
  const layer = parseSignatureLayer(buildSignatureLayer({ payload, signature }).descriptor, payload);

  it('valid: signature with the certificate key, time inside the certificate validity', () => {
    expect(v.expected).toBe('valid');
    expect(layer.certificate).toBeUndefined();
    const r = verifyKeylessLayer(layer, [id], o);
    expect(r.certificate.subject).toBe('user1@kubewarden.io');
    expect(r.tlogVerified).toBe(false);
    expect(verifySignature(new X509Certificate(certPem).publicKey, payload, signature)).toBe(true);
    expect(createHash('sha256').update(payload).digest('hex').startsWith('f9b817c0')).toBe(true);
    // The same certificate carried by the signature (no --certificate) verifies the same way.
    const withCert = parseSignatureLayer(buildSignatureLayer({ payload, signature, certificate: certPem }).descriptor, payload);
    expect(verifyKeylessLayer(withCert, [id], { trust, ignoreSct: true, ignoreTlog: true, now: integrated }).certificate.subject).toBe('user1@kubewarden.io');
  });

  it('the given certificate replaces the one the signature carries', async () => {
    const other = fixtureText('containers-image/rekor-set-standalone/fulcio-cert');
    const carried = parseSignatureLayer(buildSignatureLayer({ payload, signature, certificate: other }).descriptor, payload);
    expect(await outcome(() => verifyKeylessLayer(carried, [id], o))).toBe('valid');
    const { certificate: _omit, ...withoutGiven } = o;
    expect(await outcome(() => verifyKeylessLayer(carried, [id], withoutGiven))).toBe('CERTIFICATE_INVALID');
  });

  it('negatives: tampered payload or signature, time outside the validity, SCT not waived, untrusted, identity', async () => {
    const tampered = Buffer.from(payload);
    tampered[30]! ^= 1;
    expect(await outcome(() => verifyKeylessSignature({ payload: tampered, signature }, [id], o))).toBe('SIGNATURE_INVALID');
    const badSig = Buffer.from(signature);
    badSig[12]! ^= 1;
    expect(await outcome(() => verifyKeylessSignature({ payload, signature: badSig }, [id], o))).toBe('SIGNATURE_INVALID');
    // Valid 2022-11-10T10:38:00Z to 2023-11-10T10:38:00Z.
    expect(await outcome(() => verifyKeylessLayer(layer, [id], { ...o, now: new Date('2022-11-10T10:37:59Z') }))).toBe('CERTIFICATE_INVALID');
    expect(await outcome(() => verifyKeylessLayer(layer, [id], { ...o, now: new Date('2023-11-10T10:38:01Z') }))).toBe('CERTIFICATE_INVALID');
    expect(await outcome(() => verifyKeylessLayer(layer, [id], { ...o, now: new Date('2023-11-10T10:38:00Z') }))).toBe('valid');
    expect(await outcome(() => verifyKeylessLayer(layer, [id], { ...o, ignoreSct: false }))).toBe('CERTIFICATE_INVALID');
    // A trust that does not hold the certificate (nor its CA).
    const fulcio = trustFromPems({ fulcioCertificates: fixtureText('containers-image/keys/fulcio_v1.crt.pem') });
    expect(await outcome(() => verifyKeylessLayer(layer, [id], { ...o, trust: fulcio }))).toBe('CERTIFICATE_INVALID');
    // Without a transparency-log entry, --insecure-ignore-tlog is needed.
    expect(await outcome(() => verifyKeylessLayer(layer, [id], { ...o, ignoreTlog: false }))).toBe('TLOG_INVALID');
    expect(await outcome(() => verifyKeylessLayer(layer, [identityAuthority({ subject: 'user2@kubewarden.io', issuerRegExp: '.*' })], o))).toBe(
      'IDENTITY_MISMATCH',
    );
    // The certificate alone.
    expect(verifyCertificate(certPem, [id], o).subject).toBe('user1@kubewarden.io');
  });
});

describe('rs-sign-blob-legacy-bundle (legacy-blob-bundle/keyless): cosign sign-blob --bundle, keyless', () => {
  const v = vector('rs-sign-blob-legacy-bundle');
  const bundleBytes = fixture(v.files[0]!);
  // The artifact is not in the vector; its SHA-256 (in the entry) is that of these 10 bytes.
  const artifact = Buffer.from('something\n');
  const trust = trustFromPems({ fulcioCertificates: fixtureText(t(v, 'intermediate')), rekorPublicKeys: fixtureText(t(v, 'rekor')) });
  const id = identityAuthority({ subject: 'daniel.bevenius@gmail.com', issuer: 'https://github.com/login/oauth' });
  const o: KeylessOptions = { trust, ignoreSct: true };
  const doc = JSON.parse(bundleBytes.toString('utf8')) as { base64Signature: string; cert: string; rekorBundle: Record<string, unknown> };

  it('valid: SET over the Rekor entry, entry body, chain at the integrated time, signature over the artifact', async () => {
    expect(v.expected).toMatch(/^valid/);
    expect(createHash('sha256').update(artifact).digest('hex')).toBe('4bc453b53cb3d914b45f4b250294236adba2c0e09ff6f03793949e7e39fd4cc1');
    const rekor = parseRekorBundle(JSON.stringify(doc.rekorBundle));
    expect(rekor.payload.integratedTime).toBe(1669361833);
    expect(rekor.payload.logIndex).toBe(7810348);
    const r = await verifyBlobKeyless(artifact, { legacyBundle: bundleBytes }, [id], o);
    expect(r).toMatchObject({ format: 'legacy-bundle', tlogVerified: true, authority: 'daniel.bevenius@gmail.com from https://github.com/login/oauth' });
    expect(r.certificate.issuer).toBe('https://github.com/login/oauth');
    // With the public-good trusted root the SCT is checked too.
    expect(await outcome(() => verifyBlobKeyless(artifact, { legacyBundle: bundleBytes }, [id], { trust: publicGood() }))).toBe('valid');
  });

  it('negatives: other artifact, tampered SET, unknown log, no chain, identity, expired without the entry, bad documents', async () => {
    const run = (blob: Uint8Array, d: unknown, opts: KeylessOptions = o) =>
      outcome(() => verifyBlobKeyless(blob, { legacyBundle: JSON.stringify(d) }, [id], opts));
    expect(await run(Buffer.from('something else\n'), doc)).toBe('TLOG_INVALID'); // the entry is for another digest
    const set = Buffer.from(doc.rekorBundle.SignedEntryTimestamp as string, 'base64');
    set[10]! ^= 1;
    expect(await run(artifact, { ...doc, rekorBundle: { ...doc.rekorBundle, SignedEntryTimestamp: set.toString('base64') } })).toBe('TLOG_INVALID');
    const payload = doc.rekorBundle.Payload as Record<string, unknown>;
    expect(await run(artifact, { ...doc, rekorBundle: { ...doc.rekorBundle, Payload: { ...payload, integratedTime: 1669361834 } } })).toBe('TLOG_INVALID');
    const noRekor = trustFromPems({ fulcioCertificates: fixtureText(t(v, 'intermediate')) });
    expect(await run(artifact, doc, { ...o, trust: noRekor })).toBe('TLOG_INVALID');
    const rootOnly = trustFromPems({ fulcioCertificates: fixtureText('containers-image/keys/fulcio_v1.crt.pem'), rekorPublicKeys: fixtureText(t(v, 'rekor')) });
    expect(await run(artifact, doc, { ...o, trust: rootOnly })).toBe('CERTIFICATE_INVALID');
    expect(
      await outcome(() =>
        verifyBlobKeyless(
          artifact,
          { legacyBundle: bundleBytes },
          [identityAuthority({ subject: 'someone@example.com', issuer: 'https://github.com/login/oauth' })],
          o,
        ),
      ),
    ).toBe('IDENTITY_MISMATCH');
    // Another signature (valid base64, not over the artifact): the entry no longer matches.
    expect(await run(artifact, { ...doc, base64Signature: Buffer.from('x').toString('base64') })).toBe('TLOG_INVALID');
    // Without the Rekor entry the certificate (10 minutes in 2022) must be valid now: it is not.
    const { rekorBundle: _r, ...bare } = doc;
    expect(await run(artifact, bare, { ...o, ignoreTlog: true })).toBe('CERTIFICATE_INVALID');
    expect(await run(artifact, bare, { ...o, ignoreTlog: true, now: new Date(1669361833_000) })).toBe('valid');
    expect(await run(artifact, bare)).toBe('TLOG_INVALID');
    // Documents the legacy-bundle schema refuses, or no certificate at all.
    expect(await run(artifact, { ...doc, extra: 1 })).toBe('BAD_BUNDLE');
    expect(await run(artifact, { ...doc, cert: '***' })).toBe('BAD_BUNDLE');
    expect(await run(artifact, { base64Signature: doc.base64Signature, rekorBundle: doc.rekorBundle })).toBe('SIGNATURE_INVALID');
    expect(await run(artifact, { ...doc, rekorBundle: { ...doc.rekorBundle, extra: true } })).toBe('BAD_INPUT');
  });

  it('signature over the artifact with the certificate key', () => {
    const cert = new X509Certificate(Buffer.from(doc.cert, 'base64'));
    expect(verifySignature(cert.publicKey, artifact, Buffer.from(doc.base64Signature, 'base64'))).toBe(true);
    expect(cert.issuer).toContain('sigstore-intermediate');
  });
});

describe('coverage', () => {
  it('lists exactly the vectors run here', () => {
    expect([...COVERED_KEYLESS_CERTIFICATE_VECTOR_IDS].sort()).toEqual(['ci-fulcio-cert-standalone', 'rs-custom-ca', 'rs-sign-blob-legacy-bundle']);
    for (const id of COVERED_KEYLESS_CERTIFICATE_VECTOR_IDS) expect(byId.has(id), id).toBe(true);
  });
});
