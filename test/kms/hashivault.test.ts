import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVaultReference, resolvePublicKey, resolveSigner, type KmsOptions } from '../../src/kms/index.js';
import { TEST_CA_PATH, deadPort } from './servers/base.js';
import { VaultServer } from './servers/vault.js';
import { expectKmsError, verifyLocally } from './helpers.js';

let vault: VaultServer;
let dir: string;
beforeAll(async () => {
  vault = await VaultServer.start();
  dir = await mkdtemp(join(tmpdir(), 'vault-kms-'));
});
afterAll(async () => {
  await vault.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}): KmsOptions => ({ env: { VAULT_ADDR: vault.url, VAULT_TOKEN: vault.rootToken, ...extra } });

describe('parseVaultReference', () => {
  it('accepts cosign key names', () => {
    expect(parseVaultReference('hashivault://cosign')).toEqual({ scheme: 'hashivault', key: 'cosign' });
    expect(parseVaultReference('hashivault://my-key.v2')).toEqual({ scheme: 'hashivault', key: 'my-key.v2' });
    expect(parseVaultReference('openbao://k')).toEqual({ scheme: 'openbao', key: 'k' });
  });
  it.each(['hashivault://', 'hashivault://-x', 'hashivault://a/b', 'hashivault://x-'])('rejects %s', (r) => {
    expect(() => parseVaultReference(r)).toThrow(expect.objectContaining({ code: 'KMS_ERROR' }));
  });
});

describe('Vault transit signer (env configuration like cosign)', () => {
  it.each(['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'] as const)('%s: signs prehashed sha2-256, verifies locally', async (type) => {
    const key = vault.createKey(`k-${type}`, type);
    const signer = await resolveSigner(`hashivault://k-${type}`, env());
    const pub = await signer.publicKey();
    expect(pub.export({ type: 'spki', format: 'pem' })).toBe(key.versions[0]?.publicKey?.export({ type: 'spki', format: 'pem' }));
    const before = vault.counts.keys;
    for (let i = 0; i < 5; i++) {
      const msg = Buffer.from(`msg ${i}`);
      expect(verifyLocally(pub, 'sha256', msg, await signer.sign(msg))).toBe(true);
    }
    expect(vault.counts.keys - before).toBe(0); // public key fetched once, before the loop
  });

  it('sends exactly the request cosign sends (spec §8)', async () => {
    vault.createKey('wire', 'ecdsa-p256');
    const signer = await resolveSigner('hashivault://wire', env());
    await signer.sign(Buffer.from('payload'));
    const req = vault.signRequests.at(-1);
    expect(req?.path).toBe('transit/sign/wire/sha2-256');
    expect(req?.body).toEqual({
      input: createHash('sha256').update('payload').digest('base64'),
      prehashed: true,
      key_version: '0',
      signature_algorithm: 'pkcs1v15',
    });
  });

  it('TRANSIT_SECRET_ENGINE_PATH and VAULT_NAMESPACE (X-Vault-Namespace)', async () => {
    vault.createKey('nskey', 'ecdsa-p256', { mount: 'signing/transit', namespace: 'team-a' });
    const token = vault.createToken(3600, true, 'team-a');
    const signer = await resolveSigner('hashivault://nskey', {
      env: { VAULT_ADDR: vault.url, VAULT_TOKEN: token, VAULT_NAMESPACE: 'team-a', TRANSIT_SECRET_ENGINE_PATH: 'signing/transit' },
    });
    const msg = Buffer.from('ns');
    expect(verifyLocally(await signer.publicKey(), 'sha256', msg, await signer.sign(msg))).toBe(true);
    expect(vault.signRequests.at(-1)?.namespace).toBe('team-a');
    // without the namespace the token is refused
    const s2 = await resolveSigner('hashivault://nskey', { env: { VAULT_ADDR: vault.url, VAULT_TOKEN: token, TRANSIT_SECRET_ENGINE_PATH: 'signing/transit' } });
    await expectKmsError(s2.publicKey(), 'KMS_ACCESS_DENIED', 'hashivault://nskey', [token]);
  });

  it('latest version by default, a pinned version on request; rotation is detected', async () => {
    const key = vault.createKey('rot', 'ecdsa-p256');
    vault.rotate(key);
    const latest = await resolvePublicKey('hashivault://rot', env());
    expect(latest.equals(key.versions[1]?.publicKey as never)).toBe(true);
    const pinned = await resolveSigner('hashivault://rot', { ...env(), vault: { keyVersion: 1 } });
    const msg = Buffer.from('v1');
    const sig = await pinned.sign(msg);
    expect(vault.signRequests.at(-1)?.body['key_version']).toBe('1');
    expect(verifyLocally(await pinned.publicKey(), 'sha256', msg, sig)).toBe(true);
    expect((await pinned.publicKey()).equals(key.versions[0]?.publicKey as never)).toBe(true);
    // rotation between public-key fetch and sign: typed error, then recovers
    const signer = await resolveSigner('hashivault://rot', env());
    await signer.publicKey();
    vault.rotate(key);
    await expectKmsError(signer.sign(msg), 'KMS_ERROR', 'hashivault://rot', [vault.rootToken]);
    const sig3 = await signer.sign(msg);
    expect(verifyLocally(await signer.publicKey(), 'sha256', msg, sig3)).toBe(true);
    expect((await signer.publicKey()).equals(key.versions[2]?.publicKey as never)).toBe(true);
  });

  it('https Vault with VAULT_CACERT', async () => {
    const tlsVault = await VaultServer.start(true);
    try {
      const key = tlsVault.createKey('tlskey', 'ecdsa-p256');
      const signer = await resolveSigner('hashivault://tlskey', {
        env: { VAULT_ADDR: tlsVault.url, VAULT_TOKEN: tlsVault.rootToken, VAULT_CACERT: TEST_CA_PATH },
      });
      const msg = Buffer.from('tls');
      expect(verifyLocally(await signer.publicKey(), 'sha256', msg, await signer.sign(msg))).toBe(true);
      expect((await signer.publicKey()).equals(key.versions[0]?.publicKey as never)).toBe(true);
      // without the CA the TLS handshake fails: a network error
      await expectKmsError(
        (await resolveSigner('hashivault://tlskey', { env: { VAULT_ADDR: tlsVault.url, VAULT_TOKEN: tlsVault.rootToken } })).publicKey(),
        'KMS_NETWORK',
        'hashivault://tlskey',
        [tlsVault.rootToken],
      );
    } finally {
      await tlsVault.close();
    }
  });

  it('reads ~/.vault-token style token from options, VAULT_TOKEN wins', async () => {
    vault.createKey('tok', 'ecdsa-p256');
    const signer = await resolveSigner('hashivault://tok', { env: { VAULT_ADDR: vault.url }, vault: { token: vault.rootToken } });
    await expect(signer.publicKey()).resolves.toBeDefined();
  });
});

