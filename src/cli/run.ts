/**
 * The CLI runner: global flags, verb dispatch, usage errors, `Error: …` lines and exit statuses.
 *
 * @module
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { Command } from './command.js';
import { HELP_FLAG } from './command.js';
import type { CliContext, OutStream } from './context.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { Flags, parseFlags, parseGoBool } from './flags.js';
import { timerDelay } from '../concurrency.js';
import { commandHelp, GLOBAL_FLAGS, PROG, rootHelp, usageHint } from './help.js';
import { findVerb, VERBS } from './commands/index.js';

/** Options for {@link runCli} (tests and embedding; the binary uses the process's streams). */
export interface RunCliOptions {
  readonly stdout?: OutStream;
  readonly stderr?: OutStream;
  readonly stdin?: CliContext['stdin'];
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /**
   * Aborted when the user interrupts the run (the binary aborts it on Ctrl-C): verbs see it through
   * their context's `signal`, and the run ends with `Error: interrupted` and exit status 130.
   */
  readonly interrupt?: AbortSignal;
}

/** Go's largest duration, in nanoseconds (2^63 − 1). */
const MAX_DURATION_NS = (1n << 63n) - 1n;
const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1000n,
  '\u00b5s': 1000n,
  '\u03bcs': 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/**
 * Parse a Go duration (`3m0s`, `30s`, `1h30m`, `500ms`, `+1s`, `-1s`) into milliseconds, as Go's
 * `time.ParseDuration` does: a duration beyond Go's range (about 292 years: `9999999h`) is invalid, as
 * cosign says, not a number our timers cannot hold.
 */
export function parseGoDuration(s: string): number {
  const invalid = (why = `invalid duration ${JSON.stringify(s)}`): UsageError =>
    new UsageError(`invalid argument ${JSON.stringify(s)} for "-t, --timeout" flag: time: ${why}`);
  let rest = s;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  // `\u00b5` (µ) escaped: the CLI bundle stays ASCII (read faster, one-byte string).
  const re = /(\d*)(?:\.(\d*))?([^\d.]*)/y;
  let totalNs = 0n;
  while (rest !== '') {
    re.lastIndex = 0;
    const m = re.exec(rest) as RegExpExecArray;
    const [whole, int = '', frac, unitName = ''] = m;
    if (int === '' && (frac ?? '') === '') throw invalid();
    if (unitName === '') throw invalid(`missing unit in duration ${JSON.stringify(s)}`);
    const unit = UNIT_NS[unitName];
    if (unit === undefined) throw invalid(`unknown unit ${JSON.stringify(unitName)} in duration ${JSON.stringify(s)}`);
    let ns = BigInt(int === '' ? '0' : int) * unit;
    // The fraction adds at most one unit, in whole nanoseconds rounded down, as Go computes it.
    if (frac !== undefined && /[1-9]/.test(frac)) ns += BigInt(Math.floor(Number(`0.${frac}`) * Number(unit)));
    totalNs += ns;
    if (totalNs > MAX_DURATION_NS + (negative ? 1n : 0n)) throw invalid();
    rest = rest.slice(whole.length);
  }
  const ms = Number(totalNs) / 1e6;
  return negative ? -ms : ms;
}

