/**
 * Azure Key Vault signer: `azurekms://<vault-host>/<key>[/<version>]`. Uses `@azure/keyvault-keys` and
 * `@azure/identity`'s `DefaultAzureCredential` (both loaded on first use).
 *
 * @module
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { HashAlgorithm, Signer } from '../keys/signer.js';
import { digest, keyInfo, p1363ToDer } from './crypto.js';
import { describe, kmsError, networkErrorCode, networkErrorTarget, passThrough, type KmsErrorCode } from './errors.js';
import { CachedFetch } from './cached.js';
import { loadSdk } from './sdk.js';

/** An `@azure/core-auth` TokenCredential (structural, so this module needs no Azure types at runtime). */
export interface AzureTokenCredential {
  /** Get a bearer token for `scopes`. */
  getToken(scopes: string | string[], options?: unknown): Promise<AzureAccessToken | null>;
}

/** An access token as `@azure/core-auth` returns it. */
export interface AzureAccessToken {
  /** The bearer token (never logged). */
  token: string;
  /** Expiry, ms since the epoch. */
  expiresOnTimestamp: number;
}

/** Options for `azurekms://` keys. */
export interface AzureKmsOptions {
  /** Credential; default `new DefaultAzureCredential()` from `@azure/identity`. */
  readonly credential?: AzureTokenCredential;
  /** Vault URL overriding `https://<vault-host>` from the reference. */
  readonly vaultUrl?: string;
  /**
   * Skip the check that the challenge's resource matches the vault's domain (needed for a vault that is
   * not under `*.vault.azure.net`, such as a local test server). Default false.
   */
  readonly disableChallengeResourceVerification?: boolean;
  /**
   * RSA keys: sign RS256/RS384/RS512 by key size (2048/3072/4096) exactly as cosign's Azure provider does.
   * Default false: RS256 for every size, so `cosign verify --key <exported PEM>` (SHA-256 by default) accepts
   * the signatures.
   */
  readonly rsaHashBySize?: boolean;
  /** Extra client options (pipeline policies, retry options, …) for both Key Vault clients, merged last. */
  readonly clientOptions?: Readonly<Record<string, unknown>>;
}

/** The parts of an `azurekms://` reference. */
export interface AzureKeyReference {
  /** `<vault>.vault.azure.net` (or `host:port`). */
  readonly vaultHost: string;
  /** The key name. */
  readonly keyName: string;
  /** A pinned key version; default the current one. */
  readonly version?: string;
}

const REF_RE = /^azurekms:\/\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/?$/;

/** Parse `azurekms://<vault-host>/<key>[/<version>]`. */
export function parseAzureReference(keyRef: string): AzureKeyReference {
  const m = REF_RE.exec(keyRef);
  if (m === null)
    throw kmsError('KMS_ERROR', keyRef, 'invalid Azure Key Vault reference; expected azurekms://<vault>.vault.azure.net/<key>[/<version>]', {
      reason: 'bad-reference',
    });
  return m[3] === undefined
    ? { vaultHost: m[1] as string, keyName: m[2] as string }
    : { vaultHost: m[1] as string, keyName: m[2] as string, version: m[3] as string };
}

type KvModule = typeof import('@azure/keyvault-keys');
type KvKey = Awaited<ReturnType<InstanceType<KvModule['KeyClient']>['getKey']>>;
type CryptoClient = InstanceType<KvModule['CryptographyClient']>;

interface AzureKey {
  key: KeyObject;
  alg: string;
  hash: HashAlgorithm;
  fieldSize: number; // 0 for RSA
  crypto: CryptoClient;
}

const CURVES: Readonly<Record<string, { alg: string; hash: HashAlgorithm; fieldSize: number }>> = {
  'P-256': { alg: 'ES256', hash: 'sha256', fieldSize: 32 },
  'P-384': { alg: 'ES384', hash: 'sha384', fieldSize: 48 },
  'P-521': { alg: 'ES512', hash: 'sha512', fieldSize: 66 },
};

function b64u(v: unknown): string | undefined {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64url');
  if (typeof v === 'string') return v;
  return undefined;
}

