/**
 * verifyImage with certificate identities, end to end over HTTP (in-process registry): a real
 * public-good keyless `.sig` (containers/image fixture) verified against a trust built from PEM files,
 * cosign's output fields (`Issuer`, `Subject`, `Bundle`), identity mismatches as NO_MATCHING_SIGNATURES,
 * fail-closed without trust; and the killer's policy verifier with a `keyless` authority. A keyless Sigstore
 * bundle (signed against the mock Sigstore instance): its output has cosign 3's empty `optional`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSigstoreJsonSignature, signatureLayerFromSigstoreJson } from '../../src/artifact/index.js';
import { createPolicyVerifier } from '../../src/enforce/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parsePolicy } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { signImage } from '../../src/sign/image.js';
import { fulcioSigner } from '../../src/sign/keyless.js';
import { identityAuthority } from '../../src/verify/authority.js';
import { verifyImage } from '../../src/verify/image.js';
import { trustFromPems, trustFromTrustedRootJson } from '../../src/verify/trust.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';
import { storeSignedImage } from '../helpers/signatures.js';
import { GITHUB_CLAIMS, mockIdentityToken, startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';
import { useTestRegistry } from '../helpers/test-registry.js';

const DIR = 'containers-image/dir-img-cosign-fulcio-rekor-valid';
const EMAIL = 'mitr@redhat.com';
const ISSUER = 'https://github.com/login/oauth';

describe('verifyImage keyless (legacy .sig)', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  useTestRegistry((r, c) => {
    reg = r;
    client = c;
  });
  const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture(`${DIR}/signature-1`)));
  const trust = trustFromPems({
    fulcioCertificates: `${layer.chain ?? ''}${fixtureText('containers-image/keys/fulcio_v1.crt.pem')}`,
    rekorPublicKeys: fixtureText('containers-image/keys/rekor.pub'),
  });

  function store(repo: string): string {
    return storeSignedImage(reg, repo, fixture(`${DIR}/manifest.json`), [layer]);
  }

  it('verifies, and prints Issuer, Subject and Bundle in optional as cosign does', async () => {
    const ref = store('keyless/app');
    const r = await verifyImage(ref, { client, authorities: [identityAuthority({ subject: EMAIL, issuer: ISSUER })], keyless: { trust, ignoreSct: true } });
    expect(r.signatures[0]?.certificate?.subject).toBe(EMAIL);
    expect(r.signatures[0]?.tlogVerified).toBe(true);
    const out = JSON.parse(Buffer.from(r.output).toString()) as Array<{ optional: Record<string, unknown> }>;
    expect(out[0]?.optional.Issuer).toBe(ISSUER);
    expect(out[0]?.optional.Subject).toBe(EMAIL);
    expect(out[0]?.optional.Bundle).toBeDefined();
  });

  it('another identity: NO_MATCHING_SIGNATURES naming it; no trust: fails closed', async () => {
    const ref = store('keyless/app2');
    await expect(
      verifyImage(ref, { client, authorities: [identityAuthority({ subject: 'other@example.com', issuer: ISSUER })], keyless: { trust, ignoreSct: true } }),
    ).rejects.toMatchObject({ code: 'NO_MATCHING_SIGNATURES', message: expect.stringContaining('none of the expected identities') });
    await expect(verifyImage(ref, { client, authorities: [identityAuthority({ subject: EMAIL, issuer: ISSUER })] })).rejects.toMatchObject({
      code: 'NO_MATCHING_SIGNATURES',
      message: expect.stringContaining('needs trust material'),
    });
  });

  it('the killer policy verifier: keyless authorities verify with trust, fail closed without', async () => {
    const ref = parseReference(store('keyless/app3'));
    const policy = parsePolicy(`rules:\n  - name: oauth\n    images: ["**"]\n    authorities:\n      - keyless: {issuer: "${ISSUER}", subject: "${EMAIL}"}\n`, {
      source: 'policy.yaml',
    });
    const rule = policy.rules[0];
    if (rule === undefined) throw new Error('no rule');
    const withTrust = createPolicyVerifier({ client, keyless: { trust, ignoreSct: true } });
    expect(await withTrust.verify(ref, rule)).toEqual({ ok: true });
    const without = createPolicyVerifier({ client });
    expect(await without.verify(ref, rule)).toMatchObject({ ok: false });
  });
});

describe('verifyImage keyless (Sigstore bundle)', () => {
  let sigstore: SigstoreMock;
  let reg: TestRegistry;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  beforeAll(async () => {
    sigstore = await startSigstoreMock();
    reg = await startTestRegistry();
  }, 60_000);
  afterAll(async () => {
    client.close();
    await reg?.close();
    await sigstore?.stop();
  });

  it('reports the certificate, and prints the claims with an empty optional as cosign 3 does', async () => {
    const ref = parseReference(`${reg.host}/keyless/bundle:v1`);
    const digest = await pushSampleImage(client, ref);
    const signer = fulcioSigner({ fulcioURL: sigstore.fulcioURL, identityToken: mockIdentityToken() });
    const signed = `${reg.host}/keyless/bundle@${digest}`;
    await signImage(signed, signer, { client, witness: { rekorURL: sigstore.rekorURL, tsaURL: sigstore.tsaURL }, format: 'bundle' });
    const trust = trustFromTrustedRootJson(Buffer.from(JSON.stringify(sigstore.trustedRoot)), 'mock trusted root');
    const r = await verifyImage(signed, {
      client,
      authorities: [identityAuthority({ subject: GITHUB_CLAIMS.sub, issuer: GITHUB_CLAIMS.iss })],
      keyless: { trust },
    });
    expect(r.format).toBe('bundle');
    expect(r.signatures[0]?.certificate?.subject).toBe(GITHUB_CLAIMS.sub);
    // cosign 3.1 prints `"optional":{}` for a keyless bundle: no Subject, Issuer, Bundle or RFC3161Timestamp.
    const out = JSON.parse(Buffer.from(r.output).toString()) as Array<{ critical: { type: string }; optional: unknown }>;
    expect(out[0]?.critical.type).toBe('https://sigstore.dev/cosign/sign/v1');
    expect(out[0]?.optional).toEqual({});
  });
});
