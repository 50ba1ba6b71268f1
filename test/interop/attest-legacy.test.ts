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
import type { Digest } from '../../src/digest.js';
import { attestImage, buildAttestationStatement, predicateType } from '../../src/sign/index.js';
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
import { cli, ensureBuilt } from '../cli/helpers.js';

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
    ensureBuilt();
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
    expect(ours.ok, JSON.stringify(ours.rejected)).toBe(true);
    expect(ours.verified[0]?.statement.predicate).toEqual({ a: 1 });
    const wrong = new PublicKeyVerifier(parsePublicKey(await readFile(other.pubPath)), other.pubPath);
    expect((await verifyAttestations(ref, { client, verifier: wrong, type: 'openvex' })).ok).toBe(false);
    expect((await verifyAttestations(ref, { client, verifier, type: 'custom' })).ok).toBe(false);
  }, 120_000);

  it('the statement cosign 2.5 attest signs is the one we build, for spdx (tag-value), spdxjson, vuln and SLSA', async () => {
    const digest = await pushBusyboxImage(reg.url, 'att/typed', 'v1', { labels: { n: 'typed' } });
    const ref = `${reg.host}/att/typed@${digest}`;
    const files: Record<string, string> = {
      'spdx.txt': 'SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nPackageName: "<busybox>"\n',
      'spdx.json': '{"spdxVersion":"SPDX-2.3","name":"<x>","packages":[{"b":1,"a":2}]}',
      'vuln.json':
        '{"metadata":{"scanFinishedOn":"2024-05-01T10:00:00.500+00:00","scanStartedOn":"2024-05-01T09:00:00.000+02:00"},"scanner":{"result":{"b":1},"URI":"pkg:grype","db":{"version":"5"}},"extra":1}',
      'slsa.json':
        '{"builder":{"id":"b"},"buildType":"t","materials":[{"uri":"git+https://x","digest":{"sha1":"ab"}}],"metadata":{"buildStartedOn":"2024-01-01T00:00:00Z"},"z":[1]}',
      'slsa1.json': '{"buildDefinition":{"buildType":"t","externalParameters":{"b":[1]}},"runDetails":{"builder":{"id":"b"}},"zz":1}',
    };
    const cases = [
      ['spdx', 'spdx.txt'],
      ['spdxjson', 'spdx.json'],
      ['vuln', 'vuln.json'],
      ['slsaprovenance', 'slsa.json'],
      ['slsaprovenance1', 'slsa1.json'],
    ] as const;
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(work, name), text);
    for (const [type, file] of cases) {
      const r = await cosign(
        [
          'attest',
          '--key',
          signer.keyPath,
          '--tlog-upload=false',
          '--yes',
          '--predicate',
          path.join(work, file),
          '--type',
          type,
          ...cosignRegistryFlags(reg),
          ref,
        ],
        { env },
      );
      expect(r.code, `${type}: ${r.stderr}`).toBe(0);
    }
    const attRef = withTag(parseReference(ref), `sha256-${digest.slice(7)}.att`);
    const m = parseSignatureManifest((await client.getManifest(attRef)).bytes);
    expect(m.layers).toHaveLength(cases.length);
    for (const [i, [type, file]] of cases.entries()) {
      const layer = m.layers[i];
      if (layer === undefined) throw new Error('no layer');
      const envelope = JSON.parse(Buffer.from(await client.getBlob(parseReference(ref), layer.digest)).toString('utf8')) as { payload: string };
      const theirs = Buffer.from(envelope.payload, 'base64').toString('utf8');
      const mine = buildAttestationStatement({
        predicate: await readFile(path.join(work, file)),
        predicateType: predicateType(type),
        typeName: type,
        repository: parseReference(ref).name,
        digest: digest as Digest,
      });
      expect(Buffer.from(mine).toString('utf8'), type).toBe(theirs);
    }
  }, 180_000);

  it('CLI: our attest (legacy) has cosign 2.5 stderr and cosign 2.5 verifies it; our verify-attestation prints what cosign 2.5 prints', async () => {
    const flags = cosignRegistryFlags(reg);
    const pred = path.join(work, 'vex.json');
    await writeFile(pred, '{"z":[1,2.5],"a":"<b> & c"}');
    const digest = await pushBusyboxImage(reg.url, 'att/cli1', 'v1', { labels: { n: 'cli1' } });
    const ref = `${reg.host}/att/cli1@${digest}`;
    const args = (k: string, type: string, extra: string[] = []): string[] => [
      'attest',
      '--key',
      k,
      '--tlog-upload=false',
      '--yes',
      '--predicate',
      pred,
      '--type',
      type,
      ...extra,
      ...flags,
      ref,
    ];
    const ours = await cli(args(signer.keyPath, 'openvex'), { env });
    expect(ours.code, ours.stderr).toBe(0);
    const digest2 = await pushBusyboxImage(reg.url, 'att/cli2', 'v1', { labels: { n: 'cli2' } });
    const theirs = await cosign(
      args(signer.keyPath, 'openvex').map((a) => (a === ref ? `${reg.host}/att/cli2@${digest2}` : a)),
      { env },
    );
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.stderr).toBe(theirs.stderr);
    // the statement: cosign 2.5's bytes (legacy v0.1 order, HTML-escaped)
    const attOf = async (r: string, d: string): Promise<string> => {
      const repo = parseReference(r);
      const m = parseSignatureManifest((await client.getManifest(withTag(repo, `sha256-${d.slice(7)}.att`))).bytes);
      const env2 = JSON.parse(Buffer.from(await client.getBlob(repo, m.layers[0]?.digest as never)).toString()) as { payload: string };
      return Buffer.from(env2.payload, 'base64')
        .toString()
        .replace(/"name":"[^"]*"/, '')
        .replace(/sha256":"[0-9a-f]+"/, '');
    };
    expect(await attOf(ref, digest)).toBe(await attOf(`${reg.host}/att/cli2@${digest2}`, digest2));
    // verify: ours and cosign 2.5 print the same, succeed and fail alike
    await cli(args(signer.keyPath, 'custom'), { env });
    const vargs = (k: string, type: string, r = ref): string[] => [
      'verify-attestation',
      '--key',
      k,
      '--insecure-ignore-tlog=true',
      '--type',
      type,
      ...flags,
      r,
    ];
    for (const [k, type] of [
      [signer.pubPath, 'openvex'],
      [signer.pubPath, 'custom'],
      [signer.pubPath, 'spdxjson'],
      [other.pubPath, 'openvex'],
    ] as const) {
      const c = await cosign(vargs(k, type), { env });
      const o = await cli(vargs(k, type), { env });
      expect({ code: o.code, stdout: o.stdout, stderr: o.stderr }, `${type}`).toEqual({ code: c.code, stdout: c.stdout, stderr: c.stderr });
    }
    // no attestations at all
    const bare = await pushBusyboxImage(reg.url, 'att/cli3', 'v1', { labels: { n: 'cli3' } });
    const c = await cosign(vargs(signer.pubPath, 'custom', `${reg.host}/att/cli3@${bare}`), { env });
    const o = await cli(vargs(signer.pubPath, 'custom', `${reg.host}/att/cli3@${bare}`), { env });
    expect({ code: o.code, stdout: o.stdout, stderr: o.stderr }).toEqual({ code: c.code, stdout: c.stdout, stderr: c.stderr });
    // --replace keeps one attestation of the type
    expect((await cli(args(signer.keyPath, 'openvex', ['--replace']), { env })).code).toBe(0);
    const m = parseSignatureManifest((await client.getManifest(withTag(parseReference(ref), `sha256-${digest.slice(7)}.att`))).bytes);
    expect(m.layers.map((l) => l.annotations.predicateType).sort()).toEqual(['https://cosign.sigstore.dev/attestation/v1', 'https://openvex.dev/ns']);
  }, 180_000);
});
