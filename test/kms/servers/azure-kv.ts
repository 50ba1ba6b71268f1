/**
 * A local Azure Key Vault (keys data plane, REST api-version 7.x) over HTTPS: bearer challenge
 * (`401` + `WWW-Authenticate: Bearer authorization="…", resource="…"`) on unauthenticated requests,
 * `GET /keys/{name}[/{version}]`, `POST /keys/{name}/{version}/sign`, base64url values, Key Vault error JSON.
 */
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signDigest } from './crypto.js';
import { sendJson, startServer, type Started } from './base.js';

export type AzureKeyKind = 'EC-P256' | 'EC-P384' | 'EC-P521' | 'EC-P256K' | 'RSA-2048' | 'RSA-3072' | 'oct';

export interface AzureTestVersion {
  readonly version: string;
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
}

export interface AzureTestKey {
  readonly name: string;
  readonly kind: AzureKeyKind;
  readonly versions: AzureTestVersion[];
  enabled: boolean;
  keyOps: string[];
  deny: boolean;
  throttle: boolean;
}

const ALG: Record<string, { kind: string; hash: 'sha256' | 'sha384' | 'sha512' }> = {
  ES256: { kind: 'EC-P256', hash: 'sha256' },
  ES384: { kind: 'EC-P384', hash: 'sha384' },
  ES512: { kind: 'EC-P521', hash: 'sha512' },
  ES256K: { kind: 'EC-P256K', hash: 'sha256' },
  RS256: { kind: 'RSA', hash: 'sha256' },
  RS384: { kind: 'RSA', hash: 'sha384' },
  RS512: { kind: 'RSA', hash: 'sha512' },
};

function gen(kind: AzureKeyKind): { privateKey?: KeyObject; publicKey?: KeyObject } {
  switch (kind) {
    case 'EC-P256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EC-P384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'EC-P521':
      return generateKeyPairSync('ec', { namedCurve: 'P-521' });
    case 'EC-P256K':
      return generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    case 'oct':
      return {};
    default:
      return generateKeyPairSync('rsa', { modulusLength: Number(kind.slice(4)) });
  }
}

class KvError extends Error {
  readonly status: number;
  readonly code: string;
  readonly inner: string | undefined;
  constructor(status: number, code: string, message: string, inner?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.inner = inner;
  }
}

export class AzureKeyVaultServer {
  readonly token = `eyJ0eXAiOiJKV1QifQ.${randomBytes(24).toString('base64url')}.azure-test-token`;
  readonly keys = new Map<string, AzureTestKey>();
  readonly calls: { method: string; path: string; query: string; authorized: boolean; body: Record<string, unknown> | undefined }[] = [];
  /** Scopes the credential was asked for (filled by {@link credential}). */
  readonly tokenRequests: string[][] = [];
  #started: Started | undefined;

  static async start(): Promise<AzureKeyVaultServer> {
    const s = new AzureKeyVaultServer();
    s.#started = await startServer((req, body, res) => s.#handle(req, body, res), true);
    return s;
  }
  get url(): string {
    return (this.#started as Started).url;
  }
  /** `127.0.0.1:PORT` for `azurekms://HOST/…` */
  get host(): string {
    return `127.0.0.1:${(this.#started as Started).port}`;
  }
  close(): Promise<void> {
    return (this.#started as Started).close();
  }

  /** A static TokenCredential handing out this server's token (or `token`). */
  credential(token = this.token): { getToken(scopes: string | string[]): Promise<{ token: string; expiresOnTimestamp: number }> } {
    return {
      getToken: (scopes) => {
        this.tokenRequests.push(Array.isArray(scopes) ? scopes : [scopes]);
        return Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3600_000 });
      },
    };
  }