function fileStream(file: string): OutStream & { closeFile(): void } {
  let fd: number;
  try {
    fd = openSync(file, 'w', 0o644);
  } catch (e) {
    throw new CliError(`opening ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        writeSync(fd, chunk);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
  return Object.assign(w, { closeFile: () => closeSync(fd) });
}

/** Split leading global flags (before the verb) from the rest. */
function splitLeadingGlobals(argv: readonly string[]): { globals: string[]; rest: string[] } {
  const globals: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i] as string;
    if (a === '--output-file' || a === '-t' || a === '--timeout') {
      globals.push(a, ...(i + 1 < argv.length ? [argv[i + 1] as string] : []));
      i += 2;
    } else if (/^(--output-file=|--timeout=|-t=?.)/.test(a) || a === '-d' || a === '--verbose' || a.startsWith('--verbose=')) {
      globals.push(a);
      i++;
    } else break;
  }
  return { globals, rest: argv.slice(i) };
}

function argsError(cmd: Command, n: number): string | undefined {
  const { min, max } = cmd.args;
  if (n >= min && n <= max) return undefined;
  if (min === max) return `accepts ${min} arg(s), received ${n}`;
  if (max === Infinity) return `requires at least ${min} arg(s), only received ${n}`;
  if (min === 0) return `accepts at most ${max} arg(s), received ${n}`;
  return `accepts between ${min} and ${max} arg(s), received ${n}`;
}

/** What `Error: …` says for any thrown value (never secrets: library messages carry none). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Why a run stopped at its `--timeout`. */
function timedOut(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/** Why a run stopped on {@link RunCliOptions.interrupt}. */
function interrupted(): CliError {
  return new CliError('interrupted', EXIT.INTERRUPTED, 'INTERRUPTED');
}

/**
 * The verb's signal: the `--timeout` deadline (`timeoutMs`; zero or less has passed already, as in
 * cosign, whose `-t 0` fails at once with "context deadline exceeded") and `interrupt`, if given.
 * Combined with a controller and a timer (disposed by the caller) rather than `AbortSignal.any`, whose
 * timeout signal can be garbage-collected before Node 22 and then never fires.
 */
function runSignal(timeoutMs: number, interrupt: AbortSignal | undefined): { signal: AbortSignal; dispose(): void } {
  const deadline = (): AbortSignal => (timeoutMs > 0 ? AbortSignal.timeout(timerDelay(timeoutMs)) /* whole ms: 5µs is 0.005 */ : AbortSignal.abort(timedOut()));
  if (interrupt === undefined) return { signal: deadline(), dispose: () => undefined };
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort(interrupted());
  const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(timedOut()), timerDelay(timeoutMs)) : undefined;
  if (timeoutMs <= 0) controller.abort(timedOut());
  else if (interrupt.aborted) onInterrupt();
  else interrupt.addEventListener('abort', onInterrupt, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      interrupt.removeEventListener('abort', onInterrupt);
    },
  };
}

/** The exit status and machine code for an error. */
function classify(e: unknown): { exitCode: number; code: string } {
  if (e instanceof CliError) return { exitCode: e.exitCode, code: e.code };
  const code = (e as { code?: unknown } | null)?.code;
  if ((e as Error | null)?.name === 'CosignError' && typeof code === 'string') return { exitCode: EXIT.ERROR, code };
  if ((e as Error | null)?.name === 'AbortError' || (e as Error | null)?.name === 'TimeoutError') return { exitCode: EXIT.ERROR, code: 'TIMEOUT' };
  return { exitCode: EXIT.ERROR, code: 'ERROR' };
}

/**
 * Run the CLI with `argv` (the arguments after the program name). Resolves to the exit status; never
 * throws. Output goes to the given streams (default: the process's).
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<number> {
  let stdout: OutStream = options.stdout ?? process.stdout;
  const stderr: OutStream = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const fail = (message: string, exitCode: number, usage?: Command): number => {
    // A usage error: the error and where the usage is (two lines); any other: the error as cosign prints it.
    stderr.write(`Error: ${message}\n${usage !== undefined ? usageHint(usage) : `error during command execution: ${message}\n`}`);
    return exitCode;
  };

  const { globals, rest } = splitLeadingGlobals(argv);
  const verbName = rest[0];
  if (verbName === undefined || verbName === '--help' || verbName === '-h' || verbName === 'help') {
    if (verbName === 'help' && rest[1] !== undefined) return runCli([...globals, rest[1], '--help'], options);
    stdout.write(rootHelp(VERBS));
    return EXIT.OK;
  }
  if (verbName.startsWith('-')) {
    const flag = verbName.startsWith('--') ? `unknown flag: ${verbName.split('=')[0]}` : `unknown shorthand flag: '${verbName[1]}' in ${verbName}`;
    stderr.write(`Error: ${flag}\n${usageHint()}`);
    return EXIT.ERROR;
  }
  const entry = findVerb(verbName);
  if (entry === undefined) {
    const msg = `unknown command ${JSON.stringify(verbName)} for ${JSON.stringify(PROG)}`;
    stderr.write(`Error: ${msg}\n${usageHint()}`);
    return EXIT.ERROR;
  }
  const cmd = await entry.load();

  let flags: Flags;
  try {
    flags = new Flags(parseFlags([...globals, ...rest.slice(1)], [...cmd.flags, HELP_FLAG, ...GLOBAL_FLAGS]));
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message, EXIT.ERROR, cmd);
    throw e;
  }
  if (flags.bool('help')) {
    stdout.write(commandHelp(cmd));
    return EXIT.OK;
  }
  const bad = argsError(cmd, flags.args.length);
  if (bad !== undefined) return fail(bad, EXIT.ERROR, cmd);

  // Given but empty (`--timeout=`) is invalid, as in cosign; absent is the default.
  const timeoutText = flags.has('timeout') ? flags.str('timeout') : '3m0s';
  let timeoutMs: number;
  try {
    timeoutMs = parseGoDuration(timeoutText);
  } catch (e) {
    return fail(errorMessage(e), EXIT.ERROR, cmd);
  }
  let outFile: ReturnType<typeof fileStream> | undefined;
  const run = runSignal(timeoutMs, options.interrupt);
  const json = flags.str('output') === 'json' && cmd.name !== 'verify' && cmd.name !== 'verify-attestation';
  try {
    if (flags.str('output-file') !== '') {
      outFile = fileStream(flags.str('output-file'));
      stdout = outFile;
    }
    const ctx: CliContext = {
      stdout,
      stderr,
      // A getter: touching process.stdin creates the stdin stream and loads its modules (a few ms);
      // only verbs that read stdin (passwords, confirmations) pay for it.
      get stdin() {
        return options.stdin ?? process.stdin;
      },
      env,
      signal: run.signal,
      verbose: flags.bool('verbose') || parseGoBool(env.COSIGN_TS_DEBUG ?? '') === true,
      cwd: options.cwd ?? process.cwd(),
    };
    return await cmd.run(ctx, flags);
  } catch (thrown) {
    // Interrupted: whatever the verb threw on its way out (an aborted request's error), say why it stopped.
    const e = options.interrupt?.aborted === true ? interrupted() : thrown;
    const { exitCode, code } = classify(e);
    let message = errorMessage(e);
    if (code === 'TIMEOUT') message = `context deadline exceeded (timeout ${timeoutText})`;
    if (json) stdout.write(`${JSON.stringify({ error: { code, message, exitCode } })}\n`);
    return fail(message, exitCode, e instanceof UsageError ? cmd : undefined);
  } finally {
    run.dispose();
    outFile?.closeFile();
  }
}
