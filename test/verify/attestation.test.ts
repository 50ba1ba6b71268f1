import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublicKeyVerifier } from '../../src/keys/verify.js';
import type { Signer } from '../../src/keys/signer.js';
import { RegistryClient } from '../../src/oci/client.js';
import { attestImage } from '../../src/sign/attestation.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { verifyAttestations } from '../../src/verify/attestation.js';
import { buildBundleAttestationStatement, predicateType } from '../../src/sign/attestation.js';
import { buildBundleReferrerFromStatement } from '../../src/sign/bundle.js';
import { parseReference } from '../../src/reference.js';
import type { Digest } from '../../src/digest.js';
import { identityAuthority } from '../../src/verify/authority.js';
import type { SigstoreTrust } from '../../src/verify/trust.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('verifyAttestations', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  const mk = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer: Signer = {
      keyRef: 'k',
      publicKey: async () => publicKey,
      sign: async (m) => new Uint8Array(cryptoSign('sha256', m, privateKey)),
    };
    return { signer, verifier: new PublicKeyVerifier(publicKey, 'k.pub') };
  };
  const a = mk();
  const b = mk();
  beforeAll(async () => {
    reg = await startTestRegistry();
    client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  });
  afterAll(async () => {
    client.close();
    await reg.close();
  });

  it('verifies by key, filters by type, applies checkPredicate, fails closed', async () => {
    const name = `${reg.host}/va/app`;
    const d = await pushSampleImage(client, `${name}:v1`, { n: '1' });
    const ref = `${name}@${d}`;
    expect((await verifyAttestations(ref, { client, verifier: a.verifier })).ok).toBe(false);
    await attestImage(ref, a.signer, { client, predicate: enc('{"ok":true}'), type: 'openvex' });
    await attestImage(ref, a.signer, { client, predicate: enc('x'), type: 'custom' });
    const all = await verifyAttestations(ref, { client, verifier: a.verifier });
    expect(all.verified).toHaveLength(2);
    const vex = await verifyAttestations(ref, { client, verifier: a.verifier, type: 'openvex' });
    expect(vex.verified.map((v) => v.statement.predicate)).toEqual([{ ok: true }]);
    expect((await verifyAttestations(ref, { client, verifier: a.verifier, type: 'spdxjson' })).ok).toBe(false);
    expect((await verifyAttestations(ref, { client, verifier: b.verifier })).ok).toBe(false);
    const hook = await verifyAttestations(ref, {
      client,
      verifier: a.verifier,
      type: 'openvex',
      checkPredicate: (s) => (s.predicate as { ok: boolean }).ok === false,
    });
    expect(hook.ok).toBe(false);
    expect(hook.rejected.map((r) => r.reason).join()).toMatch(/checkPredicate/);
    expect(hook.rejected.map((r) => [r.code, r.format])).toEqual([
      ['POLICY_INVALID', 'legacy'],
      ['TYPE_MISMATCH', 'legacy'],
    ]);
    expect(all.format).toBe('legacy');
  });

  it('bundles (referrers API): verified first, typed rejections, filters and hook; the .att only when there is no bundle', async () => {
    const name = `${reg.host}/vb/app`;
    const d = await pushSampleImage(client, `${name}:v1`, { n: 'b1' });
    const ref = `${name}@${d}`;
    expect((await verifyAttestations(ref, { client, verifier: a.verifier, format: 'bundle' })).ok).toBe(false);
    await attestImage(ref, a.signer, { client, predicate: enc('{"vex":1}'), type: 'openvex' }); // legacy
    expect((await verifyAttestations(ref, { client, verifier: a.verifier, type: 'openvex' })).format).toBe('legacy');
    await attestImage(ref, a.signer, { client, predicate: enc('{"slsa":1}'), type: 'slsaprovenance1', format: 'bundle' });
    await attestImage(ref, b.signer, { client, predicate: enc('{"cdx":1}'), type: 'cyclonedx', format: 'bundle' });
    // bundles shadow the legacy .att, as in cosign 3
    const vex = await verifyAttestations(ref, { client, verifier: a.verifier, type: 'openvex' });
    expect(vex.ok).toBe(false);
    expect(vex.format).toBe('bundle');
    expect(vex.rejected.map((r) => [r.code, r.predicateType ?? null]).sort()).toEqual([
      ['SIGNATURE_INVALID', null],
      ['TYPE_MISMATCH', 'https://slsa.dev/provenance/v1'],
    ]);
    expect((await verifyAttestations(ref, { client, verifier: a.verifier, type: 'openvex', format: 'legacy' })).ok).toBe(true);
    const slsa = await verifyAttestations(ref, { client, verifier: a.verifier, types: ['slsaprovenance1', 'spdx'] });
    expect(slsa.ok).toBe(true);
    expect(slsa.verified.map((v) => [v.format, v.statement.predicate])).toEqual([['bundle', { slsa: 1 }]]);
    expect(JSON.parse(new TextDecoder().decode(slsa.verified[0]?.envelope))).toMatchObject({ payloadType: 'application/vnd.in-toto+json' });
    const formats: string[] = [];
    const hooked = await verifyAttestations(ref, {
      client,
      verifier: b.verifier,
      checkPredicate: async (_s, at) => {
        formats.push(at.format);
        throw new Error('nope');
      },
    });
    expect(formats).toEqual(['bundle']);
    expect(hooked.rejected.find((r) => r.code === 'POLICY_INVALID')?.reason).toMatch(/checkPredicate: nope/);
  });

  it('a bundle whose statement names another digest is rejected (DIGEST_MISMATCH)', async () => {
    const name = `${reg.host}/vb/other`;
    const d = await pushSampleImage(client, `${name}:v1`, { n: 'b2' });
    const m = await client.getManifest(parseReference(`${name}@${d}`));
    const other = `sha256:${'cd'.repeat(32)}` as Digest;
    const statement = buildBundleAttestationStatement({ predicate: enc('{}'), predicateType: predicateType('openvex'), repository: name, digest: other });
    const built = await buildBundleReferrerFromStatement({
      subject: { mediaType: m.mediaType, digest: d, size: m.size },
      statement,
      predicateType: predicateType('openvex'),
      signer: a.signer,
    });
    const repo = parseReference(name);
    for (const [bd, bytes] of built.blobs) await client.uploadBlob(repo, bd, bytes);
    await client.pushReferrer(repo, built.manifest, built.manifestMediaType, d);
    const r = await verifyAttestations(`${name}@${d}`, { client, verifier: a.verifier });
    expect(r.ok).toBe(false);
    expect(r.rejected.map((x) => x.code)).toEqual(['DIGEST_MISMATCH']);
  });

  it('keyless options: both identities and keyless, or a key; a key-signed attestation is refused keyless', async () => {
    const name = `${reg.host}/va/keyless`;
    const d = await pushSampleImage(client, `${name}:v1`, { n: 'k1' });
    const ref = `${name}@${d}`;
    const id = identityAuthority({ subject: 'ci@example.com', issuer: 'https://issuer.example' });
    // never consulted here: no attestation carries a certificate
    const trust = {} as unknown as SigstoreTrust;
    await expect(verifyAttestations(ref, { client })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(verifyAttestations(ref, { client, identities: [id] })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(verifyAttestations(ref, { client, keyless: { trust } })).rejects.toMatchObject({ code: 'USAGE' });
    for (const format of ['legacy', 'bundle'] as const) {
      await attestImage(ref, a.signer, { client, predicate: enc('{}'), type: 'openvex', format });
      const r = await verifyAttestations(ref, { client, identities: [id], keyless: { trust }, format });
      expect(r.ok).toBe(false);
      expect(r.rejected.map((x) => [x.code, x.format])).toEqual([['SIGNATURE_INVALID', format]]);
      expect(r.rejected[0]?.reason).toMatch(/signed with a key and no key was given/);
      // with the key as well, it verifies (no certificate: the key path)
      expect((await verifyAttestations(ref, { client, verifier: a.verifier, identities: [id], keyless: { trust }, format })).ok).toBe(true);
    }
  });
});
