/**
 * Where the real components live, whether they are installed, and how test helpers run them as
 * subprocesses (with timeouts, and killed when the test process exits).
 *
 * Everything here is installed by `scripts/install-deps.sh`. Locally a missing tool makes the real
 * tests skip; in CI (`process.env.CI`) it is an error, so a broken install can never pass as green.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../fixtures.js';

/** Folder of the trixie tool wrappers made by install-deps.sh (override with COSIGN_TS_TOOLS). */
export const toolsDir = process.env.COSIGN_TS_TOOLS ?? path.join(repoRoot, '.tools');

/** Absolute paths of the real programs the tests use. */
export const realTools = {
  registry: '/usr/bin/docker-registry',
  htpasswd: '/usr/bin/htpasswd',
  openssl: '/usr/bin/openssl',
  podman: '/usr/bin/podman',
  runc: '/usr/sbin/runc',
  busybox: '/bin/busybox',
  script: '/usr/bin/script',
  cosign: path.join(toolsDir, 'bin', 'cosign'),
  skopeo: path.join(toolsDir, 'bin', 'skopeo'),
  /** cosign 3.1 (Debian sid), the cosign v3 peer: Sigstore bundles stored as OCI referrers. */
  cosign3: path.join(toolsDir, 'bin', 'cosign3'),
  /** kubectl 1.36 (Debian sid): builds Kubernetes objects offline (`--dry-run=client -o json`). */
  kubectl: path.join(toolsDir, 'bin', 'kubectl'),
} as const;

/** Name of one of {@link realTools}. */
export type RealTool = keyof typeof realTools;

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The tools (of those asked for, default all) that are not installed. */
export function missingRealTools(which: readonly RealTool[] = Object.keys(realTools) as RealTool[]): RealTool[] {
  return which.filter((t) => !executable(realTools[t]));
}

/** Whether all the given real tools (default: all) are installed. */
export function realToolsAvailable(which?: readonly RealTool[]): boolean {
  return missingRealTools(which).length === 0;
}

/** True when running in CI, where missing real tools are a failure and never a skip. */
export const inCI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

/**
 * For `describe.skipIf(skipReal(['cosign']))(...)`: true (skip) when a tool is missing on a
 * developer's machine; in CI a missing tool throws, which fails the test file loudly.
 */
export function skipReal(which?: readonly RealTool[]): boolean {
  const missing = missingRealTools(which);
  if (missing.length === 0) return false;
  const msg = `real components missing: ${missing.map((t) => `${t} (${realTools[t]})`).join(', ')}; run: bash scripts/install-deps.sh`;
  if (inCI) throw new Error(msg);
  console.warn(`[skip] ${msg}`);
  return true;
}

/** Result of {@link runCommand}. */
export interface RunResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Raw stdout bytes (for byte-exact comparisons). */
  stdoutBytes: Buffer;
  timedOut: boolean;
  /** The command line, for messages. */
  command: string;
}

/** Options of {@link runCommand}. */
export interface RunOptions {
  /** Extra environment, merged over `process.env` (a value of `undefined` removes the variable). */
  env?: Record<string, string | undefined>;
  /** Replace the environment entirely instead of merging. */
  cleanEnv?: boolean;
  cwd?: string;
  /** Written to stdin, which is then closed (stdin is always closed: nothing may wait for a tty). */
  input?: string | Buffer;
  /** Kill (SIGKILL) after this many ms; default 60 s. */
  timeoutMs?: number;
}

function mergeEnv(opts: RunOptions): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = opts.cleanEnv === true ? {} : { ...process.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

/** Runs a program to completion and captures its output. Never throws for a non-zero exit. */
export function runCommand(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: mergeEnv(opts),
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
        timedOut,
        command,
      });
    });
    child.stdin.on('error', () => {
      /* the program may exit without reading stdin */
    });
    child.stdin.end(opts.input);
  });
}

/** Like {@link runCommand} but throws (with the output) unless the program exits 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await runCommand(cmd, args, opts);
  if (r.code !== 0) throw new Error(describeFailure(r));
  return r;
}

/** A readable account of a failed run, for error messages. */
export function describeFailure(r: RunResult): string {
  const how = r.timedOut ? 'timed out' : r.signal !== null ? `killed by ${r.signal}` : `exited ${r.code}`;
  return `${r.command} ${how}\n--- stdout ---\n${r.stdout.slice(-4000)}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
}

// ---------------------------------------------------------------------------------------------
// Long-running daemons (registry, podman service): killed when this process exits, and, through
// the kernel's parent-death signal (setpriv --pdeathsig), even when it is killed outright.
// ---------------------------------------------------------------------------------------------

const daemons = new Set<ChildProcess>();
const exitHooks = new Set<() => void>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const hook of exitHooks) {
      try {
        hook();
      } catch {
        /* best effort */
      }
    }
    for (const d of daemons) {
      if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
    }
  });
}

/** Registers a synchronous clean-up to run when the process exits; returns its remover. */
export function onProcessExit(hook: () => void): () => void {
  installExitHandler();
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}

/** A background process started by {@link spawnDaemon}. */
export interface Daemon {
  child: ChildProcess;
  pid: number;
  /** The last 64 KiB of its stdout and stderr. */
  log(): string;
  /** Whether it has exited. */
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const setpriv = '/usr/bin/setpriv';

/** Starts a long-running program in the background, tied to this process's lifetime. */
export function spawnDaemon(cmd: string, args: readonly string[], opts: Pick<RunOptions, 'env' | 'cwd' | 'cleanEnv'> = {}): Daemon {
  installExitHandler();
  const [file, argv] = existsSync(setpriv) ? [setpriv, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, [...args]];
  const child = spawn(file, argv, { env: mergeEnv(opts), cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  daemons.add(child);
  let log = '';
  const append = (c: Buffer) => {
    log = (log + c.toString('utf8')).slice(-65536);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.on('error', (e) => append(Buffer.from(`spawn error: ${e.message}\n`)));
  const exitedP = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('exit', () => daemons.delete(child));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    pid: child.pid,
    log: () => log,
    exited,
    async stop(graceMs = 5000) {
      if (exited()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitedP;
      clearTimeout(t);
    },
  };
}

/** Runs a program synchronously (for exit hooks only), ignoring its result. */
export function runSyncQuiet(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 10_000): void {
  spawnSync(cmd, args, { env, stdio: 'ignore', timeout: timeoutMs });
}

/** Quotes one argument for `sh -c`. */
export function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs a program with a pseudo-terminal as its stdin/stdout/stderr, through util-linux `script`
 * (`script --quiet --return --flush --command CMD /dev/null`): for programs that prompt on a tty,
 * such as `cosign generate-key-pair` asking for a password. `input` is typed into the terminal (it
 * is written at once, so later prompts find it waiting). The output is the terminal's: stdout and
 * stderr mixed, with `\r\n` line ends, and the typed input echoed.
 */
export function runInPty(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const line = [cmd, ...args].map(shellQuote).join(' ');
  return runCommand(realTools.script, ['--quiet', '--return', '--flush', '--command', line, '/dev/null'], opts);
}
