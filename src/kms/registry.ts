/**
 * Key reference resolution: a scheme registry for KMS providers and a pluggable loader for key files.
 *
 * @module
 */
import { FILE_SCHEMES, isKmsReference, keyRefScheme } from './scheme.js';
import type { KeyObject } from 'node:crypto';
import { fail, isCosignError } from '../errors.js';
import { loadSignerFromFile } from '../keys/files.js';
import { MAX_KEY_FILE_BYTES, readFileLimited } from '../node-fs.js';
import { parsePrivateKeyAsync } from '../keys/private.js';
import type { HashAlgorithm, SignatureVerifier, Signer } from '../keys/signer.js';
import { PublicKeyVerifier } from '../keys/verify.js';
import { localSigner, parsePublicKey } from './crypto.js';
import { kmsError } from './errors.js';
import type { AwsKmsOptions } from './aws.js';
import type { AzureKmsOptions } from './azure.js';
import type { GcpKmsOptions } from './gcp.js';
import type { VaultKmsOptions } from './hashivault.js';
import type { K8sSecretOptions } from './k8s.js';

/** Options for {@link resolveSigner}, {@link resolvePublicKey} and {@link resolveVerifier}. */
export interface KmsOptions {
  /** Password for an encrypted key file (and for a `k8s://` secret without `cosign.password`). */
  readonly password?: string;
  /** Environment to read configuration from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Loader for references without a KMS scheme (paths, `env://`, `http(s)://`). Default: {@link registerFileKeyLoader}'s, else the built-in one. */
  readonly fileLoader?: FileKeyLoader;
  /** `awskms://` settings. */
  readonly aws?: AwsKmsOptions;
  /** `gcpkms://` settings. */
  readonly gcp?: GcpKmsOptions;
  /** `azurekms://` settings. */
  readonly azure?: AzureKmsOptions;
  /** `hashivault://` / `openbao://` settings. */
  readonly vault?: VaultKmsOptions;
  /** `k8s://` settings. */
  readonly k8s?: K8sSecretOptions;
  /** Extra options for providers registered with {@link registerKmsProvider}, by scheme. */
  readonly providers?: Readonly<Record<string, unknown>>;
}

/** A KMS provider for one URI scheme. It must load its SDK lazily (dynamic `import()`). */
export interface KmsProvider {
  /** Build a signer for `keyRef` (the full reference, scheme included). */
  signer(keyRef: string, opts: KmsOptions): Promise<Signer>;
  /** The public key for `keyRef`. Default: `(await signer(keyRef, opts)).publicKey()`. */
  publicKey?(keyRef: string, opts: KmsOptions): Promise<KeyObject>;
}

/** Loads keys from references without a KMS scheme: file paths, `env://VAR`, `http(s)://`. */
export interface FileKeyLoader {
  /** A signer for a private key reference (`password` comes from {@link KmsOptions.password}). */
  signer(ref: string, opts: KmsOptions): Promise<Signer>;
  /** A public key (or certificate) reference. */
  publicKey(ref: string, opts: KmsOptions): Promise<KeyObject>;
}

const providers = new Map<string, KmsProvider>();
let fileLoader: FileKeyLoader | undefined;

/** Schemes that denote a key "file" in cosign (handled by the file loader, not a KMS). */

/**
 * Register (or replace) the provider for `scheme` (without `://`, case-insensitive), e.g. `'mykms'`
 * for `mykms://…` references.
 */
export function registerKmsProvider(scheme: string, provider: KmsProvider): void {
  const s = scheme.replace(/:\/\/$/, '').toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(s)) throw fail('USAGE', `invalid KMS scheme ${JSON.stringify(scheme)}`);
  if (FILE_SCHEMES.has(s)) throw fail('USAGE', `scheme ${s}:// is reserved for key files`);
  providers.set(s, provider);
}

/** Remove a registered provider (mainly for tests). Returns whether one was registered. */
export function unregisterKmsProvider(scheme: string): boolean {
  return providers.delete(scheme.replace(/:\/\/$/, '').toLowerCase());
}

/** The registered schemes, sorted. */
export function kmsSchemes(): string[] {
  return [...providers.keys()].sort();
}

/** Set the loader used for key files when {@link KmsOptions.fileLoader} is not given; `undefined` restores the built-in one. */
export function registerFileKeyLoader(loader: FileKeyLoader | undefined): void {
  fileLoader = loader;
}

