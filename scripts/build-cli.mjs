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
 * - Only bundling, never rewriting: every module of `src/` and every dependency (zod included) goes
 *   in exactly as written or published, so the bin runs the library's code and nothing else. (An
 *   earlier build swapped in a hand-trimmed zod that lacked functions the slow paths call: valid but
 *   unusually formatted signatures were rejected by the bin only.) The tests run the bin itself
 *   (test/cli, test/interop, test/vectors/bin-vectors.test.ts, test/cli/main.bin-library.property.test.ts).
 * - Cloud SDKs (google-auth-library too) and the Kubernetes client stay external and are `import()`ed
 *   only for their scheme or registry host; `@sigstore/sign` stays external too (`require()`d by keyless
 *   signing only).
 *
 * The bundle is at the same depth as `dist/cli/commands/`, so `../../../package.json` (version)
 * resolves the same from both. The demo (`src/cli/demo.ts`) is part of the bundle, loaded with its verb.
 *
 * `COSIGN_TS_BUNDLE_MINIFY=0` builds an unminified bundle (for profiling); `COSIGN_TS_BUNDLE_META=1`
 * writes esbuild's metafile next to it.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/cli/bundle');
// `@sigstore/sign` (keyless signing: Fulcio, Rekor, TSA clients) is required from node_modules like any
// dependency: its HTTP stack (make-fetch-happen and its proxy agents) has optional `import()`s (kerberos)
// that have no place in the bundle, and only `sign` without a key loads it.
const external = ['@aws-sdk/*', '@google-cloud/*', '@azure/*', '@kubernetes/*', 'google-auth-library', '@sigstore/sign', '@sigstore/sign/*'];

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

// Node built-ins stay `require()`s; nothing else is resolved or loaded differently from Node.
const plugin = {
  name: 'cosign-ts-cli',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => (builtins.has(args.path) ? { path: args.path, external: true } : undefined));
  },
};

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
// tsc never removes outputs of deleted sources: dist/demo.* from before the demo moved into the CLI
// (src/cli/demo.ts) would otherwise be packed (npm pack --ignore-scripts packs dist/ as it is).
for (const f of ['demo.js', 'demo.d.ts', 'demo.js.map', 'demo.d.ts.map']) await rm(path.join(root, 'dist', f), { force: true });
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
  plugins: [plugin],
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
// What went into the bundle, for size analysis (esbuild --analyze style): COSIGN_TS_BUNDLE_META=1.
if (process.env.COSIGN_TS_BUNDLE_META === '1') await writeFile(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));

// The entry compiles cli.cjs with vm.Script (for its code cache, see scripts/cli-entry.cjs), where
// import() needs an experimental flag: dynamic imports (external SDKs, node: built-ins) call a
// function the entry passes in. Each one found must be one of those forms.
const bundlePath = path.join(outdir, 'cli.cjs');
let code = (await readFile(bundlePath, 'utf8')).replace(/^#!.*\n/, '');
const dynamicImport = /(?<![\w$.])import\(/g;
for (const m of code.matchAll(dynamicImport)) {
  const arg = code.slice(m.index + m[0].length, m.index + m[0].length + 80);
  if (!/^("(@aws-sdk|@google-cloud|@azure|@kubernetes)\/[\w./-]+"|"google-auth-library"|"node:[\w/]+")\)/.test(arg)) {
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
  (await readFile(path.join(root, 'scripts/cli-entry.cjs'), 'utf8'))
    .replace('__COSIGN_TS_BUNDLE_HASH__', hash)
    .replace('__COSIGN_TS_BUNDLE_ENCODING__', /^[\x00-\x7f]*$/.test(code) ? 'latin1' : 'utf8')
    .replace('__COSIGN_TS_VERBS__', JSON.stringify(verbs)),
);
await chmod(entry, 0o755);
