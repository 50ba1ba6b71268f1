/**
 * The webhook's per-review credentials: pull secrets read through a local Kubernetes API server (real
 * `@kubernetes/client-node`) with the same code as `k8sKeychain`, one keychain per workload identity, secrets read
 * once per TTL, and a fallback to docker config when they cannot be read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullSecretKeychains } from '../../src/webhook/credentials.js';
import { K8sApiServer } from '../kms/servers/k8s-api.js';

const basic = (u: string, p: string): string => Buffer.from(`${u}:${p}`).toString('base64');

describe('pullSecretKeychains', () => {
  let api: K8sApiServer;
  let dir: string;
  beforeAll(async () => {
    api = await K8sApiServer.start();
    dir = await mkdtemp(path.join(os.tmpdir(), 'webhook-cred-'));
    api.secrets.set('apps/regcred', { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { 'reg.example': { auth: basic('pod', 'podpw') } } })) });
    api.secretTypes.set('apps/regcred', 'kubernetes.io/dockerconfigjson');
    api.secrets.set('apps/sa-cred', { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { 'sa.example': { auth: basic('sa', 'sapw') } } })) });
    api.secretTypes.set('apps/sa-cred', 'kubernetes.io/dockerconfigjson');
    api.serviceAccounts.set('apps/builder', ['sa-cred']);
  });
  afterAll(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("uses the pod's and the service account's pull secrets; one keychain and one read per identity within the TTL", async () => {
    const factory = pullSecretKeychains({ kubeconfig: api.kubeconfig(), dockerConfigDir: dir, ttlMs: 60_000 });
    const ctx = { namespace: 'apps', serviceAccountName: 'builder', imagePullSecrets: ['regcred'] };
    const kc = factory(ctx);
    expect(factory({ ...ctx, imagePullSecrets: ['regcred'] })).toBe(kc);
    const before = api.calls.length;
    expect(await kc.resolve('reg.example', 'app')).toEqual({ username: 'pod', password: 'podpw' });
    expect(await kc.resolve('sa.example', 'app')).toEqual({ username: 'sa', password: 'sapw' });
    expect(await kc.resolve('other.example', 'app')).toBeUndefined();
    expect(api.calls.length - before).toBe(3); // service account + two secrets, once
    expect(factory({ namespace: 'other', serviceAccountName: 'default', imagePullSecrets: [] })).not.toBe(kc);
  });

  it('reads the secrets again after the TTL (a rotated secret is picked up)', async () => {
    const factory = pullSecretKeychains({ kubeconfig: api.kubeconfig(), dockerConfigDir: dir, ttlMs: 1 });
    const kc = factory({ namespace: 'apps', serviceAccountName: '', imagePullSecrets: ['regcred'] });
    expect(await kc.resolve('reg.example', 'app')).toEqual({ username: 'pod', password: 'podpw' });
    api.secrets.set('apps/regcred', { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { 'reg.example': { auth: basic('pod', 'rotated') } } })) });
    await new Promise((r) => setTimeout(r, 5));
    expect(await kc.resolve('reg.example', 'app')).toEqual({ username: 'pod', password: 'rotated' });
  });

  it('secrets that cannot be read: docker config and cloud credentials, and the error is reported without secrets', async () => {
    const errors: unknown[] = [];
    const wrong = pullSecretKeychains({ kubeconfig: api.kubeconfig('not-the-token'), dockerConfigDir: dir, onSecretsError: (e) => errors.push(e) });
    const kc = wrong({ namespace: 'apps', serviceAccountName: 'builder', imagePullSecrets: ['regcred'] });
    expect(await kc.resolve('reg.example', 'app')).toBeUndefined();
    expect(errors.length).toBe(1);
    expect(String((errors[0] as Error).message)).not.toContain('podpw');
  });
});
