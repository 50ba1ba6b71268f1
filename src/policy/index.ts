/**
 * The policy model shared by the image killer and the admission webhook: image globs → authorities,
 * an allow-list, `enforce` | `audit` modes. Pure: loading keys and verifying happen in `enforce/`.
 *
 * @module
 */
export { parsePolicy, MAX_POLICY_BYTES, type Policy, type PolicyAuthority, type PolicyMode, type PolicyRule } from './policy.js';
export { evaluatePolicy, type PolicyDecision } from './evaluate.js';
export { compileGlob, normalisePattern } from './glob.js';
export { canonicalName, normaliseRegistryHost } from '../reference.js';
