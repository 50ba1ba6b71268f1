/**
 * Key files on disk: write `cosign.key`/`cosign.pub` safely, load a signer from a key file.
 *
 * @module
 */
import { chmod, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fail, isCosignError } from '../errors.js';
import { loadEd25519ph } from './ed25519ph.js';
import { FileSigner, type FileSignerOptions } from './file-signer.js';
import { generateKeyPair, parsePrivateKeyAsync, type EncryptOptions, type KeyPairPem } from './private.js';
import { readKeyFile } from './resolve.js';

/** Options for {@link writeKeyPairFiles}. */
export interface WriteKeyFilesOptions {
  /** File name prefix: writes `<prefix>.key` and `<prefix>.pub`. Default `cosign`. */
  readonly prefix?: string;
  /** Overwrite existing files. Default false: refuse with `FILE_EXISTS`. */
  readonly force?: boolean;
}

/** Options for {@link writeKeyPair}. */
export interface WriteKeyPairOptions extends WriteKeyFilesOptions, EncryptOptions {
  /** Password for the private key (the empty string is allowed). */
  readonly password: string;
}

/** Paths written by {@link writeKeyPairFiles} / {@link writeKeyPair}. */
export interface WrittenKeyPair {
  /** `<dir>/<prefix>.key`, mode 0600. */
  readonly privateKeyPath: string;
  /** `<dir>/<prefix>.pub`, mode 0644. */
  readonly publicKeyPath: string;
  /** The public key PEM that was written. */
  readonly publicKeyPem: string;
}

function ioError(e: unknown, file: string): never {
  if (isCosignError(e)) throw e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EEXIST') throw fail('FILE_EXISTS', `${file} already exists`, { cause: e });
  throw fail('IO_ERROR', `${file}: ${code ?? 'I/O error'}`, { cause: e });
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    return ioError(e, file);
  }
}

async function writeFileMode(file: string, data: string, mode: number, force: boolean): Promise<void> {
  let fh;
  try {
    fh = await open(file, force ? 'w' : 'wx', mode);
    await fh.writeFile(data);
    await fh.close();
    fh = undefined;
    await chmod(file, mode); // the mode of open() applies only to new files and is masked by umask
  } catch (e) {
    await fh?.close().catch(() => undefined);
    ioError(e, file);
  }
}

/**
 * Write a key pair as `<dir>/<prefix>.key` (mode 0600) and `<dir>/<prefix>.pub` (mode 0644), like
 * cosign. Without `force`, refuses with `FILE_EXISTS` if either file exists (checked before writing
 * anything, and again atomically by exclusive create).
 * @throws CosignError `FILE_EXISTS`, `IO_ERROR`, `BAD_INPUT` (prefix containing a path separator).
 */
export async function writeKeyPairFiles(dir: string, pair: KeyPairPem, opts: WriteKeyFilesOptions = {}): Promise<WrittenKeyPair> {
  const prefix = opts.prefix ?? 'cosign';
  const force = opts.force === true;
  if (prefix.length === 0 || prefix.includes('/') || prefix.includes('\\') || prefix.includes('\0')) {
    throw fail('BAD_INPUT', 'key file prefix must be a plain file name');
  }
  const privateKeyPath = path.join(dir, `${prefix}.key`);
  const publicKeyPath = path.join(dir, `${prefix}.pub`);
  if (!force) {
    for (const f of [privateKeyPath, publicKeyPath]) {
      if (await exists(f)) throw fail('FILE_EXISTS', `${f} already exists (use force to overwrite)`);
    }
  }
  await writeFileMode(privateKeyPath, pair.privateKeyPem, 0o600, force);
  try {
    await writeFileMode(publicKeyPath, pair.publicKeyPem, 0o644, force);
  } catch (e) {
    if (!force) await rm(privateKeyPath, { force: true }).catch(() => undefined);
    throw e;
  }
  return { privateKeyPath, publicKeyPath, publicKeyPem: pair.publicKeyPem };
}

/**
 * `cosign generate-key-pair`: generate an ECDSA P-256 key, encrypt it with `password`, and write
 * `<prefix>.key` / `<prefix>.pub` into `dir` (see {@link writeKeyPairFiles}).
 */
export async function writeKeyPair(dir: string, opts: WriteKeyPairOptions): Promise<WrittenKeyPair> {
  const files: WriteKeyFilesOptions = { prefix: opts.prefix ?? 'cosign', force: opts.force === true };
  if (!files.force) {
    // fail fast before spending scrypt time
    for (const f of [`${files.prefix}.key`, `${files.prefix}.pub`]) {
      const p = path.join(dir, f);
      if (await exists(p)) throw fail('FILE_EXISTS', `${p} already exists (use force to overwrite)`);
    }
  }
  const pair = generateKeyPair(opts.password, opts.N === undefined ? {} : { N: opts.N });
  return writeKeyPairFiles(dir, pair, files);
}

/**
 * Read a private key file (cosign encrypted format, or unencrypted PEM, see `parsePrivateKey`) and
 * return a {@link FileSigner} whose `keyRef` is the path. At most 1 MiB is read (`TOO_LARGE` beyond, also for
 * `/dev/zero` or a FIFO). scrypt runs off the main thread.
 * @throws CosignError `IO_ERROR`, `TOO_LARGE`, `WRONG_PASSWORD`, `BAD_KEY`, `UNSUPPORTED_KEY`, `BAD_INPUT`.
 */
export async function loadSignerFromFile(file: string, password?: string, options: FileSignerOptions = {}): Promise<FileSigner> {
  const key = await parsePrivateKeyAsync(await readKeyFile(file), password, file);
  const signer = new FileSigner(key, file, options);
  if (signer.ed25519ph) await loadEd25519ph(); // so that signSync works too
  return signer;
}
