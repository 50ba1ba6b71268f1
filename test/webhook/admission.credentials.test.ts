/**
 * The admission controller's caches and registry credentials: a tag resolved with one pod's pull secret is never
 * served to a pod whose credentials for that registry differ (the tag cache is keyed by a fingerprint of the
 * credential), while pods with equal credentials share it; an image named by digest is reached with the review's own
 * credentials before a cached verification of that digest answers it. Over the in-process registry with basic auth.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signerFromPrivateKey } from '../../src/keys/index.js';
import { RegistryClient, staticKeychain, type Keychain } from '../../src/oci/index.js';
import { anonymousKeychain } from '../../src/oci/keychain.js';
import { parsePolicy } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { AdmissionController, parseAdmissionReview, type ParsedReview } from '../../src/webhook/index.js';
import { credentialFingerprint } from '../../src/webhook/credentials.js';

const USER = { username: 'puller', password: 'pull-secret-pw' };
let reg: TestRegistry;
let pem: string;
let digest: string;

function pod(image: string, namespace: string): ParsedReview {
  return parseAdmissionReview(
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: `u-${namespace}`,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        namespace,
        name: 'p',
        operation: 'CREATE',
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image }] } },
      },
    }),
  );
}

beforeAll(async () => {
  reg = await startTestRegistry({ basicAuth: USER });
  const client = new RegistryClient({ keychain: staticKeychain({ [reg.host]: USER }) });
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  pem = kp.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const ref = `${reg.host}/private/app:v1`;
  digest = await pushSampleImage(client, ref, { private: 'yes' });
  await signImage(`${parseReference(ref).name}@${digest}`, signerFromPrivateKey(kp.privateKey, 'k'), { client });
  client.close();
});
afterAll(async () => {
  await reg?.close();
});

describe('AdmissionController caches and credentials', () => {
  /** One keychain per namespace, as the pull-secret factory gives one per workload identity. */
  function controller(keychains: Record<string, Keychain>): AdmissionController {
    return new AdmissionController({
      policy: parsePolicy(`rules:\n  - name: r\n    images: ["${reg.host}/private/*"]\n    authorities: [{ key: { pem: ${JSON.stringify(pem)} } }]\n`),
      keychain: (ctx) => keychains[ctx.namespace] ?? anonymousKeychain,
      tagTtlMs: 60_000,
    });
  }

  it('a tag resolved with one pull secret is not served to a pod without it, nor with another credential; equal credentials share it', async () => {
    const c = controller({
      team: staticKeychain({ [reg.host]: USER }),
      // another workload identity holding the same credential: a distinct keychain object
      same: staticKeychain({ [reg.host]: { ...USER } }),
      wrong: staticKeychain({ [reg.host]: { username: USER.username, password: 'guessed' } }),
    });
    const image = `${reg.host}/private/app:v1`;
    const ok = await c.review(pod(image, 'team'));
    expect(ok.response.allowed).toBe(true);
    expect(ok.images[0]?.digest).toBe(digest);
    const manifestGets = () => reg.requests.filter((r) => r.method === 'GET' && r.path === `/v2/private/app/manifests/v1`).length;
    const gets = manifestGets();
    // no credential: must resolve the tag itself, and the registry refuses it
    const anon = await c.review(pod(image, 'nobody'));
    expect(anon.response.allowed).toBe(false);
    expect(anon.response.status?.message).toMatch(/REGISTRY_UNAUTHORIZED/);
    expect(anon.images[0]?.digest).toBeUndefined();
    // another credential for the registry: the same
    const wrong = await c.review(pod(image, 'wrong'));
    expect(wrong.response.allowed).toBe(false);
    expect(wrong.response.status?.message).toMatch(/REGISTRY_UNAUTHORIZED/);
    // an equal credential (another keychain object) reuses the resolution: no new manifest request for the tag
    const before = manifestGets();
    const same = await c.review(pod(image, 'same'));
    expect(same.response.allowed).toBe(true);
    expect(manifestGets()).toBe(before);
    expect(before).toBeGreaterThan(gets); // the refused reviews did ask the registry
    c.close();
  });

  it('a digest verified for one pod is reused for another only once that pod reaches the image with its own credentials', async () => {
    const c = controller({ team: staticKeychain({ [reg.host]: USER }), same: staticKeychain({ [reg.host]: { ...USER } }) });
    const image = `${reg.host}/private/app@${digest}`;
    expect((await c.review(pod(image, 'team'))).response.allowed).toBe(true);
    expect(c.verifications).toBe(1);
    const anon = await c.review(pod(image, 'nobody'));
    expect(anon.response.allowed).toBe(false); // the verification is cached, but this requester cannot read the image
    expect(anon.response.status?.message).toMatch(/REGISTRY_UNAUTHORIZED/);
    const heads = () => reg.requests.filter((r) => r.method === 'HEAD' && r.path === `/v2/private/app/manifests/${digest}`).length;
    const h0 = heads();
    expect((await c.review(pod(image, 'same'))).response.allowed).toBe(true);
    expect((await c.review(pod(image, 'same'))).response.allowed).toBe(true);
    expect(heads() - h0).toBe(0); // an equal credential: the reachability check of the first pod is reused
    expect(c.verifications).toBe(1); // and the verification itself was never repeated
    c.close();
  });

  it('credential fingerprints: stable within the process, distinct per credential and kind, never the secret', () => {
    const a = credentialFingerprint(USER);
    expect(credentialFingerprint({ ...USER })).toBe(a);
    expect(credentialFingerprint({ username: USER.username, password: 'other' })).not.toBe(a);
    expect(credentialFingerprint({ identityToken: 'tok' })).not.toBe(credentialFingerprint({ registryToken: 'tok' }));
    expect(credentialFingerprint(undefined)).toBe('anonymous');
    expect(a).toMatch(/^c:[A-Za-z0-9_-]{22}$/);
    expect(a).not.toContain(USER.password);
  });
});
