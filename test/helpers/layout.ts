/**
 * The rule that tests mirror `src/` file by file (docs/dev/CONVENTIONS.md), as a pure check over two
 * lists of repository-relative paths, so that test/layout.test.ts can run it on the working tree and on
 * made-up trees.
 *
 * - The test of `src/<dir>/<file>.ts` is `test/<dir>/<file>.test.ts` or `test/<dir>/<file>.<aspect>.test.ts`
 *   (the aspect may itself contain dots: `payload.fast-path.property.test.ts`).
 * - Every folder under `src/` has a test folder of the same path holding at least one test file.
 * - Exceptions, each for a stated reason, are {@link LAYOUT_EXCEPTIONS}.
 */

/** Folders, files and src folders outside the mirror rule, and why. */
export const LAYOUT_EXCEPTIONS = {
  /** Test folders (and everything below them) that mirror no single src folder. */
  testFolders: {
    'test/helpers': 'shared test helpers and the real-component harness (test/helpers/real), not tests of one src file',
    'test/interop': 'cross-cutting interop with the real tools (cosign, skopeo, a real registry) across sign, verify, keys, kms and oci',
    'test/infra': 'checks that the real components installed by scripts/install-deps.sh work',
    'test/vectors': 'upstream test vectors (fixtures/) run end to end through library and bin',
    'test/bench': 'tests of the benchmark tooling in bench/, not of src/',
  } as Record<string, string>,
  /** Test files at the top of test/ that mirror no src file. */
  testFiles: {
    'test/fixtures.test.ts': 'checks fixtures/ (checksums, provenance, licences)',
    'test/package.test.ts': 'checks the packed npm package (exports, bin, files)',
    'test/layout.test.ts': 'this layout check',
  } as Record<string, string>,
  /** src folders with no test folder of their own. */
  srcFolders: {
    'src/testing': 'the in-process test registry and sample images: test infrastructure, exercised by every registry test',
  } as Record<string, string>,
};

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

function baseOf(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function underAny(p: string, folders: Iterable<string>): boolean {
  for (const f of folders) if (p === f || p.startsWith(`${f}/`)) return true;
  return false;
}

/**
 * Violations of the mirror rule, one sentence each (empty when the layout is right).
 *
 * @param srcFiles - paths like `src/oci/client.ts` (other files are ignored)
 * @param testFiles - paths like `test/oci/client.test.ts` (files not ending in `.test.ts` are ignored)
 */
export function layoutViolations(srcFiles: readonly string[], testFiles: readonly string[]): string[] {
  const src = new Set(srcFiles.filter((f) => f.startsWith('src/') && f.endsWith('.ts') && !f.endsWith('.d.ts')));
  const srcFolders = new Set<string>();
  for (const f of src) for (let d = dirOf(f); d.startsWith('src/'); d = dirOf(d)) srcFolders.add(d);
  const tests = testFiles.filter((f) => f.startsWith('test/') && f.endsWith('.test.ts'));
  const out: string[] = [];
  const testFolders = new Set<string>();
  for (const t of tests) {
    if (t in LAYOUT_EXCEPTIONS.testFiles || underAny(t, Object.keys(LAYOUT_EXCEPTIONS.testFolders))) continue;
    const rel = dirOf(t).slice('test'.length); // '' or '/oci', '/cli/commands'
    const srcDir = `src${rel}`;
    testFolders.add(`test${rel}`);
    if (rel !== '' && !srcFolders.has(srcDir)) {
      out.push(`${t}: folder ${dirOf(t)} has no matching src folder ${srcDir}`);
      continue;
    }
    const name = baseOf(t).split('.')[0] ?? '';
    if (!src.has(`${srcDir}/${name}.ts`)) {
      out.push(`${t}: no ${srcDir}/${name}.ts (a test of src/<dir>/<file>.ts is test/<dir>/<file>.test.ts or <file>.<aspect>.test.ts)`);
    }
  }
  for (const d of [...srcFolders].sort()) {
    if (d in LAYOUT_EXCEPTIONS.srcFolders) continue;
    const t = `test${d.slice('src'.length)}`;
    if (!testFolders.has(t)) out.push(`${d}: no test folder ${t} with a test file in it`);
  }
  return out;
}
