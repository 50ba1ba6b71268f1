/**
 * A local Google Cloud KMS speaking the REST v1 surface the client library's HTTP/1.1 ("fallback")
 * transport uses: `GET /v1/{cryptoKey}`, `GET /v1/{cryptoKey}/cryptoKeyVersions?filter=&orderBy=&pageSize=&pageToken=`,
 * `GET /v1/{version}/publicKey`, `POST /v1/{version}:asymmetricSign`; bearer auth; Google error JSON;
 * numeric enums when the client asks for `$alt=json;enum-encoding=int`; CRC32C fields.
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32c } from '../../../src/kms/crypto.js';
import { signDigest } from './crypto.js';
import { sendJson, startServer, type Started } from './base.js';

export type GcpAlgorithm =
  | 'EC_SIGN_P256_SHA256'
  | 'EC_SIGN_P384_SHA384'
  | 'EC_SIGN_SECP256K1_SHA256'
  | 'RSA_SIGN_PKCS1_2048_SHA256'
  | 'RSA_SIGN_PKCS1_3072_SHA256'
  | 'RSA_SIGN_PKCS1_4096_SHA256'
  | 'RSA_SIGN_PKCS1_4096_SHA512'
  | 'GOOGLE_SYMMETRIC_ENCRYPTION';

const ENUMS: Record<string, Record<string, number>> = {
  purpose: { CRYPTO_KEY_PURPOSE_UNSPECIFIED: 0, ENCRYPT_DECRYPT: 1, ASYMMETRIC_SIGN: 5, ASYMMETRIC_DECRYPT: 6 },
  state: { ENABLED: 1, DISABLED: 2, DESTROYED: 3, DESTROY_SCHEDULED: 4 },
  algorithm: {
    GOOGLE_SYMMETRIC_ENCRYPTION: 1,
    RSA_SIGN_PKCS1_2048_SHA256: 5,
    RSA_SIGN_PKCS1_3072_SHA256: 6,
    RSA_SIGN_PKCS1_4096_SHA256: 7,
    RSA_SIGN_PKCS1_4096_SHA512: 16,
    EC_SIGN_P256_SHA256: 12,
    EC_SIGN_P384_SHA384: 13,
    EC_SIGN_SECP256K1_SHA256: 31,
  },
  protectionLevel: { SOFTWARE: 1, HSM: 2 },
};

const HASH: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  EC_SIGN_P256_SHA256: 'sha256',
  EC_SIGN_P384_SHA384: 'sha384',
  EC_SIGN_SECP256K1_SHA256: 'sha256',
  RSA_SIGN_PKCS1_2048_SHA256: 'sha256',
  RSA_SIGN_PKCS1_3072_SHA256: 'sha256',
  RSA_SIGN_PKCS1_4096_SHA256: 'sha256',
  RSA_SIGN_PKCS1_4096_SHA512: 'sha512',
};

export interface GcpTestVersion {
  readonly name: string;
  state: 'ENABLED' | 'DISABLED' | 'DESTROYED' | 'DESTROY_SCHEDULED';
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
}

export interface GcpTestKey {
  readonly name: string;
  readonly purpose: 'ASYMMETRIC_SIGN' | 'ENCRYPT_DECRYPT';
  readonly algorithm: GcpAlgorithm;
  readonly versions: GcpTestVersion[];
  deny: boolean;
  throttle: boolean;
}

function gen(alg: GcpAlgorithm): { privateKey?: KeyObject; publicKey?: KeyObject } {
  if (alg === 'EC_SIGN_P256_SHA256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'EC_SIGN_P384_SHA384') return generateKeyPairSync('ec', { namedCurve: 'P-384' });
  if (alg === 'EC_SIGN_SECP256K1_SHA256') return generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  if (alg.startsWith('RSA_SIGN_PKCS1_')) return generateKeyPairSync('rsa', { modulusLength: Number(alg.split('_')[3]) });
  return {};
}

class GoogleError extends Error {
  readonly httpCode: number;
  readonly status: string;
  constructor(httpCode: number, status: string, message: string) {
    super(message);
    this.httpCode = httpCode;
    this.status = status;
  }
}

export class GcpKmsServer {
  readonly token = 'ya29.cosign-ts-test-access-token-do-not-log';
  readonly keys = new Map<string, GcpTestKey>();
  readonly calls: { method: string; path: string; query: string; body: Record<string, unknown> | undefined }[] = [];
  /** Return a wrong signatureCrc32c (simulated corruption in transit). */
  corruptSignatureCrc = false;
  /** Claim the digest CRC was not verified. */
  skipDigestVerification = false;
  #started: Started | undefined;

  static async start(tls = false): Promise<GcpKmsServer> {
    const s = new GcpKmsServer();
    s.#started = await startServer((req, body, res) => s.#handle(req, body, res), tls);
    return s;
  }
  get url(): string {
    return (this.#started as Started).url;
  }
  close(): Promise<void> {
    return (this.#started as Started).close();
  }
  count(kind: 'getCryptoKey' | 'list' | 'publicKey' | 'sign'): number {
    return this.calls.filter((c) => kindOf(c.method, c.path) === kind).length;
  }

  createKey(
    ref: { project?: string; location?: string; keyRing?: string; key: string },
    algorithm: GcpAlgorithm,
    opts: { versions?: number; purpose?: GcpTestKey['purpose'] } = {},
  ): GcpTestKey {
    const name = `projects/${ref.project ?? 'p'}/locations/${ref.location ?? 'global'}/keyRings/${ref.keyRing ?? 'ring'}/cryptoKeys/${ref.key}`;
    const key: GcpTestKey = {
      name,
      purpose: opts.purpose ?? (algorithm === 'GOOGLE_SYMMETRIC_ENCRYPTION' ? 'ENCRYPT_DECRYPT' : 'ASYMMETRIC_SIGN'),
      algorithm,
      versions: [],
      deny: false,
      throttle: false,
    };
    for (let i = 0; i < (opts.versions ?? 1); i++) key.versions.push({ name: `${name}/cryptoKeyVersions/${i + 1}`, state: 'ENABLED', ...gen(algorithm) });
    this.keys.set(name, key);
    return key;
  }

  #enum(kind: string, v: string, numeric: boolean): string | number {
    return numeric ? (ENUMS[kind]?.[v] ?? 0) : v;
  }

  #handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    let parsed: Record<string, unknown> | undefined;
    try {
      if (body.length > 0) parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    this.calls.push({ method: req.method ?? '', path: url.pathname, query: url.search, body: parsed });
    try {
      const auth = req.headers['authorization'];
      if (auth === undefined) {
        throw new GoogleError(
          401,
          'UNAUTHENTICATED',
          'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        );
      }
      if (auth !== `Bearer ${this.token}`)
        throw new GoogleError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        );
      const numeric = (url.searchParams.get('$alt') ?? '').includes('enum-encoding=int');
      const path = decodeURIComponent(url.pathname);
      let m: RegExpExecArray | null;
      if (req.method === 'GET' && (m = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/:]+)$/.exec(path)) !== null) {
        const key = this.#key(m[1] as string, 'cloudkms.cryptoKeys.get');
        return sendJson(res, 200, {
          name: key.name,
          purpose: this.#enum('purpose', key.purpose, numeric),
          createTime: '2024-01-01T00:00:00.000000Z',
          versionTemplate: { protectionLevel: this.#enum('protectionLevel', 'SOFTWARE', numeric), algorithm: this.#enum('algorithm', key.algorithm, numeric) },
          destroyScheduledDuration: '86400s',
        });
      }
      if (
        req.method === 'GET' &&
        (m = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/:]+)\/cryptoKeyVersions$/.exec(path)) !== null
      ) {
        const key = this.#key(m[1] as string, 'cloudkms.cryptoKeyVersions.list');
        let versions = [...key.versions];
        const filter = url.searchParams.get('filter') ?? '';
        if (filter !== '') {
          const f = /^state\s*=\s*([A-Z_]+)$/.exec(filter.trim());
          if (f === null) throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid filter: ${filter}`);
          versions = versions.filter((v) => v.state === f[1]);
        }
        const orderBy = (url.searchParams.get('orderBy') ?? '').trim();
        if (orderBy === 'name desc') versions.sort((a, b) => (a.name < b.name ? 1 : -1));
        else if (orderBy === 'name' || orderBy === 'name asc' || orderBy === '') versions.sort((a, b) => (a.name < b.name ? -1 : 1));
        else throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid order_by: ${orderBy}`);
        const pageSize = Math.min(Number(url.searchParams.get('pageSize') ?? '0') || 1000, 1000);
        const offset = url.searchParams.get('pageToken') ? Number(Buffer.from(url.searchParams.get('pageToken') as string, 'base64url').toString()) : 0;
        const page = versions.slice(offset, offset + pageSize);
        const next = offset + pageSize < versions.length ? Buffer.from(String(offset + pageSize)).toString('base64url') : undefined;
        return sendJson(res, 200, {
          cryptoKeyVersions: page.map((v) => ({
            name: v.name,
            state: this.#enum('state', v.state, numeric),
            protectionLevel: this.#enum('protectionLevel', 'SOFTWARE', numeric),
            algorithm: this.#enum('algorithm', key.algorithm, numeric),
            createTime: '2024-01-01T00:00:00.000000Z',
            generateTime: '2024-01-01T00:00:00.000000Z',
          })),
          ...(next !== undefined ? { nextPageToken: next } : {}),
          totalSize: versions.length,
        });
      }
      if (req.method === 'GET' && (m = /^\/v1\/(projects\/.+\/cryptoKeyVersions\/[^/:]+)\/publicKey$/.exec(path)) !== null) {
        const { key, version } = this.#version(m[1] as string, 'cloudkms.cryptoKeyVersions.viewPublicKey');
        if (key.purpose !== 'ASYMMETRIC_SIGN' || version.publicKey === undefined) {
          throw new GoogleError(400, 'FAILED_PRECONDITION', `${version.name} is not an asymmetric key; it has purpose ENCRYPT_DECRYPT.`);
        }
        this.#enabled(version);
        const pem = version.publicKey.export({ type: 'spki', format: 'pem' });
        return sendJson(res, 200, {
          pem,
          algorithm: this.#enum('algorithm', key.algorithm, numeric),
          pemCrc32c: String(crc32c(Buffer.from(pem))),
          name: version.name,
          protectionLevel: this.#enum('protectionLevel', 'SOFTWARE', numeric),
        });
      }
      if (req.method === 'POST' && (m = /^\/v1\/(projects\/.+\/cryptoKeyVersions\/[^/:]+):asymmetricSign$/.exec(path)) !== null) {
        const { key, version } = this.#version(m[1] as string, 'cloudkms.cryptoKeyVersions.useToSign');
        if (key.purpose !== 'ASYMMETRIC_SIGN' || version.privateKey === undefined) {
          throw new GoogleError(400, 'FAILED_PRECONDITION', `${version.name}: the key purpose is ENCRYPT_DECRYPT, not ASYMMETRIC_SIGN.`);
        }
        this.#enabled(version);
        const hash = HASH[key.algorithm] as 'sha256' | 'sha384' | 'sha512';
        const d = (parsed?.['digest'] ?? {}) as Record<string, unknown>;
        const fields = Object.keys(d);
        if (fields.length !== 1 || fields[0] !== hash || typeof d[hash] !== 'string') {
          throw new GoogleError(400, 'INVALID_ARGUMENT', `The request digest must be ${hash} for algorithm ${key.algorithm}.`);
        }
        const digest = Buffer.from(d[hash] as string, 'base64');
        if (digest.length !== createHash(hash).digest().length) throw new GoogleError(400, 'INVALID_ARGUMENT', 'Digest has the wrong length.');
        const crcField = parsed?.['digestCrc32c'];
        const crcValue = crcField !== null && typeof crcField === 'object' ? (crcField as { value?: unknown }).value : crcField;
        let verified = false;
        if (crcValue !== undefined) {
          if (String(crcValue) !== String(crc32c(digest)))
            throw new GoogleError(400, 'INVALID_ARGUMENT', 'The checksum in field digest_crc32c did not match the data in field digest.');
          verified = !this.skipDigestVerification;
        }
        const sig = signDigest(version.privateKey, hash, digest);
        const sigCrc = crc32c(sig) ^ (this.corruptSignatureCrc ? 1 : 0);
        return sendJson(res, 200, {
          signature: sig.toString('base64'),
          signatureCrc32c: String(sigCrc >>> 0),
          verifiedDigestCrc32c: verified,
          name: version.name,
          verifiedDataCrc32c: false,
          protectionLevel: this.#enum('protectionLevel', 'SOFTWARE', numeric),
        });
      }
      throw new GoogleError(404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`);
    } catch (e) {
      if (e instanceof GoogleError) sendJson(res, e.httpCode, { error: { code: e.httpCode, message: e.message, status: e.status } });
      else sendJson(res, 500, { error: { code: 500, message: (e as Error).message, status: 'INTERNAL' } });
    }
  }

  #key(name: string, permission: string): GcpTestKey {
    const key = this.keys.get(name);
    if (key === undefined) throw new GoogleError(404, 'NOT_FOUND', `CryptoKey ${name} not found.`);
    if (key.deny) throw new GoogleError(403, 'PERMISSION_DENIED', `Permission '${permission}' denied on resource '${name}' (or it may not exist).`);
    if (key.throttle) {
      throw new GoogleError(
        429,
        'RESOURCE_EXHAUSTED',
        "Quota exceeded for quota metric 'Cryptographic requests' and limit 'Cryptographic requests per minute' of service 'cloudkms.googleapis.com'.",
      );
    }
    return key;
  }

  #version(name: string, permission: string): { key: GcpTestKey; version: GcpTestVersion } {
    const keyName = name.replace(/\/cryptoKeyVersions\/[^/]+$/, '');
    const key = this.#key(keyName, permission);
    const version = key.versions.find((v) => v.name === name);
    if (version === undefined) throw new GoogleError(404, 'NOT_FOUND', `CryptoKeyVersion ${name} not found.`);
    return { key, version };
  }

  #enabled(v: GcpTestVersion): void {
    if (v.state !== 'ENABLED') throw new GoogleError(400, 'FAILED_PRECONDITION', `${v.name} is not enabled, current state is: ${v.state}.`);
  }
}

function kindOf(method: string, path: string): string {
  if (method === 'POST' && path.endsWith(':asymmetricSign')) return 'sign';
  if (path.endsWith('/publicKey')) return 'publicKey';
  if (path.endsWith('/cryptoKeyVersions')) return 'list';
  return 'getCryptoKey';
}
