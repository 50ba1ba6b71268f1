/**
 * Image glob patterns, as admission controllers use them: `*` matches within one path segment (no `/`),
 * `**` matches across segments, `?` one character (not `/`). Patterns and image names are normalised
 * the same way (`busybox` → `index.docker.io/library/busybox`), and a pattern matches the image's
 * `registry/repository`, or `registry/repository:tag` when the pattern names a tag.
 *
 * @module
 */
import { fail } from '../errors.js';
import { DOCKER_HUB } from '../reference.js';

/** Normalise the registry part of a pattern like references are normalised. */
export function normalisePattern(pattern: string): string {
  const slash = pattern.indexOf('/');
  const first = slash < 0 ? '' : pattern.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[') || first.includes('*'));
  if (!hasRegistry) return pattern.includes('/') ? `${DOCKER_HUB}/${pattern}` : `${DOCKER_HUB}/library/${pattern}`;
  if (first === 'docker.io') {
    const rest = pattern.slice(slash + 1);
    return rest.includes('/') ? `${DOCKER_HUB}/${rest}` : `${DOCKER_HUB}/library/${rest}`;
  }
  return pattern;
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
