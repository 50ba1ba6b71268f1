/**
 * evaluatePolicy called from plain JavaScript with the wrong things: typed errors, never a TypeError.
 */
import { describe, expect, it } from 'vitest';
import { evaluatePolicy, parsePolicy, type Policy } from '../../src/policy/index.js';
import { parseReference, type ImageReference } from '../../src/reference.js';
import { codeOf } from '../helpers/errors.js';

const policy = parsePolicy(`apiVersion: cosign-ts/v1
defaults: { unmatched: deny }
allow: [registry.example.com/infra/**]
rules:
  - name: ci
    images: ["registry.example.com/ci/*"]
    authorities: [{ key: { path: /k.pub } }]
`);

describe('evaluatePolicy input checks', () => {
  it('still decides for good input', () => {
    expect(evaluatePolicy(policy, parseReference('registry.example.com/ci/tf:1')).kind).toBe('rule');
    expect(evaluatePolicy(policy, parseReference('registry.example.com/infra/a/b')).kind).toBe('allowed');
    expect(evaluatePolicy(policy, parseReference('other.example.com/x')).kind).toBe('unmatched');
  });

  it('a policy that did not come from parsePolicy is POLICY_INVALID', () => {
    const ref = parseReference('registry.example.com/ci/tf:1');
    const raw = { defaults: { unmatched: 'deny' }, allow: [], rules: [{ name: 'r', images: ['*'] }] };
    for (const bad of [
      undefined,
      null,
      'policy.yaml',
      raw,
      { ...policy, allowMatchers: ['x'] },
      { ...policy, rules: [{ name: 'r' }] },
      { ...policy, unmatched: 'maybe' },
    ]) {
      expect(codeOf(() => evaluatePolicy(bad as unknown as Policy, ref))).toBe('POLICY_INVALID');
    }
  });

  it('an image that is not a parsed reference is BAD_REFERENCE', () => {
    for (const bad of [undefined, null, 42, { registry: 'r' }, { name: 'r/x', tag: 7 }]) {
      expect(codeOf(() => evaluatePolicy(policy, bad as unknown as ImageReference))).toBe('BAD_REFERENCE');
    }
  });
});
