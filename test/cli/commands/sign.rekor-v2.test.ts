/**
 * Keyless signing with a signing config that selects a Rekor v2 log (`majorApiVersion: 2`): the Sigstore
 * bundle carries a v0.0.2 entry (inclusion proof and checkpoint, no SET, no integrated time) and an RFC 3161
 * timestamp; cosign-ts verifies it against a trusted root that lists the v2 log as real Rekor v2 logs appear
 * (Ed25519 key, `baseUrl`, log ID = checkpoint key ID), and so does cosign 3.1.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/oci/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
import { GITHUB_CLAIMS, mockIdentityToken, startRekorV2Mock, startSigstoreMock, type RekorV2Mock, type SigstoreMock } from '../../helpers/sigstore-mock.js';
import { cosign3, isolatedToolEnv, skipReal } from '../../helpers/real/index.js';
import { cli, ensureBuilt, tempDir } from '../helpers.js';

describe('cosign-ts sign with Rekor v2', () => {
  let sigstore: SigstoreMock;
  let rekor2: RekorV2Mock;
  let reg: TestRegistry;
  let dir: string;
  let n = 0;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  beforeAll(async () => {
    ensureBuilt();
    sigstore = await startSigstoreMock();
    rekor2 = await startRekorV2Mock();
    reg = await startTestRegistry();
    dir = await tempDir();
    const start = '2024-01-01T00:00:00Z';
    const service = (url: string, majorApiVersion: number) => ({ url, majorApiVersion, validFor: { start }, operator: 'mock' });
    await writeFile(
      path.join(dir, 'signing_config.json'),
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
        caUrls: [service(sigstore.fulcioURL, 1)],
        rekorTlogUrls: [service(sigstore.rekorURL, 1), service(rekor2.url, 2)],
        rekorTlogConfig: { selector: 'ANY' },
        tsaUrls: [service(sigstore.tsaURL, 1)],
        tsaConfig: { selector: 'ANY' },
      }),
    );
    const root = sigstore.trustedRoot as { tlogs: unknown[] };
    await writeFile(path.join(dir, 'trusted_root.json'), JSON.stringify({ ...root, tlogs: [...root.tlogs, rekor2.trustedRootLog] }));
  }, 120_000);
  afterAll(async () => {
    client.close();
    await reg?.close();
    await rekor2?.stop();
    await sigstore?.stop();
  });

  async function signed(): Promise<string> {
    const repo = `r2/app${++n}`;
    const digest = await pushSampleImage(client, `${reg.host}/${repo}:v1`, { n: String(n) });
    const ref = `${reg.host}/${repo}@${digest}`;
    const before = rekor2.entries();
    const r = await cli([
      'sign',
      '--signing-config',
      path.join(dir, 'signing_config.json'),
      '--identity-token',
      mockIdentityToken(),
      '--new-bundle-format',
      '--yes',
      ref,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(rekor2.entries()).toBe(before + 1); // the v2 log was chosen over the v1 log
    return ref;
  }

  /** The Sigstore bundle attached to `ref` (its single referrer). */
  async function bundleOf(
    ref: string,
  ): Promise<{ verificationMaterial: { tlogEntries: Array<Record<string, unknown>>; timestampVerificationData?: unknown } }> {
    const [name, digest] = ref.split('@') as [string, string];
    const repo = name.slice(reg.host.length + 1);
    const get = async (p: string, accept?: string) => {
      const r = await fetch(`http://${reg.host}/v2/${repo}/${p}`, accept === undefined ? {} : { headers: { accept } });
      expect(r.status).toBe(200);
      return r;
    };
    const index = (await (await get(`referrers/${digest}`)).json()) as { manifests: Array<{ digest: string }> };
    expect(index.manifests).toHaveLength(1);
    const manifest = (await (await get(`manifests/${index.manifests[0]!.digest}`, 'application/vnd.oci.image.manifest.v1+json')).json()) as {
      layers: Array<{ digest: string }>;
    };
    return (await (await get(`blobs/${manifest.layers[0]!.digest}`)).json()) as never;
  }

  const verifyArgs = (ref: string, root = path.join(dir, 'trusted_root.json')) => [
    'verify',
    '--trusted-root',
    root,
    '--certificate-identity',
    GITHUB_CLAIMS.sub,
    '--certificate-oidc-issuer',
    GITHUB_CLAIMS.iss,
    ref,
  ];

  it('signs: a bundle with a v0.0.2 entry and a timestamp; cosign-ts verify accepts it, and refuses it without the v2 log or the TSA', async () => {
    const ref = await signed();
    const bundle = await bundleOf(ref);
    const [entry] = bundle.verificationMaterial.tlogEntries;
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    // Rekor v2 logs the DSSE envelope as a hashedrekord v0.0.2 entry over its PAE: no SET, no integrated time.
    expect(entry?.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    expect(entry?.inclusionPromise).toBeUndefined();
    expect(entry?.integratedTime ?? '0').toBe('0');
    expect(entry?.logId).toEqual(rekor2.trustedRootLog.logId);
    expect(bundle.verificationMaterial.timestampVerificationData).toBeDefined();
    const body = JSON.parse(Buffer.from(entry?.canonicalizedBody as string, 'base64').toString('utf8')) as { spec: Record<string, unknown> };
    expect(Object.keys(body.spec)).toEqual(['hashedRekordV002']);
    const v = await cli([...verifyArgs(ref), '--allow-insecure-registry']);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toHaveLength(1);
    // Without the v2 log in the trusted root the entry cannot be verified.
    const root = JSON.parse(await readFile(path.join(dir, 'trusted_root.json'), 'utf8')) as { tlogs: Array<{ baseUrl: string }> };
    const noV2 = path.join(dir, 'trusted_root.no-v2.json');
    await writeFile(noV2, JSON.stringify({ ...root, tlogs: root.tlogs.filter((t) => t.baseUrl !== rekor2.url) }));
    const refused = await cli([...verifyArgs(ref, noV2), '--allow-insecure-registry']);
    expect(refused.code, refused.stderr).not.toBe(0);
    expect(refused.stderr).toContain('checkpoint');
    // Without the TSA there is no verified time (a v2 entry has none).
    const noTsa = path.join(dir, 'trusted_root.no-tsa.json');
    await writeFile(noTsa, JSON.stringify({ ...root, timestampAuthorities: [] }));
    const noTime = await cli([...verifyArgs(ref, noTsa), '--allow-insecure-registry']);
    expect(noTime.code, noTime.stderr).not.toBe(0);
    expect(noTime.stderr).toContain('expected 1 timestamps, got 0');
  }, 120_000);

  it.skipIf(skipReal(['cosign3']))(
    'cosign 3.1 verify --trusted-root accepts it',
    async () => {
      const ref = await signed();
      const env = await isolatedToolEnv(path.join(dir, 'home'));
      const v = await cosign3([...verifyArgs(ref), '--allow-http-registry'], { env });
      expect(v.code, v.stderr).toBe(0);
    },
    120_000,
  );
});
