/**
 * Keyless signing against a private Sigstore instance (`@sigstore/mock` served over node:http): OIDC token
 * → Fulcio certificate with its SCT → Rekor entry → TSA timestamp → `.sig` layer in the registry; the layer
 * carries what cosign writes, and its Rekor bundle and timestamp check against the instance's keys.
 */
import { X509Certificate, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSignatureManifest } from '../../src/artifact/image.js';
import { parseSignatureLayer } from '../../src/artifact/layer.js';
import { checkRekorBody, rekorKey, verifyRekorSET } from '../../src/artifact/rekor.js';
import { signatureTag } from '../../src/artifact/tags.js';
import { CosignError } from '../../src/errors.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference, withTag } from '../../src/reference.js';
import { fulcioSigner, identityTokenSubject, resolveIdentityToken } from '../../src/sign/keyless.js';
import { signImage } from '../../src/sign/image.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { GITHUB_CLAIMS, mockIdentityToken, startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';

describe('resolveIdentityToken', () => {
  const token = mockIdentityToken();
  it('takes the explicit token first, then SIGSTORE_ID_TOKEN', async () => {
    expect(await resolveIdentityToken({ token, env: { SIGSTORE_ID_TOKEN: 'x.y.z' } })).toBe(token);
    expect(await resolveIdentityToken({ env: { SIGSTORE_ID_TOKEN: ` ${token}\n` } })).toBe(token);
  });
  it('reads --identity-token as a file path when it is not a JWT', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-token-'));
    try {
      await writeFile(path.join(dir, 't'), `${token}\n`);
      expect(await resolveIdentityToken({ token: path.join(dir, 't'), env: {} })).toBe(token);
      await expect(resolveIdentityToken({ token: path.join(dir, 'missing'), env: {} })).rejects.toMatchObject({ code: 'NO_IDENTITY_TOKEN' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('asks GitHub Actions for a token with audience sigstore, and never prints the request token', async () => {
    let seen: { url?: string; auth?: string } = {};
    const server: Server = createServer((req, res) => {
      seen = { url: req.url ?? '', auth: req.headers.authorization ?? '' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: token }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`;
    try {
      const got = await resolveIdentityToken({
        env: { ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'gh-secret' },
        tokenFile: '/nonexistent',
      });
      expect(got).toBe(token);
      expect(seen.url).toBe('/token?api-version=2.0&audience=sigstore');
      expect(seen.auth).toBe('Bearer gh-secret');
    } finally {
      server.close();
    }
  });
  it('fails with NO_IDENTITY_TOKEN when nothing gives a token', async () => {
    const e = await resolveIdentityToken({ env: {}, tokenFile: '/nonexistent' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CosignError);
    expect((e as CosignError).code).toBe('NO_IDENTITY_TOKEN');
  });
  it('finds the subject Fulcio binds: a verified email, else sub', () => {
    expect(identityTokenSubject(mockIdentityToken({ sub: 's' }))).toBe('s');
    expect(identityTokenSubject(mockIdentityToken({ sub: 's', email: 'a@b.c', email_verified: true }))).toBe('a@b.c');
    expect(() => identityTokenSubject(mockIdentityToken({ sub: 's', email: 'a@b.c' }))).toThrow(/not verified/);
  });
});

describe('keyless signImage against a mock Sigstore instance', () => {
  let sigstore: SigstoreMock;
  let reg: TestRegistry;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  beforeAll(async () => {
    sigstore = await startSigstoreMock();
    reg = await startTestRegistry();
  }, 60_000);
  afterAll(async () => {
    client.close();
    await reg?.close();
    await sigstore?.stop();
  });

  it('writes the certificate, chain, Rekor bundle and timestamp annotations, which check against the instance', async () => {
    const ref = parseReference(`${reg.host}/keyless/app:v1`);
    const digest = await pushSampleImage(client, ref);
    const signer = fulcioSigner({ fulcioURL: sigstore.fulcioURL, identityToken: mockIdentityToken() });
    const res = await signImage(`${reg.host}/keyless/app@${digest}`, signer, {
      client,
      witness: { rekorURL: sigstore.rekorURL, tsaURL: sigstore.tsaURL },
    });
    expect(res.signed[0]?.appended).toBe(true);
    const m = await client.getManifest(withTag(ref, signatureTag(digest)));
    const [d] = parseSignatureManifest(m.bytes).layers;
    const blob = await client.getBlob(ref, d!.digest);
    const layer = parseSignatureLayer(d, blob);

    // certificate: issued by the mock Fulcio root for the token's subject, for the key that signed
    const leaf = new X509Certificate(layer.certificate!);
    const root = new X509Certificate(sigstore.fulcioRootPem);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe(`URI:${GITHUB_CLAIMS.sub}`);
    expect(layer.chain).toBe(sigstore.fulcioRootPem);
    expect(cryptoVerify('sha256', layer.payload, leaf.publicKey, layer.signature)).toBe(true);

    // Rekor: the SET verifies with the log key, and the entry is this signature with this certificate
    verifyRekorSET(layer.bundle!, [rekorKey(sigstore.rekorPublicKeyPem)]);
    checkRekorBody(layer.bundle!, { payload: layer.payload, signature: layer.signature, publicKeyOrCertPem: layer.certificate! });
    expect(layer.bundle!.payload.logID).toBe(rekorKey(sigstore.rekorPublicKeyPem).logId);

    // timestamp present
    expect(layer.rfc3161Timestamp?.signedRfc3161Timestamp.byteLength).toBeGreaterThan(100);
    expect(sigstore.requests.get('/api/v2/signingCert')).toBe(1);
  });

  it('one certificate for a batch: several images signed by one signer ask Fulcio once', async () => {
    const before = sigstore.requests.get('/api/v2/signingCert') ?? 0;
    const signer = fulcioSigner({ fulcioURL: sigstore.fulcioURL, identityToken: mockIdentityToken() });
    for (const n of [1, 2, 3]) {
      const ref = parseReference(`${reg.host}/keyless/batch${n}:v1`);
      const digest = await pushSampleImage(client, ref, { n: String(n) });
      await signImage(`${reg.host}/keyless/batch${n}@${digest}`, signer, { client, witness: { rekorURL: sigstore.rekorURL } });
    }
    expect((sigstore.requests.get('/api/v2/signingCert') ?? 0) - before).toBe(1);
  });

  it('a KMS or file key can be the key holder', async () => {
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { signerFromPrivateKey } = await import('../../src/keys/file-signer.js');
    const holder = signerFromPrivateKey(kp.privateKey, 'test key');
    const signer = fulcioSigner({ fulcioURL: sigstore.fulcioURL, identityToken: mockIdentityToken(), keyHolder: holder });
    const cert = await signer.certificate();
    expect(new X509Certificate(cert.certificate).publicKey.export({ type: 'spki', format: 'pem' })).toBe(kp.publicKey.export({ type: 'spki', format: 'pem' }));
  });

  it('a failing Fulcio is a SIGSTORE_ERROR whose message never holds the token', async () => {
    const token = mockIdentityToken({ sub: 'secret-subject-xyz' });
    const signer = fulcioSigner({ fulcioURL: `${sigstore.url}/nowhere`, identityToken: token, timeoutMs: 5000 });
    const e = (await signer.certificate().catch((x: unknown) => x)) as CosignError;
    expect(e).toBeInstanceOf(CosignError);
    expect(e.code).toBe('SIGSTORE_ERROR');
    expect(`${e.message} ${String(e.stack)}`).not.toContain(token);
  });

  it('Rekor v2 with the .sig format is refused before anything is signed or uploaded (no SET to store)', async () => {
    const before = sigstore.requests.get('/api/v2/signingCert') ?? 0;
    const signer = fulcioSigner({ fulcioURL: sigstore.fulcioURL, identityToken: mockIdentityToken() });
    const e = (await signImage(`${reg.host}/keyless/app@sha256:${'a'.repeat(64)}`, signer, {
      client,
      witness: { rekorURL: sigstore.rekorURL, rekorVersion: 2 },
    }).catch((x: unknown) => x)) as CosignError;
    expect(e.code).toBe('UNSUPPORTED');
    expect(sigstore.requests.get('/api/v2/signingCert') ?? 0).toBe(before);
  });
});
