#!/usr/bin/env node
/**
 * Bundle the `cosign-ts` command with esbuild into `dist/cli/bundle/` (run by `npm run build`, after tsc).
 * The package `bin` points at `dist/cli/bundle/cosign-ts.cjs`; `dist/cli/main.js` (tsc) keeps working.
 *
 * Why: a CLI call is mostly process start-up, and loading ~150 small ES modules (and all of zod, its 50
 * locales included) cost more than the verification itself. What the bundle does, each measured:
 *
 * - One CommonJS file, `cli.cjs`, for the whole CLI: no ESM loader work per module, and every verb and
 *   library module in it is still initialised only when first imported (esbuild's lazy `init_*`
 *   wrappers for dynamic `import()`), so `verify` does not run sign/KMS/policy code.
 * - A small entry, `cosign-ts.cjs` (from scripts/cli-entry.cjs), compiles `cli.cjs` with a V8 code
 *   cache of its own that holds every function a run compiled, per verb (Node's compile cache only
 *   holds eagerly compiled code: almost none of a lazily initialised bundle). Details there.
 * - Node built-ins are `require()`d (CommonJS output, built-ins external): an ESM import of a built-in
 *   evaluates all its lazy exports (`node:http` → undici, `node:fs` → `fs/promises`, …).
 * - `zod` is replaced by a module exporting `z` with only the `z.*` functions `src/` uses (found by
 *   scanning `src/` here, so a new one is picked up by the next build), so esbuild drops zod's locales,
 *   JSON Schema converters and the rest. It also sets zod's `jitless` mode: zod otherwise compiles a
 *   parser with `new Function` for each object schema on first use, which only pays off when a schema
 *   parses many documents (the library keeps the default).
 * - `src/zod.ts` is swapped for a version that loads zod on first use: the verify path reads plain JSON
 *   through fast paths and builds its zod schemas on first use, so it never evaluates zod at all.
 * - Cloud SDKs and the Kubernetes client stay external and are `import()`ed only for their scheme.
 *
 * The bundle is at the same depth as `dist/cli/commands/`, so `../../../package.json` (version) and
 * `../../demo.js` (the demo verb) resolve the same from both.
 *
 * `COSIGN_TS_BUNDLE_MINIFY=0` builds an unminified bundle (for profiling); `COSIGN_TS_BUNDLE_META=1`
 * writes esbuild's metafile next to it.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/cli/bundle');
const external = ['@aws-sdk/*', '@google-cloud/*', '@azure/*', '@kubernetes/*'];

/** Every `z.<name>` used under src/ (type names such as `z.infer` are dropped by the caller). */
async function zodNamesUsed(dir) {
  const names = new Set();
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue;
    const text = await readFile(path.join(e.parentPath, e.name), 'utf8');
    if (!/from 'zod'/.test(text)) continue;
    for (const m of text.matchAll(/\bz\.([A-Za-z_$][\w$]*)/g)) names.add(m[1]);
  }
  return [...names].sort();
}

/** The `zod` replacement: `z` with only the names used (so the rest is tree-shaken), jitless. */
async function zodSlimSource() {
  const zod = await import('zod');
  const values = (await zodNamesUsed(path.join(root, 'src'))).filter((n) => n in zod.z);
  const imports = values.map((n) => `${n} as _${n}`).join(', '); // aliased: `enum` is a reserved word
  const members = values.map((n) => `${JSON.stringify(n)}: _${n}`).join(', ');
  return [`import { config, ${imports} } from 'zod/v4';`, 'config({ jitless: true });', `export const z = Object.freeze({ ${members} });`, ''].join('\n');
}

/** The bundle's src/zod.ts: same exports, zod required on first use. */
const ZOD_ON_DEMAND = [
  'let loaded;',
  "export function zod() { return (loaded ??= require('zod').z); }",
  'export function schema(build) { let made = false; let value; return () => { if (!made) { value = build(zod()); made = true; } return value; }; }',
  '',
].join('\n');

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

