/**
 * The one entry point from a key reference to a signer or public key: KMS URIs go to their provider
 * (built in, or registered with {@link registerKmsProvider}), everything else to `src/keys/resolve.ts`.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { fail, isCosignError } from '../errors.js';
import { publicKeyFromKeyReference, signerFromKeyReference, type KeyReferenceOptions } from '../keys/resolve.js';
import type { HashAlgorithm, SignatureVerifier, Signer } from '../keys/signer.js';
import { PublicKeyVerifier } from '../keys/verify.js';
import { kmsError } from './errors.js';
import { FILE_SCHEMES, keyRefScheme } from './scheme.js';
import type { AwsKmsOptions } from './aws.js';
import type { AzureKmsOptions } from './azure.js';
import type { GcpKmsOptions } from './gcp.js';
import type { VaultKmsOptions } from './hashivault.js';
import type { K8sSecretOptions } from './k8s.js';

/**
 * Options for {@link resolveSigner}, {@link resolvePublicKey} and {@link resolveVerifier}: how key
 * files are read (`env`, `allowHttp`, `signal`), the `password`, and each provider's settings.
 */
export interface KmsOptions extends KeyReferenceOptions {
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
  /**
   * Set by {@link resolvePublicKey}: only `publicKey()` of the signer will be used, so a provider may
   * skip loading the private key (`k8s://` then reads only `cosign.pub`).
   */
  readonly publicKeyOnly?: boolean;
}

/**
 * A KMS provider: builds the {@link Signer} for a reference of its scheme (`ref` is the whole
 * reference). It should load its SDK lazily (dynamic `import()`) and make no request before the
 * signer is used.
 */
export type KmsSignerFactory = (ref: string, options: KmsOptions) => Promise<Signer>;

/** The built-in providers, by scheme; each imports its module (and that its SDK) on first use. */
export const BUILTIN_KMS_PROVIDERS: Readonly<Record<string, KmsSignerFactory>> = {
  awskms: async (ref, o) => (await import('./aws.js')).awsSigner(ref, o.aws, o.env),
  gcpkms: async (ref, o) => (await import('./gcp.js')).gcpSigner(ref, o.gcp),
  azurekms: async (ref, o) => (await import('./azure.js')).azureSigner(ref, o.azure, o.env),
  hashivault: async (ref, o) => (await import('./hashivault.js')).vaultSigner(ref, o.vault, o.env),
  openbao: async (ref, o) => (await import('./hashivault.js')).vaultSigner(ref, o.vault, o.env),
  k8s: async (ref, o) => (await import('./k8s.js')).k8sSigner(ref, o),
};

const registered = new Map<string, KmsSignerFactory>();

function normalise(scheme: string): string {
  return scheme.replace(/:\/\/$/, '').toLowerCase();
}

/**
 * Register (or replace) the provider for `scheme` (without `://`, case-insensitive), e.g. `'mykms'`
 * for `mykms://…` references. A registered provider takes precedence over a built-in one.
 * @throws CosignError `USAGE` for a malformed scheme or a key-file scheme (`env`, `file`, `http`, `https`).
 */
export function registerKmsProvider(scheme: string, factory: KmsSignerFactory): void {
  const s = normalise(scheme);
  if (!/^[a-z][a-z0-9+.-]*$/.test(s)) throw fail('USAGE', `invalid KMS scheme ${JSON.stringify(scheme)}`);
  if (FILE_SCHEMES.has(s)) throw fail('USAGE', `scheme ${s}:// is reserved for key files`);
  registered.set(s, factory);
}

/** Remove a registered provider (the built-in one, if any, applies again). Returns whether one was registered. */
export function unregisterKmsProvider(scheme: string): boolean {
  return registered.delete(normalise(scheme));
}

/** The known schemes (built-in and registered), sorted. */
export function kmsSchemes(): string[] {
  return [...new Set([...Object.keys(BUILTIN_KMS_PROVIDERS), ...registered.keys()])].sort();
}

/** The provider for a KMS reference, or undefined for a key file reference. */
function providerFor(keyRef: string): KmsSignerFactory | undefined {
  const scheme = keyRefScheme(keyRef);
  if (scheme === undefined || FILE_SCHEMES.has(scheme)) {
    if (/^pkcs11:/i.test(keyRef)) throw fail('UNSUPPORTED', 'pkcs11: key references (hardware tokens) is not supported by cosign-ts yet');
    return undefined;
  }
  const p = registered.get(scheme) ?? (Object.hasOwn(BUILTIN_KMS_PROVIDERS, scheme) ? BUILTIN_KMS_PROVIDERS[scheme] : undefined);
  if (p !== undefined) return p;
  if (scheme === 'gitlab' || scheme === 'github') throw fail('UNSUPPORTED', `${scheme}:// key references is not supported by cosign-ts yet`);
  throw kmsError(
    'UNKNOWN_KEY_SCHEME',
    keyRef.replace(/^([^:]+:\/\/)[^/@]*@/, '$1'),
    `unknown key reference scheme ${scheme}:// (known: ${kmsSchemes().join(', ')}; register one with registerKmsProvider)`,
    {
      scheme,
    },
  );
}

/**
 * Turn a key reference into a {@link Signer}: a KMS URI (`awskms://`, `gcpkms://`, `azurekms://`,
 * `hashivault://`, `openbao://`, `k8s://`, or a registered scheme) or a private key file (path,
 * `file://`, `env://VAR`, `http(s)://` with `allowHttp`), decrypted with `password`.
 * No network call is made to a KMS until the signer is used.
 * @throws CosignError `UNKNOWN_KEY_SCHEME` for an unregistered scheme, `UNSUPPORTED` (`pkcs11:`,
 * `gitlab://`), `KMS_SDK_MISSING` when the provider's SDK is not installed, other `KMS_*` codes from
 * the provider; for key files `IO_ERROR`, `TOO_LARGE`, `WRONG_PASSWORD`, `BAD_KEY`, `UNSUPPORTED_KEY`.
 */
export async function resolveSigner(keyRef: string, opts: KmsOptions = {}): Promise<Signer> {
  const p = providerFor(keyRef);
  return p === undefined ? signerFromKeyReference(keyRef, opts) : p(keyRef, opts);
}

/**
 * The public key behind a key reference: a KMS URI (the KMS is asked for the public key only), or a
 * public key or certificate (PEM or DER) from a path, `file://`, `env://VAR` or URL (`allowHttp`).
 * Export PEM with `key.export({ type: 'spki', format: 'pem' })`.
 */
export async function resolvePublicKey(keyRef: string, opts: KmsOptions = {}): Promise<KeyObject> {
  const p = providerFor(keyRef);
  return p === undefined ? publicKeyFromKeyReference(keyRef, opts) : (await p(keyRef, { ...opts, publicKeyOnly: true })).publicKey();
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
