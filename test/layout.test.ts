/**
 * Tests mirror `src/` file by file (docs/dev/CONVENTIONS.md): a test file sits in the test folder of the
 * src folder it exercises and is named after the src file, every src folder has a test folder, and the
 * documented exceptions (test/helpers/layout.ts) still exist.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/fixtures.js';
import { LAYOUT_EXCEPTIONS, layoutViolations } from './helpers/layout.js';

function files(folder: string): string[] {
  return readdirSync(path.join(repoRoot, folder), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(repoRoot, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

describe('test layout mirrors src/', () => {
  it('every test file has its src file, every src folder its test folder', () => {
    expect(layoutViolations(files('src'), files('test'))).toEqual([]);
  });

  it('every documented exception exists', () => {
    const all = [...Object.keys(LAYOUT_EXCEPTIONS.testFolders), ...Object.keys(LAYOUT_EXCEPTIONS.testFiles), ...Object.keys(LAYOUT_EXCEPTIONS.srcFolders)];
    expect(all.filter((p) => !existsSync(path.join(repoRoot, p)))).toEqual([]);
  });

  it('reports a test in a folder with no src folder, a test named after no src file, and a src folder without tests', () => {
    const src = ['src/json.ts', 'src/payload/payload.ts', 'src/cli/commands/verify.ts', 'src/cli/run.ts', 'src/testing/registry.ts'];
    expect(
      layoutViolations(src, [
        'test/payload/json.test.ts', // the JSON parser's tests under payload/
        'test/sign/image.test.ts', // no src/sign
        'test/cli/run.robustness.property.test.ts',
        'test/json.fast-path.property.test.ts',
        'test/helpers/anything.test.ts',
        'test/interop/x.test.ts',
        'test/package.test.ts',
        'test/cli/helpers.ts', // not a test file
      ]),
    ).toEqual([
      'test/payload/json.test.ts: no src/payload/json.ts (a test of src/<dir>/<file>.ts is test/<dir>/<file>.test.ts or <file>.<aspect>.test.ts)',
      'test/sign/image.test.ts: folder test/sign has no matching src folder src/sign',
      'src/cli/commands: no test folder test/cli/commands with a test file in it',
    ]);
  });
});
