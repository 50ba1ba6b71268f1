/**
 * `cosign-ts sign` keyless through the shipped bin: --identity-token (or SIGSTORE_ID_TOKEN), --fulcio-url,
 * --rekor-url, --timestamp-server-url against a private Sigstore instance (`@sigstore/mock` over node:http),
 * both formats; --output-certificate; --tlog-upload=false with a TSA; the token never reaches the output.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSignatureManifest } from '../../../src/artifact/image.js';
import { parseSignatureLayer } from '../../../src/artifact/layer.js';
import { signatureTag } from '../../../src/artifact/tags.js';
import { RegistryClient } from '../../../src/oci/index.js';
import { parseReference, withTag } from '../../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
import { GITHUB_CLAIMS, mockIdentityToken, startSigstoreMock, type SigstoreMock } from '../../helpers/sigstore-mock.js';
import { cosign3, isolatedToolEnv, skipReal } from '../../helpers/real/index.js';
import { cli, ensureBuilt, tempDir } from '../helpers.js';

describe('cosign-ts sign, keyless', () => {
  let sigstore: SigstoreMock;
  let reg: TestRegistry;
  let n = 0;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  const token = mockIdentityToken();
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

  async function image(): Promise<{ ref: string; repo: string; digest: string }> {
    const repo = `kl/app${++n}`;
    const digest = await pushSampleImage(client, `${reg.host}/${repo}:v1`, { n: String(n) });
    return { ref: `${reg.host}/${repo}@${digest}`, repo, digest };
  }

  it('signs with a Fulcio certificate, a Rekor entry and a timestamp; prints the tlog index; writes the certificate', async () => {
    const { ref, repo, digest } = await image();
    const dir = await tempDir();
    const r = await cli([
      'sign',
      '--fulcio-url',
      sigstore.fulcioURL,
      '--rekor-url',
      sigstore.rekorURL,
      '--timestamp-server-url',
      sigstore.tsaURL,
      '--identity-token',
      token,
      '--output-certificate',
      path.join(dir, 'cert.pem'),
      '--yes',
      ref,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/tlog entry created with index: \d+/);
    expect(`${r.stdout}${r.stderr}`).not.toContain(token);
    const cert = new X509Certificate(await readFile(path.join(dir, 'cert.pem')));
    expect(cert.subjectAltName).toBe(`URI:${GITHUB_CLAIMS.sub}`);
    const sigRef = withTag(parseReference(`${reg.host}/${repo}`), signatureTag(digest as never));
    const m = await client.getManifest(sigRef);
    const [d] = parseSignatureManifest(m.bytes).layers;
    const layer = parseSignatureLayer(d, await client.getBlob(sigRef, d!.digest));
    expect(layer.certificate).toBe(cert.toString());
    expect(layer.bundle).toBeDefined();
    expect(layer.rfc3161Timestamp).toBeDefined();
  }, 60_000);

  it('SIGSTORE_ID_TOKEN, --tlog-upload=false with a timestamp authority, --new-bundle-format', async () => {
    const { ref, repo, digest } = await image();
    const before = sigstore.requests.get('/api/v1/log/entries') ?? 0;
    const r = await cli(
      ['sign', '--fulcio-url', sigstore.fulcioURL, '--tlog-upload=false', '--timestamp-server-url', sigstore.tsaURL, '--new-bundle-format', '--yes', ref],
      {
        env: { SIGSTORE_ID_TOKEN: token },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('tlog entry created');
    expect(sigstore.requests.get('/api/v1/log/entries') ?? 0).toBe(before);
    const refs = await client.referrers(parseReference(`${reg.host}/${repo}`), digest as never);
    expect(refs.length).toBe(1);
  }, 60_000);

  it('a Fulcio that fails: exit 1, a short message, no token in it', async () => {
    const { ref } = await image();
    const r = await cli(['sign', '--fulcio-url', `${sigstore.url}/broken`, '--rekor-url', sigstore.rekorURL, '--identity-token', token, '--yes', ref]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Fulcio certificate request');
    expect(`${r.stdout}${r.stderr}`).not.toContain(token);
  }, 60_000);

  it.skipIf(skipReal(['cosign3']))(
    '--signing-config: the file cosign 3.1 `signing-config create` writes selects Fulcio, Rekor and the TSA; cosign 3.1 verifies',
    async () => {
      const dir = await tempDir();
      const env = await isolatedToolEnv(path.join(dir, 'home'));
      const at = (url: string) => `url=${url},api-version=1,start-time=2024-01-01T00:00:00Z,operator=mock`;
      const made = await cosign3(
        [
          'signing-config',
          'create',
          '--no-default-fulcio',
          '--no-default-rekor',
          '--no-default-tsa',
          '--no-default-oidc',
          `--fulcio=${at(sigstore.fulcioURL)}`,
          `--rekor=${at(sigstore.rekorURL)}`,
          '--rekor-config=ANY',
          `--tsa=${at(sigstore.tsaURL)}`,
          '--tsa-config=EXACT:1',
          '--out',
          path.join(dir, 'signing_config.json'),
        ],
        { env },
      );
      expect(made.code, made.stderr).toBe(0);
      await writeFile(path.join(dir, 'trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
      const { ref } = await image();
      const before = sigstore.requests.get('/api/v1/timestamp') ?? 0;
      const r = await cli(['sign', '--signing-config', path.join(dir, 'signing_config.json'), '--identity-token', token, '--new-bundle-format', '--yes', ref]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/tlog entry created with index: \d+/);
      expect(sigstore.requests.get('/api/v1/timestamp') ?? 0).toBe(before + 1);
      const v = await cosign3(
        [
          'verify',
          '--trusted-root',
          path.join(dir, 'trusted_root.json'),
          '--allow-http-registry',
          '--certificate-identity',
          GITHUB_CLAIMS.sub,
          '--certificate-oidc-issuer',
          GITHUB_CLAIMS.iss,
          ref,
        ],
        { env },
      );
      expect(v.code, v.stderr).toBe(0);
      const both = await cli([
        'sign',
        '--signing-config',
        path.join(dir, 'signing_config.json'),
        '--rekor-url',
        sigstore.rekorURL,
        '--identity-token',
        token,
        ref,
      ]);
      expect(both.code).toBe(1);
      expect(both.stderr).toContain('--rekor-url and --signing-config cannot be used together');
    },
    120_000,
  );
});
