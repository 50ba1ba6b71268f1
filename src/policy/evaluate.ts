/**
 * Which rule applies to an image. The allow-list is checked first; then rules in file order, first
 * match wins; then `defaults.unmatched`.
 *
 * @module
 */
import { fail } from '../errors.js';
import { canonicalName, type ImageReference } from '../reference.js';
import type { Policy, PolicyMode, PolicyRule, parsePolicy } from './policy.js';

/** The outcome of {@link evaluatePolicy}. */
export type PolicyDecision =
  | { readonly kind: 'allowed'; readonly pattern: string }
  | { readonly kind: 'unmatched'; readonly action: 'allow' | 'deny'; readonly mode: PolicyMode }
  | { readonly kind: 'rule'; readonly rule: PolicyRule };

const isMatchers = (v: unknown): boolean => Array.isArray(v) && v.every((m) => typeof m === 'function');

/** Check what plain JavaScript may pass: a policy from {@link parsePolicy}, a parsed reference. */
function checkInputs(policy: unknown, ref: unknown): void {
  const p = policy as Partial<Record<keyof Policy, unknown>> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    !isMatchers(p.allowMatchers) ||
    !Array.isArray(p.allow) ||
    !Array.isArray(p.rules) ||
    (p.unmatched !== 'deny' && p.unmatched !== 'allow')
  ) {
    throw fail(
      'POLICY_INVALID',
      'evaluatePolicy: the policy must be the result of parsePolicy() (allow, allowMatchers, rules and unmatched missing or malformed)',
    );
  }
  p.rules.forEach((r: unknown, i) => {
    if (typeof r !== 'object' || r === null || !isMatchers((r as { matchers?: unknown }).matchers)) {
      throw fail('POLICY_INVALID', `evaluatePolicy: policy rules[${i}] has no compiled matchers (the policy must be the result of parsePolicy())`);
    }
  });
  const r = ref as Partial<Record<keyof ImageReference, unknown>> | null;
  if (typeof r !== 'object' || r === null || typeof r.name !== 'string' || (r.tag !== undefined && typeof r.tag !== 'string')) {
    throw fail('BAD_REFERENCE', `evaluatePolicy: the image must be an ImageReference from parseReference() (got ${ref === null ? 'null' : typeof ref})`);
  }
}

/**
 * Decide what applies to `ref`: its canonical `registry/repository` (`canonicalName` in
 * `reference.ts`: host lower case, no `:443`, one Docker Hub host), and with the tag when it has one.
 *
 * @throws CosignError `POLICY_INVALID` when `policy` is not a policy from {@link parsePolicy},
 *   `BAD_REFERENCE` when `ref` is not a parsed reference (callers in plain JavaScript).
 */
export function evaluatePolicy(policy: Policy, ref: ImageReference): PolicyDecision {
  checkInputs(policy, ref);
  const name = canonicalName(ref);
  const names = ref.tag === undefined ? [name] : [name, `${name}:${ref.tag}`];
  const hit = (ms: ReadonlyArray<(n: string) => boolean>): number => ms.findIndex((m) => names.some((n) => m(n)));
  const a = hit(policy.allowMatchers);
  if (a >= 0) return { kind: 'allowed', pattern: policy.allow[a] as string };
  for (const rule of policy.rules) if (covers(rule, names)) return { kind: 'rule', rule };
  return { kind: 'unmatched', action: policy.unmatched, mode: policy.unmatchedMode };
}

function covers(rule: PolicyRule, names: ReadonlyArray<string>): boolean {
  const hit = (ms: ReadonlyArray<(n: string) => boolean> | undefined): boolean => ms?.some((m) => names.some((n) => m(n))) === true;
  return hit(rule.matchers) && !hit(rule.excludeMatchers);
}

/** The outcome of {@link matchingRules}. */
export type PolicyMatches =
  | { readonly kind: 'allowed'; readonly pattern: string }
  | { readonly kind: 'unmatched'; readonly action: 'allow' | 'deny'; readonly mode: PolicyMode }
  | { readonly kind: 'rules'; readonly rules: ReadonlyArray<PolicyRule> };

/**
 * Like {@link evaluatePolicy}, but honouring the policy's `match` setting: with `all`, every rule whose
 * images match (and whose `exclude` does not) is returned, and each must pass; with `first`, only the first.
 *
 * @throws CosignError `POLICY_INVALID` / `BAD_REFERENCE` as {@link evaluatePolicy}.
 */
export function matchingRules(policy: Policy, ref: ImageReference): PolicyMatches {
  const d = evaluatePolicy(policy, ref);
  if (d.kind !== 'rule') return d;
  if (policy.match !== 'all') return { kind: 'rules', rules: [d.rule] };
  const name = canonicalName(ref);
  const names = ref.tag === undefined ? [name] : [name, `${name}:${ref.tag}`];
  return { kind: 'rules', rules: policy.rules.filter((r) => covers(r, names)) };
}
