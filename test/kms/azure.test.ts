import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAzureReference, resolvePublicKey, resolveSigner, type KmsOptions } from '../../src/kms/index.js';
import { TEST_CA_PEM, deadPort } from './servers/base.js';
import { AzureKeyVaultServer } from './servers/azure-kv.js';
import { expectKmsError, verifyLocally } from './helpers.js';

let kv: AzureKeyVaultServer;
const agent = new Agent({ ca: TEST_CA_PEM });
beforeAll(async () => {
  kv = await AzureKeyVaultServer.start();
});
afterAll(async () => {
  await kv.close();
});

const opts = (extra: Partial<NonNullable<KmsOptions['azure']>> = {}): KmsOptions => ({
  azure: { credential: kv.credential(), disableChallengeResourceVerification: true, clientOptions: { agent, retryOptions: { maxRetries: 0 } }, ...extra },
});

describe('parseAzureReference', () => {
  it('parses vault, key, version', () => {
    expect(parseAzureReference('azurekms://myvault.vault.azure.net/mykey')).toEqual({ vaultHost: 'myvault.vault.azure.net', keyName: 'mykey' });
    expect(parseAzureReference('azurekms://myvault.vault.azure.net/mykey/abc123')).toEqual({
      vaultHost: 'myvault.vault.azure.net',
      keyName: 'mykey',
      version: 'abc123',
    });
    expect(() => parseAzureReference('azurekms://vault-only')).toThrow(expect.objectContaining({ code: 'KMS_ERROR' }));
  });
});

describe('Azure Key Vault signer over the real SDK (HTTPS, bearer challenge)', () => {
  it.each([
    ['EC-P256', 'ES256', 'sha256'],
    ['EC-P384', 'ES384', 'sha384'],
    ['EC-P521', 'ES512', 'sha512'],
    ['RSA-2048', 'RS256', 'sha256'],
  ] as const)('%s signs with %s; r‖s converted to DER; verifies locally', async (kind, alg, hash) => {
    const key = kv.createKey(`k-${kind.toLowerCase()}`, kind);
    const ref = `azurekms://${kv.host}/k-${kind.toLowerCase()}`;
    const signer = await resolveSigner(ref, opts());
    const pub = await signer.publicKey();
    expect(pub.equals(key.versions[0]?.publicKey as never)).toBe(true);
    const c0 = kv.calls.length;
    for (let i = 0; i < 3; i++) {
      const msg = Buffer.from(`azure ${i}`);
      const sig = await signer.sign(msg);
      expect(verifyLocally(pub, hash, msg, sig)).toBe(true);
    }
    const signs = kv.calls.slice(c0).filter((c) => c.path.endsWith('/sign') && c.authorized);
    expect(signs).toHaveLength(3);
    expect(signs[0]?.body).toEqual({ alg, value: createHash(hash).update('azure 0').digest('base64url') });
    expect(kv.calls.slice(c0).filter((c) => c.method === 'GET')).toHaveLength(0);
  });

  it('answers the bearer challenge: first request unauthenticated, token for the vault scope', async () => {
    kv.createKey('challenge', 'EC-P256');
    const c0 = kv.calls.length;
    const t0 = kv.tokenRequests.length;
    await resolvePublicKey(`azurekms://${kv.host}/challenge`, opts());
    const calls = kv.calls.slice(c0);
    expect(calls[0]?.authorized).toBe(false);
    expect(calls.at(-1)?.authorized).toBe(true);
    expect(kv.tokenRequests.slice(t0)[0]).toEqual(['https://vault.azure.net/.default']);
  });

  it('RSA-3072: RS256 by default, RS384 with rsaHashBySize (as cosign)', async () => {
    const key = kv.createKey('rsa3072', 'RSA-3072');
    const ref = `azurekms://${kv.host}/rsa3072`;
    const msg = Buffer.from('rsa');
    const a = await resolveSigner(ref, opts());
    expect(verifyLocally(key.versions[0]?.publicKey as never, 'sha256', msg, await a.sign(msg))).toBe(true);
    expect(kv.calls.at(-1)?.body?.['alg']).toBe('RS256');
    const b = await resolveSigner(ref, opts({ rsaHashBySize: true }));
    expect(verifyLocally(key.versions[0]?.publicKey as never, 'sha384', msg, await b.sign(msg))).toBe(true);
    expect(kv.calls.at(-1)?.body?.['alg']).toBe('RS384');
  });

  it('pinned version', async () => {
    const key = kv.createKey('versioned', 'EC-P256', { versions: 2 });
    const v1 = key.versions[0]?.version as string;
    const signer = await resolveSigner(`azurekms://${kv.host}/versioned/${v1}`, opts());
    expect((await signer.publicKey()).equals(key.versions[0]?.publicKey as never)).toBe(true);
    const msg = Buffer.from('v1');
    expect(verifyLocally(await signer.publicKey(), 'sha256', msg, await signer.sign(msg))).toBe(true);
    expect(kv.calls.at(-1)?.path).toBe(`/keys/versioned/${v1}/sign`);
  });
});

