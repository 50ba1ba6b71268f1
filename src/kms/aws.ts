/**
 * AWS KMS signer: `awskms://[host:port]/<key id | alias/name | key ARN | alias ARN>`.
 * The SDK (`@aws-sdk/client-kms`) is loaded on first use; credentials and region come from its default
 * chain (the region of an ARN wins).
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { MAX_CA_BUNDLE_BYTES, readFileLimited } from '../internal/read-file.js';
import type { HashAlgorithm, Signer } from '../keys/signer.js';
import { digest, keyInfo, parsePublicKey } from './crypto.js';
import { describe, kmsError, networkErrorCode, networkErrorTarget, passThrough, type KmsErrorCode } from './errors.js';
import { CachedFetch } from './cached.js';
import { loadSdk } from './sdk.js';

/** Options for `awskms://` keys. */
export interface AwsKmsOptions {
  /** Region; default: the key ARN's region, else the SDK's (`AWS_REGION`, profile). */
  readonly region?: string;
  /**
   * Endpoint URL overriding both the SDK default and the URI's `host:port` (which means `https://host:port`),
   * e.g. `http://127.0.0.1:4566` for a local test server. Without a host in the URI the SDK also honours
   * `AWS_ENDPOINT_URL_KMS` / `AWS_ENDPOINT_URL`.
   */
  readonly endpoint?: string;
  /** Static credentials; default: the SDK's default provider chain. */
  readonly credentials?: {
    /** Access key id. */
    readonly accessKeyId: string;
    /** Secret access key (never logged). */
    readonly secretAccessKey: string;
    /** Session token for temporary credentials (never logged). */
    readonly sessionToken?: string;
  };
  /** PEM CA bundle (or a path to one) to trust for an https endpoint. Default `AWS_CA_BUNDLE`. */
  readonly caBundle?: string;
  /** SDK attempts per call (including retries of throttling). Default: the SDK's (3). */
  readonly maxAttempts?: number;
  /** Extra `KMSClient` configuration, merged last. */
  readonly clientConfig?: Readonly<Record<string, unknown>>;
}

/** The parts of an `awskms://` reference. */
export interface AwsKeyReference {
  /** `host[:port]` from the URI, or `''`. */
  readonly endpoint: string;
  /** What is sent as `KeyId`: UUID, key ARN, `alias/…` or alias ARN. */
  readonly keyId: string;
  /** The alias (`alias/…`) when the reference is an alias or alias ARN. */
  readonly alias?: string;
  /** Region from an ARN. */
  readonly region?: string;
}

const UUID = 'm?r?k?-?[A-Fa-f0-9]{8}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{12}';
const ARN = 'arn:(?:aws|aws-us-gov|aws-cn):kms:([a-z0-9-]+):\\d{12}:';
const HOST = '([^/]*)/';
const KEY_ID_RE = new RegExp(`^awskms://${HOST}(${UUID})$`);
const KEY_ARN_RE = new RegExp(`^awskms://${HOST}(${ARN}key/${UUID})$`);
const ALIAS_RE = new RegExp(`^awskms://${HOST}(alias/.+)$`);
const ALIAS_ARN_RE = new RegExp(`^awskms://${HOST}(${ARN}(alias/.+))$`);

/**
 * Parse every form cosign accepts: `awskms:///1234abcd-…`, `awskms:///mrk-…`, `awskms:///arn:aws:kms:R:A:key/…`,
 * `awskms:///alias/name`, `awskms:///arn:aws:kms:R:A:alias/name`, each optionally with `host:port`.
 * @throws CosignError `KMS_ERROR` for anything else.
 */
export function parseAwsReference(keyRef: string): AwsKeyReference {
  let m = KEY_ID_RE.exec(keyRef);
  if (m !== null) return { endpoint: m[1] as string, keyId: m[2] as string };
  m = KEY_ARN_RE.exec(keyRef);
  if (m !== null) return { endpoint: m[1] as string, keyId: m[2] as string, region: m[3] as string };
  m = ALIAS_ARN_RE.exec(keyRef);
  if (m !== null) return { endpoint: m[1] as string, keyId: m[2] as string, region: m[3] as string, alias: m[4] as string };
  m = ALIAS_RE.exec(keyRef);
  if (m !== null) return { endpoint: m[1] as string, keyId: m[2] as string, alias: m[2] as string };
  throw kmsError('KMS_ERROR', keyRef, 'invalid AWS KMS reference; expected awskms://[ENDPOINT]/[ID|ALIAS|ARN]', { reason: 'bad-reference' });
}

