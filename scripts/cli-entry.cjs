#!/usr/bin/env node
'use strict';
/*
 * cosign-ts: the command's entry (the package `bin`). Built from scripts/cli-entry.cjs by
 * scripts/build-cli.mjs; the CLI itself is the bundle `cli.cjs` next to this file. See docs/cli.md.
 *
 * Start-up matters for a CLI call, so the bundle is compiled with a V8 code cache of our own: after a
 * successful run, V8's cached data for `cli.cjs` is written, *including every function that run
 * compiled* (Node's built-in compile cache only holds what is compiled eagerly, i.e. almost nothing of
 * a bundle whose modules are initialised lazily), one cache per verb. The next run of that verb skips
 * parsing and compiling. V8 checks the data (version, flags, source) and ignores it when it does not fit.
 *
 * Where: `$NODE_COMPILE_CACHE` (else `<tmpdir>/node-compile-cache`), in a folder of ours that must be a
 * directory owned by this user and writable by no one else (else no cache is used).
 * `NODE_DISABLE_COMPILE_CACHE=1` turns it off. Any failure (unwritable folder, …) only costs speed.
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

// Written here by the build: the bundle's content hash (a new bundle never reuses an old cache) and
// the verb names (one cache per verb).
const BUNDLE_HASH = '__COSIGN_TS_BUNDLE_HASH__';
// 'latin1' when the bundle is pure ASCII (a faster read into a one-byte string), else 'utf8'.
const BUNDLE_ENCODING = '__COSIGN_TS_BUNDLE_ENCODING__';
const VERBS = new Set(__COSIGN_TS_VERBS__);
const file = path.join(__dirname, 'cli.cjs');

/** The cache file for this run, or undefined when caching is off or the folder is not safe. */
function cacheFile() {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  try {
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    const base = process.env.NODE_COMPILE_CACHE || path.join(require('node:os').tmpdir(), 'node-compile-cache');
    const dir = path.join(base, `cosign-ts-${process.version}-${process.arch}${uid === undefined ? '' : `-${uid}`}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || (uid !== undefined && (st.uid !== uid || (st.mode & 0o022) !== 0))) return undefined;
    // One cache per verb: each holds the functions its verb runs.
    const verb = process.argv.slice(2).find((a) => VERBS.has(a)) ?? 'none';
    return path.join(dir, `cli-${BUNDLE_HASH}-${verb}.bin`);
  } catch {
    return undefined;
  }
}

const cache = cacheFile();
let cachedData;
if (cache !== undefined) {
  try {
    cachedData = fs.readFileSync(cache);
  } catch {
    cachedData = undefined;
  }
}
let script;
try {
  const source = fs.readFileSync(file, BUNDLE_ENCODING);
  script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __cosignTsImportFn) {${source}\n})`, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
} catch (e) {
  // A broken installation: one line, exit 1 (the bundle handles every other error itself).
  process.stderr.write(`Error: internal error: cannot load ${file}: ${String(e?.message).replace(/\s+/g, ' ')}\n`);
  process.exit(1);
}
if (cache !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
  process.once('exit', (code) => {
    if (code !== 0) return; // keep what a successful run compiled, not an early error's path
    try {
      const tmp = `${cache}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(tmp, cache);
      // Caches of other bundles (an upgrade, a rebuild) untouched for 30 days are dropped; recent ones
      // may belong to another installed copy of cosign-ts that is still in use.
      const dir = path.dirname(cache);
      const old = Date.now() - 30 * 24 * 3600 * 1000;
      for (const name of fs.readdirSync(dir)) {
        if (!name.startsWith('cli-') || name.startsWith(`cli-${BUNDLE_HASH}-`)) continue;
        const f = path.join(dir, name);
        if (fs.statSync(f).mtimeMs < old) fs.rmSync(f, { force: true });
      }
    } catch {
      // only speed
    }
  });
}
const bundleModule = { exports: {} };
// import() from a vm.Script needs an experimental flag: the bundle's dynamic imports (KMS SDKs, the demo)
// go through this function, resolved from this folder (the bundle's). What they load uses Node's own
// compile cache, turned on at the first one (most runs import nothing).
let nodeCompileCache = false;
function importModule(specifier) {
  if (!nodeCompileCache) {
    nodeCompileCache = true;
    try {
      require('node:module').enableCompileCache?.();
    } catch {
      // only speed
    }
  }
  return import(specifier);
}
script.runInThisContext()(bundleModule.exports, require, bundleModule, file, __dirname, importModule);
