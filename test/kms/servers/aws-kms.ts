/**
 * A local AWS KMS speaking the JSON 1.1 protocol (`POST /`, `X-Amz-Target: TrentService.<Op>`,
 * `Content-Type: application/x-amz-json-1.1`), checking SigV4 signatures with the test credentials.
 * Implements GetPublicKey, DescribeKey, Sign, Verify, ListAliases with real node:crypto keys.
 */
import { createHash, createHmac, generateKeyPairSync, randomUUID, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signDigest } from './crypto.js';
import { startServer, type Started } from './base.js';

export type AwsKeySpec = 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521' | 'ECC_SECG_P256K1' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096';

export interface AwsTestKey {
  readonly id: string;
  readonly arn: string;
  readonly spec: AwsKeySpec;
  usage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
  state: 'Enabled' | 'Disabled' | 'PendingDeletion';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Deny every call on this key (AccessDeniedException). */
  deny: boolean;
  /** Throttle every call on this key (ThrottlingException). */
  throttle: boolean;
}

const SIGNING_ALGS: Record<AwsKeySpec, string[]> = {
  ECC_NIST_P256: ['ECDSA_SHA_256'],
  ECC_NIST_P384: ['ECDSA_SHA_384'],
  ECC_NIST_P521: ['ECDSA_SHA_512'],
  ECC_SECG_P256K1: ['ECDSA_SHA_256'],
  RSA_2048: [
    'RSASSA_PKCS1_V1_5_SHA_256',
    'RSASSA_PKCS1_V1_5_SHA_384',
    'RSASSA_PKCS1_V1_5_SHA_512',
    'RSASSA_PSS_SHA_256',
    'RSASSA_PSS_SHA_384',
    'RSASSA_PSS_SHA_512',
  ],
  RSA_3072: [
    'RSASSA_PKCS1_V1_5_SHA_256',
    'RSASSA_PKCS1_V1_5_SHA_384',
    'RSASSA_PKCS1_V1_5_SHA_512',
    'RSASSA_PSS_SHA_256',
    'RSASSA_PSS_SHA_384',
    'RSASSA_PSS_SHA_512',
  ],
  RSA_4096: [
    'RSASSA_PKCS1_V1_5_SHA_256',
    'RSASSA_PKCS1_V1_5_SHA_384',
    'RSASSA_PKCS1_V1_5_SHA_512',
    'RSASSA_PSS_SHA_256',
    'RSASSA_PSS_SHA_384',
    'RSASSA_PSS_SHA_512',
  ],
};

const ALG_HASH: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  ECDSA_SHA_256: 'sha256',
  ECDSA_SHA_384: 'sha384',
  ECDSA_SHA_512: 'sha512',
  RSASSA_PKCS1_V1_5_SHA_256: 'sha256',
  RSASSA_PKCS1_V1_5_SHA_384: 'sha384',
  RSASSA_PKCS1_V1_5_SHA_512: 'sha512',
};

function generate(spec: AwsKeySpec): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (spec) {
    case 'ECC_NIST_P256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ECC_NIST_P384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ECC_NIST_P521':
      return generateKeyPairSync('ec', { namedCurve: 'P-521' });
    case 'ECC_SECG_P256K1':
      return generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    default:
      return generateKeyPairSync('rsa', { modulusLength: Number(spec.slice(4)) });
  }
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export interface AwsKmsServerOptions {
  readonly tls?: boolean;
  readonly region?: string;
  readonly accountId?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
}

export class AwsKmsServer {
  readonly region: string;
  readonly accountId: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string | undefined;
  readonly keys = new Map<string, AwsTestKey>();
  readonly aliases = new Map<string, string>(); // alias/name -> key id
  /** Every successfully authenticated call: operation and KeyId as sent. */
  readonly calls: { op: string; keyId: string | undefined; input: Record<string, unknown>; headers: IncomingMessage['headers'] }[] = [];
  /** Authentication failures seen. */
  readonly authFailures: string[] = [];
  /** Return HTTP 500 for everything (internal failure). */
  failAll = false;
  #started: Started | undefined;

