/**
 * The killer's index resolution (`createPolicyVerifier().resolveIndex`) reads untrusted index JSON
 * from the registry: exact index media types only, strict JSON, a typed `BAD_MANIFEST` otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_MANIFEST_LIST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE } from '../../src/artifact/media-types.js';
import { createPolicyVerifier } from '../../src/enforce/index.js';
import { keylessOptionsForPolicy, tlogSettingsForRule } from '../../src/enforce/verifier.js';
import { parsePolicy, type PolicyRule } from '../../src/policy/index.js';
import { signerFromPrivateKey } from '../../src/keys/index.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage } from '../../src/testing/index.js';
import { trustFromTrustedRootJson } from '../../src/verify/trust.js';
import { parseReference, type ImageReference } from '../../src/reference.js';
import { startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';
import { rekorKey } from '../../src/artifact/rekor.js';
import { trustFromPems } from '../../src/verify/trust.js';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isCosignError } from '../../src/errors.js';
import type { RegistryClient } from '../../src/oci/index.js';
import type { TestRegistry } from '../../src/testing/index.js';
import { useTestRegistry } from '../helpers/test-registry.js';
import { sha256 } from '../helpers/signatures.js';

const A = `sha256:${'a1'.repeat(32)}`;
const B = `sha256:${'b2'.repeat(32)}`;
const entry = (d: string): string => `{"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","size":100,"digest":"${d}"}`;

describe('createPolicyVerifier().resolveIndex', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  let n = 0;

  useTestRegistry((r, c) => {
    reg = r;
    client = c;
  });

  /** Serve `json` at `repo:v1` with Content-Type `contentType`; resolve it. */
  async function resolve(json: string, contentType: string = OCI_INDEX_MEDIA_TYPE): Promise<unknown> {
    const repo = `enforce/idx${++n}`;
    const bytes = Buffer.from(json);
    const digest = sha256(bytes);
    reg.storage.manifests.set(`${repo}@${digest}`, { bytes, mediaType: contentType });
    reg.storage.tags.set(`${repo}:v1`, digest);
    try {
      const r = await createPolicyVerifier({ client }).resolveIndex(parseReference(`${reg.host}/${repo}:v1`));
      return r === undefined ? undefined : { ...r, digest: r.digest === digest ? 'the index digest' : r.digest };
    } catch (e) {
      if (!isCosignError(e)) throw e;
      return e.code;
    }
  }

  it('OCI index and Docker list: the children; other manifests: undefined', async () => {
    expect(await resolve(`{"schemaVersion":2,"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(A)},${entry(B)}]}`)).toEqual({
      digest: 'the index digest',
      children: [A, B],
    });
    expect(await resolve(`{"schemaVersion":2,"manifests":[${entry(A)}]}`, DOCKER_MANIFEST_LIST_MEDIA_TYPE)).toEqual({
      digest: 'the index digest',
      children: [A],
    });
    expect(await resolve(`{"schemaVersion":2,"mediaType":"${OCI_MANIFEST_MEDIA_TYPE}","config":{},"layers":[]}`)).toBeUndefined();
  });

  it('look-alike media types are not indexes', async () => {
    expect(await resolve(`{"mediaType":"application/vnd.evil.image.index","manifests":[${entry(A)}]}`)).toBeUndefined();
    expect(await resolve(`{"manifests":[${entry(A)}]}`, 'text/x-manifest.list')).toBeUndefined();
  });

  it('escaped keys are read as Go reads them', async () => {
    expect(await resolve(`{"\\u006dediaType":"${OCI_INDEX_MEDIA_TYPE}","manifest\\u0073":[{"mediaType":"m","size":1,"digest":"${A}"}]}`)).toEqual({
      digest: 'the index digest',
      children: [A],
    });
  });

  it.each([
    ['duplicate manifests', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(A)}],"manifests":[${entry(B)}]}`],
    ['duplicate manifests spelled with escapes', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[${entry(A)}],"manifest\\u0073":[${entry(B)}]}`],
    ['an entry without a digest', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":1}]}`],
    ['an entry with a non-string digest', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"m","size":1,"digest":{"x":1}}]}`],
    ['manifests not an array', `{"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":"${A}"}`],
    ['a non-object', `[${entry(A)}]`],
    ['null', 'null'],
  ])('%s: BAD_MANIFEST', async (_name, json) => {
    expect(await resolve(json)).toBe('BAD_MANIFEST');
  });
});

describe('tlogSettingsForRule and keylessOptionsForPolicy', () => {
  const rekorPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const rule = (tlog: string, authority = '{ key: { path: /k.pub } }') =>
    parsePolicy(`rules:\n  - name: r\n    images: [a.example/*]\n${tlog === '' ? '' : `    tlog: ${tlog}\n`}    authorities: [${authority}]\n`);

  it("require: the trust's Rekor keys, required; ignore: keyless ignoreTlog; absent: as given; require without Rekor keys: an outage", () => {
    const keyless = { trust: trustFromPems({ rekorPublicKeys: rekorPem }) };
    const r = tlogSettingsForRule(rule('require').rules[0] as never, keyless);
    expect(r).toEqual({ tlog: { rekorKeys: keyless.trust.rekorKeys, required: true }, keyless });
    expect('tlog' in r && r.tlog?.rekorKeys?.[0]?.logId).toBe(rekorKey(rekorPem).logId);
    expect(tlogSettingsForRule(rule('ignore').rules[0] as never, keyless)).toEqual({ keyless: { ...keyless, ignoreTlog: true } });
    expect(tlogSettingsForRule(rule('').rules[0] as never, keyless)).toEqual({ keyless });
    expect(tlogSettingsForRule(rule('').rules[0] as never, undefined)).toEqual({});
    expect(tlogSettingsForRule(rule('require').rules[0] as never, undefined)).toMatchObject({
      outcome: { ok: false, definitive: false, code: 'TRUST_ROOT_INVALID' },
    });
    // a keyless-only rule needs no Rekor key for key signatures
    expect(tlogSettingsForRule(rule('require', '{ keyless: { issuer: i, subject: s } }').rules[0] as never, undefined)).toEqual({
      tlog: { rekorKeys: [], required: true },
    });
  });

  it('keylessOptionsForPolicy: nothing for offline key rules; SIGSTORE_REKOR_PUBLIC_KEY alone for tlog: require (no TUF)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-trust-'));
    try {
      await writeFile(path.join(dir, 'rekor.pub'), rekorPem);
      expect(await keylessOptionsForPolicy(rule(''), {})).toBeUndefined();
      expect(await keylessOptionsForPolicy(rule('ignore'), { env: { SIGSTORE_REKOR_PUBLIC_KEY: path.join(dir, 'rekor.pub') } })).toBeUndefined();
      const o = await keylessOptionsForPolicy(rule('require'), { env: { SIGSTORE_REKOR_PUBLIC_KEY: path.join(dir, 'rekor.pub') } });
      expect(o?.trust.rekorKeys.map((k) => k.logId)).toEqual([rekorKey(rekorPem).logId]);
      expect(o?.trust.source).toBe('SIGSTORE_* environment');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('createPolicyVerifier honours the rule tlog setting (the killer)', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  let sigstore: SigstoreMock;
  useTestRegistry((r, c) => {
    reg = r;
    client = c;
  });
  beforeAll(async () => {
    sigstore = await startSigstoreMock();
  });
  afterAll(async () => {
    await sigstore?.stop();
  });

  it('tlog: require admits the signature witnessed by Rekor and refuses the offline one; no tlog admits both', async () => {
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = signerFromPrivateKey(kp.privateKey, 'k');
    const pem = kp.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const refs: Record<string, ImageReference> = {};
    for (const [name, witness] of [
      ['logged', true],
      ['offline', false],
    ] as const) {
      const d = await pushSampleImage(client, `${reg.host}/killer/${name}:v1`, { name });
      await signImage(`${reg.host}/killer/${name}@${d}`, signer, { client, ...(witness ? { witness: { rekorURL: sigstore.rekorURL } } : {}) });
      refs[name] = parseReference(`${reg.host}/killer/${name}@${d}`);
    }
    const policy = (tlog: string) =>
      parsePolicy(`rules:\n  - name: r\n    images: ["${reg.host}/killer/*"]\n${tlog}    authorities: [{ key: { pem: ${JSON.stringify(pem)} } }]\n`);
    const keyless = { trust: trustFromTrustedRootJson(Buffer.from(JSON.stringify(sigstore.trustedRoot))) };
    const strict = createPolicyVerifier({ client, keyless });
    const req = policy('    tlog: require\n').rules[0] as PolicyRule;
    expect(await strict.verify(refs['logged'] as ImageReference, req)).toEqual({ ok: true });
    expect(await strict.verify(refs['offline'] as ImageReference, req)).toMatchObject({
      ok: false,
      definitive: true,
      code: 'NO_MATCHING_SIGNATURES',
      reason: expect.stringMatching(/no transparency-log bundle/),
    });
    const lax = policy('').rules[0] as PolicyRule;
    expect(await strict.verify(refs['offline'] as ImageReference, lax)).toEqual({ ok: true });
    // require without any Rekor key: an outage, never a verdict on the image
    expect(await createPolicyVerifier({ client }).verify(refs['logged'] as ImageReference, req)).toMatchObject({
      ok: false,
      definitive: false,
      code: 'TRUST_ROOT_INVALID',
    });
  });
});
