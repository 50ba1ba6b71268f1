/**
 * ClusterImagePolicy `key.secretRef` as policy-controller reads it: the secret (in the secret namespace) must hold
 * exactly one data entry, whatever its name, and that entry is the PEM public key; no data, several entries or no
 * public key are refused with policy-controller's wording. Secrets served by a local Kubernetes API server (real
 * `@kubernetes/client-node`), images signed by cosign-ts in the in-process registry.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyFromSecret } from '../../src/enforce/verifier.js';
import { signerFromPrivateKey } from '../../src/keys/index.js';
import { anonymousKeychain, RegistryClient } from '../../src/oci/index.js';
import { parseReference } from '../../src/reference.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { AdmissionController, importPolicies, parseAdmissionReview, type ParsedReview } from '../../src/webhook/index.js';
import { codeOfAsync } from '../helpers/errors.js';
import { K8sApiServer } from '../kms/servers/k8s-api.js';

let reg: TestRegistry;
let api: K8sApiServer;
let pem: string;

function pod(image: string): ParsedReview {
  return parseAdmissionReview(
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        namespace: 'apps',
        name: 'p',
        operation: 'CREATE',
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image }] } },
      },
    }),
  );
}

const cip = (name: string, glob: string, secret: string): string =>
  `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: { name: ${name} }\nspec:\n  images: [{ glob: "${glob}" }]\n  authorities:\n    - key: { secretRef: { name: ${secret} } }\n`;

beforeAll(async () => {
  reg = await startTestRegistry();
  api = await K8sApiServer.start();
  const client = new RegistryClient({ keychain: anonymousKeychain });
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  pem = kp.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const ref = `${reg.host}/apps/signed:v1`;
  const d = await pushSampleImage(client, ref, { n: '1' });
  await signImage(`${parseReference(ref).name}@${d}`, signerFromPrivateKey(kp.privateKey, 'k'), { client });
  client.close();
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // policy-controller takes the one entry whatever its name
  api.secrets.set('cosign-system/release-key', { 'any-name.pem': Buffer.from(pem) });
  api.secrets.set('cosign-system/other-key', { key: Buffer.from(other.publicKey.export({ type: 'spki', format: 'pem' }) as string) });
  api.secrets.set('cosign-system/empty', {});
  // cosign generate-key-pair k8s://… writes three entries: not a policy-controller secretRef secret
  api.secrets.set('cosign-system/cosign-layout', { 'cosign.pub': Buffer.from(pem), 'cosign.key': Buffer.from('x'), 'cosign.password': Buffer.from('pw') });
  api.secrets.set('cosign-system/not-a-key', { 'cosign.pub': Buffer.from('hello') });
  const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  api.secrets.set('cosign-system/a-cert', { 'ca.crt': Buffer.from(cert) });
  api.secrets.set('other-ns/release-key', { 'cosign.pub': Buffer.from(pem) });
});
afterAll(async () => {
  await reg?.close();
  await api?.close();
});

describe('ClusterImagePolicy secretRef', () => {
  const controller = (yaml: string, secretNamespace?: string) =>
    new AdmissionController({
      policy: importPolicies(yaml, secretNamespace === undefined ? {} : { secretNamespace }).policy,
      keychain: () => anonymousKeychain,
      kms: { k8s: { kubeconfig: api.kubeconfig() } },
    });
  const image = () => `${reg.host}/apps/signed:v1`;

  it('a secret with one entry of any name is the public key: the signed image is admitted, another key denied', async () => {
    const ok = controller(cip('p', `${reg.host}/apps/*`, 'release-key'));
    const d = await ok.review(pod(image()));
    expect(d.response).toEqual({ uid: 'u', allowed: true });
    ok.close();
    const wrong = controller(cip('p', `${reg.host}/apps/*`, 'other-key'));
    const w = await wrong.review(pod(image()));
    expect(w.response.allowed).toBe(false);
    expect(w.response.status?.message).toMatch(/rule "p" \(authorities: key secret cosign-system\/other-key\): NO_MATCHING_SIGNATURES/);
    wrong.close();
    // --secret-namespace
    const ns = controller(cip('p', `${reg.host}/apps/*`, 'release-key'), 'other-ns');
    expect((await ns.review(pod(image()))).response.allowed).toBe(true);
    ns.close();
  });

  it("no data, several entries, or no public key: denied with policy-controller's error, fail closed", async () => {
    const cases: Array<[string, string]> = [
      ['empty', 'secret "empty" contains no data'],
      ['cosign-layout', 'secret "cosign-layout" contains multiple data entries, only one is supported'],
      ['not-a-key', 'secret "not-a-key" contains an invalid public key'],
      ['a-cert', 'secret "a-cert" contains an invalid public key'],
      ['missing', 'k8s://cosign-system/missing: Kubernetes secret cosign-system/missing not found'],
    ];
    for (const [secret, text] of cases) {
      const c = controller(cip('p', `${reg.host}/apps/*`, secret));
      const d = await c.review(pod(image()));
      expect(d.response.allowed, secret).toBe(false);
      expect(d.response.status?.message).toContain(`rule "p" (authorities: key secret cosign-system/${secret})`);
      expect(d.response.status?.message).toContain(`cannot load the authorities: ${text}`);
      c.close();
    }
  });

  it('publicKeyFromSecret: the key, or BAD_KEY / KMS errors; the secret is read through the API each load', async () => {
    const k8s = { kubeconfig: api.kubeconfig() };
    const key = await publicKeyFromSecret('cosign-system', 'release-key', { k8s });
    expect(key.export({ type: 'spki', format: 'pem' })).toBe(pem);
    expect(await codeOfAsync(publicKeyFromSecret('cosign-system', 'empty', { k8s }))).toBe('BAD_KEY');
    expect(await codeOfAsync(publicKeyFromSecret('cosign-system', 'cosign-layout', { k8s }))).toBe('BAD_KEY');
    expect(await codeOfAsync(publicKeyFromSecret('cosign-system', 'a-cert', { k8s }))).toBe('BAD_KEY');
    api.forbidden.add('cosign-system/release-key');
    expect(await codeOfAsync(publicKeyFromSecret('cosign-system', 'release-key', { k8s }))).toBe('KMS_ACCESS_DENIED');
    api.forbidden.delete('cosign-system/release-key');
  });
});
