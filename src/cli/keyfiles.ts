/**
 * Writing `<prefix>.key` / `<prefix>.pub` like cosign: the prefix may contain a directory, an
 * existing private key asks `Overwrite?` first (unless skipped), messages go to stderr.
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { KeyPairPem } from '../keys/private.js';
import type { CliContext } from './context.js';
import { info, warn } from './context.js';
import { CliError } from './errors.js';
import { confirmContinue } from './password.js';

/** Whether a regular file exists at `file` (cosign's `FileExists`). */
export async function fileExists(file: string): Promise<boolean> {
  try {
    const st = await stat(file);
    return !st.isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new CliError(`failed checking if ${file} exists: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Ask before overwriting `<prefix>.key` (cosign: `WARNING: File X already exists. Overwrite?`). */
export async function confirmOverwrite(ctx: CliContext, prefix: string, skip: boolean): Promise<void> {
  const keyFile = `${prefix}.key`;
  if (!(await fileExists(keyFile))) return;
  warn(ctx, `File ${keyFile} already exists. Overwrite?`);
  if (!skip) await confirmContinue(ctx);
}

/** Write the pair; returns the two paths. */
export async function writePair(ctx: CliContext, prefix: string, pair: KeyPairPem): Promise<{ privateKey: string; publicKey: string }> {
  if (prefix === '') throw new CliError('the output key prefix must not be empty');
  const dir = path.dirname(prefix);
  const base = path.basename(prefix);
  const { writeKeyPairFiles } = await import('../keys/files.js');
  try {
    await writeKeyPairFiles(dir, pair, { prefix: base, force: true });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'IO_ERROR')
      throw new CliError(`open ${prefix}.key: ${(e as Error).message.includes('ENOENT') ? 'no such file or directory' : (e as Error).message}`, 1, 'IO_ERROR', {
        cause: e,
      });
    throw e;
  }
  info(ctx, `Private key written to ${prefix}.key`);
  info(ctx, `Public key written to ${prefix}.pub`);
  return { privateKey: `${prefix}.key`, publicKey: `${prefix}.pub` };
}
