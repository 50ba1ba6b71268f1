/**
 * The one place where the CLI turns a `--key` value into keys (cosign's key reference order):
 * `pkcs11:` (unsupported), a KMS `scheme://…` (`awskms`, `gcpkms`, `azurekms`, `hashivault`, `openbao`,
 * `k8s`: delegated to `src/kms`, loaded only then), `gitlab://` (unsupported), else a key "file": a
 * path, `file://…`, `env://VAR` or an `http(s)://` URL.
 *
 * Encrypted private keys ask for their password (see `password.ts`) only when the key is encrypted.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { isCosignError } from '../errors.js';
import { readFileLimited } from '../node-fs.js';
import type { Signer } from '../keys/signer.js';
import type { CliContext } from './context.js';
import { debug } from './context.js';
import { CliError, EXIT, unsupported } from './errors.js';
import { getPassword, passwordSource } from './password.js';
import { isKmsReference, keyRefScheme } from '../kms/scheme.js';

/** Largest key file or key URL body read. */
export const MAX_KEY_BYTES = 1024 * 1024;

/** The `scheme` of `scheme://…`, lower-cased, or undefined for a path. */
export const keyScheme = keyRefScheme;

/** True when the reference names a KMS (or another non-file provider). */
export const isKmsRef = isKmsReference;

function checkSupportedRef(keyRef: string): void {
  if (/^pkcs11:/i.test(keyRef)) throw unsupported('pkcs11: key references (hardware tokens)');
  const s = keyScheme(keyRef);
  if (s === 'gitlab' || s === 'github') throw unsupported(`${s}:// key references`);
}

/** The body of a key URL, never more than {@link MAX_KEY_BYTES}: stops reading at the first byte over. */
async function readBodyLimited(res: Response, keyRef: string): Promise<Buffer> {
  const tooLarge = (): CliError => new CliError(`key at ${keyRef} is larger than ${MAX_KEY_BYTES} bytes`, EXIT.ERROR, 'TOO_LARGE');
  if (Number(res.headers.get('content-length') ?? 0) > MAX_KEY_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body !== null) {
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > MAX_KEY_BYTES) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`fetching key ${keyRef}: ${(e as Error).message}`);
    }
  }
  return Buffer.concat(chunks, total);
}

/** Read the bytes behind a file-like key reference (at most {@link MAX_KEY_BYTES}). */
export async function readKeyRef(ctx: CliContext, keyRef: string): Promise<Buffer> {
  const s = keyScheme(keyRef);
  if (s === 'env') {
    const name = keyRef.slice('env://'.length);
    const v = ctx.env[name];
    if (v === undefined) throw new CliError(`reading key: environment variable ${name} is not set`);
    return Buffer.from(v, 'utf8');
  }
  if (s === 'http' || s === 'https') {
    let res: Response;
    try {
      res = await fetch(keyRef, { signal: ctx.signal, redirect: 'follow' });
    } catch (e) {
      throw new CliError(`fetching key ${keyRef}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new CliError(`fetching key ${keyRef}: HTTP ${res.status}`);
    return readBodyLimited(res, keyRef);
  }
  const file = s === 'file' ? new URL(keyRef) : keyRef;
  try {
    return await readFileLimited(file, MAX_KEY_BYTES, 'key file');
  } catch (e) {
    if (isCosignError(e, 'TOO_LARGE')) throw new CliError(`reading key: key file ${keyRef} is larger than ${MAX_KEY_BYTES} bytes`, EXIT.ERROR, 'TOO_LARGE', { cause: e });
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `reading key: open ${keyRef}: no such file or directory` : `reading key ${keyRef}: ${code ?? 'error'}`);
  }
}

function isEncryptedPem(pem: Buffer): boolean {
  return /-----BEGIN ENCRYPTED (SIGSTORE|COSIGN) PRIVATE KEY-----/.test(pem.toString('latin1'));
}

/**
 * A signer for `--key` (private key file, `env://`, URL, or KMS URI). For an encrypted key file the
 * password comes from {@link getPassword}.
 */
export async function loadSigner(ctx: CliContext, keyRef: string): Promise<Signer> {
  checkSupportedRef(keyRef);
  debug(ctx, `signing key: ${isKmsRef(keyRef) ? `KMS ${keyScheme(keyRef) ?? ''}` : 'file'} ${keyRef}`);
  if (isKmsRef(keyRef)) {
    const kms = await import('../kms/index.js');
    const password = ctx.env.COSIGN_PASSWORD;
    return kms.resolveSigner(keyRef, { env: ctx.env, ...(password === undefined ? {} : { password }) });
  }
  const pem = await readKeyRef(ctx, keyRef);
  const password = isEncryptedPem(pem) ? await getPassword(ctx, false) : undefined;
  const keys = await import('../keys/index.js');
  let key;
  try {
    key = await keys.parsePrivateKeyAsync(pem, password, keyRef);
  } catch (e) {
    // Say where the password came from (an empty pipe, a newline from echo, a stale COSIGN_PASSWORD).
    if (password !== undefined && (e as { code?: unknown }).code === 'WRONG_PASSWORD') throw new CliError(`${(e as Error).message}; ${passwordSource(ctx, password)}`, EXIT.ERROR, 'WRONG_PASSWORD', { cause: e });
    throw e;
  }
  return keys.signerFromPrivateKey(key, keyRef);
}

/**
 * The public key for `verify --key`: a public key or certificate (PEM or DER) from a file, `env://`
 * or URL, or the public half of a KMS key (the KMS is asked only for the public key).
 */
export async function loadPublicKey(ctx: CliContext, keyRef: string): Promise<KeyObject> {
  checkSupportedRef(keyRef);
  if (isKmsRef(keyRef)) {
    const kms = await import('../kms/index.js');
    return kms.resolvePublicKey(keyRef, { env: ctx.env });
  }
  const data = await readKeyRef(ctx, keyRef);
  // Only the public-key parser: `keys/index.js` also loads the encrypted-key code (zod, scrypt, secretbox).
  const { parsePublicKey } = await import('../keys/public.js');
  return parsePublicKey(data, keyRef);
}
