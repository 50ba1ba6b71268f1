import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { evaluatePolicy, matchingRules, parsePolicy, policyFromObject } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference.js';
import { compileGlob } from '../../src/policy/glob.js';
import { canonicalName } from '../../src/reference.js';

function policyError(text: string, format?: 'json'): string {
  try {
    parsePolicy(text, { source: 'p.yaml', ...(format === undefined ? {} : { format }) });
  } catch (e) {
    expect(isCosignError(e, 'POLICY_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

const VALID = `apiVersion: cosign-ts/v1
defaults:
  unmatched: deny
  mode: audit
allow:
  - registry.example.com/infra/**
rules:
  - name: ci
    images: [registry.example.com/ci/*]
    mode: enforce
    authorities:
      - key: { path: /etc/cosign.pub }
      - key: { kms: awskms:///alias/image_signing_cosign_signature_key }
    annotations: { approved: "true" }
  - name: keyless
    images: [ghcr.io/org/**]
    authorities:
      - keyless: { issuer: https://token.actions.githubusercontent.com, subjectRegExp: "^https://github.com/org/" }
`;

describe('parsePolicy', () => {
  it('reads YAML and the same policy as JSON', () => {
    const p = parsePolicy(VALID);
    expect(p.unmatched).toBe('deny');
    expect(p.rules.map((r) => [r.name, r.mode])).toEqual([
      ['ci', 'enforce'],
      ['keyless', 'audit'],
    ]);
    expect(p.rules[0]?.authorities).toEqual([
      { kind: 'key', path: '/etc/cosign.pub' },
      { kind: 'key', kms: 'awskms:///alias/image_signing_cosign_signature_key' },
    ]);
    expect(p.rules[1]?.authorities[0]).toMatchObject({ kind: 'keyless', issuer: 'https://token.actions.githubusercontent.com' });
    const json = parsePolicy(JSON.stringify({ rules: [{ name: 'a', images: ['x/*'], authorities: [{ key: { pem: '-----BEGIN PUBLIC KEY-----\n...' } }] }] }), {
      format: 'json',
    });
    expect(json.rules[0]?.mode).toBe('enforce');
  });

  it.each([
    ['rules:\n  - name: a\n    images: [x\n', /p\.yaml:\d+:\d+: /],
    ['rules:\n  - name: a\n    images: ["x/*"]\n    authorities: []\n', /p\.yaml:4:18: rules\.0\.authorities/],
    ['rules:\n  - name: a\n    images: ["x/*"]\n    mode: kill\n    authorities: [{ key: { path: /k } }]\n', /p\.yaml:4:11: rules\.0\.mode/],
    ['rules:\n  - name: a\n    imagez: ["x/*"]\n', /p\.yaml:2:5: rules\.0/],
    ['defaults: {unmatched: deny}\ndefaults: {unmatched: allow}\n', /p\.yaml:2:1: .*[Uu]nique|duplicate/i],
    [
      'rules:\n  - { name: a, images: ["x/*"], authorities: [{ key: { path: /k } }] }\n  - { name: a, images: ["y/*"], authorities: [{ key: { path: /k } }] }\n',
      /duplicate rule name "a"/,
    ],
    ['rules:\n  - { name: a, images: ["x@sha256:00"], authorities: [{ key: { path: /k } }] }\n', /not digests/],
    ['rules:\n  - { name: a, images: ["x/*"], authorities: [{ keyless: { issuer: i } }] }\n', /keyless needs/],
  ])('rejects %j with a located message', (text, message) => {
    expect(policyError(text)).toMatch(message);
  });

  it('an alias to an unknown anchor is POLICY_INVALID', () => {
    expect(policyError('*!')).toMatch(/p\.yaml: /);
    expect(policyError('a: &x [*x]')).toMatch(/POLICY|p\.yaml/);
  });

  it('random text gives POLICY_INVALID or a policy, never anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.stringMatching(/^[*&!:{}[\],a-z -]{0,20}$/),
          fc.constantFrom(VALID).map((v) => v.slice(0, 120)),
        ),
        (s) => {
          try {
            parsePolicy(s);
          } catch (e) {
            expect(isCosignError(e, 'POLICY_INVALID')).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('globs and evaluation', () => {
  it.each([
    ['registry.example.com/ci/*', 'registry.example.com/ci/app', true],
    ['registry.example.com/ci/*', 'registry.example.com/ci/team/app', false],
    ['registry.example.com/ci/**', 'registry.example.com/ci/team/app', true],
    ['registry.example.com/ci/ap?', 'registry.example.com/ci/app', true],
    ['busybox', 'index.docker.io/library/busybox', true],
    ['docker.io/library/busybox', 'index.docker.io/library/busybox', true],
    ['org/app', 'index.docker.io/org/app', true],
    ['*.example.com/**', 'registry.example.com/a/b', true],
    ['registry.example.com/ci/app:v1', 'registry.example.com/ci/app:v1', true],
    ['registry.example.com/ci/app:v1', 'registry.example.com/ci/app:v2', false],
  ])('%s vs %s → %s', (glob, name, want) => {
    expect(compileGlob(glob)(name)).toBe(want);
  });

  it('allow-list first, then the first matching rule, then the unmatched default', () => {
    const p = parsePolicy(VALID);
    expect(evaluatePolicy(p, parseReference('registry.example.com/infra/proxy:1')).kind).toBe('allowed');
    const d = evaluatePolicy(p, parseReference('registry.example.com/ci/app@sha256:' + 'a'.repeat(64)));
    expect(d.kind === 'rule' && d.rule.name).toBe('ci');
    expect(evaluatePolicy(p, parseReference('busybox'))).toEqual({ kind: 'unmatched', action: 'deny', mode: 'audit' });
  });
});

describe('name normalisation (Docker reference grammar) for globs and exact names', () => {
  /** Spellings of one image that must all meet the same rule. */
  const EQUIVALENT: ReadonlyArray<[string, ReadonlyArray<string>]> = [
    [
      'registry.example.com/ci/app',
      [
        'registry.example.com/ci/app',
        'REGISTRY.EXAMPLE.COM/ci/app',
        'Registry.Example.Com/ci/app:v1',
        'registry.example.com:443/ci/app',
        'REGISTRY.example.COM:443/ci/app@sha256:' + 'a'.repeat(64),
      ],
    ],
    [
      'busybox',
      [
        'busybox',
        'busybox:1.36',
        'library/busybox',
        'docker.io/busybox',
        'docker.io/library/busybox',
        'index.docker.io/busybox',
        'index.docker.io/library/busybox',
        'registry-1.docker.io/busybox',
        'registry-1.docker.io/library/busybox',
        'DOCKER.IO/busybox',
        'index.docker.io:443/busybox',
      ],
    ],
    ['org/app', ['org/app', 'docker.io/org/app', 'index.docker.io/org/app', 'registry-1.docker.io/org/app:v2', 'Docker.IO:443/org/app']],
  ];
  const GLOBS: ReadonlyArray<[string, string]> = [
    ['registry.example.com/ci/*', 'registry.example.com/ci/app'],
    ['REGISTRY.EXAMPLE.COM/ci/*', 'registry.example.com/ci/app'],
    ['registry.example.com:443/ci/**', 'registry.example.com/ci/app'],
    ['registry.example.com/ci/app', 'registry.example.com/ci/app'],
    ['Registry.Example.Com:443/ci/app', 'registry.example.com/ci/app'],
    ['busybox', 'busybox'],
    ['index.docker.io/busybox', 'busybox'],
    ['registry-1.docker.io/busybox', 'busybox'],
    ['docker.io/library/busybox', 'busybox'],
    ['INDEX.DOCKER.IO/library/*', 'busybox'],
    ['docker.io/*', 'busybox'],
    ['index.docker.io/org/*', 'org/app'],
    ['registry-1.docker.io:443/org/app', 'org/app'],
  ];

  it.each(GLOBS)('glob %s matches every spelling of %s (and a rule on it applies to all of them)', (glob, canonical) => {
    const spellings = EQUIVALENT.find(([c]) => c === canonical)?.[1] ?? [];
    const p = parsePolicy(JSON.stringify({ rules: [{ name: 'r', images: [glob], authorities: [{ key: { path: '/k' } }] }] }), { format: 'json' });
    for (const s of spellings) {
      const d = evaluatePolicy(p, parseReference(s));
      expect(d.kind, `${glob} vs ${s}`).toBe('rule');
    }
    const other = evaluatePolicy(p, parseReference('registry.example.org/ci/app'));
    expect(other.kind).toBe('unmatched');
  });

  it('all spellings of a name have one canonical name; different names stay different', () => {
    for (const [, spellings] of EQUIVALENT) expect(new Set(spellings.map((s) => canonicalName(parseReference(s)))).size).toBe(1);
    expect(new Set(EQUIVALENT.map(([c]) => canonicalName(parseReference(c)))).size).toBe(EQUIVALENT.length);
    expect(canonicalName(parseReference('registry.example.com:5443/ci/app'))).toBe('registry.example.com:5443/ci/app');
    expect(canonicalName(parseReference('localhost:443/a'))).toBe('localhost/a');
  });

  it('the allow-list is normalised the same way (no escape through host case or :443)', () => {
    const p = parsePolicy('allow: ["registry.example.com/infra/**"]');
    for (const s of ['REGISTRY.EXAMPLE.COM/infra/x', 'registry.example.com:443/infra/a/b']) expect(evaluatePolicy(p, parseReference(s)).kind).toBe('allowed');
  });

  it.each(['registry.example.com/CI/*', 'Library/busybox', 'BusyBox', 'docker.io/Org/app:v1'])(
    'an upper-case repository path in glob %j is POLICY_INVALID',
    (glob) => {
      expect(policyError(JSON.stringify({ rules: [{ name: 'r', images: [glob], authorities: [{ key: { path: '/k' } }] }] }), 'json')).toMatch(
        /repository paths are lower case/,
      );
    },
  );

  it('upper case in a tag is kept (tags are case sensitive); upper-case image repository paths are BAD_REFERENCE', () => {
    expect(compileGlob('registry.example.com/ci/app:V1')('registry.example.com/ci/app:V1')).toBe(true);
    expect(compileGlob('registry.example.com/ci/app:V1')('registry.example.com/ci/app:v1')).toBe(false);
    expect(() => parseReference('registry.example.com/CI/app')).toThrow(expect.objectContaining({ code: 'BAD_REFERENCE' }));
  });
});

describe('admission extensions of the policy model', () => {
  const text = `defaults: { match: all, unmatched: deny, unmatchedMode: audit }
rules:
  - name: ci
    images: ["registry.example.com/ci/**"]
    exclude: ["registry.example.com/ci/debug/*"]
    failurePolicy: open
    mutateDigest: true
    requireDigest: true
    authorities: [{ key: { path: /k.pub } }]
  - name: ci-static
    images: ["registry.example.com/ci/*"]
    authorities: [{ static: { action: pass } }]
`;

  it('parses exclude, failurePolicy, mutateDigest, requireDigest, static authorities, match and unmatchedMode (with defaults)', () => {
    const p = parsePolicy(text);
    expect(p).toMatchObject({ match: 'all', unmatched: 'deny', unmatchedMode: 'audit' });
    expect(p.rules[0]).toMatchObject({ exclude: ['registry.example.com/ci/debug/*'], failurePolicy: 'open', mutateDigest: true, requireDigest: true });
    expect(p.rules[1]).toMatchObject({
      exclude: [],
      failurePolicy: 'closed',
      mutateDigest: false,
      requireDigest: false,
      authorities: [{ kind: 'static', action: 'pass' }],
    });
    expect(parsePolicy('rules: []\n')).toMatchObject({ match: 'first', unmatchedMode: 'enforce' });
    expect(policyError('rules:\n  - name: r\n    images: [a]\n    authorities: [{ static: { action: maybe } }]\n')).toMatch(/static: \{action: pass\|fail\}/);
    expect(policyError('rules:\n  - name: r\n    images: [a]\n    failurePolicy: sometimes\n    authorities: [{ static: { action: pass } }]\n')).toMatch(
      /failurePolicy/,
    );
  });

  it('matchingRules: all matching rules with match: all, the first with match: first; exclude removes a rule', () => {
    const p = parsePolicy(text);
    const all = matchingRules(p, parseReference('registry.example.com/ci/app:1'));
    expect(all.kind === 'rules' && all.rules.map((r) => r.name)).toEqual(['ci', 'ci-static']);
    const first = matchingRules(parsePolicy(text.replace('match: all', 'match: first')), parseReference('registry.example.com/ci/app:1'));
    expect(first.kind === 'rules' && first.rules.map((r) => r.name)).toEqual(['ci']);
    const excluded = matchingRules(p, parseReference('registry.example.com/ci/debug/sh:1'));
    expect(excluded).toMatchObject({ kind: 'unmatched', mode: 'audit' });
    expect(evaluatePolicy(p, parseReference('registry.example.com/ci/debug/sh:1')).kind).toBe('unmatched');
  });

  it('parses secretRef key authorities and the tlog setting (absent by default)', () => {
    const p = parsePolicy(
      'rules:\n  - name: r\n    images: [a]\n    tlog: require\n    authorities: [{ key: { secretRef: { namespace: cosign-system, name: release-key } } }]\n',
    );
    expect(p.rules[0]).toMatchObject({ tlog: 'require', authorities: [{ kind: 'key', secretRef: { namespace: 'cosign-system', name: 'release-key' } }] });
    expect(parsePolicy('rules:\n  - name: r\n    images: [a]\n    tlog: ignore\n    authorities: [{ key: { path: /k } }]\n').rules[0]?.tlog).toBe('ignore');
    expect(parsePolicy('rules:\n  - name: r\n    images: [a]\n    authorities: [{ key: { path: /k } }]\n').rules[0]?.tlog).toBeUndefined();
    expect(policyError('rules:\n  - name: r\n    images: [a]\n    tlog: sometimes\n    authorities: [{ key: { path: /k } }]\n')).toMatch(/tlog/);
    expect(policyError('rules:\n  - name: r\n    images: [a]\n    authorities: [{ key: { secretRef: { namespace: Bad_NS, name: k } } }]\n')).toMatch(
      /key\.secretRef\.namespace: must be a Kubernetes namespace name/,
    );
  });

  it('policyFromObject validates the object form like the YAML', () => {
    expect(
      policyFromObject({ rules: [{ name: 'r', images: ['a.example.com/*'], authorities: [{ static: { action: 'fail' } }] }] }).rules[0]?.authorities,
    ).toEqual([{ kind: 'static', action: 'fail' }]);
    expect(() => policyFromObject({ rules: [{ name: 'r' }] }, { source: 'obj' })).toThrow(/^obj: rules\.0\.images/);
  });
});
