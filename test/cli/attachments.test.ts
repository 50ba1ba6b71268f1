/**
 * `parseManifestDoc` (copy, tree) reads untrusted manifest JSON strictly: duplicate keys and
 * non-objects are a `BAD_MANIFEST` CLI error; escaped keys are decoded like Go.
 */
import { describe, expect, it } from 'vitest';
import { parseManifestDoc } from '../../src/cli/attachments.js';
import { CliError } from '../../src/cli/errors.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

describe('parseManifestDoc', () => {
  it('reads a manifest, escaped keys included', () => {
    expect(parseManifestDoc(Buffer.from(`{"l\\u0061yers":[{"digest":"${A}"}]}`), 'x').layers).toEqual([{ digest: A }]);
  });

  it.each([
    ['a duplicate key', `{"layers":[{"digest":"${A}"}],"layers":[{"digest":"${B}"}]}`],
    ['a duplicate key spelled with escapes', `{"layers":[{"digest":"${A}"}],"l\\u0061yers":[{"digest":"${B}"}]}`],
    ['an array', '[]'],
    ['null', 'null'],
    ['invalid JSON', '{'],
  ])('%s: BAD_MANIFEST', (_name, text) => {
    let err: unknown;
    try {
      parseManifestDoc(Buffer.from(text), 'x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe('BAD_MANIFEST');
  });
});
