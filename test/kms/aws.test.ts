import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAwsReference, resolvePublicKey, resolveSigner, resolveVerifier, type KmsOptions } from '../../src/kms/index.js';
import { AwsKmsServer } from './servers/aws-kms.js';
import { TEST_CA_PATH, deadPort } from './servers/base.js';
import { expectKmsError, verifyLocally } from './helpers.js';

let server: AwsKmsServer;
let tlsServer: AwsKmsServer;

function opts(s: AwsKmsServer, extra: Partial<NonNullable<KmsOptions['aws']>> = {}): KmsOptions {
  return {
    aws: {
      endpoint: s.url,
      region: s.region,
      credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
      maxAttempts: 1,
      ...extra,
    },
  };
}

beforeAll(async () => {
  server = await AwsKmsServer.start();
  tlsServer = await AwsKmsServer.start({ tls: true });
});
afterAll(async () => {
  await server.close();
  await tlsServer.close();
});

describe('parseAwsReference', () => {
  const id = '1234abcd-12ab-34cd-56ef-1234567890ab';
  it.each([
    [`awskms:///${id}`, { endpoint: '', keyId: id }],
    [`awskms:///mrk-1234abcd12ab34cd56ef1234567890ab`, { endpoint: '', keyId: 'mrk-1234abcd12ab34cd56ef1234567890ab' }],
    [`awskms://localhost:4566/${id}`, { endpoint: 'localhost:4566', keyId: id }],
    [`awskms:///arn:aws:kms:us-east-2:111122223333:key/${id}`, { endpoint: '', keyId: `arn:aws:kms:us-east-2:111122223333:key/${id}`, region: 'us-east-2' }],
    [
      `awskms://localhost:4566/arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/${id}`,
      { endpoint: 'localhost:4566', keyId: `arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/${id}`, region: 'us-gov-west-1' },
    ],
    [`awskms:///alias/ExampleAlias`, { endpoint: '', keyId: 'alias/ExampleAlias', alias: 'alias/ExampleAlias' }],
    [`awskms://localhost:4566/alias/ExampleAlias`, { endpoint: 'localhost:4566', keyId: 'alias/ExampleAlias', alias: 'alias/ExampleAlias' }],
    [
      `awskms:///arn:aws:kms:us-east-2:111122223333:alias/ExampleAlias`,
      { endpoint: '', keyId: 'arn:aws:kms:us-east-2:111122223333:alias/ExampleAlias', alias: 'alias/ExampleAlias', region: 'us-east-2' },
    ],
  ])('%s', (ref, expected) => {
    expect(parseAwsReference(ref)).toEqual(expected);
  });
  it.each(['awskms://', 'awskms:///', 'awskms:///not-a-key', 'awskms:///arn:aws:kms:us-east-2:1111:key/x', 'awskms:/alias/x'])('rejects %s', (ref) => {
    expect(() => parseAwsReference(ref)).toThrow(expect.objectContaining({ code: 'KMS_ERROR' }));
  });
});

