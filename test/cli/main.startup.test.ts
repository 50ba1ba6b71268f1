/**
 * The installed binary's start-up machinery (scripts/cli-entry.cjs): the per-verb V8 code cache is
 * written after a successful run into a private folder, reused, never written for a failed run, off
 * with NODE_DISABLE_COMPILE_CACHE, and ignored in a folder others can write to. Output never changes.
 */
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.js';
import { runCommand } from '../helpers/real/proc.js';
import { cleanEnv, cli, cliPath, ensureBuilt, tempDir } from './helpers.js';

beforeAll(() => ensureBuilt(), 120_000);

async function cacheFiles(base: string): Promise<{ dir: string; files: string[] } | undefined> {
  const dirs = (await readdir(base).catch(() => [] as string[])).filter((d) => d.startsWith('cosign-ts-'));
  if (dirs.length === 0) return undefined;
  const dir = path.join(base, dirs[0] as string);
  return { dir, files: (await readdir(dir)).sort() };
}

describe('CLI start-up: code cache', () => {
  it('the bin is the bundle entry; the unbundled dist/cli/main.js prints the same', async () => {
    expect(cliPath.endsWith(path.join('dist', 'cli', 'bundle', 'cosign-ts.cjs'))).toBe(true);
    for (const args of [['version', '--json'], ['verify', '--help'], ['verify']]) {
      const bundled = await cli(args);
      const plain = await runCommand(process.execPath, [path.join(repoRoot, 'dist', 'cli', 'main.js'), ...args], { timeoutMs: 60_000, env: cleanEnv() });
      expect([plain.code, plain.stdout, plain.stderr]).toEqual([bundled.code, bundled.stdout, bundled.stderr]);
    }
  });

  it('is written per verb after a successful run, private, reused with the same output', async () => {
    const base = path.join(await tempDir(), 'cache');
    const first = await cli(['version'], { env: { NODE_COMPILE_CACHE: base } });
    expect(first.code).toBe(0);
    const c = await cacheFiles(base);
    expect(c?.files).toHaveLength(1);
    expect(c?.files[0]).toMatch(/^cli-[0-9a-f]{16}-version\.bin$/);
    if (process.platform !== 'win32') {
      expect((await stat(c?.dir as string)).mode & 0o777).toBe(0o700);
      expect((await stat(path.join(c?.dir as string, c?.files[0] as string))).mode & 0o777).toBe(0o600);
    }
    const second = await cli(['version'], { env: { NODE_COMPILE_CACHE: base } });
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toBe(first.stderr);
    // A failed run writes nothing; another verb gets its own file.
    expect((await cli(['verify'], { env: { NODE_COMPILE_CACHE: base } })).code).toBe(1);
    expect((await cacheFiles(base))?.files).toHaveLength(1);
    expect((await cli(['completion', 'bash'], { env: { NODE_COMPILE_CACHE: base } })).code).toBe(0);
    expect((await cacheFiles(base))?.files).toHaveLength(2);
  });

  it('a corrupt cache file is ignored (and replaced)', async () => {
    const base = path.join(await tempDir(), 'cache');
    const first = await cli(['version'], { env: { NODE_COMPILE_CACHE: base } });
    const c = (await cacheFiles(base)) as { dir: string; files: string[] };
    await writeFile(path.join(c.dir, c.files[0] as string), Buffer.from('not a V8 code cache'));
    const again = await cli(['version'], { env: { NODE_COMPILE_CACHE: base } });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect((await stat(path.join(c.dir, c.files[0] as string))).size).toBeGreaterThan(1000);
  });

  it('NODE_DISABLE_COMPILE_CACHE=1: nothing written', async () => {
    const base = path.join(await tempDir(), 'cache');
    const r = await cli(['version'], { env: { NODE_COMPILE_CACHE: base, NODE_DISABLE_COMPILE_CACHE: '1' } });
    expect(r.code).toBe(0);
    expect(await cacheFiles(base)).toBeUndefined();
  });

  it.skipIf(process.platform === 'win32')('a folder others can write to is not used; an unwritable one only costs speed', async () => {
    const base = path.join(await tempDir(), 'cache');
    const ok = await cli(['version'], { env: { NODE_COMPILE_CACHE: base } });
    const c = (await cacheFiles(base)) as { dir: string; files: string[] };
    await chmod(c.dir, 0o777);
    const shared = await cli(['version'], { env: { NODE_COMPILE_CACHE: base } });
    expect(shared.stdout).toBe(ok.stdout);
    expect((await cacheFiles(base))?.files).toHaveLength(1);
    const file = path.join(base, 'not-a-folder');
    await mkdir(base, { recursive: true });
    await writeFile(file, 'x');
    const r = await cli(['version'], { env: { NODE_COMPILE_CACHE: file } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(ok.stdout);
  });
});
