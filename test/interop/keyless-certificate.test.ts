/**
 * `verify --certificate` (bring your own certificate), cosign 3.1 and cosign-ts on the same image: a real
 * public-good keyless `.sig` (containers/image fixture) served by the in-process registry, verified offline
 * with the same trust (SIGSTORE_ROOT_FILE, SIGSTORE_REKOR_PUBLIC_KEY, --insecure-ignore-sct):
 * - the signature's own certificate given with --certificate: both accept, same stdout and check lines;
 * - the certificate trusted as it is (--certificate cert.pem --certificate-chain cert.pem): both accept;
 * - another certificate of the same identity and CA: both refuse (12);
 * - with --insecure-ignore-tlog, cosign 3.1 ignores the entry and refuses the expired certificate; cosign-ts
 *   still verifies the entry and uses its time (a known difference, asserted so that a change is noticed).
 * cosign 2.5 refuses the first case (it compares the entry's certificate PEM with a public-key PEM).
 */
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

describe.skipIf(skipReal(['cosign', 'cosign3']))('verify --certificate: cosign 3.1 and cosign-ts agree', () => {
  let reg: TestRegistry;
  let work: string;
  let env: Record<string, string>;
  let ref: string;

  beforeAll(async () => {
    ensureBuilt();
    reg = await startTestRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-byo-'));
    const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture(`${DIR}/signature-1`)));
    await writeFile(path.join(work, 'fulcio.pem'), `${(layer.chain ?? '').trimEnd()}\n${fixtureText('containers-image/keys/fulcio_v1.crt.pem')}`);
    await writeFile(path.join(work, 'rekor.pub'), fixtureText('containers-image/keys/rekor.pub'));
    await writeFile(path.join(work, 'own.pem'), layer.certificate ?? '');
    // Same CA, same identity, another key (the containers/image rekor-set-standalone certificate).
    await writeFile(path.join(work, 'other.pem'), fixtureText('containers-image/rekor-set-standalone/fulcio-cert'));
    env = {
      ...(await isolatedToolEnv(path.join(work, 'home'))),
      SIGSTORE_ROOT_FILE: path.join(work, 'fulcio.pem'),
      SIGSTORE_REKOR_PUBLIC_KEY: path.join(work, 'rekor.pub'),
    };
    const repo = 'byo/app';
    ref = storeSignedImage(reg, repo, fixture(`${DIR}/manifest.json`), [layer]);
  }, 120_000);
  afterAll(async () => {
    await reg?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const flags = (extra: string[]): string[] => [
    'verify',
    ...extra,
    '--certificate-identity',
    EMAIL,
    '--certificate-oidc-issuer',
    ISSUER,
    '--insecure-ignore-sct',
    '--offline',
  ];
  const both = async (extra: string[]) => ({
    theirs: await cosign3([...flags(extra), ...cosignRegistryFlags(reg), ref], { env }),
    ours: await cli([...flags(extra), '--allow-http-registry', ref], { env }),
  });

  const checks = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('  - '));

  it('the signature own certificate: both accept, same stdout and check lines', async () => {
    const { theirs, ours } = await both(['--certificate', path.join(work, 'own.pem')]);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
    expect(checks(ours.stderr)).toEqual(checks(theirs.stderr));
    expect(checks(ours.stderr)).toContain('  - The signatures were verified against the specified public key');
  });

  it('the certificate trusted as it is (--certificate-chain is the certificate): both accept', async () => {
    const own = path.join(work, 'own.pem');
    const { theirs, ours } = await both(['--certificate', own, '--certificate-chain', own]);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
  });

  it('another certificate of the same identity and CA: both refuse with status 12', async () => {
    const { theirs, ours } = await both(['--certificate', path.join(work, 'other.pem')]);
    expect(theirs.code).toBe(12);
    expect(ours.code, ours.stderr).toBe(12);
    expect(ours.stdout).toBe('');
  });

  it('--insecure-ignore-tlog: cosign 3.1 ignores the Rekor entry (the 2022 certificate is expired now); cosign-ts still checks it and uses its time', async () => {
    // A known difference (not specific to --certificate): cosign-ts verifies an entry that is present even with
    // --insecure-ignore-tlog, and then trusts its integrated time; cosign does not look at it.
    const { theirs, ours } = await both(['--certificate', path.join(work, 'own.pem'), '--insecure-ignore-tlog']);
    expect(theirs.code).toBe(12);
    expect(theirs.stderr).toContain('expired certificate');
    expect(ours.code, ours.stderr).toBe(0);
  });

  it('cosign 2.5 refuses --certificate when the Rekor entry names a certificate (it compares public-key PEMs)', async () => {
    const theirs = await cosign([...flags(['--certificate', path.join(work, 'own.pem')]), ...cosignRegistryFlags(reg), ref], { env });
    expect(theirs.code).toBe(12);
    expect(theirs.stderr).toContain('comparing public key PEMs');
  });
});