describe('Vault auth beyond cosign: Kubernetes and JWT login, renewal', () => {
  it('kubernetes auth: logs in with the service-account JWT file, renews before expiry, logs in again when needed', async () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.k8s-service-account-token-secret.sig';
    const jwtPath = join(dir, 'sa-token');
    await writeFile(jwtPath, `${jwt}\n`);
    vault.addRole('kubernetes', 'cosign-signer', { jwt, ttlSeconds: 60 });
    vault.createKey('k8skey', 'ecdsa-p256');
    let t = Date.now();
    vault.now = () => t;
    try {
      const signer = await resolveSigner('hashivault://k8skey', {
        env: { VAULT_ADDR: vault.url },
        vault: { auth: { method: 'kubernetes', role: 'cosign-signer', jwtPath }, now: () => t },
      });
      const c0 = { ...vault.counts };
      const msg = Buffer.from('k8s');
      expect(verifyLocally(await signer.publicKey(), 'sha256', msg, await signer.sign(msg))).toBe(true);
      expect(vault.counts.login - c0.login).toBe(1);
      expect(vault.counts.renew - c0.renew).toBe(0);
      t += 45_000; // 15 s left of 60: below a third → renew-self
      await signer.sign(msg);
      expect(vault.counts.renew - c0.renew).toBe(1);
      expect(vault.counts.login - c0.login).toBe(1);
      t += 30_000; // renewed at +45 s for 60 s → still valid at +75 s, 30 s left (> 20 s): no renewal
      await signer.sign(msg);
      expect(vault.counts.renew - c0.renew).toBe(1);
      // the token is revoked server-side: 403 → log in again, retry once
      vault.tokens.clear();
      vault.tokens.set(vault.rootToken, { ttlSeconds: 0, expiresAt: undefined, renewable: false, policies: ['root'], namespace: '' });
      await signer.sign(msg);
      expect(vault.counts.login - c0.login).toBe(2);
    } finally {
      vault.now = Date.now;
    }
  });

  it('jwt auth: CI id-token from an env variable', async () => {
    const idToken = 'eyJhbGciOiJFUzI1NiJ9.ci-id-token-secret.sig';
    vault.addRole('gitlab-jwt', 'ci', { jwt: idToken, ttlSeconds: 300 });
    vault.createKey('jwtkey', 'ecdsa-p256');
    const signer = await resolveSigner('hashivault://jwtkey', {
      env: { VAULT_ADDR: vault.url, VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_ROLE: 'ci', VAULT_AUTH_MOUNT: 'gitlab-jwt', VAULT_AUTH_JWT: idToken },
    });
    const msg = Buffer.from('ci');
    expect(verifyLocally(await signer.publicKey(), 'sha256', msg, await signer.sign(msg))).toBe(true);
  });

  it('jwt auth with a wrong token → KMS_ACCESS_DENIED without the JWT in the message', async () => {
    vault.addRole('jwt', 'ci2', { jwt: 'the-right-one', ttlSeconds: 300 });
    const wrong = 'eyJhbGciOiJFUzI1NiJ9.wrong-token-must-not-leak.sig';
    const signer = await resolveSigner('hashivault://jwtkey', { env: { VAULT_ADDR: vault.url }, vault: { auth: { method: 'jwt', role: 'ci2', jwt: wrong } } });
    await expectKmsError(signer.publicKey(), 'KMS_ACCESS_DENIED', 'hashivault://jwtkey', [wrong]);
  });

  it('static token renewal (opt-in): lookup-self, then renew-self near expiry', async () => {
    vault.createKey('renewkey', 'ecdsa-p256');
    let t = Date.now();
    vault.now = () => t;
    try {
      const token = vault.createToken(90, true);
      const signer = await resolveSigner('hashivault://renewkey', {
        env: { VAULT_ADDR: vault.url, VAULT_TOKEN: token },
        vault: { renew: true, renewBeforeSeconds: 30, now: () => t },
      });
      const c0 = { ...vault.counts };
      await signer.sign(Buffer.from('a'));
      expect(vault.counts.lookup - c0.lookup).toBe(1);
      expect(vault.counts.renew - c0.renew).toBe(0);
      t += 70_000;
      await signer.sign(Buffer.from('b'));
      expect(vault.counts.renew - c0.renew).toBe(1);
      t += 70_000; // would have expired without the renewal at +70 s
      await signer.sign(Buffer.from('c'));
      expect(vault.counts.renew - c0.renew).toBe(2);
    } finally {
      vault.now = Date.now;
    }
  });
});