function providerFor(keyRef: string): KmsProvider | undefined {
  const scheme = keyRefScheme(keyRef);
  if (scheme === undefined || FILE_SCHEMES.has(scheme)) {
    if (/^pkcs11:/i.test(keyRef)) throw fail('UNSUPPORTED', 'pkcs11: key references are not supported');
    return undefined;
  }
  const p = providers.get(scheme);
  if (p === undefined) {
    throw kmsError('UNKNOWN_KEY_SCHEME', keyRef.replace(/^([^:]+:\/\/)[^/@]*@/, '$1'), `unknown key reference scheme ${scheme}:// (known: ${kmsSchemes().join(', ')}; register one with registerKmsProvider)`, {
      scheme,
    });
  }
  return p;
}

async function readKeyRef(ref: string, opts: KmsOptions, what: string): Promise<Buffer> {
  const env = opts.env ?? process.env;
  if (/^env:\/\//i.test(ref)) {
    const name = ref.slice('env://'.length);
    const v = env[name];
    if (v === undefined) throw fail('IO_ERROR', `${what}: environment variable ${name} is not set`);
    return Buffer.from(v, 'utf8');
  }
  if (/^https?:\/\//i.test(ref)) throw fail('UNSUPPORTED', `${what}: http(s) key references need a file key loader (registerFileKeyLoader)`);
  const path = /^file:\/\//i.test(ref) ? new URL(ref) : ref;
  try {
    return await readFileLimited(path, MAX_KEY_FILE_BYTES, what);
  } catch (e) {
    if (isCosignError(e)) throw e;
    throw fail('IO_ERROR', `${what}: cannot read ${ref} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The built-in file loader: PEM files and `env://VAR`, parsed with `src/keys`. */
export const builtinFileKeyLoader: FileKeyLoader = {
  async signer(ref, opts) {
    if (keyRefScheme(ref) === undefined) return loadSignerFromFile(ref, opts.password);
    const pem = await readKeyRef(ref, opts, 'private key');
    const key = await parsePrivateKeyAsync(pem, opts.password, ref);
    return localSigner(key, ref);
  },
  async publicKey(ref, opts) {
    return parsePublicKey(await readKeyRef(ref, opts, 'public key'), ref);
  },
};

function loaderFor(opts: KmsOptions): FileKeyLoader {
  return opts.fileLoader ?? fileLoader ?? builtinFileKeyLoader;
}

/**
 * Turn a key reference into a {@link Signer}: a KMS URI (`awskms://`, `gcpkms://`, `azurekms://`,
 * `hashivault://`, `openbao://`, `k8s://`, or a registered scheme) or a key file (path, `env://VAR`).
 * No network call is made until the signer is used.
 * @throws CosignError `UNKNOWN_KEY_SCHEME` for an unregistered scheme, `KMS_SDK_MISSING` when the
 * provider's SDK is not installed, other `KMS_*` codes from the provider.
 */
export async function resolveSigner(keyRef: string, opts: KmsOptions = {}): Promise<Signer> {
  const p = providerFor(keyRef);
  if (p === undefined) return loaderFor(opts).signer(keyRef, opts);
  return p.signer(keyRef, opts);
}

/** The public key behind a key reference (KMS URI, public key file, `env://VAR`). Export PEM with `key.export({ type: 'spki', format: 'pem' })`. */
export async function resolvePublicKey(keyRef: string, opts: KmsOptions = {}): Promise<KeyObject> {
  const p = providerFor(keyRef);
  if (p === undefined) return loaderFor(opts).publicKey(keyRef, opts);
  if (p.publicKey !== undefined) return p.publicKey(keyRef, opts);
  return (await p.signer(keyRef, opts)).publicKey();
}

/** Options for {@link resolveVerifier}. */
export interface ResolveVerifierOptions extends KmsOptions {
  /** Hash for ECDSA/RSA checks. Default `sha256`, like `cosign verify --key`. */
  readonly hash?: HashAlgorithm;
}

/** A local {@link SignatureVerifier} for a key reference (the KMS is asked only for the public key). */
export async function resolveVerifier(keyRef: string, opts: ResolveVerifierOptions = {}): Promise<SignatureVerifier> {
  const key = await resolvePublicKey(keyRef, opts);
  try {
    return new PublicKeyVerifier(key, keyRef, opts.hash === undefined ? {} : { hash: opts.hash });
  } catch (e) {
    if (isCosignError(e)) throw e;
    throw kmsError('KMS_UNSUPPORTED_KEY_SPEC', keyRef, 'unsupported public key');
  }
}