const SPECS: Readonly<Record<string, { alg: string; hash: HashAlgorithm }>> = {
  ECC_NIST_P256: { alg: 'ECDSA_SHA_256', hash: 'sha256' },
  ECC_NIST_P384: { alg: 'ECDSA_SHA_384', hash: 'sha384' },
  ECC_NIST_P521: { alg: 'ECDSA_SHA_512', hash: 'sha512' },
  RSA_2048: { alg: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256' },
  RSA_3072: { alg: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256' },
  RSA_4096: { alg: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256' },
};

const ERROR_CODES: Readonly<Record<string, KmsErrorCode>> = {
  DisabledException: 'KMS_KEY_DISABLED',
  KMSInvalidStateException: 'KMS_KEY_DISABLED',
  KeyUnavailableException: 'KMS_KEY_DISABLED',
  AccessDeniedException: 'KMS_ACCESS_DENIED',
  UnrecognizedClientException: 'KMS_ACCESS_DENIED',
  InvalidSignatureException: 'KMS_ACCESS_DENIED',
  IncompleteSignature: 'KMS_ACCESS_DENIED',
  IncompleteSignatureException: 'KMS_ACCESS_DENIED',
  ExpiredTokenException: 'KMS_ACCESS_DENIED',
  MissingAuthenticationToken: 'KMS_ACCESS_DENIED',
  MissingAuthenticationTokenException: 'KMS_ACCESS_DENIED',
  InvalidClientTokenId: 'KMS_ACCESS_DENIED',
  CredentialsProviderError: 'KMS_ACCESS_DENIED',
  ThrottlingException: 'KMS_THROTTLED',
  Throttling: 'KMS_THROTTLED',
  LimitExceededException: 'KMS_THROTTLED',
  TooManyRequestsException: 'KMS_THROTTLED',
  RequestLimitExceeded: 'KMS_THROTTLED',
  InvalidKeyUsageException: 'KMS_WRONG_KEY_USAGE',
  UnsupportedOperationException: 'KMS_UNSUPPORTED_KEY_SPEC',
};

type KmsModule = typeof import('@aws-sdk/client-kms');
type KmsClientT = InstanceType<KmsModule['KMSClient']>;

interface AwsKey {
  key: KeyObject;
  alg: string;
  hash: HashAlgorithm;
}

class AwsSigner implements Signer {
  readonly keyRef: string;
  readonly #ref: AwsKeyReference;
  readonly #opts: AwsKmsOptions;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #client = new CachedFetch<{ sdk: KmsModule; client: KmsClientT }>(() => this.#newClient());
  readonly #key = new CachedFetch<AwsKey>(() => this.#fetch());

  constructor(keyRef: string, ref: AwsKeyReference, opts: AwsKmsOptions, env: Readonly<Record<string, string | undefined>>) {
    this.keyRef = keyRef;
    this.#ref = ref;
    this.#opts = opts;
    this.#env = env;
  }

  #secrets(): (string | undefined)[] {
    return [this.#opts.credentials?.secretAccessKey, this.#opts.credentials?.sessionToken, this.#env['AWS_SECRET_ACCESS_KEY'], this.#env['AWS_SESSION_TOKEN']];
  }

  async #newClient(): Promise<{ sdk: KmsModule; client: KmsClientT }> {
    const sdk = await loadSdk('@aws-sdk/client-kms', this.keyRef, () => import('@aws-sdk/client-kms'));
    const o = this.#opts;
    const endpoint = o.endpoint ?? (this.#ref.endpoint !== '' ? `https://${this.#ref.endpoint}` : undefined);
    const region = o.region ?? this.#ref.region;
    const caSource = o.caBundle ?? this.#env['AWS_CA_BUNDLE'];
    let requestHandler: Record<string, unknown> | undefined;
    if (caSource !== undefined && caSource !== '') {
      let ca: string;
      try {
        ca = caSource.includes('-----BEGIN') ? caSource : await readFileLimited(caSource, MAX_CA_BUNDLE_BYTES, 'AWS CA bundle', 'utf8');
      } catch (e) {
        throw kmsError('KMS_ERROR', this.keyRef, `cannot read the AWS CA bundle (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      const { Agent } = await import('node:https');
      requestHandler = { httpsAgent: new Agent({ ca, keepAlive: true }) };
    }
    const config: Record<string, unknown> = {
      ...(region !== undefined ? { region } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
      ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
      ...(requestHandler !== undefined ? { requestHandler } : {}),
      ...o.clientConfig,
    };
    return { sdk, client: new sdk.KMSClient(config) };
  }

  #map(e: unknown, action: string): Error {
    const passed = passThrough(e);
    if (passed !== undefined) return passed;
    const err = e as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
    const name = typeof err?.name === 'string' ? err.name : 'Error';
    const status = err?.$metadata?.httpStatusCode;
    const net = networkErrorCode(e);
    if (net !== undefined && status === undefined) {
      return kmsError('KMS_NETWORK', this.keyRef, `AWS KMS ${action} failed: network error (${net})${networkErrorTarget(e)}`, { reason: net });
    }
    const text = describe(e, this.#secrets());
    let code: KmsErrorCode = ERROR_CODES[name] ?? 'KMS_ERROR';
    if (code === 'KMS_ERROR' && /region is missing/i.test(text)) {
      return kmsError('KMS_ERROR', this.keyRef, `AWS KMS ${action} failed: no AWS region (set AWS_REGION or use a key ARN)`, { reason: 'no-region' });
    }
    if (code === 'KMS_ERROR' && /credential/i.test(name + text) && status === undefined) code = 'KMS_ACCESS_DENIED';
    if (code === 'KMS_ERROR' && status === 429) code = 'KMS_THROTTLED';
    const reason = name === 'NotFoundException' ? 'key not found: ' : '';
    return kmsError(code, this.keyRef, `AWS KMS ${action} failed: ${reason}${text}`, { awsError: name, ...(status !== undefined ? { status } : {}) });
  }

  async #fetch(): Promise<AwsKey> {
    const { sdk, client } = await this.#client.get();
    let out: Record<string, unknown>;
    try {
      out = (await client.send(new sdk.GetPublicKeyCommand({ KeyId: this.#ref.keyId }))) as unknown as Record<string, unknown>;
    } catch (e) {
      throw this.#map(e, 'GetPublicKey');
    }
    const usage = out['KeyUsage'];
    if (usage !== undefined && usage !== 'SIGN_VERIFY') {
      throw kmsError('KMS_WRONG_KEY_USAGE', this.keyRef, `AWS KMS key usage is ${String(usage)}, not SIGN_VERIFY`, { keyUsage: usage });
    }
    const spec = String(out['KeySpec'] ?? out['CustomerMasterKeySpec'] ?? '');
    const chosen = SPECS[spec];
    if (chosen === undefined)
      throw kmsError(
        'KMS_UNSUPPORTED_KEY_SPEC',
        this.keyRef,
        `AWS KMS key spec ${spec || '(none)'} is not supported (ECC_NIST_P256/P384/P521, RSA_2048/3072/4096)`,
        { keySpec: spec },
      );
    const algs = out['SigningAlgorithms'];
    if (Array.isArray(algs) && algs.length > 0 && !algs.includes(chosen.alg)) {
      throw kmsError('KMS_UNSUPPORTED_KEY_SPEC', this.keyRef, `AWS KMS key does not offer ${chosen.alg}`, { keySpec: spec });
    }
    const der = out['PublicKey'];
    if (!(der instanceof Uint8Array)) throw kmsError('KMS_ERROR', this.keyRef, 'AWS KMS GetPublicKey returned no public key');
    let key: KeyObject;
    try {
      key = parsePublicKey(der, `${this.keyRef} public key`);
      keyInfo(key);
    } catch (e) {
      throw kmsError('KMS_UNSUPPORTED_KEY_SPEC', this.keyRef, `AWS KMS public key cannot be used: ${describe(e)}`);
    }
    return { key, alg: chosen.alg, hash: chosen.hash };
  }

  async publicKey(): Promise<KeyObject> {
    return (await this.#key.get()).key;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const { alg, hash } = await this.#key.get();
    const { sdk, client } = await this.#client.get();
    let out: { Signature?: Uint8Array };
    try {
      out = await client.send(
        new sdk.SignCommand({ KeyId: this.#ref.keyId, Message: digest(hash, message), MessageType: 'DIGEST', SigningAlgorithm: alg as never }),
      );
    } catch (e) {
      throw this.#map(e, 'Sign');
    }
    if (!(out.Signature instanceof Uint8Array) || out.Signature.length === 0) throw kmsError('KMS_ERROR', this.keyRef, 'AWS KMS Sign returned no signature');
    return out.Signature;
  }
}

/** Build a signer for an `awskms://` reference. No request is made until it is used. */
export function awsSigner(keyRef: string, opts: AwsKmsOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env): Signer {
  return new AwsSigner(keyRef, parseAwsReference(keyRef), opts, env);
}