  private constructor(o: AwsKmsServerOptions) {
    this.region = o.region ?? 'us-east-1';
    this.accountId = o.accountId ?? '111122223333';
    this.accessKeyId = o.accessKeyId ?? 'AKIDCOSIGNTSTEST0001';
    this.secretAccessKey = o.secretAccessKey ?? 'cosignTsTestSecretKey/Never+Log+This0000';
    this.sessionToken = o.sessionToken;
  }

  static async start(o: AwsKmsServerOptions = {}): Promise<AwsKmsServer> {
    const s = new AwsKmsServer(o);
    s.#started = await startServer((req, body, res) => s.#handle(req, body, res), o.tls === true);
    return s;
  }

  get url(): string {
    return (this.#started as Started).url;
  }
  get port(): number {
    return (this.#started as Started).port;
  }
  /** `127.0.0.1:PORT` for `awskms://HOST/…` */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }
  close(): Promise<void> {
    return (this.#started as Started).close();
  }
  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  createKey(spec: AwsKeySpec, opts: { alias?: string; usage?: AwsTestKey['usage']; id?: string } = {}): AwsTestKey {
    const id = opts.id ?? randomUUID();
    const { privateKey, publicKey } = generate(spec);
    const key: AwsTestKey = {
      id,
      arn: `arn:aws:kms:${this.region}:${this.accountId}:key/${id}`,
      spec,
      usage: opts.usage ?? 'SIGN_VERIFY',
      state: 'Enabled',
      privateKey,
      publicKey,
      deny: false,
      throttle: false,
    };
    this.keys.set(id, key);
    if (opts.alias !== undefined) this.aliases.set(opts.alias.startsWith('alias/') ? opts.alias : `alias/${opts.alias}`, id);
    return key;
  }

  #resolve(keyId: unknown): AwsTestKey {
    if (typeof keyId !== 'string' || keyId === '')
      throw new AwsError('ValidationException', "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null");
    let id: string | undefined;
    const arn = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/.exec(keyId);
    if (arn !== null) {
      if (arn[1] !== this.region || arn[2] !== this.accountId) throw new AwsError('NotFoundException', `Invalid arn ${arn[1]}`);
      id = arn[3] === 'key' ? arn[4] : this.aliases.get(`alias/${arn[4]}`);
    } else if (keyId.startsWith('alias/')) {
      id = this.aliases.get(keyId);
    } else id = keyId;
    const key = id === undefined ? undefined : this.keys.get(id);
    if (key === undefined) {
      const shown = keyId.startsWith('alias/') || keyId.startsWith('arn:') ? keyId : `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
      throw new AwsError(
        'NotFoundException',
        keyId.startsWith('alias/')
          ? `Alias ${shown.replace(/^alias/, `arn:aws:kms:${this.region}:${this.accountId}:alias`)} is not found.`
          : `Key '${shown}' does not exist`,
      );
    }
    return key;
  }

  #checkAccess(key: AwsTestKey, op: string, requireEnabled: boolean): void {
    if (key.throttle) throw new AwsError('ThrottlingException', 'Rate exceeded');
    if (key.deny) {
      throw new AwsError(
        'AccessDeniedException',
        `User: arn:aws:iam::${this.accountId}:user/cosign-test is not authorized to perform: kms:${op} on resource: ${key.arn} because no identity-based policy allows the kms:${op} action`,
      );
    }
    if (!requireEnabled) return;
    if (key.state === 'Disabled') throw new AwsError('DisabledException', `${key.arn} is disabled.`);
    if (key.state === 'PendingDeletion') throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
  }

  /** Verify the SigV4 `Authorization` header; returns an error to send or undefined. */
  #checkSigV4(req: IncomingMessage, body: Buffer): AwsError | undefined {
    const auth = req.headers['authorization'];
    if (auth === undefined) return new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (m === null) return new AwsError('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature parameters.');
    const [, akid, date, region, service, signedHeadersStr, signature] = m as unknown as [string, string, string, string, string, string, string];
    if (akid !== this.accessKeyId) return new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    const amzDate = req.headers['x-amz-date'];
    if (typeof amzDate !== 'string' || !/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) {
      return new AwsError('IncompleteSignatureException', 'Date must be in ISO-8601 basic format and match the credential scope');
    }
    const t = Date.UTC(
      +amzDate.slice(0, 4),
      +amzDate.slice(4, 6) - 1,
      +amzDate.slice(6, 8),
      +amzDate.slice(9, 11),
      +amzDate.slice(11, 13),
      +amzDate.slice(13, 15),
    );
    if (Math.abs(Date.now() - t) > 15 * 60 * 1000) return new AwsError('InvalidSignatureException', 'Signature expired');
    if (region !== this.region) return new AwsError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'.`);
    if (service !== 'kms') return new AwsError('InvalidSignatureException', `Credential should be scoped to correct service: 'kms'.`);
    const signedHeaders = signedHeadersStr.split(';');
    if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date'))
      return new AwsError('IncompleteSignatureException', 'host and x-amz-date must be signed');
    if (this.sessionToken !== undefined && req.headers['x-amz-security-token'] !== this.sessionToken) {
      return new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const canonicalQuery = [...url.searchParams.entries()]
      .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
      .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const canonicalHeaders = signedHeaders
      .map((h) => {
        const v = req.headers[h];
        const value = Array.isArray(v) ? v.join(',') : (v ?? '');
        return `${h}:${value.trim().replace(/\s+/g, ' ')}\n`;
      })
      .join('');
    const payloadHash =
      typeof req.headers['x-amz-content-sha256'] === 'string' ? req.headers['x-amz-content-sha256'] : createHash('sha256').update(body).digest('hex');
    const canonicalRequest = [req.method, url.pathname, canonicalQuery, canonicalHeaders, signedHeadersStr, payloadHash].join('\n');
    const scope = `${date}/${region}/${service}/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    const kDate = hmac(`AWS4${this.secretAccessKey}`, date);
    const kSigning = hmac(hmac(hmac(kDate, region), service), 'aws4_request');
    const expected = hmac(kSigning, stringToSign);
    const got = Buffer.from(signature, 'hex');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      return new AwsError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    }
    return undefined;
  }

  #send(res: ServerResponse, status: number, body: unknown): void {
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': String(data.length), 'x-amzn-requestid': randomUUID() });
    res.end(data);
  }

  #handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    try {
      if (this.failAll) throw new AwsError('KMSInternalException', 'internal failure', 500);
      if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/') throw new AwsError('UnknownOperationException', 'use POST /', 404);
      const target = req.headers['x-amz-target'];
      const ct = req.headers['content-type'];
      if (typeof target !== 'string' || !target.startsWith('TrentService.')) throw new AwsError('UnknownOperationException', 'missing or invalid X-Amz-Target');
      if (typeof ct !== 'string' || !ct.startsWith('application/x-amz-json-1.1'))
        throw new AwsError('SerializationException', 'Content-Type must be application/x-amz-json-1.1');
      const authErr = this.#checkSigV4(req, body);
      if (authErr !== undefined) {
        this.authFailures.push(authErr.type);
        throw authErr;
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new AwsError('SerializationException', 'body is not JSON');
      }
      const op = target.slice('TrentService.'.length);
      this.calls.push({ op, keyId: typeof input['KeyId'] === 'string' ? input['KeyId'] : undefined, input, headers: req.headers });
      this.#send(res, 200, this.#op(op, input));
    } catch (e) {
      if (e instanceof AwsError) this.#send(res, e.status, { __type: e.type, message: e.message });
      else this.#send(res, 500, { __type: 'KMSInternalException', message: (e as Error).message });
    }
  }

  #metadata(key: AwsTestKey): Record<string, unknown> {
    return {
      AWSAccountId: this.accountId,
      KeyId: key.id,
      Arn: key.arn,
      CreationDate: 1700000000.123,
      Enabled: key.state === 'Enabled',
      Description: 'cosign-ts test key',
      KeyUsage: key.usage,
      KeyState: key.state,
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: key.spec,
      KeySpec: key.spec,
      MultiRegion: false,
      ...(key.usage === 'SIGN_VERIFY' ? { SigningAlgorithms: SIGNING_ALGS[key.spec] } : { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] }),
    };
  }

  #op(op: string, input: Record<string, unknown>): unknown {
    switch (op) {
      case 'DescribeKey': {
        const key = this.#resolve(input['KeyId']);
        this.#checkAccess(key, op, false);
        return { KeyMetadata: this.#metadata(key) };
      }
      case 'GetPublicKey': {
        const key = this.#resolve(input['KeyId']);
        this.#checkAccess(key, op, true);
        const meta = this.#metadata(key);
        return {
          KeyId: key.arn,
          PublicKey: key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
          CustomerMasterKeySpec: key.spec,
          KeySpec: key.spec,
          KeyUsage: key.usage,
          ...(meta['SigningAlgorithms'] !== undefined
            ? { SigningAlgorithms: meta['SigningAlgorithms'] }
            : { EncryptionAlgorithms: meta['EncryptionAlgorithms'] }),
        };
      }
      case 'Sign':
      case 'Verify': {
        const key = this.#resolve(input['KeyId']);
        this.#checkAccess(key, op, true);
        if (key.usage !== 'SIGN_VERIFY') throw new AwsError('InvalidKeyUsageException', `${key.arn} key usage is ${key.usage} which is not valid for ${op}.`);
        const alg = input['SigningAlgorithm'];
        if (typeof alg !== 'string' || !SIGNING_ALGS[key.spec].includes(alg))
          throw new AwsError('InvalidKeyUsageException', `Signing algorithm ${String(alg)} is not valid for ${key.arn}.`);
        const hash = ALG_HASH[alg];
        if (hash === undefined) throw new AwsError('UnsupportedOperationException', `${alg} is not implemented by this test server`);
        if (typeof input['Message'] !== 'string') throw new AwsError('ValidationException', 'Message is required');
        const message = Buffer.from(input['Message'], 'base64');
        const type = input['MessageType'] ?? 'RAW';
        let digest: Buffer;
        if (type === 'DIGEST') {
          if (message.length !== createHash(hash).digest().length) throw new AwsError('ValidationException', `Digest is invalid length for algorithm ${alg}.`);
          digest = message;
        } else if (type === 'RAW') {
          if (message.length > 4096) throw new AwsError('ValidationException', 'Message is too long for RAW');
          digest = createHash(hash).update(message).digest();
        } else throw new AwsError('ValidationException', `invalid MessageType ${String(type)}`);
        if (op === 'Sign') {
          return { KeyId: key.arn, Signature: signDigest(key.privateKey, hash, digest).toString('base64'), SigningAlgorithm: alg };
        }
        const sig = Buffer.from(String(input['Signature'] ?? ''), 'base64');
        // verify over the digest: node verifies messages, so rebuild via the prehash trick is not needed for RAW
        const ok = type === 'RAW' ? cryptoVerify(hash, message, key.publicKey, sig) : undefined;
        if (ok === false) throw new AwsError('KMSInvalidSignatureException', '');
        return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: alg };
      }
      case 'ListAliases':
        return {
          Aliases: [...this.aliases.entries()].map(([name, id]) => ({
            AliasName: name,
            AliasArn: `arn:aws:kms:${this.region}:${this.accountId}:${name}`,
            TargetKeyId: id,
          })),
          Truncated: false,
        };
      default:
        throw new AwsError('UnknownOperationException', `operation ${op} is not implemented by this test server`);
    }
  }
}
