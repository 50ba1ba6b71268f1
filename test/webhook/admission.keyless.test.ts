/**
 * Keyless rules in the webhook: images signed keyless (Fulcio certificate, Rekor entry, timestamp) against a private
 * Sigstore instance (`@sigstore/mock` over node:http), a policy naming the CI identity (or taking it from the
 * workload's annotations, within the policy's limits), and the instance's trusted root as the webhook's keyless trust.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymousKeychain, RegistryClient } from '../../src/oci/index.js';
import { parsePolicy } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference.js';
import { fulcioSigner, signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { trustFromTrustedRootJson } from '../../src/verify/trust.js';
import { AdmissionController, parseAdmissionReview, type ParsedReview } from '../../src/webhook/index.js';
import { GITHUB_CLAIMS, mockIdentityToken, startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';

let reg: TestRegistry;
let sigstore: SigstoreMock;
let image: string;

function pod(img: string, annotations: Record<string, string> = {}): ParsedReview {
  return parseAdmissionReview(
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        namespace: 'ci',
        name: 'p',
        operation: 'CREATE',
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations }, spec: { containers: [{ name: 'c', image: img }] } },
      },
    }),
  );
}

beforeAll(async () => {
  reg = await startTestRegistry();
  sigstore = await startSigstoreMock();
  const client = new RegistryClient({ keychain: anonymousKeychain });
  const ref = `${reg.host}/ci/app:v1`;
  const digest = await pushSampleImage(client, ref, { app: 'ci' });
  const signer = fulcioSigner({ fulcioURL: sigstore.fulcioURL, identityToken: mockIdentityToken() });
  await signImage(`${parseReference(ref).name}@${digest}`, signer, { client, witness: { rekorURL: sigstore.rekorURL, tsaURL: sigstore.tsaURL } });
  image = ref;
  client.close();
}, 60_000);
afterAll(async () => {
  await reg?.close();
  await sigstore?.stop();
});

describe('AdmissionController with keyless rules', () => {
  const keyless = () => ({ trust: trustFromTrustedRootJson(Buffer.from(JSON.stringify(sigstore.trustedRoot))) });

  it("admits an image signed by the policy's CI identity, denies another identity, and fails closed without trust", async () => {
    const policy = (subject: string) =>
      parsePolicy(`rules:
  - name: ci
    images: ["${reg.host}/ci/*"]
    authorities: [{ keyless: { issuer: "${GITHUB_CLAIMS.iss}", subject: "${subject}" } }]
`);
    const ok = new AdmissionController({ policy: policy(GITHUB_CLAIMS.sub), keychain: () => anonymousKeychain, keyless: keyless() });
    expect((await ok.review(pod(image))).response.allowed).toBe(true);
    ok.close();
    const other = new AdmissionController({
      policy: policy('https://github.com/acme/app/.github/workflows/evil.yml@refs/heads/main'),
      keychain: () => anonymousKeychain,
      keyless: keyless(),
    });
    const denied = await other.review(pod(image));
    expect(denied.response.allowed).toBe(false);
    expect(denied.response.status?.message).toContain('keyless issuer=');
    other.close();
    const noTrust = new AdmissionController({ policy: policy(GITHUB_CLAIMS.sub), keychain: () => anonymousKeychain });
    expect((await noTrust.review(pod(image))).response.allowed).toBe(false);
    noTrust.close();
  });

  it('per-workload identity from annotations: the workload names its signer, within the policy limits', async () => {
    const c = new AdmissionController({
      policy: parsePolicy(`rules:
  - name: team
    images: ["${reg.host}/ci/*"]
    authorities: []
    identityFromAnnotations:
      allowedIssuers: [${GITHUB_CLAIMS.iss}]
      subjectRegExp: ^https://github\\.com/acme/
`),
      keychain: () => anonymousKeychain,
      keyless: keyless(),
    });
    const annotated = (subject: string) => pod(image, { 'cosign-ts.dev/keyless-issuer': GITHUB_CLAIMS.iss, 'cosign-ts.dev/keyless-subject': subject });
    expect((await c.review(annotated(GITHUB_CLAIMS.sub))).response.allowed).toBe(true);
    const wrong = await c.review(annotated('https://github.com/acme/other/.github/workflows/release.yml@refs/heads/main'));
    expect(wrong.response.allowed).toBe(false);
    c.close();
  });
});
