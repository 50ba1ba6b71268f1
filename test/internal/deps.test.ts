/**
 * src/internal/deps.ts: zod, yaml and @noble/ciphers are loaded on first use. Importing the built
 * package (the root entry and every subpath of `exports`) evaluates none of them; the first call that
 * needs one loads it, and the result is what the package exports.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { nobleSalsa, schema, yamlLib, zod } from '../../src/internal/deps.js';
import { ensureBuilt } from '../cli/helpers.js';
import { repoRoot } from '../helpers/fixtures.js';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };
const entries = Object.entries(pkg.exports)
  .filter(([k]) => k !== './package.json')
  .map(([k, v]) => [k, pathToFileURL(path.join(repoRoot, typeof v === 'string' ? v : v.default)).href] as const);

/**
 * Run `body` (an ES module script) in a fresh Node with a hook recording every module it loads, ES
 * module or CommonJS (`module.registerHooks`); returns the package folders under node_modules that
 * were loaded from.
 */
function loadedPackages(body: string): string[] {
  const hook = `import module from 'node:module';
const seen = new Set();
module.registerHooks({ load(url, context, next) { const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url); if (m) seen.add(m[1]); return next(url, context); } });
process.on('exit', () => process.stdout.write(JSON.stringify([...seen].sort())));`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, '--input-type=module', '-e', body], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as string[];
}

describe('the built package loads no heavy dependency on import', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('has an exports map with the root and its subpaths', () => {
    expect(entries.map(([k]) => k)).toContain('.');
    expect(entries.length).toBeGreaterThan(5);
  });

  it.each(entries)('import of %s evaluates no zod, yaml, @noble or @sigstore module', (_, url) => {
    const loaded = loadedPackages(`await import(${JSON.stringify(url)});`);
    expect(loaded.filter((p) => p === 'zod' || p === 'yaml' || p.startsWith('@noble/') || p.startsWith('@sigstore/'))).toEqual([]);
  });

  it('the first call that needs them loads them (the hook sees CommonJS and require(esm) loads)', () => {
    const policy = entries.find(([k]) => k === './policy')?.[1] as string;
    const keys = entries.find(([k]) => k === './keys')?.[1] as string;
    const loaded = loadedPackages(
      `const { parsePolicy } = await import(${JSON.stringify(policy)});
const { generateKeyPair } = await import(${JSON.stringify(keys)});
parsePolicy('rules: []\\n');
generateKeyPair('pw', { N: 32768 });`,
    );
    expect(loaded).toEqual(expect.arrayContaining(['zod', 'yaml', '@noble/ciphers']));
  });
});

describe('deps', () => {
  it('zod() is zod, the same namespace on every call', () => {
    const z = zod();
    expect(z).toBe(zod());
    expect(z.object({ a: z.string() }).parse({ a: 'x' })).toEqual({ a: 'x' });
  });

  it('schema() builds on the first use only, once', () => {
    let built = 0;
    const s = schema((z) => {
      built++;
      return z.number();
    });
    expect(built).toBe(0);
    expect(s().parse(1)).toBe(1);
    expect(s()).toBe(s());
    expect(built).toBe(1);
  });

  it('nobleSalsa() is @noble/ciphers xsalsa20poly1305 (round trip, tamper detection)', () => {
    const { xsalsa20poly1305 } = nobleSalsa();
    const key = new Uint8Array(32).fill(1);
    const nonce = new Uint8Array(24).fill(2);
    const ct = xsalsa20poly1305(key, nonce).encrypt(new TextEncoder().encode('secret'));
    expect(new TextDecoder().decode(xsalsa20poly1305(key, nonce).decrypt(ct))).toBe('secret');
    ct[0] = (ct[0] as number) ^ 1;
    expect(() => xsalsa20poly1305(key, nonce).decrypt(ct)).toThrow();
    expect(nobleSalsa()).toBe(nobleSalsa());
  });

  it('yamlLib() is the yaml package', () => {
    expect(yamlLib().parseDocument('a: [1, 2]').toJS()).toEqual({ a: [1, 2] });
    expect(yamlLib()).toBe(yamlLib());
  });
});
