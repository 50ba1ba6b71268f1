import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGcpReference, resolvePublicKey, resolveSigner, type KmsOptions } from '../../src/kms/index.js';
import { deadPort } from './servers/base.js';
import { GcpKmsServer } from './servers/gcp-kms.js';
import { expectKmsError, verifyLocally } from './helpers.js';
import { crc32c } from '../../src/kms/crypto.js';

let gcp: GcpKmsServer;
beforeAll(async () => {
  gcp = await GcpKmsServer.start();
});
afterAll(async () => {
  await gcp.close();
});

const opts = (extra: Partial<NonNullable<KmsOptions['gcp']>> = {}): KmsOptions => ({
  gcp: { endpoint: gcp.url, accessToken: gcp.token, callOptions: { maxRetries: 0 }, ...extra },
});
const ref = (name: string): string => `gcpkms://${name}`;

describe('crc32c', () => {
  it('matches the Castagnoli check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });
});

describe('parseGcpReference', () => {
  it('parses key and version forms', () => {
    const k = 'projects/p/locations/l/keyRings/r/cryptoKeys/k';
    expect(parseGcpReference(`gcpkms://${k}`)).toEqual({ cryptoKey: k });
    expect(parseGcpReference(`gcpkms://${k}/cryptoKeyVersions/3`)).toEqual({ cryptoKey: k, version: `${k}/cryptoKeyVersions/3` });
    expect(parseGcpReference(`gcpkms://${k}/versions/3`)).toEqual({ cryptoKey: k, version: `${k}/cryptoKeyVersions/3` });
    expect(() => parseGcpReference('gcpkms://projects/p/keyRings/r')).toThrow(expect.objectContaining({ code: 'KMS_ERROR' }));
  });
});

describe('GCP KMS signer over the real SDK (REST transport)', () => {
  it.each([
    ['EC_SIGN_P256_SHA256', 'sha256'],
    ['EC_SIGN_P384_SHA384', 'sha384'],
    ['RSA_SIGN_PKCS1_2048_SHA256', 'sha256'],
    ['RSA_SIGN_PKCS1_4096_SHA512', 'sha512'],
  ] as const)('%s: asymmetricSign with CRC32C both ways, verifies locally (%s)', async (alg, hash) => {
    const key = gcp.createKey({ key: `k-${alg.toLowerCase()}` }, alg, { versions: 3 });
    const signer = await resolveSigner(ref(key.name), opts());
    const pub = await signer.publicKey();
    // no version given: the last ENABLED version by `name desc`
    expect(pub.equals(key.versions[2]?.publicKey as never)).toBe(true);
    const c0 = gcp.calls.length;
    for (let i = 0; i < 3; i++) {
      const msg = Buffer.from(`gcp ${i}`);
      expect(verifyLocally(pub, hash, msg, await signer.sign(msg))).toBe(true);
    }
    const calls = gcp.calls.slice(c0);
    expect(calls).toHaveLength(3);
    const body = calls[0]?.body as Record<string, unknown>;
    expect(Object.keys(body['digest'] as object)).toEqual([hash]);
    expect(body['digestCrc32c']).toBeDefined();
    expect(calls[0]?.path).toBe(`/v1/${key.name}/cryptoKeyVersions/3:asymmetricSign`);
  });

  it('checks purpose, lists ENABLED versions name desc, then fetches the public key once', async () => {
    const key = gcp.createKey({ key: 'flow' }, 'EC_SIGN_P256_SHA256', { versions: 3 });
    (key.versions[2] as { state: string }).state = 'DISABLED';
    const c0 = gcp.calls.length;
    const signer = await resolveSigner(ref(key.name), opts());
    await Promise.all(Array.from({ length: 10 }, (_, i) => signer.sign(Buffer.from(`c${i}`))));
    const calls = gcp.calls.slice(c0);
    expect(calls.map((c) => `${c.method} ${c.path}`).slice(0, 3)).toEqual([
      `GET /v1/${key.name}`,
      `GET /v1/${key.name}/cryptoKeyVersions`,
      `GET /v1/${key.name}/cryptoKeyVersions/2/publicKey`,
    ]);
    // the REST transport asks for numeric enums; the server answers with them and the SDK maps them back
    expect(decodeURIComponent(calls[0]?.query ?? '')).toContain('enum-encoding=int');
    const list = new URLSearchParams(calls[1]?.query);
    expect(list.get('filter')).toBe('state=ENABLED');
    expect(list.get('orderBy')).toBe('name desc');
    expect(calls.filter((c) => c.path.endsWith('/publicKey'))).toHaveLength(1);
    expect(calls.filter((c) => c.path.endsWith(':asymmetricSign'))).toHaveLength(10);
  });

  it('pinned version (cryptoKeyVersions/N and versions/N)', async () => {
    const key = gcp.createKey({ key: 'pinned' }, 'EC_SIGN_P256_SHA256', { versions: 2 });
    for (const r of [`${ref(key.name)}/cryptoKeyVersions/1`, `${ref(key.name)}/versions/1`]) {
      const pub = await resolvePublicKey(r, opts());
      expect(pub.equals(key.versions[0]?.publicKey as never)).toBe(true);
    }
  });
});

describe('GCP KMS failures', () => {
  const secrets = (): string[] => [gcp.token];

  it('disabled pinned version → KMS_KEY_DISABLED', async () => {
    const key = gcp.createKey({ key: 'disabled' }, 'EC_SIGN_P256_SHA256');
    (key.versions[0] as { state: string }).state = 'DISABLED';
    await expectKmsError((await resolveSigner(`${ref(key.name)}/cryptoKeyVersions/1`, opts())).sign(Buffer.from('x')), 'KMS_KEY_DISABLED', key.name, secrets());
    // no enabled version at all
    await expectKmsError((await resolveSigner(ref(key.name), opts())).sign(Buffer.from('x')), 'KMS_KEY_DISABLED', key.name, secrets());
  });

  it('permission denied → KMS_ACCESS_DENIED', async () => {
    const key = gcp.createKey({ key: 'denied' }, 'EC_SIGN_P256_SHA256');
    key.deny = true;
    await expectKmsError((await resolveSigner(ref(key.name), opts())).publicKey(), 'KMS_ACCESS_DENIED', key.name, secrets());
  });

  it('bad token → KMS_ACCESS_DENIED (UNAUTHENTICATED), token not leaked', async () => {
    const key = gcp.createKey({ key: 'badtoken' }, 'EC_SIGN_P256_SHA256');
    const bad = 'ya29.wrong-token-that-must-not-leak';
    await expectKmsError((await resolveSigner(ref(key.name), opts({ accessToken: bad }))).publicKey(), 'KMS_ACCESS_DENIED', key.name, [bad, gcp.token]);
  });

  it('quota exhausted → KMS_THROTTLED', async () => {
    const key = gcp.createKey({ key: 'throttled' }, 'EC_SIGN_P256_SHA256');
    key.throttle = true;
    await expectKmsError((await resolveSigner(ref(key.name), opts())).publicKey(), 'KMS_THROTTLED', key.name, secrets());
  });

  it('symmetric key → KMS_WRONG_KEY_USAGE', async () => {
    const key = gcp.createKey({ key: 'sym' }, 'GOOGLE_SYMMETRIC_ENCRYPTION');
    await expectKmsError((await resolveSigner(ref(key.name), opts())).sign(Buffer.from('x')), 'KMS_WRONG_KEY_USAGE', key.name, secrets());
  });

  it('secp256k1 → KMS_UNSUPPORTED_KEY_SPEC', async () => {
    const key = gcp.createKey({ key: 'k1' }, 'EC_SIGN_SECP256K1_SHA256');
    await expectKmsError((await resolveSigner(ref(key.name), opts())).sign(Buffer.from('x')), 'KMS_UNSUPPORTED_KEY_SPEC', key.name, secrets());
  });

  it('corrupted signature CRC / unverified digest CRC → KMS_ERROR integrity', async () => {
    const key = gcp.createKey({ key: 'crc' }, 'EC_SIGN_P256_SHA256');
    const signer = await resolveSigner(ref(key.name), opts());
    await signer.publicKey();
    gcp.corruptSignatureCrc = true;
    try {
      const e = await expectKmsError(signer.sign(Buffer.from('x')), 'KMS_ERROR', key.name, secrets());
      expect(e.message).toContain('signatureCrc32c');
    } finally {
      gcp.corruptSignatureCrc = false;
    }
    gcp.skipDigestVerification = true;
    try {
      const e = await expectKmsError(signer.sign(Buffer.from('x')), 'KMS_ERROR', key.name, secrets());
      expect(e.message).toContain('verifiedDigestCrc32c');
    } finally {
      gcp.skipDigestVerification = false;
    }
  });

  it('unknown key → KMS_ERROR not found', async () => {
    const name = 'projects/p/locations/global/keyRings/ring/cryptoKeys/missing';
    const e = await expectKmsError((await resolveSigner(ref(name), opts())).publicKey(), 'KMS_ERROR', name, secrets());
    expect(e.message).toMatch(/not found/i);
  });

  it('network error → KMS_NETWORK', async () => {
    const port = await deadPort();
    const name = 'projects/p/locations/global/keyRings/ring/cryptoKeys/x';
    const e = await expectKmsError(
      (await resolveSigner(ref(name), opts({ endpoint: `http://127.0.0.1:${port}` }))).publicKey(),
      'KMS_NETWORK',
      name,
      secrets(),
    );
    expect(e.message).toContain(`reaching 127.0.0.1:${port}`);
  });
});
