import { createPublicKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublicKeyVerifier } from '../../src/keys/verify.js';
import type { Signer } from '../../src/keys/signer.js';
import { RegistryClient } from '../../src/oci/client.js';
import { attestImage } from '../../src/sign/attestation.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { verifyAttestations } from '../../src/verify/attestation.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('verifyAttestations (legacy .att)', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  const mk = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer: Signer = {
      keyRef: 'k',
      publicKey: async () => createPublicKey(publicKey),
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
    expect(hook.rejected.join()).toMatch(/checkPredicate/);
  });
});