  createKey(name: string, kind: AzureKeyKind, opts: { versions?: number; keyOps?: string[] } = {}): AzureTestKey {
    const key: AzureTestKey = {
      name,
      kind,
      versions: [],
      enabled: true,
      keyOps: opts.keyOps ?? (kind === 'oct' ? ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] : ['sign', 'verify']),
      deny: false,
      throttle: false,
    };
    for (let i = 0; i < (opts.versions ?? 1); i++) key.versions.push({ version: randomBytes(16).toString('hex'), ...gen(kind) });
    this.keys.set(name, key);
    return key;
  }

  #jwk(key: AzureTestKey, v: AzureTestVersion): Record<string, unknown> {
    const kid = `${this.url}/keys/${key.name}/${v.version}`;
    if (v.publicKey === undefined) return { kid, kty: 'oct-HSM', key_ops: key.keyOps };
    const jwk = v.publicKey.export({ format: 'jwk' });
    if (jwk.kty === 'EC') {
      const crv = key.kind === 'EC-P256K' ? 'P-256K' : jwk.crv;
      return { kid, kty: 'EC', key_ops: key.keyOps, crv, x: jwk.x, y: jwk.y };
    }
    return { kid, kty: 'RSA', key_ops: key.keyOps, n: jwk.n, e: jwk.e };
  }

  #handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://x');
    let parsed: Record<string, unknown> | undefined;
    try {
      if (body.length > 0) parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    const auth = req.headers['authorization'];
    this.calls.push({ method: req.method ?? '', path: url.pathname, query: url.search, authorized: auth !== undefined, body: parsed });
    try {
      if (!url.searchParams.get('api-version')) throw new KvError(400, 'BadParameter', 'The api-version query parameter is required.');
      if (auth === undefined || auth !== `Bearer ${this.token}`) {
        const data = JSON.stringify({
          error: { code: 'Unauthorized', message: auth === undefined ? 'AKV10000: Request is missing a Bearer or PoP token.' : 'AKV10032: Invalid issuer.' },
        });
        res.writeHead(401, {
          'content-type': 'application/json; charset=utf-8',
          'www-authenticate':
            'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001", resource="https://vault.azure.net"',
          'content-length': String(Buffer.byteLength(data)),
        });
        res.end(data);
        return;
      }
      const path = url.pathname.replace(/\/+$/, '');
      let m: RegExpExecArray | null;
      if (req.method === 'GET' && (m = /^\/keys\/([\w-]+)(?:\/([0-9a-f]*))?$/.exec(path)) !== null) {
        const { key, version } = this.#find(m[1] as string, m[2], 'get');
        return sendJson(res, 200, {
          key: this.#jwk(key, version),
          attributes: { enabled: key.enabled, created: 1700000000, updated: 1700000000, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
        });
      }
      if (req.method === 'POST' && (m = /^\/keys\/([\w-]+)\/([0-9a-f]+)\/sign$/.exec(path)) !== null) {
        const { key, version } = this.#find(m[1] as string, m[2], 'sign');
        if (!key.enabled) throw new KvError(403, 'Forbidden', 'Operation sign is not allowed on a disabled key.', 'KeyDisabled');
        if (!key.keyOps.includes('sign')) throw new KvError(403, 'Forbidden', 'Operation sign is not permitted on this key.', 'KeyOperationForbidden');
        const alg = String(parsed?.['alg'] ?? '');
        const a = ALG[alg];
        if (a === undefined || version.privateKey === undefined || !(a.kind === key.kind || (a.kind === 'RSA' && key.kind.startsWith('RSA')))) {
          throw new KvError(400, 'BadParameter', `Invalid algorithm '${alg}' for key type ${key.kind}.`);
        }
        if (typeof parsed?.['value'] !== 'string') throw new KvError(400, 'BadParameter', 'Property value is required.');
        const digest = Buffer.from(parsed['value'], 'base64url');
        if (digest.length !== createHash(a.hash).digest().length) throw new KvError(400, 'BadParameter', `Invalid digest length for ${alg}.`);
        const sig = signDigest(version.privateKey, a.hash, digest, true);
        return sendJson(res, 200, { kid: `${this.url}/keys/${key.name}/${version.version}`, value: sig.toString('base64url') });
      }
      throw new KvError(404, 'NotFound', `Route ${req.method} ${url.pathname} not found.`);
    } catch (e) {
      if (e instanceof KvError) {
        const headers: Record<string, string> = e.status === 429 ? { 'retry-after': '0' } : {};
        sendJson(res, e.status, { error: { code: e.code, message: e.message, ...(e.inner !== undefined ? { innererror: { code: e.inner } } : {}) } }, headers);
      } else sendJson(res, 500, { error: { code: 'InternalServerError', message: (e as Error).message } });
    }
  }

  #find(name: string, version: string | undefined, op: string): { key: AzureTestKey; version: AzureTestVersion } {
    const key = this.keys.get(name);
    if (key === undefined) throw new KvError(404, 'KeyNotFound', `A key with (name/id) ${name} was not found in this key vault.`);
    if (key.deny) {
      throw new KvError(
        403,
        'Forbidden',
        `The user, group or application 'appid=00000000-0000-0000-0000-000000000002' does not have keys ${op} permission on key vault 'test-vault'.`,
        'ForbiddenByPolicy',
      );
    }
    if (key.throttle)
      throw new KvError(429, 'Throttled', 'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached');
    const v = version === undefined || version === '' ? key.versions.at(-1) : key.versions.find((x) => x.version === version);
    if (v === undefined) throw new KvError(404, 'KeyNotFound', `A key with (name/id) ${name}/${version ?? ''} was not found in this key vault.`);
    return { key, version: v };
  }
}
