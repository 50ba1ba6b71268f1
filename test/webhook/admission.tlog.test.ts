/**
 * Rekor (transparency-log) checks of key-signed images in the webhook, as policy-controller and Kyverno decide them:
 * real cosign 2.5 signs with a key, once uploading to the Rekor of a private Sigstore instance (`@sigstore/mock` over
 * node:http; cosign trusts it through SIGSTORE_REKOR_PUBLIC_KEY) and once with `--tlog-upload=false`. A
 * ClusterImagePolicy key authority with `ctlog.url` (or a Kyverno key without `rekor.ignoreTlog: true`) admits the
 * first only, its SET verified with the instance's Rekor key; without `ctlog` (or with `ignoreTlog: true`) both are
 * admitted (offline); a Rekor key other than the instance's, or none at all, refuses.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keylessOptionsForPolicy } from '../../src/enforce/verifier.js';
import { anonymousKeychain } from '../../src/oci/index.js';
import { trustFromPems, trustFromTrustedRootJson } from '../../src/verify/trust.js';
import type { KeylessOptions } from '../../src/verify/keyless.js';
import { AdmissionController, importPolicies, parseAdmissionReview, type ParsedReview } from '../../src/webhook/index.js';
import {
  cosign,
  cosignGenerateKeyPair,
  cosignRegistryFlags,
  isolatedToolEnv,
  pushBusyboxImage,
  skipReal,
  startRegistry,
  type RealRegistry,
} from '../helpers/real/index.js';
import { startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';

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

describe.skipIf(skipReal(['registry', 'cosign']))('webhook transparency-log checks of key-signed images (cosign 2.5, mock Rekor)', () => {
  let reg: RealRegistry;
  let sigstore: SigstoreMock;
  let other: SigstoreMock;
  let work: string;
  let pem: string;
  let logged: string;
  let offline: string;
  const file = (name: string) => path.join(work, name);

  beforeAll(async () => {
    reg = await startRegistry();
    sigstore = await startSigstoreMock();
    other = await startSigstoreMock();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-webhook-tlog-'));
    await writeFile(file('rekor.pub'), sigstore.rekorPublicKeyPem);
    await writeFile(file('trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
    const keys = await cosignGenerateKeyPair(path.join(work, 'keys'), 'pw');
    pem = await readFile(keys.pubPath, 'utf8');
    const env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw', SIGSTORE_REKOR_PUBLIC_KEY: file('rekor.pub') };
    const sign = async (repo: string, upload: boolean): Promise<string> => {
      const digest = await pushBusyboxImage(reg.url, repo, 'v1', { labels: { repo } });
      const r = await cosign(
        [
          'sign',
          '--key',
          keys.keyPath,
          `--tlog-upload=${upload}`,
          ...(upload ? ['--rekor-url', sigstore.rekorURL] : []),
          '--yes',
          ...cosignRegistryFlags(reg),
          `${reg.host}/${repo}@${digest}`,
        ],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
      return `${reg.host}/${repo}:v1`;
    };
    logged = await sign('apps/logged', true);
    offline = await sign('apps/offline', false);
    expect(sigstore.requests.get('/api/v1/log/entries')).toBe(1); // one Rekor upload, by cosign
  }, 180_000);
  afterAll(async () => {
    await reg?.stop();
    await sigstore?.stop();
    await other?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const cip = (ctlog: string) =>
    `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: { name: p }\nspec:\n  images: [{ glob: "${reg.host}/apps/*" }]\n  authorities:\n    - key:\n        data: ${JSON.stringify(pem)}\n${ctlog}`;
  const kyverno = (rekor: string) =>
    `apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: { name: k }\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: r\n      match: { resources: { kinds: [Pod] } }\n      verifyImages:\n        - imageReferences: ["${reg.host}/apps/*"]\n          mutateDigest: false\n          verifyDigest: false\n          attestors:\n            - entries:\n                - keys: { publicKeys: ${JSON.stringify(pem)}${rekor} }\n`;
  const controller = (yaml: string, keyless: KeylessOptions | undefined) =>
    new AdmissionController({
      policy: importPolicies(yaml).policy,
      keychain: () => anonymousKeychain,
      registry: { insecureRegistries: [reg.host] },
      ...(keyless === undefined ? {} : { keyless }),
    });
  const admitted = async (c: AdmissionController, image: string): Promise<{ allowed: boolean; message: string }> => {
    const d = await c.review(pod(image));
    return { allowed: d.response.allowed, message: d.response.status?.message ?? '' };
  };

  it('ctlog.url requires a Rekor bundle whose SET verifies with the trusted Rekor key: logged admitted, --tlog-upload=false refused', async () => {
    const yaml = cip(`      ctlog: { url: ${sigstore.rekorURL} }\n`);
    const trust = trustFromTrustedRootJson(Buffer.from(JSON.stringify(sigstore.trustedRoot)));
    const c = controller(yaml, { trust });
    expect(await admitted(c, logged)).toEqual({ allowed: true, message: '' });
    const refused = await admitted(c, offline);
    expect(refused.allowed).toBe(false);
    expect(refused.message).toMatch(/NO_MATCHING_SIGNATURES/);
    expect(refused.message).toMatch(/no transparency-log bundle on the signature/);
    c.close();
  });

  it('the trust as the webhook loads it: SIGSTORE_REKOR_PUBLIC_KEY alone (no TUF), or --trusted-root', async () => {
    const policy = importPolicies(cip(`      ctlog: { url: ${sigstore.rekorURL} }\n`)).policy;
    const fromEnv = await keylessOptionsForPolicy(policy, { env: { SIGSTORE_REKOR_PUBLIC_KEY: file('rekor.pub') } });
    expect(fromEnv?.trust.rekorKeys).toHaveLength(1);
    const fromRoot = await keylessOptionsForPolicy(policy, { trustedRoot: file('trusted_root.json') });
    for (const keyless of [fromEnv, fromRoot]) {
      const c = controller(cip(`      ctlog: { url: ${sigstore.rekorURL} }\n`), keyless);
      expect((await admitted(c, logged)).allowed).toBe(true);
      expect((await admitted(c, offline)).allowed).toBe(false);
      c.close();
    }
    // a policy with neither keyless rules nor ctlog needs no trust at all
    expect(await keylessOptionsForPolicy(importPolicies(cip('')).policy, {})).toBeUndefined();
  });

  it("a Rekor key that is not the log's refuses the logged image; no Rekor key at all fails closed", async () => {
    const yaml = cip(`      ctlog: { url: ${sigstore.rekorURL} }\n`);
    const c = controller(yaml, { trust: trustFromPems({ rekorPublicKeys: other.rekorPublicKeyPem }) });
    const r = await admitted(c, logged);
    expect(r.allowed).toBe(false);
    expect(r.message).toMatch(/NO_MATCHING_SIGNATURES/);
    expect(r.message).toMatch(/Rekor bundle: log [0-9a-f]{64} is not a trusted Rekor log/);
    c.close();
    const none = controller(yaml, undefined);
    const n = await admitted(none, logged);
    expect(n.allowed).toBe(false);
    expect(n.message).toMatch(/TRUST_ROOT_INVALID: rule p requires a transparency-log entry and no trusted Rekor key is configured/);
    none.close();
  });

  it('without ctlog (policy-controller key authorities) or with Kyverno rekor.ignoreTlog: true, both images are admitted offline', async () => {
    for (const yaml of [cip(''), cip('      ctlog: {}\n'), kyverno(', rekor: { ignoreTlog: true }')]) {
      const c = controller(yaml, undefined);
      expect(await admitted(c, logged)).toEqual({ allowed: true, message: '' });
      expect(await admitted(c, offline)).toEqual({ allowed: true, message: '' });
      c.close();
    }
  });

  it('Kyverno keys without rekor.ignoreTlog (its default) require the Rekor entry', async () => {
    const trust = trustFromTrustedRootJson(Buffer.from(JSON.stringify(sigstore.trustedRoot)));
    for (const rekor of ['', `, rekor: { url: ${sigstore.rekorURL} }`, ', rekor: { ignoreTlog: false }']) {
      const c = controller(kyverno(rekor), { trust });
      expect((await admitted(c, logged)).allowed, rekor).toBe(true);
      const refused = await admitted(c, offline);
      expect(refused.allowed, rekor).toBe(false);
      expect(refused.message).toMatch(/no transparency-log bundle on the signature/);
      c.close();
    }
  });
});
