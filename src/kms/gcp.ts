/**
 * Google Cloud KMS signer: `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]`.
 * Uses `@google-cloud/kms` (loaded on first use) over its REST (HTTP/1.1) transport, with CRC32C
 * integrity checks in both directions.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import type { HashAlgorithm, Signer } from '../keys/signer.js';
import { crc32c, digest, keyInfo, parsePublicKey } from './crypto.js';
import { describe, kmsError, networkErrorCode, networkErrorTarget, passThrough, type KmsErrorCode } from './errors.js';
import { CachedFetch } from './cached.js';
import { loadSdk } from './sdk.js';

/** Options for `gcpkms://` keys. */
export interface GcpKmsOptions {
  /**
   * Endpoint URL, e.g. `http://127.0.0.1:8080` for a local server. Default: `cloudkms.googleapis.com`
   * over https.
   */
  readonly endpoint?: string;
  /** A static OAuth2 access token (sent as `Authorization: Bearer`). Default: Application Default Credentials. */
  readonly accessToken?: string;
  /** Use the gRPC transport instead of REST. Default false (REST, HTTP/1.1). */
  readonly grpc?: boolean;
  /** Per-call options for the gax layer (e.g. `{ timeout: 10000, maxRetries: 0 }`). */
  readonly callOptions?: Readonly<Record<string, unknown>>;
  /** Extra `KeyManagementServiceClient` options, merged last. */
  readonly clientOptions?: Readonly<Record<string, unknown>>;
}

/** The parts of a `gcpkms://` reference. */
export interface GcpKeyReference {
  /** `projects/…/cryptoKeys/K` */
  readonly cryptoKey: string;
  /** `…/cryptoKeyVersions/V` when pinned. */
  readonly version?: string;
}

const REF_RE = /^gcpkms:\/\/(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+)(?:\/(?:cryptoKeyVersions|versions)\/([^/]+))?$/;

/** Parse a `gcpkms://` reference (`versions/V` is accepted as a synonym of `cryptoKeyVersions/V`). */
export function parseGcpReference(keyRef: string): GcpKeyReference {
  const m = REF_RE.exec(keyRef);
  if (m === null) {
    throw kmsError('KMS_ERROR', keyRef, 'invalid GCP KMS reference; expected gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]', {
      reason: 'bad-reference',
    });
  }
  const cryptoKey = m[1] as string;
  return m[2] === undefined ? { cryptoKey } : { cryptoKey, version: `${cryptoKey}/cryptoKeyVersions/${m[2]}` };
}

const ALGORITHMS: Readonly<Record<string, HashAlgorithm>> = {
  EC_SIGN_P256_SHA256: 'sha256',
  EC_SIGN_P384_SHA384: 'sha384',
  RSA_SIGN_PKCS1_2048_SHA256: 'sha256',
  RSA_SIGN_PKCS1_3072_SHA256: 'sha256',
  RSA_SIGN_PKCS1_4096_SHA256: 'sha256',
  RSA_SIGN_PKCS1_4096_SHA512: 'sha512',
};

// gRPC status codes
const GRPC: Readonly<Record<number, KmsErrorCode>> = {
  7: 'KMS_ACCESS_DENIED', // PERMISSION_DENIED
  16: 'KMS_ACCESS_DENIED', // UNAUTHENTICATED
  8: 'KMS_THROTTLED', // RESOURCE_EXHAUSTED
};

type GcpModule = typeof import('@google-cloud/kms');
type GcpClient = InstanceType<GcpModule['KeyManagementServiceClient']>;

interface GcpKey {
  key: KeyObject;
  version: string;
  hash: HashAlgorithm;
}

function enumName(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

function int64(v: unknown): bigint | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'object' && 'value' in (v as object)) return int64((v as { value: unknown }).value);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return BigInt(v);
  if (typeof v === 'object' && typeof (v as { toString?: unknown }).toString === 'function') return BigInt(String(v));
  return undefined;
}

/** A minimal google-auth `AuthClient` for a static token (the REST transport calls `fetch`). */
function staticTokenAuth(token: string): Record<string, unknown> {
  return {
    getRequestHeaders: () => Promise.resolve(new Headers({ authorization: `Bearer ${token}` })),
    fetch: (url: string, init: RequestInit & Record<string, unknown>) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      const { responseType: _r, agent: _a, ...rest } = init;
      return fetch(url, { ...rest, headers });
    },
  };
}

