/**
 * The package a user installs: `scripts/pack-check.mjs` packs the current build (`--ignore-scripts`:
 * `npm run pack-check` and CI run it with the real `prepare`), checks the tarball's file list (no
 * source maps pointing at unshipped sources, no second copy of the CLI, every `exports`/`bin` target
 * there), installs it into a fresh app offline and runs `cosign-ts version`, `cosign-ts demo`,
 * `cosign-ts verify` of a signed image and `import()` of every entry point from that app.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './cli/helpers.js';
import { repoRoot } from './helpers/fixtures.js';
import { runCommand } from './helpers/real/proc.js';

beforeAll(() => ensureBuilt(), 120_000);

describe('npm package', () => {
  it('packs, installs into a fresh app offline, and works from there', async () => {
    const r = await runCommand(process.execPath, [path.join(repoRoot, 'scripts', 'pack-check.mjs'), '--ignore-scripts'], { cwd: repoRoot, timeoutMs: 240_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/cosign-ts-[\d.]+\.tgz: \d+ files/);
    expect(r.stdout).toContain('cosign-ts verify of a signed image in the in-process registry: ok');
    expect(r.stdout).toContain('pack-check: ok');
  }, 300_000);
});
