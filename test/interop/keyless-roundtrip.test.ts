/**
 * The whole keyless loop on a private Sigstore instance (`@sigstore/mock` over node:http): cosign-ts signs
 * keyless (OIDC token, Fulcio certificate with its SCT, Rekor entry, RFC 3161 timestamp, signature in the
 * registry), then cosign-ts verifies it against a trusted root built from the mock instance, library and
 * CLI (legacy `.sig` and Sigstore bundle), and prints the same stdout bytes as cosign 3.1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/digest.js';
import { RegistryClient } from '../../src/oci/index.js';
import { fulcioSigner } from '../../src/sign/keyless.js';
import { signImage } from '../../src/sign/image.js';
import { identityAuthority } from '../../src/verify/authority.js';
import { verifyImage } from '../../src/verify/image.js';
import { trustFromTrustedRootJson } from '../../src/verify/trust.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign3, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';
import { GITHUB_CLAIMS, mockIdentityToken, startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';

describe.skipIf(skipReal(['registry', 'cosign3']))('keyless round trip on a mock Sigstore instance: cosign-ts signs, cosign-ts verifies', () => {
  let reg: RealRegistry;
  let sigstore: SigstoreMock;
  let work: string;
  let env: Record<string, string>;
  let n = 0;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  const file = (name: string) => path.join(work, name);

  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry();
    sigstore = await startSigstoreMock();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-keyless-rt-'));
    env = await isolatedToolEnv(path.join(work, 'home'));
    await writeFile(file('trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
  }, 120_000);
  afterAll(async () => {
    client.close();
    await reg?.stop();
    await sigstore?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  async function signedImage(bundle: boolean): Promise<string> {
    const repo = `keyless-rt/app${++n}`;
    const digest = (await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } })) as Digest;
    const ref = `${reg.host}/${repo}@${digest}`;
    const signer = fulcioSigner({ fulcioURL: sigstore.fulcioURL, identityToken: mockIdentityToken() });
    await signImage(ref, signer, {
      client,
      witness: { rekorURL: sigstore.rekorURL, tsaURL: sigstore.tsaURL },
      ...(bundle ? { format: 'bundle' as const } : {}),
    });
    return ref;
  }
  const identity = ['--certificate-identity', GITHUB_CLAIMS.sub, '--certificate-oidc-issuer', GITHUB_CLAIMS.iss];

  // The bundle's dsse entry verifies since the mock's Rekor stores Rekor's canonical dsse body (with `signatures`).
  it.each([
    ['legacy .sig', false],
    ['Sigstore bundle', true],
  ])(
    '%s: library and CLI verify against the mock trusted root; another identity or workflow is refused',
    async (_, bundle) => {
      const ref = await signedImage(bundle);
      const trust = trustFromTrustedRootJson(Buffer.from(JSON.stringify(sigstore.trustedRoot)), 'mock trusted root');
      const id = identityAuthority({ subject: GITHUB_CLAIMS.sub, issuer: GITHUB_CLAIMS.iss, githubWorkflow: { repository: GITHUB_CLAIMS.repository } });
      const r = await verifyImage(ref, { client, authorities: [id], keyless: { trust } });
      expect(r.signatures[0]?.certificate?.subject).toBe(GITHUB_CLAIMS.sub);
      const other = identityAuthority({ subject: GITHUB_CLAIMS.sub, issuer: GITHUB_CLAIMS.iss, githubWorkflow: { repository: 'evil/fork' } });
      await expect(verifyImage(ref, { client, authorities: [other], keyless: { trust } })).rejects.toMatchObject({ code: 'NO_MATCHING_SIGNATURES' });

      const ours = await cli(['verify', '--trusted-root', file('trusted_root.json'), '--allow-http-registry', ...identity, ref], { env });
      expect(ours.code, ours.stderr).toBe(0);
      const theirs = await cosign3(['verify', '--trusted-root', file('trusted_root.json'), '--allow-http-registry', ...identity, ref], { env });
      expect(theirs.code, theirs.stderr).toBe(0);
      // The same stdout bytes as cosign 3.1 (Bundle, RFC3161Timestamp, Subject, Issuer, GitHub workflow fields and OIDs).
      expect(ours.stdout).toBe(theirs.stdout);
      const bad = await cli(
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
        {
          env,
        },
      );
      expect(bad.code).not.toBe(0);
    },
    120_000,
  );
});
