import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCosignError } from '../src/errors.js';
import { formatReference, isLoopbackRegistry, parseReference, parseRepository, withDigest, withTag } from '../src/reference.js';

const D = `sha256:${'ab'.repeat(32)}` as const;

describe('parseReference', () => {
  it.each([
    ['busybox', 'index.docker.io/library/busybox:latest', 'index.docker.io/library/busybox'],
    ['docker.io/busybox', 'index.docker.io/library/busybox:latest', 'index.docker.io/library/busybox'],
    ['index.docker.io/library/busybox:1.36', 'index.docker.io/library/busybox:1.36', 'index.docker.io/library/busybox'],
    ['user/app', 'index.docker.io/user/app:latest', 'index.docker.io/user/app'],
    [`ubuntu@${D}`, `index.docker.io/library/ubuntu@${D}`, 'index.docker.io/library/ubuntu'],
    ['localhost:5000/a/b:v1', 'localhost:5000/a/b:v1', 'localhost:5000/a/b'],
    ['localhost/a', 'localhost/a:latest', 'localhost/a'],
    [`127.0.0.1:5000/x:t@${D}`, `127.0.0.1:5000/x:t@${D}`, '127.0.0.1:5000/x'],
    ['gcr.io/project/image', 'gcr.io/project/image:latest', 'gcr.io/project/image'],
    ['[::1]:5000/x', '[::1]:5000/x:latest', '[::1]:5000/x'],
    ['a.b/c__d/e-f/g.h', 'a.b/c__d/e-f/g.h:latest', 'a.b/c__d/e-f/g.h'],
  ])('%s', (input, full, name) => {
    const r = parseReference(input);
    expect(formatReference(r)).toBe(full);
    expect(r.name).toBe(name);
  });

  it.each(['', 'UPPER/x', 'a b', 'x:', 'x@sha256:zz', 'x@', '/x', 'x/', 'host:99999/x', 'a//b', `x:${'t'.repeat(129)}`, 'x:-bad'])(
    'rejects %j with BAD_REFERENCE',
    (input) => {
      try {
        parseReference(input);
        expect.unreachable();
      } catch (e) {
        expect(isCosignError(e, 'BAD_REFERENCE')).toBe(true);
      }
    },
  );

  it('keeps no tag when asked', () => {
    expect(parseReference('x', { defaultTag: null }).tag).toBeUndefined();
    expect(parseRepository('localhost:1/sigs').name).toBe('localhost:1/sigs');
    expect(() => parseRepository('localhost:1/sigs:tag')).toThrow(/without tag/);
  });

  it('withDigest / withTag', () => {
    const r = parseReference('localhost:5000/a:v1');
    expect(formatReference(withDigest(r, D))).toBe(`localhost:5000/a@${D}`);
    expect(formatReference(withTag(r, 'sha256-x.sig'))).toBe('localhost:5000/a:sha256-x.sig');
  });

  it('loopback detection', () => {
    expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackRegistry('127.1.2.3')).toBe(true);
    expect(isLoopbackRegistry('localhost:80')).toBe(true);
    expect(isLoopbackRegistry('[::1]:5000')).toBe(true);
    expect(isLoopbackRegistry('registry.example.com')).toBe(false);
    expect(isLoopbackRegistry('127.0.0.1.evil.com')).toBe(false);
  });

  it('random strings only ever give a valid reference or BAD_REFERENCE', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9.:/@_-]{0,80}$/)), (s) => {
        try {
          const r = parseReference(s);
          // A parsed reference formats to something that parses to the same thing.
          expect(parseReference(formatReference(r))).toEqual(r);
        } catch (e) {
          expect(isCosignError(e, 'BAD_REFERENCE')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('prints as the formatted reference in a template string; structural uses see only the fields', () => {
    const r = parseReference('127.0.0.1:5000/app:v1@sha256:' + 'a'.repeat(64));
    expect(`${r}`).toBe(formatReference(r));
    expect(String(withDigest(r, `sha256:${'b'.repeat(64)}`))).toBe(`127.0.0.1:5000/app@sha256:${'b'.repeat(64)}`);
    expect(`${withTag(r, 'v2')}`).toBe('127.0.0.1:5000/app:v2');
    expect(`${parseRepository('busybox')}`).toBe('index.docker.io/library/busybox');
    expect(Object.keys(r)).toEqual(['registry', 'repository', 'tag', 'digest', 'name']);
    expect(JSON.parse(JSON.stringify(r))).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'app',
      tag: 'v1',
      digest: `sha256:${'a'.repeat(64)}`,
      name: '127.0.0.1:5000/app',
    });
    expect({ ...r }).toEqual(r);
    expect(r).toEqual({ registry: '127.0.0.1:5000', repository: 'app', tag: 'v1', digest: `sha256:${'a'.repeat(64)}`, name: '127.0.0.1:5000/app' });
    expect(Object.isFrozen(r)).toBe(true);
  });
});