class AzureSigner implements Signer {
  readonly keyRef: string;
  readonly #ref: AzureKeyReference;
  readonly #opts: AzureKmsOptions;
  readonly #key = new CachedFetch<AzureKey>(() => this.#fetch());
  readonly #credential = new CachedFetch<AzureTokenCredential>(async () => {
    if (this.#opts.credential !== undefined) return this.#opts.credential;
    const id = await loadSdk('@azure/identity', this.keyRef, () => import('@azure/identity'));
    return new id.DefaultAzureCredential() as unknown as AzureTokenCredential;
  });

  constructor(keyRef: string, ref: AzureKeyReference, opts: AzureKmsOptions) {
    this.keyRef = keyRef;
    this.#ref = ref;
    this.#opts = opts;
  }

  #map(e: unknown, action: string): Error {
    const passed = passThrough(e);
    if (passed !== undefined) return passed;
    const err = e as { statusCode?: unknown; code?: unknown; name?: unknown };
    const status = typeof err?.statusCode === 'number' ? err.statusCode : undefined;
    const text = describe(e);
    const net = networkErrorCode(e);
    if (net !== undefined && status === undefined)
      return kmsError('KMS_NETWORK', this.keyRef, `Azure Key Vault ${action} failed: network error (${net})${networkErrorTarget(e)}`, { reason: net });
    if (status === undefined && err?.code === 'REQUEST_SEND_ERROR')
      return kmsError('KMS_NETWORK', this.keyRef, `Azure Key Vault ${action} failed: network error (${text})`);
    let code: KmsErrorCode = 'KMS_ERROR';
    if (status === 401 || status === 403) code = 'KMS_ACCESS_DENIED';
    if (status === 429) code = 'KMS_THROTTLED';
    if (/disabled/i.test(text) && (status === 403 || status === 400 || status === 409)) code = 'KMS_KEY_DISABLED';
    if (/not permitted|key_ops|KeyOperationForbidden|operation .*not allowed/i.test(text) && !/disabled/i.test(text)) code = 'KMS_WRONG_KEY_USAGE';
    if (status === undefined && /CredentialUnavailable|AuthenticationRequired|AuthenticationError|credential/i.test(`${String(err?.name)} ${text}`))
      code = 'KMS_ACCESS_DENIED';
    const reason = status === 404 ? 'not found: ' : '';
    return kmsError(code, this.keyRef, `Azure Key Vault ${action} failed: ${reason}${text}`, status !== undefined ? { status } : undefined);
  }

  async #fetch(): Promise<AzureKey> {
    const kv = await loadSdk('@azure/keyvault-keys', this.keyRef, () => import('@azure/keyvault-keys'));
    const credential = await this.#credential.get();
    const vaultUrl = this.#opts.vaultUrl ?? `https://${this.#ref.vaultHost}`;
    const clientOptions = {
      ...(this.#opts.disableChallengeResourceVerification === true ? { disableChallengeResourceVerification: true } : {}),
      ...this.#opts.clientOptions,
    };
    let kvKey: KvKey;
    try {
      const client = new kv.KeyClient(vaultUrl, credential as never, clientOptions);
      kvKey = await client.getKey(this.#ref.keyName, this.#ref.version !== undefined ? { version: this.#ref.version } : {});
    } catch (e) {
      throw this.#map(e, 'GetKey');
    }
    const jwk = kvKey.key;
    if (jwk === undefined) throw kmsError('KMS_ERROR', this.keyRef, 'Azure Key Vault returned no key material');
    if (kvKey.properties.enabled === false) throw kmsError('KMS_KEY_DISABLED', this.keyRef, 'Azure Key Vault key is disabled');
    const ops = jwk.keyOps ?? kvKey.keyOperations;
    if (ops !== undefined && !ops.includes('sign'))
      throw kmsError('KMS_WRONG_KEY_USAGE', this.keyRef, `Azure Key Vault key operations (${ops.join(', ')}) do not include sign`);
    const kty = String(jwk.kty ?? '');
    let key: KeyObject;
    let alg: string;
    let hash: HashAlgorithm;
    let fieldSize = 0;
    try {
      if (kty === 'EC' || kty === 'EC-HSM') {
        const c = CURVES[String(jwk.crv ?? '')];
        if (c === undefined)
          throw kmsError('KMS_UNSUPPORTED_KEY_SPEC', this.keyRef, `Azure Key Vault curve ${String(jwk.crv)} is not supported (P-256, P-384, P-521)`);
        key = createPublicKey({ key: { kty: 'EC', crv: String(jwk.crv), x: b64u(jwk.x) ?? '', y: b64u(jwk.y) ?? '' }, format: 'jwk' });
        ({ alg, hash, fieldSize } = c);
      } else if (kty === 'RSA' || kty === 'RSA-HSM') {
        key = createPublicKey({ key: { kty: 'RSA', n: b64u(jwk.n) ?? '', e: b64u(jwk.e) ?? '' }, format: 'jwk' });
        const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
        [alg, hash] = this.#opts.rsaHashBySize !== true || bits <= 2048 ? ['RS256', 'sha256'] : bits <= 3072 ? ['RS384', 'sha384'] : ['RS512', 'sha512'];
      } else {
        throw kmsError('KMS_UNSUPPORTED_KEY_SPEC', this.keyRef, `Azure Key Vault key type ${kty} cannot sign for cosign (EC or RSA only)`);
      }
      keyInfo(key);
    } catch (e) {
      throw passThrough(e)?.code === 'KMS_UNSUPPORTED_KEY_SPEC'
        ? e
        : kmsError('KMS_UNSUPPORTED_KEY_SPEC', this.keyRef, `Azure Key Vault public key cannot be used: ${describe(e)}`);
    }
    const crypto = new kv.CryptographyClient(kvKey, credential as never, clientOptions);
    return { key, alg, hash, fieldSize, crypto };
  }

  async publicKey(): Promise<KeyObject> {
    return (await this.#key.get()).key;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const { alg, hash, fieldSize, crypto } = await this.#key.get();
    let result: Uint8Array;
    try {
      result = (await crypto.sign(alg as never, digest(hash, message))).result;
    } catch (e) {
      throw this.#map(e, 'Sign');
    }
    if (fieldSize === 0) return result;
    try {
      return p1363ToDer(result, fieldSize);
    } catch (e) {
      throw kmsError('KMS_ERROR', this.keyRef, `Azure Key Vault returned a malformed ECDSA signature (${describe(e)})`);
    }
  }
}

/** Build a signer for an `azurekms://` reference. No request is made until it is used. */
export function azureSigner(keyRef: string, opts: AzureKmsOptions = {}, _env?: Readonly<Record<string, string | undefined>>): Signer {
  return new AzureSigner(keyRef, parseAzureReference(keyRef), opts);
}
