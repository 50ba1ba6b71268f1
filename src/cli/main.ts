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

/** Whether the user asked for details (`COSIGN_TS_DEBUG`, as Go's strconv.ParseBool reads it). */
function debugging(): boolean {
  return /^(1|t|T|TRUE|true|True)$/.test(process.env.COSIGN_TS_DEBUG ?? '');
}

/**
 * The last resort: an error nothing handled (a bug, or a rejection nobody awaited) ends the process with
 * one line on stderr and exit status 1, never a stack trace (unless COSIGN_TS_DEBUG is set) nor Node's
 * "Unhandled rejection" report.
 */
function escaped(e: unknown): never {
  let message: string;
  try {
    message = e instanceof Error ? e.message : String(e);
  } catch {
    message = 'unknown error';
  }
  message = message.replace(/\s+/g, ' ').trim().slice(0, 1000) || 'unknown error';
  let details = '';
  if (debugging()) {
    try {
      details = `${e instanceof Error ? (e.stack ?? '') : ''}\n`;
    } catch {
      details = '';
    }
  }
  try {
    process.stderr.write(`Error: internal error: ${message}${debugging() ? '' : ' (set COSIGN_TS_DEBUG=1 for details)'}\n${details}`);
  } finally {
    process.exit(1);
  }
}
process.on('uncaughtException', escaped);
process.on('unhandledRejection', escaped);

/**
 * Ctrl-C: the first SIGINT aborts the run's signal (the verb stops at its next step or request, cleans
 * up and the run exits 130 with `Error: interrupted`); a verb still running 2 s later, or a second
 * Ctrl-C (Node's default handling again), ends the process at once.
 */
function interruptOnSigint(): AbortSignal {
  const controller = new AbortController();
  const onSigint = (): void => {
    process.removeListener('SIGINT', onSigint);
    controller.abort();
    setTimeout(() => process.exit(130), 2000).unref();
  };
  process.on('SIGINT', onSigint);
  return controller.signal;
}

async function main(): Promise<void> {
  let code: number;
  try {
    const { errorMessage, runCli } = await import('./run.js');
    try {
      code = await runCli(process.argv.slice(2), { interrupt: interruptOnSigint() });
    } catch (e) {
      process.stderr.write(`Error: ${errorMessage(e)}\nerror during command execution: ${errorMessage(e)}\n`);
      code = 1;
    }
  } catch (e) {
    escaped(e);
  }
  // Registry connections may be kept alive: exit as soon as all output is written. Writes to a pipe
  // whose reader is slower than us are queued (the pipe is full): wait for them, or output is lost.
  await flushed(process.stdout);
  await flushed(process.stderr);
  process.exit(code);
}

/** Resolves once everything written to `stream` so far has been handed to the OS (or it failed). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  });
}

void main();
