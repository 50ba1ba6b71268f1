/**
 * Image glob patterns, as admission controllers use them: `*` matches within one path segment (no `/`),
 * `**` matches across segments, `?` one character (not `/`). Patterns and image names are normalised
 * the same way ({@link normalisePattern}, `canonicalName` in `reference.ts`: `busybox` →
 * `index.docker.io/library/busybox`, `REGISTRY.EXAMPLE.COM:443/ci/app` → `registry.example.com/ci/app`),
 * and a pattern matches the image's `registry/repository`, or `registry/repository:tag` when the
 * pattern names a tag.
 *
 * @module
 */
import { fail } from '../errors.js';
import { DOCKER_HUB, normaliseRegistryHost } from '../reference.js';

/**
 * Normalise a pattern the way image names are normalised for matching ({@link canonicalName}): the
 * registry part lower case, without `:443`, Docker Hub's host names as `index.docker.io`, and
 * `library/` before single-component Docker Hub repositories.
 * @throws CosignError `POLICY_INVALID` when the repository path has upper-case letters (such a
 *   reference is invalid: it could never match an image, so the rule would silently do nothing).
 */
export function normalisePattern(pattern: string): string {
  const slash = pattern.indexOf('/');
  const first = slash < 0 ? '' : pattern.slice(0, slash);
  const lower = first.toLowerCase();
  const hasRegistry = slash >= 0 && (lower.includes('.') || lower.includes(':') || lower === 'localhost' || lower.startsWith('[') || lower.includes('*'));
  const registry = hasRegistry ? normaliseRegistryHost(first) : DOCKER_HUB;
  const rest = hasRegistry ? pattern.slice(slash + 1) : pattern;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  const path = colon < 0 ? rest : rest.slice(0, colon);
  if (/[A-Z]/.test(path))
    throw fail('POLICY_INVALID', `glob ${JSON.stringify(pattern)}: repository paths are lower case (${JSON.stringify(path)} is not a valid repository)`);
  return registry === DOCKER_HUB && !rest.includes('/') ? `${DOCKER_HUB}/library/${rest}` : `${registry}/${rest}`;
}

/** Compile a glob into a matcher of `registry/repository[:tag]` strings. */
export function compileGlob(pattern: string): (name: string) => boolean {
  if (pattern.length === 0 || pattern.length > 1024) throw fail('POLICY_INVALID', 'glob pattern must be 1 to 1024 characters');
  if (/\s/.test(pattern)) throw fail('POLICY_INVALID', `glob ${JSON.stringify(pattern)} contains white space`);
  if (pattern.includes('@')) throw fail('POLICY_INVALID', `glob ${JSON.stringify(pattern)}: match repositories (and tags), not digests`);
  const p = normalisePattern(pattern);
  let re = '^';
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === '*') {
      if (p[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  re += '$';
  const rx = new RegExp(re);
  const lastSlash = p.lastIndexOf('/');
  const namesTag = p.indexOf(':', lastSlash + 1) > lastSlash && lastSlash >= 0;
  return (name: string) => rx.test(name) || (!namesTag && rx.test(name.replace(/:[^/:]+$/, '')));
}
