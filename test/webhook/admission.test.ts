/**
 * The admission decision over the in-process registry (src/testing): verdicts and messages, audit
 * warnings, the no-match policy, digest pinning (JSONPatch) and verifyDigest, the shared cache
 * (singleflight, negative cache), outages by failure policy, the review deadline, static authorities
 * and `match: all`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signerFromPrivateKey } from '../../src/keys/index.js';
import { anonymousKeychain, RegistryClient } from '../../src/oci/index.js';
import { parsePolicy } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { AdmissionController, parseAdmissionReview, safeText, type ParsedReview } from '../../src/webhook/index.js';

let reg: TestRegistry;
let pem: string;
let otherPem: string;
const digests: Record<string, string> = {};

function pod(images: string[], uid = 'uid-1'): ParsedReview {
  return parseAdmissionReview(
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        namespace: 'default',
        name: 'p',
        operation: 'CREATE',
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } },
      },
    }),
  );
}

function controller(policyYaml: string, extra: Partial<ConstructorParameters<typeof AdmissionController>[0]> = {}): AdmissionController {
  return new AdmissionController({ policy: parsePolicy(policyYaml), keychain: () => anonymousKeychain, ...extra });
}

const keyRule = (name: string, images: string, more = ''): string =>
  `  - name: ${name}\n    images: ["${images}"]\n    authorities: [{ key: { pem: ${JSON.stringify(pem)} } }]\n${more}`;

beforeAll(async () => {
  reg = await startTestRegistry();
  const client = new RegistryClient({ keychain: anonymousKeychain });
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  pem = kp.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  otherPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const signer = signerFromPrivateKey(kp.privateKey, 'test.key');
  for (const [name, signed] of [
    ['signed', true],
    ['unsigned', false],
    ['signed2', true],
  ] as const) {
    const ref = `${reg.host}/apps/${name}:v1`;
    digests[name] = await pushSampleImage(client, ref, { name });
    if (signed) await signImage(`${parseReference(ref).name}@${digests[name]}`, signer, { client });
  }
  client.close();
});
afterAll(async () => {
  await reg?.close();
});

describe('AdmissionController', () => {
  it('allows a signed image (echoing the uid) and denies an unsigned one naming image, container, rule and authority', async () => {
    const c = controller(`rules:\n${keyRule('apps', `${reg.host}/apps/*`)}`);
    const ok = await c.review(pod([`${reg.host}/apps/signed:v1`], 'abc-123'));
    expect(ok.response).toEqual({ uid: 'abc-123', allowed: true });
    expect(ok.images[0]).toMatchObject({ result: 'verified', digest: digests['signed'] });
    const bad = await c.review(pod([`${reg.host}/apps/signed:v1`, `${reg.host}/apps/unsigned:v1`], 'def'));
    expect(bad.response.uid).toBe('def');
    expect(bad.response.allowed).toBe(false);
    expect(bad.response.status?.code).toBe(403);
    const msg = bad.response.status?.message ?? '';
    expect(msg).toContain(`image "${reg.host}/apps/unsigned:v1" (container "c1")`);
    expect(msg).toContain('rule "apps" (authorities: key (PEM in the policy))');
    expect(msg).toContain('NO_SIGNATURES');
    expect(msg).not.toContain('apps/signed:v1"');
    c.close();
  });

  it('audit mode and the no-match policy: warnings, not denials', async () => {
    const c = controller(`defaults: { unmatched: deny, unmatchedMode: audit }\nrules:\n${keyRule('apps', `${reg.host}/apps/*`, '    mode: audit\n')}`);
    const d = await c.review(pod([`${reg.host}/apps/unsigned:v1`, 'other.example.com/x:1']));
    expect(d.response.allowed).toBe(true);
    expect(d.response.warnings).toHaveLength(2);
    expect(d.response.warnings?.[0]).toMatch(/apps\/unsigned:v1.*rule "apps".*NO_SIGNATURES/);
    expect(d.response.warnings?.[1]).toMatch(/other\.example\.com\/x:1.*no policy rule matches/);
    expect(d.response.warnings?.every((w) => w.length <= 256)).toBe(true);
    const deny = controller(`rules:\n${keyRule('apps', `${reg.host}/apps/*`)}`);
    expect((await deny.review(pod(['other.example.com/x:1']))).response.status?.message).toMatch(/no policy rule matches it/);
    const allow = controller(`defaults: { unmatched: allow }\nallow: ["${reg.host}/apps/unsigned"]\nrules:\n${keyRule('apps', `${reg.host}/apps/*`)}`);
    expect((await allow.review(pod(['other.example.com/x:1', `${reg.host}/apps/unsigned:v1`]))).response).toEqual({ uid: 'uid-1', allowed: true });
    c.close();
    deny.close();
    allow.close();
  });

  it('mutateDigest pins tags with a JSONPatch on the mutating path; verifyDigest requires a digest otherwise', async () => {
    const c = controller(`rules:\n${keyRule('apps', `${reg.host}/apps/*`, '    mutateDigest: true\n    requireDigest: true\n')}`);
    const image = `${reg.host}/apps/signed:v1`;
    const m = await c.review(pod([image, `${reg.host}/apps/signed2@${digests['signed2']}`]), { mutate: true });
    expect(m.response.allowed).toBe(true);
    expect(m.response.patchType).toBe('JSONPatch');
    expect(JSON.parse(Buffer.from(m.response.patch ?? '', 'base64').toString())).toEqual([
      { op: 'replace', path: '/spec/containers/0/image', value: `${image}@${digests['signed']}` },
    ]);
    const v = await c.review(pod([image]));
    expect(v.response.allowed).toBe(false);
    expect(v.response.status?.message).toMatch(/must be named by digest/);
    expect((await c.review(pod([`${image}@${digests['signed']}`]))).response.allowed).toBe(true);
    c.close();
  });

  it('one cache for all reviews: 50 concurrent reviews of one digest verify it once; failures are cached briefly', async () => {
    const c = controller(`rules:\n${keyRule('apps', `${reg.host}/apps/*`)}`);
    const before = reg.requests.length;
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => c.review(pod([`${reg.host}/apps/signed:v1`], `u${i}`))));
    expect(all.every((d) => d.response.allowed)).toBe(true);
    expect(c.verifications).toBe(1);
    expect(c.outcomes.stats.joined).toBe(49);
    const cold = reg.requests.length - before;
    const coldClient = c.registryRequests();
    await Promise.all(Array.from({ length: 50 }, (_, i) => c.review(pod([`${reg.host}/apps/signed:v1`], `w${i}`))));
    expect(reg.requests.length - before).toBe(cold); // warm: no registry request at all (tag cache + outcome cache)
    expect(c.registryRequests()).toBe(coldClient);
    await c.review(pod([`${reg.host}/apps/unsigned:v1`]));
    await c.review(pod([`${reg.host}/apps/unsigned:v1`]));
    expect(c.verifications).toBe(2); // the failure was reused
    c.close();
  });

  it('a registry outage fails closed by default, open when the rule says so; the review deadline counts as an outage', async () => {
    const dead = '127.0.0.1:9';
    const closed = controller(`rules:\n${keyRule('r', `${dead}/**`)}`, { registry: { timeoutMs: 2000, retries: 0 } as never });
    const d = await closed.review(pod([`${dead}/x/y:1`]));
    expect(d.response.allowed).toBe(false);
    expect(d.response.status?.message).toMatch(/REGISTRY_UNAVAILABLE/);
    const open = controller(`rules:\n${keyRule('r', `${dead}/**`, '    failurePolicy: open\n')}`);
    const o = await open.review(pod([`${dead}/x/y:1`]));
    expect(o.response.allowed).toBe(true);
    expect(o.response.warnings?.[0]).toMatch(/REGISTRY_UNAVAILABLE.*failure policy open: admitted/);
    // a slow registry past the deadline: an outage, decided by the failure policy
    const slow = controller(`rules:\n${keyRule('apps', `${reg.host}/apps/*`)}`);
    reg.faults.next({ delayMs: 1500, times: 50 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const t0 = Date.now();
    const s = await slow.review(pod([`${reg.host}/apps/signed2:v1`]), { signal: ac.signal });
    expect(Date.now() - t0).toBeLessThan(1200);
    expect(s.deadlineReached).toBe(true);
    expect(s.response.allowed).toBe(false);
    expect(s.response.status?.message).toMatch(/deadline passed/);
    reg.faults.clear();
    closed.close();
    open.close();
    slow.close();
  });

  it('static authorities, match: all (every matching rule must pass), exclude', async () => {
    const pass = controller(`rules:\n  - name: s\n    images: ["${reg.host}/apps/*"]\n    authorities: [{ static: { action: pass } }]\n`);
    expect((await pass.review(pod([`${reg.host}/apps/unsigned:v1`]))).response.allowed).toBe(true);
    const failing = controller(`rules:\n  - name: s\n    images: ["${reg.host}/apps/*"]\n    authorities: [{ static: { action: fail } }]\n`);
    expect((await failing.review(pod([`${reg.host}/apps/signed:v1`]))).response.status?.message).toMatch(/authorities: static fail/);
    const wrongKey = `  - name: other-key\n    images: ["${reg.host}/apps/signed"]\n    authorities: [{ key: { pem: ${JSON.stringify(otherPem)} } }]\n`;
    const first = controller(`rules:\n${keyRule('apps', `${reg.host}/apps/*`)}${wrongKey}`);
    expect((await first.review(pod([`${reg.host}/apps/signed:v1`]))).response.allowed).toBe(true);
    const all = controller(`defaults: { match: all }\nrules:\n${keyRule('apps', `${reg.host}/apps/*`)}${wrongKey}`);
    const d = await all.review(pod([`${reg.host}/apps/signed:v1`]));
    expect(d.response.allowed).toBe(false);
    expect(d.response.status?.message).toMatch(/rule "other-key"/);
    expect(d.images[0]?.rules.map((r) => [r.rule, r.result])).toEqual(
      expect.arrayContaining([
        ['apps', 'verified'],
        ['other-key', 'failed'],
      ]),
    );
    const excl = controller(`defaults: { unmatched: allow }\nrules:\n${keyRule('apps', `${reg.host}/apps/*`, `    exclude: ["${reg.host}/apps/unsigned"]\n`)}`);
    expect((await excl.review(pod([`${reg.host}/apps/unsigned:v1`]))).response.allowed).toBe(true);
    for (const c of [pass, failing, first, all, excl]) c.close();
  });

  it('an invalid image reference is denied; hostile text is escaped in messages', async () => {
    const c = controller(`rules:\n${keyRule('apps', `${reg.host}/apps/*`)}`);
    const d = await c.review(pod(['Bad\u001b[31mImage\u202e']));
    expect(d.response.allowed).toBe(false);
    expect(d.response.status?.message).not.toMatch(/[\u001b\u202e]/);
    expect(d.response.status?.message).toContain('\\u001b');
    expect(safeText('a\nb')).toBe('a\\u000ab');
    expect(safeText('x'.repeat(2000), 10)).toHaveLength(10);
    c.close();
  });

  it('the keychain factory is asked per review with the pod namespace, service account and pull secrets', async () => {
    const seen: unknown[] = [];
    const c = controller(`rules:\n${keyRule('apps', `${reg.host}/apps/*`)}`, {
      keychain: (ctx) => {
        seen.push(ctx);
        return anonymousKeychain;
      },
    });
    const r = pod([`${reg.host}/apps/signed:v1`]);
    await c.review({ ...r, serviceAccountName: 'builder', imagePullSecrets: ['regcred'] });
    expect(seen).toEqual([{ namespace: 'default', serviceAccountName: 'builder', imagePullSecrets: ['regcred'] }]);
    c.close();
  });

  it('per-workload keyless identity from annotations, within the limits the policy sets (keyless itself fails closed here)', async () => {
    const c = controller(`rules:
  - name: keyless
    images: ["${reg.host}/apps/*"]
    authorities: []
    identityFromAnnotations:
      allowedIssuers: [https://token.actions.githubusercontent.com]
      subjectRegExp: ^https://github\\.com/org/
`);
    const withAnnotations = (annotations: Record<string, string>): ParsedReview => ({ ...pod([`${reg.host}/apps/signed:v1`]), annotations });
    const none = await c.review(withAnnotations({}));
    expect(none.response.status?.message).toMatch(/ANNOTATION_MISMATCH: the workload must name its signer in the annotations cosign-ts.dev\/keyless-issuer/);
    const issuer = await c.review(
      withAnnotations({ 'cosign-ts.dev/keyless-issuer': 'https://evil.example', 'cosign-ts.dev/keyless-subject': 'https://github.com/org/x' }),
    );
    expect(issuer.response.status?.message).toMatch(/issuer "https:\/\/evil.example" is not one the policy allows/);
    const subject = await c.review(
      withAnnotations({
        'cosign-ts.dev/keyless-issuer': 'https://token.actions.githubusercontent.com',
        'cosign-ts.dev/keyless-subject': 'https://github.com/other/x',
      }),
    );
    expect(subject.response.status?.message).toMatch(/outside the policy's limit/);
    const within = await c.review(
      withAnnotations({
        'cosign-ts.dev/keyless-issuer': 'https://token.actions.githubusercontent.com',
        'cosign-ts.dev/keyless-subject': 'https://github.com/org/app',
      }),
    );
    expect(within.response.allowed).toBe(false); // the image is key-signed: no keyless signature verifies
    expect(within.response.status?.message).toContain("authorities: keyless identity from the workload's annotations");
    expect(within.response.status?.message).not.toContain('ANNOTATION_MISMATCH');
    c.close();
  });

  it('setPolicy: the next review of the same image is decided under the new policy (matches are not reused)', async () => {
    const image = `${reg.host}/apps/signed:v1`;
    const c = controller(`rules:\n${keyRule('other', `${reg.host}/elsewhere/**`)}`);
    const before = await c.review(pod([image]));
    expect(before.response.allowed).toBe(false);
    expect(before.response.status?.message).toContain('no policy rule matches it');
    c.setPolicy(parsePolicy(`rules:\n${keyRule('apps', `${reg.host}/apps/**`)}`));
    const after = await c.review(pod([image]));
    expect(after.response).toEqual({ uid: 'uid-1', allowed: true });
    c.close();
  });
});
