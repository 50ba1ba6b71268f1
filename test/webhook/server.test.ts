/**
 * The webhook end to end: real objects from kubectl, wrapped in AdmissionReviews, POSTed over TLS to
 * the server on 127.0.0.1, backed by the real docker-registry with images signed by real cosign 2.5
 * and 3.1.1 (keys), and through the Vault and GCP KMS test servers (signed by the library: Debian's
 * cosign builds have no hashivault:// or gcpkms:// provider), under imported Kyverno and
 * policy-controller policies. Plus the operational endpoints, bad requests, logs and TLS hot reload.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSigner, type KmsOptions } from '../../src/kms/index.js';
import { anonymousKeychain, RegistryClient } from '../../src/oci/index.js';
import { signImage } from '../../src/sign/index.js';
import { AdmissionController, importPolicies, startWebhookServer, type WebhookServer } from '../../src/webhook/index.js';
import { GcpKmsServer } from '../kms/servers/gcp-kms.js';
import { VaultServer } from '../kms/servers/vault.js';
import {
  cosign,
  cosign3,
  cosignRegistryFlags,
  isolatedToolEnv,
  makeTestCertificates,
  pushBusyboxImage,
  skipReal,
  startRegistry,
  type RealRegistry,
} from '../helpers/real/index.js';
import { admissionReview, asKind, kubectlObject, post, TLS } from './helpers.js';

describe.skipIf(skipReal(['cosign', 'cosign3', 'registry', 'kubectl', 'openssl']))('cosign-ts-webhook over TLS (real registry, cosign, KMS servers)', () => {
  let work: string;
  let reg: RealRegistry;
  let vault: VaultServer;
  let gcp: GcpKmsServer;
  let server: WebhookServer;
  let controller: AdmissionController;
  let ca: string;
  const logs: string[] = [];
  const img: Record<string, string> = {};
  const digest: Record<string, string> = {};

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-webhook-'));
    [reg, vault, gcp] = await Promise.all([startRegistry(), VaultServer.start(), GcpKmsServer.start()]);
    const env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw' };
    await mkdir(path.join(work, 'k'));
    const gen = await cosign(['generate-key-pair'], { cwd: path.join(work, 'k'), env });
    expect(gen.code, gen.stderr).toBe(0);
    const names = ['c2/app', 'c3/app', 'vault/app', 'gcp/app', 'unsigned/app', 'other/app'];
    for (const [i, n] of names.entries()) {
      digest[n] = await pushBusyboxImage(reg.url, n, 'v1', { labels: { n: String(i) } });
      img[n] = `${reg.host}/${n}:v1`;
    }
    const key = ['--key', path.join(work, 'k', 'cosign.key'), '--tlog-upload=false', '--yes', ...cosignRegistryFlags(reg)];
    const s2 = await cosign(['sign', ...key, `${reg.host}/c2/app@${digest['c2/app']}`], { env });
    expect(s2.code, s2.stderr).toBe(0);
    const s3 = await cosign3(['sign', ...key, '--use-signing-config=false', `${reg.host}/c3/app@${digest['c3/app']}`], { env });
    expect(s3.code, s3.stderr).toBe(0);
    vault.createKey('webhook', 'ecdsa-p256');
    const gkey = gcp.createKey({ key: 'webhook' }, 'EC_SIGN_P256_SHA256');
    const kms: KmsOptions = {
      vault: { address: vault.url, token: vault.rootToken },
      gcp: { endpoint: gcp.url, accessToken: gcp.token, callOptions: { maxRetries: 0 } },
    };
    const client = new RegistryClient({ keychain: anonymousKeychain });
    await signImage(`${reg.host}/vault/app@${digest['vault/app']}`, await resolveSigner('hashivault://webhook', kms), { client });
    await signImage(`${reg.host}/gcp/app@${digest['gcp/app']}`, await resolveSigner(`gcpkms://${gkey.name}`, kms), { client });
    client.close();
    const pub = await readFile(path.join(work, 'k', 'cosign.pub'), 'utf8');
    const policies = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: { name: vault-images }
spec:
  validationFailureAction: Enforce
  rules:
    - name: vault-signed
      match: { any: [{ resources: { kinds: [Pod] } }] }
      verifyImages:
        - imageReferences: ["${reg.host}/vault/*"]
          mutateDigest: true
          verifyDigest: false
          attestors:
            - entries:
                - keys:
                    kms: hashivault://webhook
                    rekor: { ignoreTlog: true }
                    ctlog: { ignoreSCT: true }
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: { name: gcp-images }
spec:
  images: [{ glob: "${reg.host}/gcp/*" }]
  authorities:
    - key: { kms: "gcpkms://${gkey.name}" }
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: { name: cosign-keys }
spec:
  images: [{ glob: "${reg.host}/c*/*" }, { glob: "${reg.host}/unsigned/*" }]
  authorities:
    - key:
        data: |
${pub
  .trim()
  .split('\n')
  .map((l) => `          ${l}`)
  .join('\n')}
---
apiVersion: v1
kind: ConfigMap
metadata: { name: config-policy-controller, namespace: cosign-system }
data: { no-match-policy: deny }
`;
    const { policy, documents } = importPolicies(policies, { source: 'policies.yaml' });
    expect(documents).toEqual(['ClusterPolicy', 'ClusterImagePolicy', 'ClusterImagePolicy', 'ConfigMap']);
    controller = new AdmissionController({ policy, kms, keychain: () => anonymousKeychain });
    await mkdir(path.join(work, 'tls'));
    await copyFile(TLS.certFile, path.join(work, 'tls', 'tls.crt'));
    await copyFile(TLS.keyFile, path.join(work, 'tls', 'tls.key'));
    ca = await readFile(TLS.caFile, 'utf8');
    server = await startWebhookServer({
      controller,
      tls: { certFile: path.join(work, 'tls', 'tls.crt'), keyFile: path.join(work, 'tls', 'tls.key') },
      host: '127.0.0.1',
      port: 0,
      certReloadIntervalMs: 0,
      log: (l) => logs.push(l),
    });
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    controller?.close();
    await Promise.all([reg?.stop(), vault?.close(), gcp?.close()]);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const review = async (object: Record<string, unknown>, opts: Parameters<typeof admissionReview>[1] = {}, endpoint = '/validate') => {
    const body = admissionReview(object, opts);
    const r = await post(`${server.url}${endpoint}?timeout=10s`, body, { ca });
    expect(r.status, r.text).toBe(200);
    expect(r.json.apiVersion).toBe('admission.k8s.io/v1');
    expect(r.json.kind).toBe('AdmissionReview');
    expect(r.json.response.uid).toBe((body.request as { uid: string }).uid);
    return r.json.response;
  };

  it('a Deployment of images signed by cosign 2.5 and cosign 3.1.1 (keys) is allowed; as StatefulSet, DaemonSet, ReplicaSet too', async () => {
    const d = await kubectlObject(['create', 'deployment', 'web', `--image=${img['c2/app']}`, `--image=${img['c3/app']}`]);
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']) {
      expect(await review(asKind(d, kind), { namespace: 'team-a' })).toEqual({ uid: expect.any(String), allowed: true });
    }
    expect(controller.verifications).toBe(2);
  });

  it('a Job signed through Vault transit (Kyverno policy): allowed; /mutate pins the tag to the verified digest', async () => {
    const job = await kubectlObject(['create', 'job', 'migrate', `--image=${img['vault/app']}`]);
    expect((await review(job)).allowed).toBe(true);
    const m = await review(job, {}, '/mutate');
    expect(m.allowed).toBe(true);
    expect(m.patchType).toBe('JSONPatch');
    expect(JSON.parse(Buffer.from(m.patch, 'base64').toString())).toEqual([
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: `${img['vault/app']}@${digest['vault/app']}` },
    ]);
    expect(vault.signRequests.length).toBe(1); // signing only: the webhook read the public key
  });

  it('a CronJob signed through GCP KMS (ClusterImagePolicy): allowed', async () => {
    const cj = await kubectlObject(['create', 'cronjob', 'nightly', `--image=${img['gcp/app']}`, '--schedule=0 3 * * *']);
    expect(await review(cj)).toEqual({ uid: expect.any(String), allowed: true });
  });

  it('an unsigned init container and an image no policy matches are denied, naming image, rule and authority', async () => {
    const d = await kubectlObject(['create', 'deployment', 'mixed', `--image=${img['c2/app']}`]);
    const tpl = ((d['spec'] as Record<string, unknown>)['template'] as Record<string, Record<string, unknown>>)['spec'] as Record<string, unknown>;
    tpl['initContainers'] = [{ name: 'setup', image: img['unsigned/app'] }];
    const r = await review(d);
    expect(r.allowed).toBe(false);
    expect(r.status.code).toBe(403);
    expect(r.status.message).toContain(
      `image "${img['unsigned/app']}" (initContainer "setup"): rule "cosign-keys" (authorities: key (PEM in the policy)): NO_SIGNATURES`,
    );
    const other = await review(await kubectlObject(['create', 'job', 'x', `--image=${img['other/app']}`]));
    expect(other.allowed).toBe(false);
    expect(other.status.message).toContain('no policy rule matches it');
  });

  it('dryRun reviews get the same answer and are logged and counted as dry runs', async () => {
    const job = await kubectlObject(['create', 'job', 'dry', `--image=${img['unsigned/app']}`]);
    const r = await review(job, { dryRun: true, uid: 'dry-run-uid' });
    expect(r.allowed).toBe(false);
    const line = logs.map((l) => JSON.parse(l)).find((l) => l.uid === 'dry-run-uid');
    expect(line).toMatchObject({ level: 'warn', msg: 'admission review', dryRun: true, allowed: false, kind: 'Job', name: 'dry' });
    expect(line.images[0]).toMatchObject({ image: img['unsigned/app'], digest: digest['unsigned/app'], result: 'denied' });
    const m = await post(`${server.url}/metrics`, undefined, { ca });
    expect(m.text).toContain('cosign_webhook_reviews_total{endpoint="validate",result="denied",dry_run="true"} 1');
  });

  it('healthz, readyz, metrics; bad requests are 400/413/415/404 and logged with escaped text', async () => {
    expect((await post(`${server.url}/healthz`, undefined, { ca })).status).toBe(200);
    expect((await post(`${server.url}/readyz`, undefined, { ca })).status).toBe(200);
    const m = await post(`${server.url}/metrics`, undefined, { ca });
    expect(m.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.text).toMatch(/cosign_webhook_verifications_total \d+/);
    expect(m.text).toMatch(/cosign_webhook_registry_requests_total [1-9]/);
    expect((await post(`${server.url}/validate`, { apiVersion: 'v1' }, { ca })).status).toBe(400);
    expect((await post(`${server.url}/validate`, {}, { ca, contentType: 'text/plain' })).status).toBe(415);
    expect((await post(`${server.url}/validate`, undefined, { ca, raw: Buffer.alloc(4 * 1024 * 1024, 32) })).status).toBe(413);
    expect((await post(`${server.url}/nope`, undefined, { ca })).status).toBe(404);
    const hostile = await review(await kubectlObject(['create', 'job', 'h', '--image=busybox']), { uid: 'hostile' });
    expect(hostile.allowed).toBe(false);
    const evil = admissionReview(await kubectlObject(['create', 'job', 'e', '--image=busybox']), { uid: 'evil\n{"level":"info"}' });
    await post(`${server.url}/validate`, evil, { ca });
    for (const l of logs) expect(() => JSON.parse(l)).not.toThrow();
    expect(logs.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1)).toBe(true);
  });

  it('TLS certificate hot reload: a rotated certificate is served without a restart', async () => {
    const next = await makeTestCertificates(path.join(work, 'rotated'));
    await copyFile(next.certFile, path.join(work, 'tls', 'tls.crt'));
    await copyFile(next.keyFile, path.join(work, 'tls', 'tls.key'));
    expect(await server.reloadCertificate()).toBe(true);
    const agent = new https.Agent({ keepAlive: false });
    expect((await post(`${server.url}/healthz`, undefined, { ca: await readFile(next.caFile, 'utf8'), agent })).status).toBe(200);
    await expect(post(`${server.url}/healthz`, undefined, { ca, agent })).rejects.toThrow(/certificate/);
    expect(server.metrics.certReloads).toBe(1);
    agent.destroy();
  });
});