const plugin = (zodSource) => ({
  name: 'cosign-ts-cli',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => (builtins.has(args.path) ? { path: args.path, external: true } : undefined));
    b.onResolve({ filter: /^zod$/ }, () => ({ path: 'zod-slim', namespace: 'zod-slim' }));
    b.onLoad({ filter: /.*/, namespace: 'zod-slim' }, () => ({ contents: zodSource, loader: 'js', resolveDir: root }));
    // src/zod.ts, swapped for a version that loads zod on the first call (esbuild turns this require()
    // of the slim module into its lazy initialiser): a verify that meets only plain JSON never runs zod.
    b.onLoad({ filter: /[\\/]src[\\/]zod\.ts$/ }, () => ({ contents: ZOD_ON_DEMAND, loader: 'js', resolveDir: path.join(root, 'src') }));
  },
});

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: { cli: path.join(root, 'src/cli/main.ts') },
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  // Keep `import()` (not `require()`) for the external SDKs: some are ES modules only.
  supported: { 'dynamic-import': true },
  minify: process.env.COSIGN_TS_BUNDLE_MINIFY !== '0',
  external,
  // `import.meta.url` in a CommonJS file: the bundle's own URL.
  define: { 'import.meta.url': '__cosignTsBundleUrl' },
  banner: { js: "const __cosignTsBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [plugin(await zodSlimSource())],
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
// What went into the bundle, for size analysis (esbuild --analyze style): COSIGN_TS_BUNDLE_META=1.
if (process.env.COSIGN_TS_BUNDLE_META === '1') await writeFile(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));

// The entry compiles cli.cjs with vm.Script (for its code cache, see scripts/cli-entry.cjs), where
// import() needs an experimental flag: dynamic imports (external SDKs, node: built-ins, the demo's
// computed specifier) call a function the entry passes in. Each one found must be one of those forms.
const bundlePath = path.join(outdir, 'cli.cjs');
let code = (await readFile(bundlePath, 'utf8')).replace(/^#!.*\n/, '');
const dynamicImport = /(?<![\w$.])import\(/g;
for (const m of code.matchAll(dynamicImport)) {
  const arg = code.slice(m.index + m[0].length, m.index + m[0].length + 80);
  if (!/^("(@aws-sdk|@google-cloud|@azure|@kubernetes)\/[\w./-]+"|"node:[\w/]+"|[A-Za-z_$][\w$]*)\)/.test(arg)) {
    throw new Error(`build-cli: unexpected dynamic import in the bundle: import(${arg}`);
  }
}
code = code.replace(dynamicImport, '__cosignTsImport(');
// "use strict" first: esbuild's own directive comes after the banner, where it has no effect.
code = `"use strict";\nvar __cosignTsImport = typeof __cosignTsImportFn === "function" ? __cosignTsImportFn : (s) => import(s);\n${code}`;
await writeFile(bundlePath, code);

// The entry (from scripts/cli-entry.cjs), with the bundle's content hash and the verb names (they
// name its code cache files).
const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
const entry = path.join(outdir, 'cosign-ts.cjs');
const verbs = [...(await readFile(path.join(root, 'src/cli/commands/index.ts'), 'utf8')).matchAll(/\bname: '([a-z-]+)'/g)].map((m) => m[1]);
if (!verbs.includes('verify')) throw new Error('build-cli: no verb names found in src/cli/commands/index.ts');
await writeFile(
  entry,
  (await readFile(path.join(root, 'scripts/cli-entry.cjs'), 'utf8')).replace('__COSIGN_TS_BUNDLE_HASH__', hash).replace('__COSIGN_TS_BUNDLE_ENCODING__', /^[\x00-\x7f]*$/.test(code) ? 'latin1' : 'utf8').replace('__COSIGN_TS_VERBS__', JSON.stringify(verbs)),
);
await chmod(entry, 0o755);
