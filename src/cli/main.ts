#!/usr/bin/env node
/**
 * `cosign-ts`: a command-line tool that behaves like Sigstore cosign (same verbs, flags, environment
 * variables, outputs and exit statuses), built on this library. See `docs/cli.md`.
 *
 * The installed binary (package.json `bin`) is not this file but its esbuild bundle,
 * `dist/cli/bundle/cosign-ts.cjs` (built by `scripts/build-cli.mjs`, with its own V8 code cache; see
 * the "Start-up" section of docs/cli.md). This module stays the bundle's entry and works unbundled too
 * (`node dist/cli/main.js`).
 *
 * Startup is kept small: Node's on-disk compile cache is enabled first (when available), then the
 * runner (flag parser and help) is loaded; each verb is loaded with a dynamic `import()`, and each
 * verb loads the library parts it needs (and a KMS SDK only when its `scheme://` is used).
 *
 * @module
 */
import module from 'node:module';

// Reuse V8's compiled code across runs (Node ≥ 22.1; a no-op elsewhere). Set
// NODE_DISABLE_COMPILE_CACHE=1 to turn it off.
try {
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  /* an unwritable cache folder only costs speed */
}

async function main(): Promise<void> {
  let code: number;
  const { errorMessage, runCli } = await import('./run.js');
  try {
    code = await runCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`Error: ${errorMessage(e)}\nerror during command execution: ${errorMessage(e)}\n`);
    code = 1;
  }
  // Registry connections may be kept alive: exit now that all output is written (stdout and stderr
  // writes to files, pipes and terminals are synchronous on Linux and macOS).
  process.exit(code);
}

void main();
