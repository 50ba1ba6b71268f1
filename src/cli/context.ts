/**
 * What a verb gets to run: its output streams, environment, terminal facts, an abort signal (the
 * global `--timeout`), and small printing helpers with cosign's prefixes.
 *
 * @module
 */
import type { Readable, Writable } from 'node:stream';

/** A writable stream that may be a terminal. */
export type OutStream = Writable & { isTTY?: boolean; columns?: number };
/** A readable stream that may be a terminal. */
export type InStream = Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown; fd?: number };

/** The run context of one CLI invocation. */
export interface CliContext {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly stdin: InStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted by the global `--timeout`. */
  readonly signal: AbortSignal;
  /** `-d/--verbose`. */
  readonly verbose: boolean;
  /** Working directory for relative file names. */
  readonly cwd: string;
}

/** Write to stdout. */
export function out(ctx: CliContext, text: string | Uint8Array): void {
  ctx.stdout.write(text);
}

/** Write a line to stderr. */
export function info(ctx: CliContext, line: string): void {
  ctx.stderr.write(`${line}\n`);
}

/** `WARNING: …` on stderr, like cosign's `ui.Warnf`. */
export function warn(ctx: CliContext, message: string): void {
  ctx.stderr.write(`WARNING: ${message}\n`);
}

/** Debug output for `--verbose`. */
export function debug(ctx: CliContext, message: string): void {
  if (ctx.verbose) ctx.stderr.write(`DEBUG: ${message}\n`);
}
