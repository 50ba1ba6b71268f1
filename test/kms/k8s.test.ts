import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/private.js';
import { parseK8sReference, resolvePublicKey, resolveSigner } from '../../src/kms/index.js';
import { deadPort } from './servers/base.js';
import { K8sApiServer } from './servers/k8s-api.js';
import { expectKmsError, verifyLocally } from './helpers.js';

let api: K8sApiServer;
let dir: string;
const password = 'k8s-secret-password-never-logged';
beforeAll(async () => {
  api = await K8sApiServer.start();
  dir = await mkdtemp(join(tmpdir(), 'k8s-kms-'));
  const pair = generateKeyPair(password);
  api.secrets.set('signing/cosign', {
    'cosign.key': Buffer.from(pair.privateKeyPem),
    'cosign.pub': Buffer.from(pair.publicKeyPem),
    'cosign.password': Buffer.from(password),
  });
  const noPw = generateKeyPair(password);
  api.secrets.set('signing/nopw', { 'cosign.key': Buffer.from(noPw.privateKeyPem), 'cosign.pub': Buffer.from(noPw.publicKeyPem) });
  api.secrets.set('signing/pubonly', { 'cosign.pub': Buffer.from(noPw.publicKeyPem) });
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

describe('parseK8sReference', () => {
  it('parses namespace/name', () => {
    expect(parseK8sReference('k8s://signing/cosign')).toEqual({ namespace: 'signing', name: 'cosign' });
    expect(() => parseK8sReference('k8s://only')).toThrow(expect.objectContaining({ code: 'KMS_ERROR' }));
  });
});

describe('k8s:// secrets through @kubernetes/client-node', () => {
  it('signs with the decrypted cosign.key (password from the secret) and exports cosign.pub', async () => {
    const kubeconfigPath = await api.writeKubeconfig(join(dir, 'kubeconfig'));
    const signer = await resolveSigner('k8s://signing/cosign', { k8s: { kubeconfigPath } });
    const msg = Buffer.from('k8s payload');
    const sig = await signer.sign(msg);
    const pub = await resolvePublicKey('k8s://signing/cosign', { k8s: { kubeconfigPath } });
    expect(verifyLocally(pub, 'sha256', msg, sig)).toBe(true);
    expect(api.calls.at(-1)).toBe('GET /api/v1/namespaces/signing/secrets/cosign');
  });

  it('uses KUBECONFIG by default', async () => {
    const path = await api.writeKubeconfig(join(dir, 'kubeconfig-env'));
    const old = process.env['KUBECONFIG'];
    process.env['KUBECONFIG'] = path;
    try {
      const pub = await resolvePublicKey('k8s://signing/pubonly');
      expect(pub.asymmetricKeyType).toBe('ec');
    } finally {
      if (old === undefined) delete process.env['KUBECONFIG'];
      else process.env['KUBECONFIG'] = old;
    }
  });

  it('password from options when the secret has none; wrong password → WRONG_PASSWORD without the password', async () => {
    const kubeconfig = api.kubeconfig();
    const signer = await resolveSigner('k8s://signing/nopw', { password, k8s: { kubeconfig } });
    await expect(signer.sign(Buffer.from('x'))).resolves.toBeInstanceOf(Uint8Array);
    await expectKmsError(resolveSigner('k8s://signing/nopw', { password: 'wrong-password-xyz', k8s: { kubeconfig } }), 'WRONG_PASSWORD', 'k8s://signing/nopw', [
      'wrong-password-xyz',
      password,
    ]);
  });

  it('forbidden → KMS_ACCESS_DENIED; bad token → KMS_ACCESS_DENIED; missing → KMS_ERROR; throttled; network', async () => {
    api.forbidden.add('signing/cosign');
    try {
      await expectKmsError(resolveSigner('k8s://signing/cosign', { k8s: { kubeconfig: api.kubeconfig() } }), 'KMS_ACCESS_DENIED', 'k8s://signing/cosign', [
        api.token,
        password,
      ]);
    } finally {
      api.forbidden.clear();
    }
    const badToken = 'bad-k8s-token-must-not-leak';
    await expectKmsError(
      resolveSigner('k8s://signing/cosign', { k8s: { kubeconfig: api.kubeconfig(badToken) } }),
      'KMS_ACCESS_DENIED',
      'k8s://signing/cosign',
      [badToken],
    );
    await expectKmsError(resolveSigner('k8s://signing/missing', { k8s: { kubeconfig: api.kubeconfig() } }), 'KMS_ERROR', 'k8s://signing/missing', [api.token]);
    api.throttle = true;
    try {
      await expectKmsError(resolveSigner('k8s://signing/cosign', { k8s: { kubeconfig: api.kubeconfig() } }), 'KMS_THROTTLED', 'k8s://signing/cosign', [
        api.token,
      ]);
    } finally {
      api.throttle = false;
    }
    const port = await deadPort();
    const dead = api.kubeconfig().replace(api.url, `https://127.0.0.1:${port}`);
    await expectKmsError(resolveSigner('k8s://signing/cosign', { k8s: { kubeconfig: dead } }), 'KMS_NETWORK', 'k8s://signing/cosign', [api.token]);
  });

  it('secret without cosign.key → KMS_ERROR for signing', async () => {
    await expectKmsError(resolveSigner('k8s://signing/pubonly', { k8s: { kubeconfig: api.kubeconfig() } }), 'KMS_ERROR', 'k8s://signing/pubonly', [api.token]);
  });
});
