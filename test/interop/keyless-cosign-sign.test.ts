/**
 * Real cosign signs keyless against a private Sigstore instance (`@sigstore/mock` behind the real wire
 * protocols, test/helpers/sigstore-mock.ts), cosign-ts verifies:
 *
 * - cosign 3.1 `sign` with a `--signing-config` naming the mock's Fulcio (v2 API, bearer token), Rekor v1
 *   (a dsse entry) and timestamp authority (DER RFC 3161 request), or with the service URLs as flags: a
 *   Sigstore bundle stored as an OCI referrer; with `--new-bundle-format=false`, the legacy `.sig`;
 * - cosign 2.5 `sign --fulcio-url --rekor-url` (Fulcio's v1 API, a hashedrekord entry), with and without
 *   `--timestamp-server-url`: the legacy `.sig` tag;
 *
 * each accepted by the library (`identityAuthority` against the mock's trusted root) and by the CLI
 * (`verify --certificate-identity --certificate-oidc-issuer --trusted-root`), and refused for another identity.
 * Also cosign-ts's own keyless bundle, whose dsse entry now comes from a log that stores what Rekor stores.
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
import { cosign, cosign3, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';
import { GITHUB_CLAIMS, mockIdentityToken, mockSigningConfig, startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';

describe.skipIf(skipReal(['registry', 'cosign', 'cosign3']))('keyless signatures made by real cosign verify with cosign-ts', () => {
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
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-keyless-peer-'));
    env = await isolatedToolEnv(path.join(work, 'home'));
    await writeFile(file('trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
    await writeFile(file('signing_config.json'), JSON.stringify(mockSigningConfig(sigstore)));
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

  async function image(): Promise<string> {
    const repo = `keyless-peer/app${++n}`;
    const digest = (await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } })) as Digest;
    return `${reg.host}/${repo}@${digest}`;
  }

  /** cosign 2.5's trust in the mock, through the environment (it has no `--trusted-root` for signing). */
  const cosign2Env = () => ({
    ...env,
    SIGSTORE_ROOT_FILE: file('fulcio.pem'),
    SIGSTORE_REKOR_PUBLIC_KEY: file('rekor.pub'),
    SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: file('ctlog.pub'),
  });

  const identityFlags = (subject: string) => ['--certificate-identity', subject, '--certificate-oidc-issuer', GITHUB_CLAIMS.iss];

  /**
   * Library and CLI accept `ref` for the token's identity and refuse another one; the CLI prints the same
   * stdout bytes as cosign 3.1 `verify --trusted-root` (which must accept it too).
   */
  async function expectCosignTsVerifies(ref: string, expected: { format?: 'bundle'; timestamp: boolean }): Promise<void> {
    const trust = trustFromTrustedRootJson(Buffer.from(JSON.stringify(sigstore.trustedRoot)), 'mock trusted root');
    const id = identityAuthority({ subject: GITHUB_CLAIMS.sub, issuer: GITHUB_CLAIMS.iss, githubWorkflow: { repository: GITHUB_CLAIMS.repository } });
    const r = await verifyImage(ref, { client, authorities: [id], keyless: { trust } });
    expect(r.format).toBe(expected.format);
    expect(r.signatures).toHaveLength(1);
    expect(r.signatures[0]?.certificate?.subject).toBe(GITHUB_CLAIMS.sub);
    expect(r.signatures[0]?.certificate?.issuer).toBe(GITHUB_CLAIMS.iss);
    const other = identityAuthority({ subject: 'https://github.com/evil/fork/.github/workflows/x.yml@refs/heads/main', issuer: GITHUB_CLAIMS.iss });
    await expect(verifyImage(ref, { client, authorities: [other], keyless: { trust } })).rejects.toMatchObject({ code: 'NO_MATCHING_SIGNATURES' });

    const args = ['verify', '--trusted-root', file('trusted_root.json'), '--allow-http-registry', ...identityFlags(GITHUB_CLAIMS.sub), ref];
    const ours = await cli(args, { env });
    expect(ours.code, ours.stderr).toBe(0);
    const theirs = await cosign3(args, { env });
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
    const [line] = JSON.parse(ours.stdout) as Array<{ critical?: { type?: string }; optional?: Record<string, unknown> }>;
    if (expected.format === 'bundle') {
      // cosign 3 prints a bundle's claims only: the identity stays in the bundle.
      expect(line?.critical?.type).toBe('https://sigstore.dev/cosign/sign/v1');
      expect(line?.optional).toEqual({});
    } else {
      expect(line?.optional?.Subject).toBe(GITHUB_CLAIMS.sub);
      expect(line?.optional?.Issuer).toBe(GITHUB_CLAIMS.iss);
      expect(line?.optional?.Bundle).toBeDefined();
      expect(line?.optional?.RFC3161Timestamp !== undefined).toBe(expected.timestamp);
    }
    const bad = await cli(['verify', '--trusted-root', file('trusted_root.json'), '--allow-http-registry', ...identityFlags('someone-else'), ref], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toBe('');
  }

  const urlFlags = (): string[] => [
    '--use-signing-config=false',
    '--fulcio-url',
    sigstore.fulcioURL,
    '--rekor-url',
    sigstore.rekorURL,
    '--timestamp-server-url',
    sigstore.tsaURL,
  ];
  it.each([
    ['--signing-config (Fulcio v2, Rekor v1, TSA) → a bundle referrer', () => ['--signing-config', file('signing_config.json')], 'bundle'],
    ['--fulcio-url --rekor-url --timestamp-server-url → a bundle referrer', urlFlags, 'bundle'],
    ['--new-bundle-format=false with the URLs → a legacy .sig', () => [...urlFlags(), '--new-bundle-format=false'], undefined],
  ] as const)(
    'cosign 3.1 sign %s, which cosign-ts verifies',
    async (_, flags, format) => {
      const ref = await image();
      const signed = await cosign3(
        ['sign', '--yes', '--allow-http-registry', '--identity-token', mockIdentityToken(), ...flags(), '--trusted-root', file('trusted_root.json'), ref],
        { env },
      );
      expect(signed.code, signed.stderr).toBe(0);
      // Rekor stored a dsse v0.0.1 entry (bundle) or a hashedrekord v0.0.1 entry (.sig), as Rekor stores them.
      const body = JSON.parse(sigstore.rekorEntries.at(-1)?.toString('utf8') ?? '{}') as { kind?: string; apiVersion?: string };
      expect([body.kind, body.apiVersion]).toEqual([format === 'bundle' ? 'dsse' : 'hashedrekord', '0.0.1']);
      await expectCosignTsVerifies(ref, { ...(format === undefined ? {} : { format }), timestamp: true });
    },
    180_000,
  );

  it.each([
    ['without a timestamp', false],
    ['with --timestamp-server-url', true],
  ])(
    'cosign 2.5 sign --fulcio-url --rekor-url (Fulcio v1 API, hashedrekord) %s → a .sig cosign-ts verifies',
    async (_, tsa) => {
      const ref = await image();
      const signed = await cosign(
        [
          'sign',
          '--yes',
          '--allow-http-registry',
          '--identity-token',
          mockIdentityToken(),
          '--fulcio-url',
          sigstore.fulcioURL,
          '--rekor-url',
          sigstore.rekorURL,
          ...(tsa ? ['--timestamp-server-url', sigstore.tsaURL] : []),
          ref,
        ],
        { env: cosign2Env() },
      );
      expect(signed.code, signed.stderr).toBe(0);
      const theirs = await cosign(
        ['verify', '--allow-http-registry', ...(tsa ? ['--timestamp-certificate-chain', file('tsa.pem')] : []), ...identityFlags(GITHUB_CLAIMS.sub), ref],
        { env: cosign2Env() },
      );
      expect(theirs.code, theirs.stderr).toBe(0);
      const body = JSON.parse(sigstore.rekorEntries.at(-1)?.toString('utf8') ?? '{}') as { kind?: string };
      expect(body.kind).toBe('hashedrekord');
      await expectCosignTsVerifies(ref, { timestamp: tsa });
    },
    180_000,
  );

  it('cosign-ts keyless bundle (dsse entry in a log storing what Rekor stores) verifies with cosign-ts and cosign 3.1', async () => {
    const ref = await image();
    const signer = fulcioSigner({ fulcioURL: sigstore.fulcioURL, identityToken: mockIdentityToken() });
    await signImage(ref, signer, { client, witness: { rekorURL: sigstore.rekorURL, tsaURL: sigstore.tsaURL }, format: 'bundle' });
    // The log stored Rekor's canonical dsse body: hashes and signatures, not the envelope.
    const body = JSON.parse(sigstore.rekorEntries.at(-1)?.toString('utf8') ?? '{}') as { kind?: string; spec?: Record<string, unknown> };
    expect(body.kind).toBe('dsse');
    expect(Object.keys(body.spec ?? {}).sort()).toEqual(['envelopeHash', 'payloadHash', 'signatures']);
    await expectCosignTsVerifies(ref, { format: 'bundle', timestamp: true });
  }, 180_000);
});
