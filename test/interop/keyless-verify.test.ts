/**
 * Keyless verification, both tools on the same image: a real public-good keyless `.sig` (containers/image
 * fixture: Fulcio certificate, chain, Rekor bundle) served by the in-process registry, verified offline
 * by real cosign 2.5 and by the `cosign-ts` CLI with the same trust (SIGSTORE_ROOT_FILE with the Fulcio
 * chain, SIGSTORE_REKOR_PUBLIC_KEY, --insecure-ignore-sct): same stdout bytes (with `Issuer`, `Subject`,
 * `Bundle`), same check lines, same exit status, and the same refusal for another identity; and cosign 3.1
 * and cosign-ts with the same trust as a `trusted_root.json` (`--trusted-root`): same stdout bytes.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSigstoreJsonSignature, signatureLayerFromSigstoreJson } from '../../src/artifact/index.js';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';
import { cosign, cosign3, cosignRegistryFlags, isolatedToolEnv, skipReal } from '../helpers/real/index.js';
import { storeSignedImage } from '../helpers/signatures.js';

const DIR = 'containers-image/dir-img-cosign-fulcio-rekor-valid';
const EMAIL = 'mitr@redhat.com';
const ISSUER = 'https://github.com/login/oauth';

describe.skipIf(skipReal(['cosign', 'cosign3']))('keyless verify: cosign 2.5, cosign 3.1 and cosign-ts agree', () => {
  let reg: TestRegistry;
  let work: string;
  let env: Record<string, string>;
  let ref: string;

  beforeAll(async () => {
    ensureBuilt();
    reg = await startTestRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-keyless-'));
    const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture(`${DIR}/signature-1`)));
    await writeFile(path.join(work, 'fulcio.pem'), `${(layer.chain ?? '').trimEnd()}\n${fixtureText('containers-image/keys/fulcio_v1.crt.pem')}`);
    await writeFile(path.join(work, 'rekor.pub'), fixtureText('containers-image/keys/rekor.pub'));
    env = {
      ...(await isolatedToolEnv(path.join(work, 'home'))),
      SIGSTORE_ROOT_FILE: path.join(work, 'fulcio.pem'),
      SIGSTORE_REKOR_PUBLIC_KEY: path.join(work, 'rekor.pub'),
    };
    // The same trust as a trusted_root.json (Fulcio intermediate + root, the Rekor key; no CT log).
    const der = (pem: string): string => new X509Certificate(pem).raw.toString('base64');
    const chainPems = (layer.chain ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    const rekorDer = createPublicKey(fixtureText('containers-image/keys/rekor.pub')).export({ type: 'spki', format: 'der' });
    const since = { start: '2021-01-01T00:00:00Z' };
    await writeFile(
      path.join(work, 'trusted_root.json'),
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: [
          {
            baseUrl: 'https://rekor.sigstore.dev',
            hashAlgorithm: 'SHA2_256',
            publicKey: { rawBytes: rekorDer.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: since },
            logId: { keyId: createHash('sha256').update(rekorDer).digest('base64') },
          },
        ],
        certificateAuthorities: [
          {
            subject: { organization: 'sigstore.dev', commonName: 'sigstore' },
            uri: 'https://fulcio.sigstore.dev',
            certChain: { certificates: [...chainPems.map(der), der(fixtureText('containers-image/keys/fulcio_v1.crt.pem'))].map((rawBytes) => ({ rawBytes })) },
            validFor: since,
          },
        ],
        ctlogs: [],
        timestampAuthorities: [],
      }),
    );
    const repo = 'keyless/app';
    ref = storeSignedImage(reg, repo, fixture(`${DIR}/manifest.json`), [layer]);
  }, 120_000);
  afterAll(async () => {
    await reg?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const flags = (identity: string): string[] => [
    'verify',
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    ISSUER,
    '--insecure-ignore-sct',
    '--offline',
  ];

  it('the same stdout bytes, check lines and status for the right identity', async () => {
    const theirs = await cosign([...flags(EMAIL), ...cosignRegistryFlags(reg), ref], { env });
    const ours = await cli([...flags(EMAIL), '--allow-http-registry', ref], { env });
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
    const checks = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('  - '));
    expect(checks(ours.stderr)).toEqual(checks(theirs.stderr));
    expect(ours.stdout).toContain(`"Subject":"${EMAIL}"`);
  });

  it('both refuse another identity with the same status', async () => {
    const theirs = await cosign([...flags('other@example.com'), ...cosignRegistryFlags(reg), ref], { env });
    const ours = await cli([...flags('other@example.com'), '--allow-http-registry', ref], { env });
    expect(theirs.code).not.toBe(0);
    expect(ours.code).toBe(theirs.code);
    expect(ours.stdout).toBe('');
  });

  it('cosign 3.1 and cosign-ts agree with --trusted-root (air-gapped)', async () => {
    const args = [
      'verify',
      '--trusted-root',
      path.join(work, 'trusted_root.json'),
      '--certificate-identity',
      EMAIL,
      '--certificate-oidc-issuer',
      ISSUER,
      '--insecure-ignore-sct',
    ];
    const plainEnv = await isolatedToolEnv(path.join(work, 'home3'));
    const theirs = await cosign3([...args, ...cosignRegistryFlags(reg), ref], { env: plainEnv });
    const ours = await cli([...args, '--allow-http-registry', ref], { env: plainEnv });
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toContain(`"Subject":"${EMAIL}"`);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
    const bad = await cli([...args.slice(0, 4), 'other@example.com', ...args.slice(5), '--allow-http-registry', ref], { env: plainEnv });
    expect(bad.code).toBe(12);
  });
});