describe('AWS KMS signer over the real SDK', () => {
  it.each([
    ['ECC_NIST_P256', 'sha256'],
    ['ECC_NIST_P384', 'sha384'],
    ['ECC_NIST_P521', 'sha512'],
    ['RSA_2048', 'sha256'],
    ['RSA_3072', 'sha256'],
  ] as const)('%s signs DIGEST and verifies locally with %s', async (spec, hash) => {
    const key = server.createKey(spec, { alias: `cosign-${spec.toLowerCase()}` });
    const before = server.calls.length;
    const signer = await resolveSigner(`awskms:///alias/cosign-${spec.toLowerCase()}`, opts(server));
    const pub = await signer.publicKey();
    expect(pub.export({ type: 'spki', format: 'pem' })).toBe(key.publicKey.export({ type: 'spki', format: 'pem' }));
    for (let i = 0; i < 3; i++) {
      const msg = Buffer.from(`payload ${i} for ${spec}`);
      const sig = await signer.sign(msg);
      expect(verifyLocally(pub, hash, msg, sig)).toBe(true);
    }
    const calls = server.calls.slice(before);
    expect(calls.filter((c) => c.op === 'GetPublicKey')).toHaveLength(1);
    expect(calls.filter((c) => c.op === 'Sign')).toHaveLength(3);
    const signReq = server.calls.filter((c) => c.op === 'Sign').at(-1);
    expect(signReq?.keyId).toBe(`alias/cosign-${spec.toLowerCase()}`);
  });

  it('sends MessageType DIGEST with the digest and the spec algorithm (wire check)', async () => {
    server.createKey('ECC_NIST_P256', { alias: 'wire' });
    const signer = await resolveSigner('awskms:///alias/wire', opts(server));
    const before = server.calls.length;
    await signer.sign(Buffer.from('hello'));
    const calls = server.calls.slice(before);
    expect(calls.map((c) => c.op)).toEqual(['GetPublicKey', 'Sign']);
    const sign = calls[1];
    expect(sign?.input).toEqual({
      KeyId: 'alias/wire',
      Message: createHash('sha256').update('hello').digest('base64'),
      MessageType: 'DIGEST',
      SigningAlgorithm: 'ECDSA_SHA_256',
    });
    expect(sign?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(sign?.headers['x-amz-target']).toBe('TrentService.Sign');
    expect(String(sign?.headers['authorization'])).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\w+\/\d{8}\/us-east-1\/kms\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
    );
  });

  it('GetPublicKey exactly once across many concurrent signs', async () => {
    server.createKey('ECC_NIST_P256', { alias: 'many' });
    const signer = await resolveSigner('awskms:///alias/many', opts(server));
    const before = server.calls.length;
    const pub = await resolvePublicKey('awskms:///alias/many', opts(server));
    const sigs = await Promise.all(Array.from({ length: 50 }, (_, i) => signer.sign(Buffer.from(`m${i}`))));
    sigs.forEach((s, i) => {
      expect(verifyLocally(pub, 'sha256', Buffer.from(`m${i}`), s)).toBe(true);
    });
    const calls = server.calls.slice(before);
    expect(calls.filter((c) => c.op === 'Sign')).toHaveLength(50);
    // one for resolvePublicKey's own signer, one for `signer`
    expect(calls.filter((c) => c.op === 'GetPublicKey')).toHaveLength(2);
  });

  it('addresses keys by id, key ARN and alias ARN', async () => {
    const key = server.createKey('ECC_NIST_P256', { alias: 'arnalias' });
    for (const ref of [`awskms:///${key.id}`, `awskms:///${key.arn}`, `awskms:///arn:aws:kms:${server.region}:${server.accountId}:alias/arnalias`]) {
      const signer = await resolveSigner(ref, opts(server));
      const msg = Buffer.from(ref);
      expect(verifyLocally(await signer.publicKey(), 'sha256', msg, await signer.sign(msg))).toBe(true);
    }
  });

  it('takes the region from the ARN', async () => {
    const key = server.createKey('ECC_NIST_P256');
    const o = opts(server);
    const signer = await resolveSigner(`awskms:///${key.arn}`, { aws: { ...o.aws, region: undefined } });
    await expect(signer.publicKey()).resolves.toBeDefined();
  });

  it('without a host in the URI the SDK honours AWS_ENDPOINT_URL_KMS (plain http for tests)', async () => {
    server.createKey('ECC_NIST_P256', { alias: 'envendpoint' });
    const old = process.env['AWS_ENDPOINT_URL_KMS'];
    process.env['AWS_ENDPOINT_URL_KMS'] = server.url;
    try {
      const o = opts(server);
      const signer = await resolveSigner('awskms:///alias/envendpoint', { aws: { ...o.aws, endpoint: undefined } });
      const msg = Buffer.from('env endpoint');
      expect(verifyLocally(await signer.publicKey(), 'sha256', msg, await signer.sign(msg))).toBe(true);
    } finally {
      if (old === undefined) delete process.env['AWS_ENDPOINT_URL_KMS'];
      else process.env['AWS_ENDPOINT_URL_KMS'] = old;
    }
  });

  it('resolveVerifier verifies locally', async () => {
    server.createKey('ECC_NIST_P256', { alias: 'verifier' });
    const signer = await resolveSigner('awskms:///alias/verifier', opts(server));
    const sig = await signer.sign(Buffer.from('x'));
    const v = await resolveVerifier('awskms:///alias/verifier', opts(server));
    expect(await v.verify(Buffer.from('x'), sig)).toBe(true);
    expect(await v.verify(Buffer.from('y'), sig)).toBe(false);
  });

  it('uses https://host:port from the URI with a custom CA bundle (AWS_CA_BUNDLE-style)', async () => {
    tlsServer.createKey('ECC_NIST_P256', { alias: 'tls' });
    const ref = `awskms://${tlsServer.host}/alias/tls`;
    const o = opts(tlsServer);
    const signer = await resolveSigner(ref, { aws: { ...o.aws, endpoint: undefined, caBundle: TEST_CA_PATH } });
    const msg = Buffer.from('over tls');
    expect(verifyLocally(await signer.publicKey(), 'sha256', msg, await signer.sign(msg))).toBe(true);
    // AWS_CA_BUNDLE from the env works too
    const s2 = await resolveSigner(ref, { env: { AWS_CA_BUNDLE: TEST_CA_PATH }, aws: { ...o.aws, endpoint: undefined } });
    await expect(s2.publicKey()).resolves.toBeDefined();
    // without the CA: a TLS failure is a network error
    const s3 = await resolveSigner(ref, { env: {}, aws: { ...o.aws, endpoint: undefined } });
    await expectKmsError(s3.publicKey(), 'KMS_NETWORK', ref, [tlsServer.secretAccessKey]);
  });
});

