/**
 * The policy model shared by the image killer and the admission webhook: image globs → authorities,
 * an allow-list, `enforce` | `audit` modes. Pure: loading keys and verifying happen in `enforce/`.
 *
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { parseReference } from 'cosign-ts';
 * import { evaluatePolicy, parsePolicy } from 'cosign-ts/policy';
 *
 * const policy = parsePolicy(await readFile('/etc/cosign-ts/policy.yaml', 'utf8'), { source: 'policy.yaml' });
 * const decision = evaluatePolicy(policy, parseReference('registry.example.com/ci/terraform:1.9'));
 * if (decision.kind === 'rule') console.log(decision.rule.name, decision.rule.mode);
 * ```
 *
 * @module cosign-ts/policy
 */
export { parsePolicy, policyFromObject, type IdentityFromAnnotations, type Policy, type PolicyAuthority, type PolicyMode, type PolicyRule } from './policy.js';
export { evaluatePolicy, matchingRules, type PolicyDecision, type PolicyMatches } from './evaluate.js';
