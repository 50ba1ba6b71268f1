/**
 * The one reader of key references that are not a KMS URI (`resolveSigner` / `resolvePublicKey` of
 * `cosign-ts/kms` send KMS URIs to their provider and everything else here): a path, `file://…`,
 * `env://VAR`, or, when allowed, an `http(s)://` URL (cosign's order). Reads are bounded by the bytes
 * actually read (1 MiB), so `/dev/zero`, FIFOs and endless responses fail fast with `TOO_LARGE`.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { fail, isCosignError } from '../errors.js';
import { MAX_KEY_FILE_BYTES, readFileLimited } from '../internal/read-file.js';
import { parsePublicKey } from './public.js';
import type { Signer } from './signer.js';

/** Options for {@link readKeyReference}. */
export interface ReadKeyOptions {
  /** Environment for `env://VAR`. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Fetch `http(s)://` references (as cosign does). Default false: `UNSUPPORTED`. */
  readonly allowHttp?: boolean;
  /** Stops a key URL download. */
  readonly signal?: AbortSignal;
}

/**
 * A private key's password, or a function that asks for it (a CLI prompt), called only when the key
 * is encrypted. `undefined` means the empty password for an encrypted key.
 */
export type KeyPassword = string | (() => Promise<string>);

/** Options for reading a private key reference: how it is read, and its password. */
export interface KeyReferenceOptions extends ReadKeyOptions {
  /** The password of an encrypted private key. */
  readonly password?: KeyPassword;
}

/**
 * A key file's bytes, at most 1 MiB (`file` may be a `file:` URL).
 * @throws CosignError `TOO_LARGE`; `IO_ERROR` (`reading key: open <file>: no such file or directory`, …).
 */
export async function readKeyFile(file: string | URL): Promise<Buffer> {
  try {
    return await readFileLimited(file, MAX_KEY_FILE_BYTES, 'key file');
  } catch (e) {
    if (isCosignError(e, 'TOO_LARGE')) throw fail('TOO_LARGE', `reading key: ${e.message}`, { cause: e });
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(
      'IO_ERROR',
      code === 'ENOENT' ? `reading key: open ${String(file)}: no such file or directory` : `reading key ${String(file)}: ${code ?? 'error'}`,
      { cause: e },
    );
  }
}

/** The body of a key URL, never more than 1 MiB: stops reading at the first byte over. */
async function readKeyUrl(url: string, signal: AbortSignal | undefined): Promise<Buffer> {
  const tooLarge = (): Error => fail('TOO_LARGE', `key at ${url} is larger than ${MAX_KEY_FILE_BYTES} bytes`);
  const failed = (e: unknown): Error => (isCosignError(e) ? e : fail('IO_ERROR', `fetching key ${url}: ${(e as Error).message}`, { cause: e }));
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', ...(signal === undefined ? {} : { signal }) });
  } catch (e) {
    throw failed(e);
  }
  if (!res.ok) throw fail('IO_ERROR', `fetching key ${url}: HTTP ${res.status}`);
  if (Number(res.headers.get('content-length') ?? 0) > MAX_KEY_FILE_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  try {
    for (;;) {
      const chunk = await reader?.read();
      if (chunk === undefined || chunk.done) break;
      total += chunk.value.length;
      if (total > MAX_KEY_FILE_BYTES) {
        await reader?.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(chunk.value);
    }
  } catch (e) {
    throw failed(e);
  }
  return Buffer.concat(chunks, total);
}

/**
 * The bytes behind a key reference: `env://VAR` (the variable's value), `http(s)://…` (with
 * `allowHttp`), `file://…`, else a path. At most 1 MiB.
 * @throws CosignError `IO_ERROR` (unset variable, unreadable file, failed download), `TOO_LARGE`,
 * `UNSUPPORTED` (a URL without `allowHttp`).
 */
export async function readKeyReference(ref: string, options: ReadKeyOptions = {}): Promise<Buffer> {
  const scheme = /^([a-z]+):\/\//i.exec(ref)?.[1]?.toLowerCase();
  if (scheme === 'env') {
    const name = ref.slice('env://'.length);
    const value = (options.env ?? process.env)[name];
    if (value === undefined) throw fail('IO_ERROR', `reading key: environment variable ${name} is not set`);
    return Buffer.from(value, 'utf8');
  }
  if (scheme === 'http' || scheme === 'https') {
    if (options.allowHttp !== true) throw fail('UNSUPPORTED', `reading key ${ref}: key URLs are not fetched unless allowed (allowHttp)`);
    return readKeyUrl(ref, options.signal);
  }
  return readKeyFile(scheme === 'file' ? new URL(ref) : ref);
}

function isEncrypted(pem: Uint8Array): boolean {
  return /-----BEGIN ENCRYPTED (SIGSTORE|COSIGN) PRIVATE KEY-----/.test(Buffer.from(pem).toString('latin1'));
}

/**
 * Parse a private key (cosign's encrypted format or unencrypted PEM) with its password: a
 * {@link KeyPassword} function is called only for an encrypted key; a string is always passed on.
 * scrypt runs off the main thread. `ref` names the key in errors.
 * @throws CosignError `WRONG_PASSWORD`, `BAD_KEY`, `UNSUPPORTED_KEY`, `BAD_INPUT`.
 */
export async function privateKeyFromPem(pem: Uint8Array, password: KeyPassword | undefined, ref: string): Promise<KeyObject> {
  const pw = typeof password === 'function' ? (isEncrypted(pem) ? await password() : undefined) : password;
  // Loaded here, not at the top: verifying (public keys only) never loads the encrypted-key code.
  const { parsePrivateKeyAsync } = await import('./private.js');
  return parsePrivateKeyAsync(pem, pw, ref);
}

/** A signer for a private key reference (path, `file://`, `env://`, URL; see {@link readKeyReference}). */
export async function signerFromKeyReference(ref: string, options: KeyReferenceOptions = {}): Promise<Signer> {
  const key = await privateKeyFromPem(await readKeyReference(ref, options), options.password, ref);
  const { signerFromPrivateKey } = await import('./file-signer.js');
  return signerFromPrivateKey(key, ref);
}

/** A public key (or a certificate's) behind a key reference (see {@link readKeyReference}). */
export async function publicKeyFromKeyReference(ref: string, options: ReadKeyOptions = {}): Promise<KeyObject> {
  return parsePublicKey(await readKeyReference(ref, options), ref);
}