describe('AWS KMS failures', () => {
  const secrets = (): string[] => [server.secretAccessKey];

  it('disabled key → KMS_KEY_DISABLED', async () => {
    const key = server.createKey('ECC_NIST_P256', { alias: 'disabled' });
    key.state = 'Disabled';
    const ref = 'awskms:///alias/disabled';
    const signer = await resolveSigner(ref, opts(server));
    const e = await expectKmsError(signer.sign(Buffer.from('x')), 'KMS_KEY_DISABLED', ref, secrets());
    expect(e.message).toContain('DisabledException');
  });

  it('pending deletion → KMS_KEY_DISABLED (KMSInvalidStateException)', async () => {
    const key = server.createKey('ECC_NIST_P256', { alias: 'pending' });
    key.state = 'PendingDeletion';
    await expectKmsError((await resolveSigner('awskms:///alias/pending', opts(server))).publicKey(), 'KMS_KEY_DISABLED', 'awskms:///alias/pending', secrets());
  });

  it('key disabled after the public key was cached: Sign fails typed', async () => {
    const key = server.createKey('ECC_NIST_P256', { alias: 'later' });
    const signer = await resolveSigner('awskms:///alias/later', opts(server));
    await signer.sign(Buffer.from('ok'));
    key.state = 'Disabled';
    await expectKmsError(signer.sign(Buffer.from('x')), 'KMS_KEY_DISABLED', 'awskms:///alias/later', secrets());
  });

  it('access denied → KMS_ACCESS_DENIED', async () => {
    const key = server.createKey('ECC_NIST_P256', { alias: 'denied' });
    key.deny = true;
    await expectKmsError(
      (await resolveSigner('awskms:///alias/denied', opts(server))).sign(Buffer.from('x')),
      'KMS_ACCESS_DENIED',
      'awskms:///alias/denied',
      secrets(),
    );
  });

  it('wrong secret key → KMS_ACCESS_DENIED (SigV4 checked by the server), secret not echoed', async () => {
    server.createKey('ECC_NIST_P256', { alias: 'badsig' });
    const wrong = 'wrongSecretKeyThatMustNotLeak/000000000000';
    const o = opts(server, { credentials: { accessKeyId: server.accessKeyId, secretAccessKey: wrong } });
    const fails = server.authFailures.length;
    const e = await expectKmsError((await resolveSigner('awskms:///alias/badsig', o)).publicKey(), 'KMS_ACCESS_DENIED', 'awskms:///alias/badsig', [
      wrong,
      server.secretAccessKey,
    ]);
    expect(e.message).toContain('InvalidSignatureException');
    expect(server.authFailures.slice(fails)).toEqual(['InvalidSignatureException']);
  });

  it('unknown access key → KMS_ACCESS_DENIED', async () => {
    const o = opts(server, { credentials: { accessKeyId: 'AKIDUNKNOWN000000000', secretAccessKey: 'x'.repeat(40) } });
    await expectKmsError((await resolveSigner('awskms:///alias/badsig', o)).publicKey(), 'KMS_ACCESS_DENIED', 'awskms:///alias/badsig', ['x'.repeat(40)]);
  });

  it('throttled → KMS_THROTTLED (after the SDK retries)', async () => {
    const key = server.createKey('ECC_NIST_P256', { alias: 'throttled' });
    key.throttle = true;
    const before = server.calls.length;
    await expectKmsError(
      (await resolveSigner('awskms:///alias/throttled', opts(server, { maxAttempts: 2 }))).publicKey(),
      'KMS_THROTTLED',
      'awskms:///alias/throttled',
      secrets(),
    );
    expect(server.calls.length - before).toBe(2); // the SDK retried throttling once
  });

  it('wrong key usage → KMS_WRONG_KEY_USAGE', async () => {
    server.createKey('RSA_2048', { alias: 'encrypt', usage: 'ENCRYPT_DECRYPT' });
    await expectKmsError(
      (await resolveSigner('awskms:///alias/encrypt', opts(server))).sign(Buffer.from('x')),
      'KMS_WRONG_KEY_USAGE',
      'awskms:///alias/encrypt',
      secrets(),
    );
  });

  it('unsupported key spec → KMS_UNSUPPORTED_KEY_SPEC', async () => {
    server.createKey('ECC_SECG_P256K1', { alias: 'k1' });
    const e = await expectKmsError(
      (await resolveSigner('awskms:///alias/k1', opts(server))).sign(Buffer.from('x')),
      'KMS_UNSUPPORTED_KEY_SPEC',
      'awskms:///alias/k1',
      secrets(),
    );
    expect(e.message).toContain('ECC_SECG_P256K1');
  });

  it('unknown key → KMS_ERROR naming NotFound', async () => {
    const e = await expectKmsError((await resolveSigner('awskms:///alias/nope', opts(server))).publicKey(), 'KMS_ERROR', 'awskms:///alias/nope', secrets());
    expect(e.message).toMatch(/not found/i);
  });

  it('network error → KMS_NETWORK', async () => {
    const port = await deadPort();
    const ref = 'awskms:///alias/x';
    const e = await expectKmsError(
      (await resolveSigner(ref, opts(server, { endpoint: `http://127.0.0.1:${port}` }))).publicKey(),
      'KMS_NETWORK',
      ref,
      secrets(),
    );
    expect(e.message).toContain(`reaching 127.0.0.1:${port}`);
  });

  it('server 500 → KMS_ERROR', async () => {
    server.createKey('ECC_NIST_P256', { alias: 'five' });
    server.failAll = true;
    try {
      await expectKmsError((await resolveSigner('awskms:///alias/five', opts(server))).publicKey(), 'KMS_ERROR', 'awskms:///alias/five', secrets());
    } finally {
      server.failAll = false;
    }
  });

  it('a transient failure is not cached: the next call retries GetPublicKey', async () => {
    const key = server.createKey('ECC_NIST_P256', { alias: 'transient' });
    key.throttle = true;
    const signer = await resolveSigner('awskms:///alias/transient', opts(server));
    await expect(signer.publicKey()).rejects.toMatchObject({ code: 'KMS_THROTTLED' });
    key.throttle = false;
    await expect(signer.publicKey()).resolves.toBeDefined();
  });
});
