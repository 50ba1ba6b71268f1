/**
 * Keyless attestations made by real cosign against a private Sigstore instance (test/helpers/sigstore-mock.ts),
 * verified by cosign-ts `verifyAttestations` and `verify-attestation --certificate-identity
 * --certificate-oidc-issuer --trusted-root`:
 *
 * - cosign 3.1 `attest` with a `--signing-config` (Fulcio v2, Rekor v1, TSA): a Sigstore bundle referrer;
 * - cosign 2.5 `attest --fulcio-url --rekor-url`: a legacy `.att` layer with certificate and Rekor bundle
 *   annotations, its Rekor entry a `dsse` v0.0.1 (not `intoto`: cosign 2.5 uploads dsse entries);
 *
 * each accepted with the token's identity (stdout the same bytes as cosign's own `verify-attestation`) and
 * refused for another identity, another trusted root or a Rekor bundle moved to another layer; an `.att`
 * with an RFC 3161 timestamp is refused (UNSUPPORTED: not verified).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/digest.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference, withTag } from '../../src/reference.js';
import { identityAuthority } from '../../src/verify/authority.js';
import { verifyAttestations } from '../../src/verify/attestation.js';
import { trustFromTrustedRootJson } from '../../src/verify/trust.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign, cosign3, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';
import { GITHUB_CLAIMS, mockIdentityToken, mockSigningConfig, startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';

describe.skipIf(skipReal(['registry', 'cosign', 'cosign3']))('keyless attestations made by real cosign verify with cosign-ts', () => {
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
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-keyless-att-'));
    env = await isolatedToolEnv(path.join(work, 'home'));
    await writeFile(file('trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
    await writeFile(file('signing_config.json'), JSON.stringify(mockSigningConfig(sigstore)));
    await writeFile(file('fulcio.pem'), sigstore.fulcioRootPem);
    await writeFile(file('rekor.pub'), sigstore.rekorPublicKeyPem);
    await writeFile(file('ctlog.pub'), sigstore.ctlogPublicKeyPem);
    await writeFile(file('vex.json'), '{"@context":"https://openvex.dev/ns/v0.2.0","author":"<ci> & co","statements":[]}');
  }, 120_000);
  afterAll(async () => {
    client.close();
    await reg?.stop();
    await sigstore?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  async function image(): Promise<string> {
    const repo = `keyless-att/app${++n}`;
    const digest = (await pushBusyboxImage(reg.url, repo, 'v1', { labels: { n: String(n) } })) as Digest;
    return `${reg.host}/${repo}@${digest}`;
  }

  const cosign2Env = () => ({
    ...env,
    SIGSTORE_ROOT_FILE: file('fulcio.pem'),
    SIGSTORE_REKOR_PUBLIC_KEY: file('rekor.pub'),
    SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: file('ctlog.pub'),
  });
  const identityFlags = (subject: string) => ['--certificate-identity', subject, '--certificate-oidc-issuer', GITHUB_CLAIMS.iss];
  const trust = () => trustFromTrustedRootJson(Buffer.from(JSON.stringify(sigstore.trustedRoot)), 'mock trusted root');

  async function expectVerifies(ref: string, format: 'bundle' | 'legacy', theirs: { code: number | null; stdout: string; stderr: string }): Promise<void> {
    const id = identityAuthority({ subject: GITHUB_CLAIMS.sub, issuer: GITHUB_CLAIMS.iss, githubWorkflow: { repository: GITHUB_CLAIMS.repository } });
    const r = await verifyAttestations(ref, { client, identities: [id], keyless: { trust: trust() }, type: 'openvex' });
    expect(r.rejected).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.format).toBe(format);
    expect(r.verified[0]?.certificate?.subject).toBe(GITHUB_CLAIMS.sub);
    expect(r.verified[0]?.tlogVerified).toBe(true);
    expect(r.verified[0]?.statement.predicateType).toBe('https://openvex.dev/ns');
    // another trusted root (its Rekor key and Fulcio CA are not the signer's): refused
    const untrusted = await startSigstoreMock();
    try {
      const elsewhere = trustFromTrustedRootJson(Buffer.from(JSON.stringify(untrusted.trustedRoot)), 'other root');
      const r2 = await verifyAttestations(ref, { client, identities: [id], keyless: { trust: elsewhere }, type: 'openvex' });
      expect(r2.ok).toBe(false);
      expect(r2.rejected.map((x) => x.code)).toEqual([format === 'bundle' ? 'CERTIFICATE_INVALID' : 'TLOG_INVALID']);
    } finally {
      await untrusted.stop();
    }
    // a key alone does not verify a keyless attestation
    const { generateKeyPairSync } = await import('node:crypto');
    const { PublicKeyVerifier } = await import('../../src/keys/verify.js');
    const keyOnly = await verifyAttestations(ref, {
      client,
      verifier: new PublicKeyVerifier(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'k'),
    });
    expect(keyOnly.ok).toBe(false);
    const other = identityAuthority({ subject: 'https://github.com/evil/fork/.github/workflows/x.yml@refs/heads/main', issuer: GITHUB_CLAIMS.iss });
    const bad = await verifyAttestations(ref, { client, identities: [other], keyless: { trust: trust() }, type: 'openvex' });
    expect(bad.ok).toBe(false);
    expect(bad.rejected.map((x) => x.code)).toEqual(['IDENTITY_MISMATCH']);

    const args = ['verify-attestation', '--allow-http-registry', '--type', 'openvex', ...identityFlags(GITHUB_CLAIMS.sub), ref];
    const ours = await cli([args[0] as string, '--trusted-root', file('trusted_root.json'), ...args.slice(1)], { env });
    expect(ours.code, ours.stderr).toBe(0);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
    // cosign 3.1 (bundle) and 2.5 (.att) print the same check list, 2.5 then the certificate's fields
    expect(ours.stderr).toBe(theirs.stderr);
    if (format === 'legacy') expect(ours.stderr).toContain(`Certificate subject: ${GITHUB_CLAIMS.sub}\nCertificate issuer URL: ${GITHUB_CLAIMS.iss}\n`);
    const wrong = await cli(['verify-attestation', '--trusted-root', file('trusted_root.json'), ...args.slice(1, 4), ...identityFlags('someone-else'), ref], {
      env,
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain('none of the expected identities matched');
  }

  it('cosign 3.1 attest keyless (--signing-config) → a bundle referrer cosign-ts verifies', async () => {
    const ref = await image();
    const signed = await cosign3(
      [
        'attest',
        '--yes',
        '--allow-http-registry',
        '--identity-token',
        mockIdentityToken(),
        '--signing-config',
        file('signing_config.json'),
        '--trusted-root',
        file('trusted_root.json'),
        '--type',
        'openvex',
        '--predicate',
        file('vex.json'),
        ref,
      ],
      { env },
    );
    expect(signed.code, signed.stderr).toBe(0);
    const theirs = await cosign3(
      [
        'verify-attestation',
        '--trusted-root',
        file('trusted_root.json'),
        '--allow-http-registry',
        '--type',
        'openvex',
        ...identityFlags(GITHUB_CLAIMS.sub),
        ref,
      ],
      { env },
    );
    await expectVerifies(ref, 'bundle', theirs);
  }, 180_000);

  it('cosign 2.5 attest keyless (--fulcio-url --rekor-url) → a legacy .att with a dsse v0.0.1 entry cosign-ts verifies', async () => {
    const ref = await image();
    const signed = await cosign(
      [
        'attest',
        '--yes',
        '--allow-http-registry',
        '--identity-token',
        mockIdentityToken(),
        '--fulcio-url',
        sigstore.fulcioURL,
        '--rekor-url',
        sigstore.rekorURL,
        '--type',
        'openvex',
        '--predicate',
        file('vex.json'),
        ref,
      ],
      { env: cosign2Env() },
    );
    expect(signed.code, signed.stderr).toBe(0);
    const body = JSON.parse(sigstore.rekorEntries.at(-1)?.toString('utf8') ?? '{}') as { kind?: string; apiVersion?: string };
    // cosign 2.5 uploads a dsse v0.0.1 entry for an attestation (older cosign 2 an intoto v0.0.2 one).
    expect([body.kind, body.apiVersion]).toEqual(['dsse', '0.0.1']);
    const theirs = await cosign(['verify-attestation', '--allow-http-registry', '--type', 'openvex', ...identityFlags(GITHUB_CLAIMS.sub), ref], {
      env: cosign2Env(),
    });
    await expectVerifies(ref, 'legacy', theirs);

    // a second attestation, then the first layer given the second's Rekor bundle: its SET verifies, but
    // the entry is about another envelope (another signature and hash), so that layer is refused.
    await writeFile(file('vex2.json'), '{"@context":"https://openvex.dev/ns/v0.2.0","author":"second","statements":[]}');
    const again = await cosign(
      [
        'attest',
        '--yes',
        '--allow-http-registry',
        '--identity-token',
        mockIdentityToken(),
        '--fulcio-url',
        sigstore.fulcioURL,
        '--rekor-url',
        sigstore.rekorURL,
      ].concat(['--type', 'openvex', '--predicate', file('vex2.json'), ref]),
      { env: cosign2Env() },
    );
    expect(again.code, again.stderr).toBe(0);
    const parsed = parseReference(ref);
    const attTag = withTag(parsed, `${(parsed.digest as string).replace(':', '-')}.att`);
    const m = await client.getManifest(attTag);
    const manifest = JSON.parse(Buffer.from(m.bytes).toString('utf8')) as { layers: Array<{ annotations: Record<string, string> }> };
    expect(manifest.layers).toHaveLength(2);
    const [first, second] = manifest.layers as [{ annotations: Record<string, string> }, { annotations: Record<string, string> }];
    first.annotations['dev.sigstore.cosign/bundle'] = second.annotations['dev.sigstore.cosign/bundle'] as string;
    await client.putManifest(attTag, Buffer.from(JSON.stringify(manifest)), m.mediaType);
    const id = identityAuthority({ subject: GITHUB_CLAIMS.sub, issuer: GITHUB_CLAIMS.iss });
    const swapped = await verifyAttestations(ref, { client, identities: [id], keyless: { trust: trust() } });
    expect(swapped.verified).toHaveLength(1);
    expect(swapped.rejected.map((x) => x.code)).toEqual(['TLOG_INVALID']);
    expect(swapped.rejected[0]?.reason).toMatch(/Rekor entry: signature in the bundle does not match/);
  }, 180_000);

  it('cosign 2.5 attest keyless with --timestamp-server-url: the RFC 3161 timestamp on the .att is not verified, so refused (UNSUPPORTED)', async () => {
    const ref = await image();
    const signed = await cosign(
      [
        'attest',
        '--yes',
        '--allow-http-registry',
        '--identity-token',
        mockIdentityToken(),
        '--fulcio-url',
        sigstore.fulcioURL,
        '--rekor-url',
        sigstore.rekorURL,
      ].concat(['--timestamp-server-url', sigstore.tsaURL, '--type', 'openvex', '--predicate', file('vex.json'), ref]),
      { env: cosign2Env() },
    );
    expect(signed.code, signed.stderr).toBe(0);
    const id = identityAuthority({ subject: GITHUB_CLAIMS.sub, issuer: GITHUB_CLAIMS.iss });
    const r = await verifyAttestations(ref, { client, identities: [id], keyless: { trust: trust() } });
    expect(r.ok).toBe(false);
    expect(r.rejected.map((x) => [x.code, x.format])).toEqual([['UNSUPPORTED', 'legacy']]);
  }, 180_000);
});
