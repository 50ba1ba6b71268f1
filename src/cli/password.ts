/**
 * Key passwords the way cosign gets them: `COSIGN_PASSWORD` if set (verbatim, the empty value
 * included); else, on a terminal, a prompt without echo (`Enter password for private key: `, and
 * `Enter password for private key again: ` when creating a key); else all of stdin, newline included.
 * Passwords are never printed.
 *
 * Also the `[y/N]` confirmation prompt (cosign's `ui.ConfirmContinue`), which reads one line of stdin.
 *
 * @module
 */
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

const MAX_PASSWORD = 64 * 1024;

/** Read all of stdin (bounded). */
async function readAllStdin(ctx: CliContext): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ctx.stdin) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
    size += b.length;
    if (size > MAX_PASSWORD) throw new CliError(`password on stdin is longer than ${MAX_PASSWORD} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Read one line from a terminal in raw mode, echoing nothing. */
function readHidden(ctx: CliContext, prompt: string): Promise<string> {
  const { stdin, stderr } = ctx;
  return new Promise<string>((resolve, reject) => {
    let buf = '';
    const wasRaw = (stdin as { isRaw?: boolean }).isRaw === true;
    // raw mode (no echo) before the prompt is shown, so nothing typed after it is echoed
    stdin.setRawMode?.(true);
    stderr.write(prompt);
    stdin.resume();
    const done = (err: Error | undefined): void => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.setRawMode?.(wasRaw);
      stdin.pause();
      stderr.write('\n');
      if (err !== undefined) reject(err);
      else resolve(buf);
    };
    const onEnd = (): void => done(undefined);
    const onData = (data: Buffer | string): void => {
      const s = typeof data === 'string' ? data : data.toString('utf8');
      for (const ch of s) {
        if (ch === '\r' || ch === '\n') return done(undefined);
        if (ch === '\u0003') return done(new CliError('interrupted', 130, 'INTERRUPTED'));
        if (ch === '\u0004') {
          if (buf.length === 0) return done(undefined);
          continue;
        }
        if (ch === '\u007f' || ch === '\b') {
          buf = [...buf].slice(0, -1).join('');
          continue;
        }
        if (ch === '\u0015') {
          buf = '';
          continue;
        }
        buf += ch;
        if (buf.length > MAX_PASSWORD) return done(new CliError('password too long'));
      }
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
  });
}

/** Whether stdin is a terminal (cosign's `IsTerminal`). */
export function stdinIsTerminal(ctx: CliContext): boolean {
  return ctx.stdin.isTTY === true;
}

/**
 * The key password: `COSIGN_PASSWORD`, else a terminal prompt (twice with `confirm`), else stdin.
 * @throws CliError `passwords do not match` when the confirmation differs.
 */
export async function getPassword(ctx: CliContext, confirm: boolean): Promise<string> {
  const env = ctx.env.COSIGN_PASSWORD;
  if (env !== undefined) return env;
  if (stdinIsTerminal(ctx)) {
    const pw1 = await readHidden(ctx, 'Enter password for private key: ');
    if (!confirm) return pw1;
    const pw2 = await readHidden(ctx, 'Enter password for private key again: ');
    if (pw1 !== pw2) throw new CliError('passwords do not match');
    return pw1;
  }
  return readAllStdin(ctx);
}

/**
 * Where {@link getPassword} took `password` from, for the message of a failed decryption (the password
 * itself is never shown): `COSIGN_PASSWORD`, the terminal prompt, or standard input, saying when what
 * stdin gave was empty or ended in a newline (both are part of the password, as in cosign).
 */
export function passwordSource(ctx: CliContext, password: string): string {
  if (ctx.env.COSIGN_PASSWORD !== undefined) return `the password came from COSIGN_PASSWORD${password === '' ? ' (set but empty)' : ''}`;
  if (stdinIsTerminal(ctx)) return 'the password was typed at the prompt';
  const what =
    password === ''
      ? 'it was empty (nothing was piped in)'
      : /\r?\n$/.test(password)
        ? 'its trailing newline is part of the password'
        : 'it has no trailing newline';
  return `COSIGN_PASSWORD is not set and stdin is not a terminal, so the password was all of stdin: ${what}`;
}

/** Read one line from stdin (for `[y/N]` prompts); '' at end of input. */
function readLine(ctx: CliContext): Promise<string> {
  const { stdin } = ctx;
  return new Promise<string>((resolve) => {
    let buf = '';
    const finish = (): void => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', finish);
      stdin.removeListener('error', finish);
      stdin.pause();
      resolve(buf);
    };
    const onData = (d: Buffer | string): void => {
      buf += typeof d === 'string' ? d : d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        buf = buf.slice(0, nl);
        finish();
      } else if (buf.length > 4096) finish();
    };
    stdin.on('data', onData);
    stdin.on('end', finish);
    stdin.on('error', finish);
    stdin.resume();
  });
}

/**
 * cosign's confirmation: `Are you sure you would like to continue? [y/N] ` on stderr, one line from
 * stdin; `y`/`Y` continues, empty or `n` declines (`user declined the prompt`), anything else is
 * `invalid input`.
 */
export async function confirmContinue(ctx: CliContext): Promise<void> {
  ctx.stderr.write('Are you sure you would like to continue? [y/N] ');
  const line = (await readLine(ctx)).replace(/\r$/, '');
  const v = line.toLowerCase();
  if (v === 'y') return;
  if (v === '' || v === 'n') throw new CliError('user declined the prompt');
  throw new CliError(`invalid input ${JSON.stringify(line)} (allowed values y, n)`);
}
