/**
 * Legacy attestations (the `.att` tag) against cosign 2.5 on Debian's docker-registry: what
 * cosign-ts `attestImage` writes, `cosign verify-attestation --key … --insecure-ignore-tlog=true
 * --type …` accepts (and refuses for another type or key); what cosign 2.5 `attest` writes has the
 * same layer layout (media type, annotations) as ours, and `verifyAttestations` accepts it (right key
 * and type only).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSignatureManifest } from '../../src/artifact/image.js';
import { loadSignerFromFile, parsePublicKey, PublicKeyVerifier } from '../../src/keys/index.js';
import { verifyAttestations } from '../../src/verify/index.js';
import { readFile } from 'node:fs/promises';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference, withTag } from '../../src/reference.js';
import { DSSE_ENVELOPE_MEDIA_TYPE } from '../../src/artifact/media-types.js';
import { attestImage } from '../../src/sign/index.js';
import {
  cosign,
  cosignGenerateKeyPair,
  cosignRegistryFlags,
  isolatedToolEnv,
  pushBusyboxImage,
  skipReal,
  startRegistry,
  type KeyPair,
  type RealRegistry,
} from '../helpers/real/index.js';
import { writeFile } from 'node:fs/promises';

describe.skipIf(skipReal(['registry', 'cosign']))('legacy attestations interop with cosign 2.5', () => {
  let reg: RealRegistry;
  let work: string;
  let env: Record<string, string>;
  let signer: KeyPair;
  let other: KeyPair;
  let client: RegistryClient;

  beforeAll(async () => {
    reg = await startRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-att-'));
    env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'test-password' };
    await mkdir(path.join(work, 'a'));
    await mkdir(path.join(work, 'b'));
    signer = await cosignGenerateKeyPair(path.join(work, 'a'));
    other = await cosignGenerateKeyPair(path.join(work, 'b'));
    client = new RegistryClient();
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('we attest; cosign 2.5 verify-attestation accepts the right key and type only', async () => {
    const digest = await pushBusyboxImage(reg.url, 'att/app1', 'v1', { labels: { n: '1' } });
    const ref = `${reg.host}/att/app1@${digest}`;
    const s = await loadSignerFromFile(signer.keyPath, 'test-password');
    await attestImage(ref, s, { client, predicate: new TextEncoder().encode('{"vulnerabilities":[],"z":"<x>"}'), type: 'openvex' });
    await attestImage(ref, s, { client, predicate: new TextEncoder().encode('free text'), type: 'custom' });
    const flags = cosignRegistryFlags(reg);
    for (const type of ['openvex', 'custom']) {
      const ok = await cosign(['verify-attestation', '--key', signer.pubPath, '--insecure-ignore-tlog=true', '--type', type, ...flags, ref], { env });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout.trim().split('\n')).toHaveLength(1);
    }
    const wrongType = await cosign(['verify-attestation', '--key', signer.pubPath, '--insecure-ignore-tlog=true', '--type', 'spdxjson', ...flags, ref], {
      env,
    });
    expect(wrongType.code).not.toBe(0);
    const wrongKey = await cosign(['verify-attestation', '--key', other.pubPath, '--insecure-ignore-tlog=true', '--type', 'openvex', ...flags, ref], {
      env,
    });
    expect(wrongKey.code).not.toBe(0);
  }, 120_000);

  it('cosign 2.5 attest writes the same layer layout', async () => {
    const digest = await pushBusyboxImage(reg.url, 'att/app2', 'v1', { labels: { n: '2' } });
    const ref = `${reg.host}/att/app2@${digest}`;
    const pred = path.join(work, 'p.json');
    await writeFile(pred, '{"a":1}');
    const r = await cosign(
      ['attest', '--key', signer.keyPath, '--tlog-upload=false', '--yes', '--predicate', pred, '--type', 'openvex', ...cosignRegistryFlags(reg), ref],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    const attRef = withTag(parseReference(ref), `sha256-${digest.slice(7)}.att`);
    const m = parseSignatureManifest((await client.getManifest(attRef)).bytes);
    expect(m.layers).toHaveLength(1);
    expect(m.layers[0]?.mediaType).toBe(DSSE_ENVELOPE_MEDIA_TYPE);
    expect(m.layers[0]?.annotations).toEqual({ 'dev.cosignproject.cosign/signature': '', predicateType: 'https://openvex.dev/ns' });
    const verifier = new PublicKeyVerifier(parsePublicKey(await readFile(signer.pubPath)), signer.pubPath);
    const ours = await verifyAttestations(ref, { client, verifier, type: 'openvex' });
    expect(ours.ok, ours.rejected.join('\n')).toBe(true);
    expect(ours.verified[0]?.statement.predicate).toEqual({ a: 1 });
    const wrong = new PublicKeyVerifier(parsePublicKey(await readFile(other.pubPath)), other.pubPath);
    expect((await verifyAttestations(ref, { client, verifier: wrong, type: 'openvex' })).ok).toBe(false);
    expect((await verifyAttestations(ref, { client, verifier, type: 'custom' })).ok).toBe(false);
  }, 120_000);
});
