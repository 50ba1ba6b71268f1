/**
 * `cosign-ts verify --certificate FILE` (cosign's bring-your-own-certificate path): the given certificate
 * is used instead of the one on the signature, and checked against the trusted root like it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/oci/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
import { GITHUB_CLAIMS, mockIdentityToken, startSigstoreMock, type SigstoreMock } from '../../helpers/sigstore-mock.js';
import { cli, ensureBuilt, tempDir } from '../helpers.js';

describe('cosign-ts verify --certificate', () => {
  let sigstore: SigstoreMock;
  let reg: TestRegistry;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  beforeAll(async () => {
    ensureBuilt();
    sigstore = await startSigstoreMock();
    reg = await startTestRegistry();
  }, 120_000);
  afterAll(async () => {
    client.close();
    await reg?.close();
    await sigstore?.stop();
  });

  it('verifies with the given certificate, refuses another one and a file that is not a certificate', async () => {
    const dir = await tempDir();
    const signed: { ref: string; cert: string }[] = [];
    for (const n of [1, 2]) {
      const digest = await pushSampleImage(client, `${reg.host}/byo/app${n}:v1`, { n: String(n) });
      const ref = `${reg.host}/byo/app${n}@${digest}`;
      const cert = path.join(dir, `cert${n}.pem`);
      const r = await cli([
        'sign',
        '--fulcio-url',
        sigstore.fulcioURL,
        '--rekor-url',
        sigstore.rekorURL,
        '--identity-token',
        mockIdentityToken(),
        '--output-certificate',
        cert,
        '--yes',
        ref,
      ]);
      expect(r.code, r.stderr).toBe(0);
      signed.push({ ref, cert });
    }
    const root = path.join(dir, 'trusted_root.json');
    await writeFile(root, JSON.stringify(sigstore.trustedRoot));
    const [one, two] = signed as [{ ref: string; cert: string }, { ref: string; cert: string }];
    const verify = (cert: string) =>
      cli([
        'verify',
        '--trusted-root',
        root,
        '--certificate',
        cert,
        '--certificate-identity',
        GITHUB_CLAIMS.sub,
        '--certificate-oidc-issuer',
        GITHUB_CLAIMS.iss,
        '--allow-insecure-registry',
        one.ref,
      ]);
    const ok = await verify(one.cert);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toHaveLength(1);
    // Another certificate of the same identity: its key did not make this signature.
    const other = await verify(two.cert);
    expect(other.code, other.stderr).toBe(12);
    const notCert = path.join(dir, 'not-a-cert.pem');
    await writeFile(notCert, await readFile(root));
    const bad = await verify(notCert);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not a PEM X.509 certificate');
  }, 120_000);
});
