/**
 * Which rule applies to an image. The allow-list is checked first; then rules in file order, first
 * match wins; then `defaults.unmatched`.
 *
 * @module
 */
import { canonicalName, type ImageReference } from '../reference.js';
import type { Policy, PolicyMode, PolicyRule } from './policy.js';

/** The outcome of {@link evaluatePolicy}. */
export type PolicyDecision =
  | { readonly kind: 'allowed'; readonly pattern: string }
  | { readonly kind: 'unmatched'; readonly action: 'allow' | 'deny'; readonly mode: PolicyMode }
  | { readonly kind: 'rule'; readonly rule: PolicyRule };

/**
 * Decide what applies to `ref`: its canonical `registry/repository` (`canonicalName` in
 * `reference.ts`: host lower case, no `:443`, one Docker Hub host), and with the tag when it has one.
 */
export function evaluatePolicy(policy: Policy, ref: ImageReference): PolicyDecision {
  const name = canonicalName(ref);
  const names = ref.tag === undefined ? [name] : [name, `${name}:${ref.tag}`];
  const hit = (ms: ReadonlyArray<(n: string) => boolean>): number => ms.findIndex((m) => names.some((n) => m(n)));
  const a = hit(policy.allowMatchers);
  if (a >= 0) return { kind: 'allowed', pattern: policy.allow[a] as string };
  for (const rule of policy.rules) if (hit(rule.matchers) >= 0) return { kind: 'rule', rule };
  return { kind: 'unmatched', action: policy.unmatched, mode: policy.unmatchedMode };
}
