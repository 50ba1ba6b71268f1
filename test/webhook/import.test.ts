/**
 * Importers: policy-controller ClusterImagePolicy (+ its ConfigMap) and Kyverno ClusterPolicy mapped
 * onto the shared policy model; everything outside the supported subset refused with a clear error.
 */
import { describe, expect, it } from 'vitest';
import { evaluatePolicy, matchingRules } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference.js';
import { importPolicies } from '../../src/webhook/index.js';
import { codeOf } from '../helpers/errors.js';

const PEM = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----';
const pemYaml = (indent: number): string =>
  `|\n${PEM.split('\n')
    .map((l) => `${' '.repeat(indent)}${l}`)
    .join('\n')}`;

const CIP = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: { name: gcp-signed }
spec:
  images: [{ glob: "europe-docker.pkg.dev/prod/**" }]
  mode: warn
  authorities:
    - key: { kms: "gcpkms://projects/p/locations/europe/keyRings/r/cryptoKeys/k" }
    - key: { secretRef: { name: cosign-pub } }
    - key:
        data: ${pemYaml(10)}
    - keyless:
        identities:
          - issuer: https://token.actions.githubusercontent.com
            subjectRegExp: ^https://github.com/org/.*$
    - static: { action: fail }
`;

const KYVERNO = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: { name: vault-signed }
spec:
  background: false
  failurePolicy: Ignore
  rules:
    - name: check
      match: { any: [{ resources: { kinds: [Pod, Deployment] } }] }
      verifyImages:
        - imageReferences: ["registry.example.com/ci/*"]
          skipImageReferences: ["registry.example.com/ci/debug*"]
          failureAction: Audit
          attestors:
            - count: 1
              entries:
                - keys: { kms: "hashivault://cosign", rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } }
                - keys: { publicKeys: ${JSON.stringify(PEM)}, rekor: { ignoreTlog: true } }
            - entries:
                - keyless: { issuer: https://accounts.google.com, subject: ci@example.com }
`;