describe('Vault failures', () => {
  it('bad token → KMS_ACCESS_DENIED, token not in the message', async () => {
    const bad = 'hvs.ThisIsNotAValidTokenAndMustNotLeak01';
    vault.createKey('f1', 'ecdsa-p256');
    await expectKmsError(
      (await resolveSigner('hashivault://f1', { env: { VAULT_ADDR: vault.url, VAULT_TOKEN: bad } })).sign(Buffer.from('x')),
      'KMS_ACCESS_DENIED',
      'hashivault://f1',
      [bad],
    );
  });

  it('throttled (429) → KMS_THROTTLED', async () => {
    vault.throttle = true;
    try {
      await expectKmsError((await resolveSigner('hashivault://f1', env())).publicKey(), 'KMS_THROTTLED', 'hashivault://f1', [vault.rootToken]);
    } finally {
      vault.throttle = false;
    }
  });

  it('key that cannot sign → KMS_WRONG_KEY_USAGE', async () => {
    vault.createKey('aes', 'aes256-gcm96');
    await expectKmsError((await resolveSigner('hashivault://aes', env())).sign(Buffer.from('x')), 'KMS_WRONG_KEY_USAGE', 'hashivault://aes', [vault.rootToken]);
  });

  it('version below min_encryption_version → KMS_KEY_DISABLED', async () => {
    const key = vault.createKey('minver', 'ecdsa-p256');
    vault.rotate(key);
    key.minEncryptionVersion = 2;
    await expectKmsError(
      (await resolveSigner('hashivault://minver', { ...env(), vault: { keyVersion: 1 } })).sign(Buffer.from('x')),
      'KMS_KEY_DISABLED',
      'hashivault://minver',
      [vault.rootToken],
    );
  });

  it('ed25519 transit key → KMS_UNSUPPORTED_KEY_SPEC for signing, public key still exported', async () => {
    const key = vault.createKey('ed', 'ed25519');
    const pub = await resolvePublicKey('hashivault://ed', env());
    expect(pub.equals(key.versions[0]?.publicKey as never)).toBe(true);
    await expectKmsError((await resolveSigner('hashivault://ed', env())).sign(Buffer.from('x')), 'KMS_UNSUPPORTED_KEY_SPEC', 'hashivault://ed', [
      vault.rootToken,
    ]);
  });

  it('missing key → KMS_ERROR not found', async () => {
    const e = await expectKmsError((await resolveSigner('hashivault://nope', env())).publicKey(), 'KMS_ERROR', 'hashivault://nope', [vault.rootToken]);
    expect(e.message).toMatch(/not found/);
  });

  it('sealed → KMS_ERROR', async () => {
    vault.sealed = true;
    try {
      const e = await expectKmsError((await resolveSigner('hashivault://f1', env())).publicKey(), 'KMS_ERROR', 'hashivault://f1', [vault.rootToken]);
      expect(e.message).toContain('Vault is sealed');
    } finally {
      vault.sealed = false;
    }
  });

  it('network error → KMS_NETWORK', async () => {
    const port = await deadPort();
    await expectKmsError(
      (await resolveSigner('hashivault://f1', { env: { VAULT_ADDR: `http://127.0.0.1:${port}`, VAULT_TOKEN: vault.rootToken } })).publicKey(),
      'KMS_NETWORK',
      'hashivault://f1',
      [vault.rootToken],
    );
  });

  it('no VAULT_ADDR → KMS_ERROR', async () => {
    await expectKmsError(resolveSigner('hashivault://f1', { env: {} }), 'KMS_ERROR', 'hashivault://f1', []);
  });
});
