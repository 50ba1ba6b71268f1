/**
 * The Kubernetes keychain with the real `@kubernetes/client-node` against a local HTTPS Kubernetes API
 * (secrets and service accounts, bearer token, `Status` errors), mounted pull secret files, and the
 * kubelet's key matching; then a real client pulling from an in-process registry with basic auth
 * through credentials that came from a pull secret.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { RegistryClient } from '../../src/oci/client.js';
import { k8sKeychain, k8sNoClientKeychain, parsePullSecret, pullSecretKeychain } from '../../src/oci/k8s-keychain.js';
import { parseReference } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { K8sApiServer } from '../kms/servers/k8s-api.js';

const dockerconfigjson = (auths: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify({ auths }));
const basic = (u: string, p: string): string => Buffer.from(`${u}:${p}`).toString('base64');

describe('pull secret documents and matching (the kubelet keyring rules)', () => {
  it('parses .dockerconfigjson and .dockercfg; auth, username/password, identity tokens', () => {
    expect(
      parsePullSecret(
        dockerconfigjson({ 'a.example': { auth: basic('u', 'p:w') }, 'b.example': { username: 'bu', password: 'bp' }, 'c.example': { identitytoken: 'it' } }),
        'kubernetes.io/dockerconfigjson',
        'x',
      ),
    ).toEqual([
      { key: 'a.example', credentials: { username: 'u', password: 'p:w' } },
      { key: 'b.example', credentials: { username: 'bu', password: 'bp' } },
      { key: 'c.example', credentials: { identityToken: 'it' } },
    ]);
    expect(
      parsePullSecret(Buffer.from(JSON.stringify({ 'https://old.example': { auth: basic('o', 'q'), email: 'x@y' } })), 'kubernetes.io/dockercfg', 'x'),
    ).toEqual([{ key: 'https://old.example', credentials: { username: 'o', password: 'q' } }]);
  });
  it('a malformed document is BAD_INPUT naming the secret, never quoting it', () => {
    const secret = 'supersecretpassword';
    for (const bad of [`{"auths": {"a": {"auth": "${secret}!!"}}}`, `{"auths": 5, "p": "${secret}"}`]) {
      try {
        parsePullSecret(Buffer.from(bad), 'kubernetes.io/dockerconfigjson', 'pull secret ns/s');
        expect.unreachable();
      } catch (e) {
        expect(isCosignError(e, 'BAD_INPUT')).toBe(true);
        expect((e as Error).message).toContain('pull secret ns/s');
        expect((e as Error).message).not.toContain(secret);
      }
    }
  });
  it('matches host globs per label, ports exactly, paths as prefixes; the most specific key wins', async () => {
    const kc = pullSecretKeychain([
      { key: '*.example.com', credentials: { username: 'glob', password: '1' } },
      { key: 'reg.example.com/team', credentials: { username: 'team', password: '2' } },
      { key: 'https://reg.example.com/team/app/', credentials: { username: 'app', password: '3' } },
      { key: 'reg.example.com:5000', credentials: { username: 'port', password: '4' } },
      { key: 'https://index.docker.io/v1/', credentials: { username: 'hub', password: '5' } },
    ]);
    expect(await kc.resolve('reg.example.com', 'team/app')).toMatchObject({ username: 'app' });
    expect(await kc.resolve('reg.example.com', 'team/other')).toMatchObject({ username: 'team' });
    expect(await kc.resolve('reg.example.com', 'teamx')).toMatchObject({ username: 'glob' });
    expect(await kc.resolve('other.example.com', 'x')).toMatchObject({ username: 'glob' });
    expect(await kc.resolve('a.b.example.com', 'x')).toBeUndefined();
    expect(await kc.resolve('reg.example.com:5000', 'x')).toMatchObject({ username: 'port' });
    expect(await kc.resolve('example.com', 'x')).toBeUndefined();
    expect(await kc.resolve('index.docker.io', 'library/busybox')).toMatchObject({ username: 'hub' });
    expect(await kc.resolve('evil.com', 'reg.example.com/team')).toBeUndefined();
  });
});

describe('k8sKeychain against a local Kubernetes API', () => {
  let api: K8sApiServer;
  let reg: TestRegistry;
  let dir: string;

  beforeAll(async () => {
    api = await K8sApiServer.start();
    reg = await startTestRegistry({ basicAuth: { username: 'puller', password: 'pull-secret-password' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'k8skc-'));
    const put = (ns: string, name: string, type: string, key: string, doc: Buffer): void => {
      api.secrets.set(`${ns}/${name}`, { [key]: doc });
      api.secretTypes.set(`${ns}/${name}`, type);
    };
    put(
      'apps',
      'regcred',
      'kubernetes.io/dockerconfigjson',
      '.dockerconfigjson',
      dockerconfigjson({ [reg.host]: { auth: basic('puller', 'pull-secret-password') } }),
    );
    put('apps', 'sa-cred', 'kubernetes.io/dockercfg', '.dockercfg', Buffer.from(JSON.stringify({ 'sa.example': { auth: basic('sa', 'sapw') } })));
    put('apps', 'opaque', 'Opaque', '.dockerconfigjson', dockerconfigjson({ 'opaque.example': { auth: basic('no', 'no') } }));
    api.serviceAccounts.set('apps/builder', ['sa-cred', 'missing-secret']);
  });
  afterAll(async () => {
    await api.close();
    await reg.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the pod pull secrets and the service account ones; a registry pulls with them', async () => {
    const before = api.calls.length;
    const kc = await k8sKeychain({
      kubeconfig: api.kubeconfig(),
      namespace: 'apps',
      serviceAccount: 'builder',
      imagePullSecrets: ['regcred', 'opaque'],
      dockerConfigDir: dir,
    });
    expect(api.calls.slice(before)).toEqual([
      'GET /api/v1/namespaces/apps/serviceaccounts/builder',
      'GET /api/v1/namespaces/apps/secrets/regcred',
      'GET /api/v1/namespaces/apps/secrets/opaque',
      'GET /api/v1/namespaces/apps/secrets/sa-cred',
      'GET /api/v1/namespaces/apps/secrets/missing-secret',
    ]);
    expect(await kc.resolve('sa.example', 'x')).toEqual({ username: 'sa', password: 'sapw' });
    // An Opaque secret is not a pull secret.
    expect(await kc.resolve('opaque.example', 'x')).toBeUndefined();
    const client = new RegistryClient({ keychain: kc });
    const pushClient = new RegistryClient({ keychain: { resolve: async () => ({ username: 'puller', password: 'pull-secret-password' }) } });
    const digest = await pushSampleImage(pushClient, parseReference(`${reg.host}/apps/web:v1`));
    expect((await client.getManifest(parseReference(`${reg.host}/apps/web:v1`))).digest).toBe(digest);
    client.close();
    pushClient.close();
  });

  it('mounted pull secret files, no API call', async () => {
    const f = path.join(dir, '.dockerconfigjson');
    await writeFile(f, dockerconfigjson({ 'mounted.example': { username: 'm', password: 'mp' } }));
    const before = api.calls.length;
    const kc = await k8sKeychain({ secretFiles: [f], noApi: true, dockerConfigDir: dir });
    expect(await kc.resolve('mounted.example', 'x')).toEqual({ username: 'm', password: 'mp' });
    expect(api.calls.length).toBe(before);
  });

  it('a missing service account has no pull secrets; a denied read is REGISTRY_UNAUTHORIZED; a bad token too', async () => {
    const kc = await k8sKeychain({ kubeconfig: api.kubeconfig(), namespace: 'apps', serviceAccount: 'nobody', dockerConfigDir: dir });
    expect(await kc.resolve('sa.example', 'x')).toBeUndefined();
    api.forbidden.add('apps/regcred');
    try {
      await expect(k8sKeychain({ kubeconfig: api.kubeconfig(), namespace: 'apps', serviceAccount: '', imagePullSecrets: ['regcred'] })).rejects.toSatisfy(
        (e: unknown) => isCosignError(e, 'REGISTRY_UNAUTHORIZED') && /secret apps\/regcred was denied \(HTTP 403\)/.test((e as Error).message),
      );
    } finally {
      api.forbidden.delete('apps/regcred');
    }
    const wrong = 'wrong-token-must-not-leak';
    const e = await k8sKeychain({ kubeconfig: api.kubeconfig(wrong), namespace: 'apps', serviceAccount: 'builder' }).catch((x: unknown) => x);
    expect(isCosignError(e, 'REGISTRY_UNAUTHORIZED')).toBe(true);
    expect(JSON.stringify([(e as Error).message])).not.toContain(wrong);
  });

  it('k8sNoClientKeychain (cosign --k8s-keychain): docker config.json first, no API calls', async () => {
    const cfgDir = await mkdtemp(path.join(dir, 'docker-'));
    await writeFile(path.join(cfgDir, 'config.json'), JSON.stringify({ auths: { 'cfg.example': { auth: basic('c', 'cp') } } }));
    const before = api.calls.length;
    const kc = k8sNoClientKeychain({ dockerConfigDir: cfgDir, github: { env: { GITHUB_TOKEN: 'ghs_t' } } });
    expect(await kc.resolve('cfg.example', 'x')).toEqual({ username: 'c', password: 'cp' });
    expect(await kc.resolve('ghcr.io', 'x')).toEqual({ username: 'unset', password: 'ghs_t' });
    expect(await kc.resolve('other.example', 'x')).toBeUndefined();
    expect(api.calls.length).toBe(before);
  });
});
