/**
 * cosign-ts signs keyless (Fulcio certificate, Rekor entry, RFC 3161 timestamp from a private Sigstore
 * instance: `@sigstore/mock` over node:http) → real cosign 2.5 and cosign 3.1 verify the certificate
 * identity against that instance's trust material, and refuse another identity.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/digest.js';
import { RegistryClient } from '../../src/oci/index.js';
import { fulcioSigner } from '../../src/sign/keyless.js';
import { signImage } from '../../src/sign/image.js';
import { cosign, cosign3, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';
import { GITHUB_CLAIMS, mockIdentityToken, startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';

describe.skipIf(skipReal(['registry', 'cosign', 'cosign3']))('keyless signatures made by cosign-ts verify with real cosign', () => {
  let reg: RealRegistry;
  let sigstore: SigstoreMock;
  let work: string;
  let env: Record<string, string>;
  let n = 0;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  const file = (name: string) => path.join(work, name);

  beforeAll(async () => {
    reg = await startRegistry();
    sigstore = await startSigstoreMock();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-keyless-'));
    env = await isolatedToolEnv(path.join(work, 'home'));
    await writeFile(file('trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
    await writeFile(file('fulcio.pem'), sigstore.fulcioRootPem);
    await writeFile(file('rekor.pub'), sigstore.rekorPublicKeyPem);
    await writeFile(file('ctlog.pub'), sigstore.ctlogPublicKeyPem);
    await writeFile(file('tsa.pem'), sigstore.tsaChainPem);
  }, 120_000);
  afterAll(async () => {
    client.close();
    await reg?.stop();
    await sigstore?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  async function signedImage(witness: { tsa: boolean; bundle?: boolean }): Promise<string> {
    const repo = `keyless/app${++n}`;
    const digest = (await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } })) as Digest;
    const ref = `${reg.host}/${repo}@${digest}`;
    const signer = fulcioSigner({ fulcioURL: sigstore.fulcioURL, identityToken: mockIdentityToken() });
    await signImage(ref, signer, {
      client,
      witness: { rekorURL: sigstore.rekorURL, ...(witness.tsa ? { tsaURL: sigstore.tsaURL } : {}) },
      ...(witness.bundle === true ? { format: 'bundle' as const } : {}),
    });
    return ref;
  }

  const identity = ['--certificate-identity', GITHUB_CLAIMS.sub, '--certificate-oidc-issuer', GITHUB_CLAIMS.iss];

  it('cosign 3.1 verify --trusted-root accepts the identity (Rekor SET, SCT, TSA) and refuses another', async () => {
    const ref = await signedImage({ tsa: true });
    const ok = await cosign3(['verify', '--trusted-root', file('trusted_root.json'), '--allow-http-registry', ...identity, ref], { env });
    expect(ok.code, ok.stderr).toBe(0);
    const [line] = JSON.parse(ok.stdout) as Array<{ optional?: Record<string, unknown> }>;
    expect(line?.optional?.Subject).toBe(GITHUB_CLAIMS.sub);
    expect(line?.optional?.Issuer).toBe(GITHUB_CLAIMS.iss);
    expect(line?.optional?.githubWorkflowRepository).toBe(GITHUB_CLAIMS.repository);
    expect(line?.optional?.RFC3161Timestamp).toBeDefined();
    const bad = await cosign3(
      [
        'verify',
        '--trusted-root',
        file('trusted_root.json'),
        '--allow-http-registry',
        '--certificate-identity',
        'someone-else',
        '--certificate-oidc-issuer',
        GITHUB_CLAIMS.iss,
        ref,
      ],
      { env },
    );
    expect(bad.code).not.toBe(0);
  }, 120_000);

  it('cosign 2.5 verify with SIGSTORE_ROOT_FILE / SIGSTORE_REKOR_PUBLIC_KEY / SIGSTORE_CT_LOG_PUBLIC_KEY_FILE accepts it', async () => {
    const ref = await signedImage({ tsa: false });
    const env2 = {
      ...env,
      SIGSTORE_ROOT_FILE: file('fulcio.pem'),
      SIGSTORE_REKOR_PUBLIC_KEY: file('rekor.pub'),
      SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: file('ctlog.pub'),
    };
    const ok = await cosign(['verify', '--allow-http-registry', ...identity, ref], { env: env2 });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('The code-signing certificate was verified using trusted certificate authority certificates');
  }, 120_000);

  it('cosign 2.5 verify --timestamp-certificate-chain accepts a signature with a timestamp', async () => {
    const ref = await signedImage({ tsa: true });
    const env2 = {
      ...env,
      SIGSTORE_ROOT_FILE: file('fulcio.pem'),
      SIGSTORE_REKOR_PUBLIC_KEY: file('rekor.pub'),
      SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: file('ctlog.pub'),
    };
    const ok = await cosign(['verify', '--timestamp-certificate-chain', file('tsa.pem'), '--allow-http-registry', ...identity, ref], { env: env2 });
    expect(ok.code, ok.stderr).toBe(0);
    const [line] = JSON.parse(ok.stdout) as Array<{ optional?: Record<string, unknown> }>;
    expect(line?.optional?.RFC3161Timestamp).toBeDefined();
  }, 120_000);

  it('bundle format (cosign 3): a keyless Sigstore bundle referrer with a dsse Rekor entry and a timestamp, verified by cosign 3.1', async () => {
    const ref = await signedImage({ tsa: true, bundle: true });
    const ok = await cosign3(['verify', '--trusted-root', file('trusted_root.json'), '--allow-http-registry', ...identity, ref], { env });
    expect(ok.code, ok.stderr).toBe(0);
    const [line] = JSON.parse(ok.stdout) as Array<{ critical?: { type?: string }; optional?: Record<string, unknown> }>;
    expect(line?.critical?.type).toBe('https://sigstore.dev/cosign/sign/v1');
    const bad = await cosign3(
      [
        'verify',
        '--trusted-root',
        file('trusted_root.json'),
        '--allow-http-registry',
        '--certificate-identity',
        'x',
        '--certificate-oidc-issuer',
        GITHUB_CLAIMS.iss,
        ref,
      ],
      { env },
    );
    expect(bad.code).not.toBe(0);
  }, 120_000);
});
