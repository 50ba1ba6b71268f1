/**
 * cosign 3.1.1's key-based bundle vectors (`c3-key-image-signature-bundle`, `c3-key-image-attestation-bundle`):
 * the captured image and the captured Sigstore bundles, attached as OCI 1.1 referrers in the in-process registry,
 * verify with the captured key (and `-a team=infra`) and print what cosign 3 printed; another key or another image
 * digest does not verify.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/digest.js';
import { isCosignError } from '../../src/errors.js';
import { PublicKeyVerifier } from '../../src/keys/verify.js';
import { parsePublicKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference, withDigest } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { verifyAttestations } from '../../src/verify/attestation.js';
import { keyAuthority, verifyImage } from '../../src/verify/index.js';
import { pushBundleReferrer } from '../helpers/bundles.js';
import { fixture, fixtureText, vectors } from '../helpers/fixtures.js';

const DIR = 'cosign3/key-v3-image';
const byId = new Map(vectors().map((v) => [v.id, v]));

describe('cosign 3.1.1 key-based bundle vectors', () => {
  let reg: TestRegistry;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  let digest: Digest;
  const repo = () => parseReference(`${reg.host}/demo/app`);
  const pub = parsePublicKey(fixture(`${DIR}/cosign.pub`));

  beforeAll(async () => {
    reg = await startTestRegistry();
    const manifest = fixture(`${DIR}/image/manifest.json`);
    const m = JSON.parse(manifest.toString('utf8')) as { mediaType: string; config: { digest: string }; layers: Array<{ digest: string }> };
    for (const d of [m.config.digest, ...m.layers.map((l) => l.digest)]) {
      await client.uploadBlob(repo(), d as Digest, fixture(`${DIR}/image/${d.replace(':', '-')}`));
    }
    digest = fixtureText(`${DIR}/image-digest`).trim() as Digest;
    await client.putManifest(withDigest(repo(), digest), manifest, m.mediaType);
    const subject = { digest, size: manifest.length, mediaType: m.mediaType };
    await pushBundleReferrer(client, repo(), subject, fixture(`${DIR}/signature.sigstore.json`));
    await pushBundleReferrer(client, repo(), subject, fixture(`${DIR}/attestation.sigstore.json`));
  });
  afterAll(async () => {
    client.close();
    await reg?.close();
  });

  it('c3-key-image-signature-bundle: valid with the key and -a team=infra; the output is cosign 3.1.1 verify output', async () => {
    expect(byId.get('c3-key-image-signature-bundle')?.expected).toBe('valid');
    const ref = withDigest(repo(), digest);
    const r = await verifyImage(ref, { client, authorities: [keyAuthority(pub, 'cosign.pub')], annotations: { team: 'infra' } });
    const want = fixtureText(`${DIR}/verify.stdout`).replace(/127\.0\.0\.1:\d+/g, reg.host);
    expect(Buffer.from(r.output).toString('utf8')).toBe(want);
  });

  it('c3-key-image-signature-bundle: invalid for another key, another annotation, another image', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (isCosignError(e) ? e.code : 'not a CosignError'),
      );
    expect(await code(verifyImage(withDigest(repo(), digest), { client, authorities: [keyAuthority(other, 'other.pub')] }))).toBe('NO_MATCHING_SIGNATURES');
    expect(await code(verifyImage(withDigest(repo(), digest), { client, authorities: [keyAuthority(pub, 'cosign.pub')], annotations: { team: 'dev' } }))).toBe(
      'NO_MATCHING_SIGNATURES',
    );
    const elsewhere = await pushSampleImage(client, parseReference(`${reg.host}/demo/other:v1`));
    expect(await code(verifyImage(parseReference(`${reg.host}/demo/other@${elsewhere}`), { client, authorities: [keyAuthority(pub, 'cosign.pub')] }))).toBe(
      'NO_SIGNATURES',
    );
  });

  it('c3-key-image-attestation-bundle: the slsaprovenance attestation verifies with the key; the envelope is what cosign 3.1.1 printed', async () => {
    expect(byId.get('c3-key-image-attestation-bundle')?.expected).toBe('valid');
    const r = await verifyAttestations(withDigest(repo(), digest), { client, verifier: new PublicKeyVerifier(pub, 'cosign.pub'), type: 'slsaprovenance' });
    expect(r.ok).toBe(true);
    expect(r.format).toBe('bundle');
    const printed = fixtureText(`${DIR}/verify-attestation.stdout`).trim();
    const payload = (JSON.parse(printed) as { payload: string }).payload;
    expect(r.verified.some((a) => Buffer.from(a.envelope).toString('utf8').includes(payload))).toBe(true);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect((await verifyAttestations(withDigest(repo(), digest), { client, verifier: new PublicKeyVerifier(other, 'o.pub'), type: 'slsaprovenance' })).ok).toBe(
      false,
    );
  });
});