class GcpSigner implements Signer {
  readonly keyRef: string;
  readonly #ref: GcpKeyReference;
  readonly #opts: GcpKmsOptions;
  readonly #client = new CachedFetch<GcpClient>(() => this.#newClient());
  readonly #key = new CachedFetch<GcpKey>(() => this.#fetch());

  constructor(keyRef: string, ref: GcpKeyReference, opts: GcpKmsOptions) {
    this.keyRef = keyRef;
    this.#ref = ref;
    this.#opts = opts;
  }

  async #newClient(): Promise<GcpClient> {
    const sdk = await loadSdk('@google-cloud/kms', this.keyRef, () => import('@google-cloud/kms'));
    const o = this.#opts;
    const clientOpts: Record<string, unknown> = { fallback: o.grpc !== true };
    if (o.endpoint !== undefined) {
      let u: URL;
      try {
        u = new URL(o.endpoint);
      } catch {
        throw kmsError('KMS_ERROR', this.keyRef, 'the GCP KMS endpoint is not a valid URL');
      }
      clientOpts['apiEndpoint'] = u.hostname;
      clientOpts['port'] = u.port !== '' ? Number(u.port) : u.protocol === 'http:' ? 80 : 443;
      clientOpts['protocol'] = u.protocol.replace(/:$/, '');
    }
    if (o.accessToken !== undefined) clientOpts['authClient'] = staticTokenAuth(o.accessToken);
    Object.assign(clientOpts, o.clientOptions);
    const Ctor = (sdk.KeyManagementServiceClient ?? (sdk as unknown as { v1: GcpModule['v1'] }).v1.KeyManagementServiceClient) as unknown as new (
      opts: Record<string, unknown>,
    ) => GcpClient;
    return new Ctor(clientOpts);
  }

  #map(e: unknown, action: string): Error {
    const passed = passThrough(e);
    if (passed !== undefined) return passed;
    const err = e as { code?: unknown; details?: unknown; message?: unknown };
    const secrets = [this.#opts.accessToken];
    const text = describe(e, secrets);
    const grpcCode = typeof err?.code === 'number' ? err.code : undefined;
    const net = networkErrorCode(e);
    if (net !== undefined && (grpcCode === undefined || grpcCode === 14)) {
      return kmsError('KMS_NETWORK', this.keyRef, `GCP KMS ${action} failed: network error (${net})${networkErrorTarget(e)}`, { reason: net });
    }
    let code: KmsErrorCode = grpcCode !== undefined ? (GRPC[grpcCode] ?? 'KMS_ERROR') : 'KMS_ERROR';
    if (grpcCode === 9 && /DISABLED|DESTROYED|DESTROY_SCHEDULED|not enabled/i.test(text)) code = 'KMS_KEY_DISABLED';
    if ((grpcCode === 3 || grpcCode === 9) && /purpose|not (an )?asymmetric|ASYMMETRIC_SIGN/i.test(text)) code = 'KMS_WRONG_KEY_USAGE';
    if (code === 'KMS_ERROR' && grpcCode === undefined && /credential|authenticat/i.test(text)) code = 'KMS_ACCESS_DENIED';
    const reason = grpcCode === 5 ? 'not found: ' : '';
    return kmsError(code, this.keyRef, `GCP KMS ${action} failed: ${reason}${text}`, grpcCode !== undefined ? { grpcCode } : undefined);
  }

  async #fetch(): Promise<GcpKey> {
    const client = await this.#client.get();
    const call = this.#opts.callOptions;
    let ck: Record<string, unknown>;
    try {
      [ck] = (await client.getCryptoKey({ name: this.#ref.cryptoKey }, call)) as unknown as [Record<string, unknown>];
    } catch (e) {
      throw this.#map(e, 'GetCryptoKey');
    }
    const purpose = enumName(ck['purpose']);
    if (purpose !== 'ASYMMETRIC_SIGN')
      throw kmsError('KMS_WRONG_KEY_USAGE', this.keyRef, `GCP KMS key purpose is ${purpose}, not ASYMMETRIC_SIGN`, { purpose });
    let version = this.#ref.version;
    if (version === undefined) {
      let versions: Record<string, unknown>[];
      try {
        [versions] = (await client.listCryptoKeyVersions(
          { parent: this.#ref.cryptoKey, filter: 'state=ENABLED', orderBy: 'name desc', pageSize: 1 },
          { ...call, autoPaginate: false },
        )) as unknown as [Record<string, unknown>[]];
      } catch (e) {
        throw this.#map(e, 'ListCryptoKeyVersions');
      }
      const first = versions[0];
      if (first === undefined || typeof first['name'] !== 'string') throw kmsError('KMS_KEY_DISABLED', this.keyRef, 'GCP KMS key has no ENABLED version');
      version = first['name'];
    }
    let pk: Record<string, unknown>;
    try {
      [pk] = (await client.getPublicKey({ name: version }, call)) as unknown as [Record<string, unknown>];
    } catch (e) {
      throw this.#map(e, 'GetPublicKey');
    }
    const pem = pk['pem'];
    if (typeof pem !== 'string') throw kmsError('KMS_ERROR', this.keyRef, 'GCP KMS GetPublicKey returned no PEM');
    const expectedCrc = int64(pk['pemCrc32c']);
    if (expectedCrc !== undefined && expectedCrc !== BigInt(crc32c(Buffer.from(pem, 'utf8')))) {
      throw kmsError('KMS_ERROR', this.keyRef, 'GCP KMS GetPublicKey response corrupted in transit (pemCrc32c mismatch)', { reason: 'integrity' });
    }
    if (typeof pk['name'] === 'string' && pk['name'] !== '' && pk['name'] !== version) {
      throw kmsError('KMS_ERROR', this.keyRef, 'GCP KMS GetPublicKey answered for another key version', { reason: 'integrity' });
    }
    const algorithm = enumName(pk['algorithm']);
    const hash = ALGORITHMS[algorithm];
    if (hash === undefined)
      throw kmsError('KMS_UNSUPPORTED_KEY_SPEC', this.keyRef, `GCP KMS algorithm ${algorithm} is not supported (EC_SIGN_P256/P384, RSA_SIGN_PKCS1_*)`, {
        algorithm,
      });
    let key: KeyObject;
    try {
      key = parsePublicKey(pem, `${this.keyRef} public key`);
      keyInfo(key);
    } catch (e) {
      throw kmsError('KMS_UNSUPPORTED_KEY_SPEC', this.keyRef, `GCP KMS public key cannot be used: ${describe(e)}`);
    }
    return { key, version, hash };
  }

  async publicKey(): Promise<KeyObject> {
    return (await this.#key.get()).key;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const { version, hash } = await this.#key.get();
    const client = await this.#client.get();
    const d = digest(hash, message);
    let out: Record<string, unknown>;
    try {
      [out] = (await client.asymmetricSign(
        { name: version, digest: { [hash]: d }, digestCrc32c: { value: String(crc32c(d)) } },
        this.#opts.callOptions,
      )) as unknown as [Record<string, unknown>];
    } catch (e) {
      throw this.#map(e, 'AsymmetricSign');
    }
    if (out['verifiedDigestCrc32c'] !== true) {
      throw kmsError('KMS_ERROR', this.keyRef, 'GCP KMS AsymmetricSign: request corrupted in transit (verifiedDigestCrc32c is false)', { reason: 'integrity' });
    }
    if (typeof out['name'] === 'string' && out['name'] !== '' && out['name'] !== version) {
      throw kmsError('KMS_ERROR', this.keyRef, 'GCP KMS AsymmetricSign answered for another key version', { reason: 'integrity' });
    }
    const raw = out['signature'];
    const sig = typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw instanceof Uint8Array ? raw : undefined;
    if (sig === undefined || sig.length === 0) throw kmsError('KMS_ERROR', this.keyRef, 'GCP KMS AsymmetricSign returned no signature');
    const sigCrc = int64(out['signatureCrc32c']);
    if (sigCrc === undefined || sigCrc !== BigInt(crc32c(sig))) {
      throw kmsError('KMS_ERROR', this.keyRef, 'GCP KMS AsymmetricSign: response corrupted in transit (signatureCrc32c mismatch)', { reason: 'integrity' });
    }
    return sig;
  }
}

/** Build a signer for a `gcpkms://` reference. No request is made until it is used. */
export function gcpSigner(keyRef: string, opts: GcpKmsOptions = {}): Signer {
  return new GcpSigner(keyRef, parseGcpReference(keyRef), opts);
}
