/**
 * `cosign-ts verify-blob` without `--key`: cosign's legacy keyless `--bundle` (the sigstore-rs vector
 * rs-sign-blob-legacy-bundle, made by `cosign sign-blob --bundle`), a keyless Sigstore bundle (the
 * sigstore-conformance happy path), and `--signature` with `--certificate`. Offline: the trust comes from the
 * fixtures.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureText, repoRoot } from '../../helpers/fixtures.js';
import { cli, ensureBuilt, tempDir } from '../helpers.js';

const fx = (rel: string) => path.join(repoRoot, 'fixtures', rel);
const LEGACY = fx('sigstore-rs/legacy-blob-bundle-keyless/artifact.bundle');
const PUBLIC_GOOD = fx('sigstore-go/trust/trusted-root-public-good.json');
const PEM_TRUST = {
  SIGSTORE_ROOT_FILE: fx('containers-image/rekor-set-standalone/fulcio-chain'),
  SIGSTORE_REKOR_PUBLIC_KEY: fx('sigstore-rs/trust/rekor.pub'),
};
const ID = ['--certificate-identity', 'daniel.bevenius@gmail.com', '--certificate-oidc-issuer', 'https://github.com/login/oauth'];

describe('cosign-ts verify-blob, keyless', () => {
  let dir: string;
  let artifact: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = await tempDir();
    artifact = path.join(dir, 'artifact.txt');
    await writeFile(artifact, 'something\n'); // sha256 4bc453b5…4cc1, the digest in the bundle's Rekor entry
  }, 120_000);

  it('legacy keyless bundle: SET, entry, chain at the integrated time, signature, identity', async () => {
    const pem = await cli(['verify-blob', '--bundle', LEGACY, ...ID, '--insecure-ignore-sct', artifact], { env: PEM_TRUST });
    expect(pem.code, pem.stderr).toBe(0);
    expect(pem.stderr).toContain('Verified OK');
    // With the public-good trusted root the SCT is checked too.
    const root = await cli(['verify-blob', '--bundle', LEGACY, ...ID, '--trusted-root', PUBLIC_GOOD, artifact]);
    expect(root.code, root.stderr).toBe(0);
    const other = path.join(dir, 'other.txt');
    await writeFile(other, 'something else\n');
    const tampered = await cli(['verify-blob', '--bundle', LEGACY, ...ID, '--trusted-root', PUBLIC_GOOD, other]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('failed to verify signature');
    const wrongId = await cli([
      'verify-blob',
      '--bundle',
      LEGACY,
      '--certificate-identity',
      'someone@example.com',
      '--certificate-oidc-issuer',
      'https://github.com/login/oauth',
      '--trusted-root',
      PUBLIC_GOOD,
      artifact,
    ]);
    expect(wrongId.code).toBe(1);
    expect(wrongId.stderr).toContain('none of the expected identities');
    const noId = await cli(['verify-blob', '--bundle', LEGACY, '--trusted-root', PUBLIC_GOOD, artifact]);
    expect(noId.code).toBe(1);
    expect(noId.stderr).toContain('--certificate-identity');
  }, 120_000);

  it('keyless Sigstore bundle (sigstore-conformance happy path)', async () => {
    const r = await cli([
      'verify-blob',
      '--bundle',
      fx('sigstore-conformance/happy-path-v0.3/bundle.sigstore.json'),
      '--certificate-identity',
      'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
      '--certificate-oidc-issuer',
      'https://token.actions.githubusercontent.com',
      '--trusted-root',
      PUBLIC_GOOD,
      fx('sigstore-conformance/a.txt'),
    ]);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  it('--signature with --certificate: without the Rekor entry the certificate must be valid now (it is not)', async () => {
    const doc = JSON.parse(fixtureText('sigstore-rs/legacy-blob-bundle-keyless/artifact.bundle')) as { base64Signature: string; cert: string };
    const cert = path.join(dir, 'cert.pem');
    await writeFile(cert, Buffer.from(doc.cert, 'base64'));
    const base = ['verify-blob', '--signature', doc.base64Signature, '--certificate', cert, ...ID, '--insecure-ignore-sct', '--insecure-ignore-tlog'];
    const r = await cli([...base, artifact], { env: PEM_TRUST });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('expired');
    const noCert = await cli(['verify-blob', '--signature', doc.base64Signature, ...ID, '--insecure-ignore-tlog', artifact], { env: PEM_TRUST });
    expect(noCert.code).toBe(1);
    expect(noCert.stderr).toContain('needs --certificate');
    const both = await cli(['verify-blob', '--key', cert, '--certificate', cert, '--signature', doc.base64Signature, artifact]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('cannot be used together');
  }, 60_000);
});
