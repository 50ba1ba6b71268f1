#!/usr/bin/env node
/**
 * `cosign-ts`: a command-line tool that behaves like Sigstore cosign (same verbs, flags, environment
 * variables, outputs and exit statuses), built on this library. See `docs/cli.md`.
 *
 * Startup is kept small: this file imports only the runner (flag parser and help); each verb is
 * loaded with a dynamic `import()`, and each verb loads the library parts it needs (and a KMS SDK
 * only when its `scheme://` is used).
 *
 * @module
 */
import { errorMessage, runCli } from './run.js';

async function main(): Promise<void> {
  let code: number;
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