describe('importPolicies', () => {
  it('ClusterImagePolicy: globs, every authority kind, warn mode, secretRef in the secret namespace, source.oci; no-match deny by default', () => {
    const { policy, documents } = importPolicies(CIP);
    expect(documents).toEqual(['ClusterImagePolicy']);
    expect(policy.match).toBe('all');
    expect(policy.unmatched).toBe('deny');
    expect(policy.unmatchedMode).toBe('enforce');
    const [rule] = policy.rules;
    expect(rule).toMatchObject({
      name: 'gcp-signed',
      images: ['europe-docker.pkg.dev/prod/**'],
      mode: 'audit',
      failurePolicy: 'closed',
      mutateDigest: false,
    });
    expect(rule?.authorities).toEqual([
      { kind: 'key', kms: 'gcpkms://projects/p/locations/europe/keyRings/r/cryptoKeys/k' },
      { kind: 'key', secretRef: { namespace: 'cosign-system', name: 'cosign-pub' } },
      { kind: 'key', pem: `${PEM}\n` },
      { kind: 'keyless', issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: '^https://github.com/org/.*$' },
      { kind: 'static', action: 'fail' },
    ]);
    expect(evaluatePolicy(policy, parseReference('europe-docker.pkg.dev/prod/a/b:1')).kind).toBe('rule');
    const withSource = CIP.replace(/ {4}- key: \{ secretRef[\s\S]*$/, '').replace(
      'cryptoKeys/k" }',
      'cryptoKeys/k" }\n      source: [{ oci: europe-docker.pkg.dev/prod/signatures }]',
    );
    expect(importPolicies(withSource).policy.rules[0]?.signatureRepository).toBe('europe-docker.pkg.dev/prod/signatures');
    expect(() => importPolicies(withSource.replace('authorities:', 'authorities:\n    - static: { action: pass }'))).toThrow(
      /different source\.oci per authority/,
    );
    expect(importPolicies(CIP, { secretNamespace: 'policy' }).policy.rules[0]?.authorities[1]).toEqual({
      kind: 'key',
      secretRef: { namespace: 'policy', name: 'cosign-pub' },
    });
    // a SecretReference may name the namespace policy-controller reads anyway
    expect(importPolicies(CIP.replace('{ name: cosign-pub }', '{ name: cosign-pub, namespace: cosign-system }')).policy.rules[0]?.authorities[1]).toEqual({
      kind: 'key',
      secretRef: { namespace: 'cosign-system', name: 'cosign-pub' },
    });
    expect(rule?.tlog).toBeUndefined(); // no ctlog: keys offline, keyless logged (policy-controller's defaults)
  });

  it('a ClusterImagePolicy glob of ** matches every image, as in policy-controller', () => {
    const { policy } = importPolicies(CIP.replace('"europe-docker.pkg.dev/prod/**"', '"**"'));
    for (const image of ['busybox:1', 'ghcr.io/a/b:2', '127.0.0.1:5000/x@sha256:' + 'a'.repeat(64)]) {
      expect(evaluatePolicy(policy, parseReference(image)).kind).toBe('rule');
    }
  });

  it('the config-policy-controller ConfigMap sets the no-match policy (deny, warn, allow)', () => {
    const cm = (v: string) => `---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: config-policy-controller }\ndata: { no-match-policy: ${v} }\n`;
    expect(importPolicies(CIP + cm('warn')).policy).toMatchObject({ unmatched: 'deny', unmatchedMode: 'audit' });
    expect(importPolicies(CIP + cm('allow')).policy).toMatchObject({ unmatched: 'allow' });
    expect(importPolicies(CIP + cm('deny')).policy).toMatchObject({ unmatched: 'deny', unmatchedMode: 'enforce' });
    expect(() => importPolicies(CIP + cm('maybe'))).toThrow(/no-match-policy must be deny, warn or allow/);
  });

  it('Kyverno: attestor sets as rules that must all pass, count 1 as any-of, skipImageReferences, Audit, failurePolicy Ignore, digest defaults', () => {
    const { policy, documents } = importPolicies(KYVERNO);
    expect(documents).toEqual(['ClusterPolicy']);
    expect(policy.unmatched).toBe('allow'); // Kyverno leaves images no rule matches alone
    expect(policy.rules.map((r) => r.name)).toEqual(['vault-signed/check/attestors0', 'vault-signed/check/attestors1']);
    expect(policy.rules[0]).toMatchObject({
      images: ['registry.example.com/ci/**'],
      exclude: ['registry.example.com/ci/debug**'],
      mode: 'audit',
      failurePolicy: 'open',
      mutateDigest: true,
      requireDigest: true,
      authorities: [
        { kind: 'key', kms: 'hashivault://cosign' },
        { kind: 'key', pem: PEM },
      ],
    });
    expect(policy.rules[1]?.authorities).toEqual([{ kind: 'keyless', issuer: 'https://accounts.google.com', subject: 'ci@example.com' }]);
    const m = matchingRules(policy, parseReference('registry.example.com/ci/team/tf:1'));
    expect(m.kind === 'rules' && m.rules.length).toBe(2); // Kyverno's * crosses /
    expect(matchingRules(policy, parseReference('registry.example.com/ci/debug-shell:1')).kind).toBe('unmatched');
    const enforce = importPolicies(KYVERNO.replace('failureAction: Audit', 'failureAction: Enforce'));
    expect(enforce.policy.rules[0]?.mode).toBe('enforce');
    expect(importPolicies(KYVERNO.replace('failureAction: Audit', 'required: false')).policy.rules[0]?.mode).toBe('audit');
  });

  it('Kyverno count: all splits entries into rules (each must pass); other counts are refused', () => {
    const all = importPolicies(KYVERNO.replace('count: 1', 'count: 2'));
    expect(all.policy.rules.map((r) => r.name)).toEqual([
      'vault-signed/check/attestors0/0',
      'vault-signed/check/attestors0/1',
      'vault-signed/check/attestors1',
    ]);
    const three = KYVERNO.replace('count: 1', 'count: 2').replace(
      '                - keys: { publicKeys',
      '                - keys: { kms: "hashivault://b", rekor: { ignoreTlog: true } }\n                - keys: { publicKeys',
    );
    expect(() => importPolicies(three)).toThrow(/count: 2 of 3 is not supported/);
  });

  it('refuses, naming the document and field, what it cannot honour', () => {
    const cases: Array<[string, RegExp]> = [
      [
        CIP.replace('mode: warn', 'mode: warn\n  policy: { type: cue, data: x }'),
        /document 0 \(ClusterImagePolicy "gcp-signed"\): spec: Unrecognized key: "policy"/,
      ],
      [
        CIP.replace('    - static: { action: fail }', '    - attestations: []\n      static: { action: fail }'),
        /spec\.authorities\.4: Unrecognized key: "attestations"/,
      ],
      [
        CIP.replace('{ name: cosign-pub }', '{ name: cosign-pub, namespace: x }'),
        /secretRef\.namespace "x": policy-controller reads secretRef secrets from its own namespace/,
      ],
      [
        KYVERNO.replace(', ctlog: { ignoreSCT: true } }', ' }').replace(
          'rekor: { ignoreTlog: true } }\n                - keys',
          'rekor: { ignoreTlog: false } }\n                - keys',
        ),
        /attestors\.0\.entries \(use count: all for entries that differ\): key authorities with and without a transparency-log requirement/,
      ],
      [
        CIP.replace('    - static: { action: fail }', '    - static: { action: fail }\n      ctlog: { url: https://rekor.sigstore.dev }'),
        /expected exactly one, got both: static, ctlog/,
      ],
      [
        CIP.replace('cryptoKeys/k" }', 'cryptoKeys/k" }\n      ctlog: { trustRootRef: my-root }'),
        /spec\.authorities\.0\.ctlog\.trustRootRef: trustRootRef is not supported: TrustRoot resources are not imported/,
      ],
      [CIP.replace('cryptoKeys/k" }', 'cryptoKeys/k" }\n      ctlog: { url: "ftp://x" }'), /ctlog\.url: must be an http\(s\) URL/],
      [KYVERNO.replace('kinds: [Pod, Deployment]', 'kinds: [Pod, Service]'), /kinds Service are not pods/],
      [KYVERNO.replace('failureAction: Audit', 'failureAction: Audit\n          attestations: []'), /Unrecognized key: "attestations"/],
      [KYVERNO.replace('failureAction: Audit', 'type: Notary'), /only type Cosign is supported/],
      [KYVERNO.replace('kind: ClusterPolicy', 'kind: Policy'), /namespaced Kyverno Policy is not supported/],
      ['apiVersion: v1\nkind: Secret\nmetadata: { name: s }\n', /is not a policy cosign-ts-webhook imports/],
      [`${CIP}---\napiVersion: cosign-ts/v1\nrules: []\n`, /must be the only document/],
      ['', /no policy document/],
    ];
    for (const [text, re] of cases) {
      expect(codeOf(() => importPolicies(text))).toBe('POLICY_INVALID');
      expect(() => importPolicies(text)).toThrow(re);
    }
  });

  it("transparency log: ClusterImagePolicy ctlog and Kyverno rekor.ignoreTlog set the rule's tlog as those tools decide", () => {
    const cip = (authorities: string) =>
      importPolicies(
        `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: { name: p }\nspec:\n  images: [{ glob: "r.example/**" }]\n  authorities:\n${authorities}`,
      ).policy.rules[0]?.tlog;
    const key = `    - key:\n        data: ${pemYaml(10)}\n`;
    const keyless = '    - keyless: { identities: [{ issuer: https://i.example, subject: s }] }\n';
    // key authorities: offline unless ctlog names a Rekor URL (policy-controller: no Rekor client, IgnoreTlog)
    expect(cip(key)).toBeUndefined();
    expect(cip(`${key}      ctlog: { url: https://rekor.sigstore.dev }\n`)).toBe('require');
    expect(cip(`${key}      ctlog: {}\n`)).toBeUndefined();
    // keyless: logged by default (cosign's Rekor keys), not with an empty ctlog
    expect(cip(keyless)).toBeUndefined();
    expect(cip(`${keyless}      ctlog: {}\n`)).toBe('ignore');
    expect(cip(`${key}      ctlog: { url: https://rekor.sigstore.dev }\n${keyless}`)).toBe('require');
    expect(() => cip(`${key}      ctlog: { url: https://rekor.sigstore.dev }\n${key}`)).toThrow(
      /key authorities with and without a transparency-log requirement/,
    );
    expect(() => cip(`${key}      ctlog: { url: https://rekor.sigstore.dev }\n${keyless}      ctlog: {}\n`)).toThrow(/keyless ones ignoring it/);
    // Kyverno: required unless rekor.ignoreTlog: true, keys and keyless alike
    const ky = (entries: string) =>
      importPolicies(
        `apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: { name: k }\nspec:\n  rules:\n    - name: r\n      match: { resources: { kinds: [Pod] } }\n      verifyImages:\n        - imageReferences: ["r.example/*"]\n          attestors:\n            - count: 1\n              entries:\n${entries}`,
      ).policy.rules.map((r) => r.tlog);
    const kKey = (rekor: string) => `                - keys: { publicKeys: ${JSON.stringify(PEM)}${rekor} }\n`;
    const kKeyless = (rekor: string) => `                - keyless: { issuer: https://i.example, subject: s${rekor} }\n`;
    expect(ky(kKey(''))).toEqual(['require']);
    expect(ky(kKey(', rekor: { url: https://rekor.sigstore.dev }'))).toEqual(['require']);
    expect(ky(kKey(', rekor: { ignoreTlog: false }'))).toEqual(['require']);
    expect(ky(kKey(', rekor: { ignoreTlog: true }'))).toEqual([undefined]); // keys offline: the model's default
    expect(ky(kKeyless(', rekor: { ignoreTlog: true }'))).toEqual(['ignore']);
    expect(ky(kKeyless(''))).toEqual([undefined]);
    expect(ky(kKey(', rekor: { ignoreTlog: true }') + kKeyless(''))).toEqual([undefined]);
    expect(ky(kKey('') + kKeyless(''))).toEqual(['require']);
  });

  it('a native cosign-ts/v1 policy passes through', () => {
    const { policy } = importPolicies(
      `apiVersion: cosign-ts/v1\nrules:\n  - name: r\n    images: ["a.example.com/*"]\n    authorities: [{ key: { path: /k.pub } }]\n`,
    );
    expect(policy.rules[0]?.name).toBe('r');
    expect(policy.match).toBe('first');
  });
});