describe('Azure Key Vault failures', () => {
  const secrets = (): string[] => [kv.token];

  it('disabled key → KMS_KEY_DISABLED (from attributes, and from the sign error)', async () => {
    const key = kv.createKey('disabled', 'EC-P256');
    key.enabled = false;
    const ref = `azurekms://${kv.host}/disabled`;
    await expectKmsError((await resolveSigner(ref, opts())).sign(Buffer.from('x')), 'KMS_KEY_DISABLED', ref, secrets());
    key.enabled = true;
    const signer = await resolveSigner(ref, opts());
    await signer.publicKey();
    key.enabled = false;
    await expectKmsError(signer.sign(Buffer.from('x')), 'KMS_KEY_DISABLED', ref, secrets());
  });

  it('access denied by policy → KMS_ACCESS_DENIED', async () => {
    const key = kv.createKey('denied', 'EC-P256');
    key.deny = true;
    const ref = `azurekms://${kv.host}/denied`;
    await expectKmsError((await resolveSigner(ref, opts())).publicKey(), 'KMS_ACCESS_DENIED', ref, secrets());
  });

  it('wrong token → KMS_ACCESS_DENIED, token not leaked', async () => {
    kv.createKey('badtoken', 'EC-P256');
    const bad = 'eyJ0eXAiOiJKV1QifQ.bad-token-that-must-not-leak.x';
    const ref = `azurekms://${kv.host}/badtoken`;
    await expectKmsError((await resolveSigner(ref, opts({ credential: kv.credential(bad) }))).publicKey(), 'KMS_ACCESS_DENIED', ref, [bad, kv.token]);
  });

  it('throttled → KMS_THROTTLED', async () => {
    const key = kv.createKey('throttled', 'EC-P256');
    key.throttle = true;
    const ref = `azurekms://${kv.host}/throttled`;
    await expectKmsError((await resolveSigner(ref, opts())).publicKey(), 'KMS_THROTTLED', ref, secrets());
  });

  it('key without the sign operation → KMS_WRONG_KEY_USAGE (from key_ops, and from the sign error)', async () => {
    const key = kv.createKey('nosign', 'RSA-2048', { keyOps: ['encrypt', 'decrypt'] });
    const ref = `azurekms://${kv.host}/nosign`;
    await expectKmsError((await resolveSigner(ref, opts())).sign(Buffer.from('x')), 'KMS_WRONG_KEY_USAGE', ref, secrets());
    key.keyOps = ['sign', 'verify'];
    const signer = await resolveSigner(ref, opts());
    await signer.publicKey();
    key.keyOps = ['verify'];
    await expectKmsError(signer.sign(Buffer.from('x')), 'KMS_WRONG_KEY_USAGE', ref, secrets());
  });

  it('P-256K or symmetric key → KMS_UNSUPPORTED_KEY_SPEC', async () => {
    kv.createKey('k1', 'EC-P256K');
    await expectKmsError(
      (await resolveSigner(`azurekms://${kv.host}/k1`, opts())).sign(Buffer.from('x')),
      'KMS_UNSUPPORTED_KEY_SPEC',
      `azurekms://${kv.host}/k1`,
      secrets(),
    );
    kv.createKey('oct', 'oct', { keyOps: ['sign'] });
    await expectKmsError(
      (await resolveSigner(`azurekms://${kv.host}/oct`, opts())).sign(Buffer.from('x')),
      'KMS_UNSUPPORTED_KEY_SPEC',
      `azurekms://${kv.host}/oct`,
      secrets(),
    );
  });

  it('unknown key → KMS_ERROR not found', async () => {
    const ref = `azurekms://${kv.host}/missing`;
    const e = await expectKmsError((await resolveSigner(ref, opts())).publicKey(), 'KMS_ERROR', ref, secrets());
    expect(e.message).toMatch(/not found/i);
  });

  it('network error → KMS_NETWORK', async () => {
    const port = await deadPort();
    const ref = `azurekms://127.0.0.1:${port}/x`;
    await expectKmsError((await resolveSigner(ref, opts())).publicKey(), 'KMS_NETWORK', ref, secrets());
  });
});
