/**
 * A local HashiCorp Vault: the transit secrets engine (keys, sign), token auth (`X-Vault-Token`,
 * lookup-self, renew-self with TTLs), Kubernetes and JWT login, namespaces (`X-Vault-Namespace`), and
 * Vault's error body `{"errors":[…]}`. Keys are real node:crypto keys.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signDigest } from './crypto.js';
import { sendJson, startServer, type Started } from './base.js';

export type VaultKeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ed25519' | 'aes256-gcm96';

export interface VaultKeyVersion {
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
  readonly created: string;
}

export interface VaultTestKey {
  readonly name: string;
  readonly type: VaultKeyType;
  readonly versions: VaultKeyVersion[];
  minEncryptionVersion: number;
  minDecryptionVersion: number;
  readonly namespace: string;
}

interface TokenInfo {
  ttlSeconds: number; // 0 = never expires
  expiresAt: number | undefined;
  renewable: boolean;
  policies: string[];
  namespace: string;
}

export interface VaultRole {
  /** The exact JWT the login must present. */
  readonly jwt: string;
  readonly ttlSeconds: number;
  readonly renewable?: boolean;
}

function gen(type: VaultKeyType): VaultKeyVersion {
  const created = new Date().toISOString();
  switch (type) {
    case 'ecdsa-p256':
      return { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }), created };
    case 'ecdsa-p384':
      return { ...generateKeyPairSync('ec', { namedCurve: 'P-384' }), created };
    case 'ecdsa-p521':
      return { ...generateKeyPairSync('ec', { namedCurve: 'P-521' }), created };
    case 'ed25519':
      return { ...generateKeyPairSync('ed25519'), created };
    case 'aes256-gcm96':
      return { created };
    default:
      return { ...generateKeyPairSync('rsa', { modulusLength: Number(type.slice(4)) }), created };
  }
}

class VaultError extends Error {
  readonly status: number;
  readonly errors: string[];
  constructor(status: number, errors: string[]) {
    super(errors.join('; '));
    this.status = status;
    this.errors = errors;
  }
}

const DENIED = (): VaultError => new VaultError(403, ['permission denied']);

const HASHES: Record<string, 'sha256' | 'sha384' | 'sha512'> = { 'sha2-256': 'sha256', 'sha2-384': 'sha384', 'sha2-512': 'sha512' };

export class VaultServer {
  readonly rootToken = `hvs.${randomBytes(18).toString('base64url')}`;
  readonly keys = new Map<string, VaultTestKey>(); // `${namespace}|${mount}|${name}`
  readonly tokens = new Map<string, TokenInfo>();
  readonly roles = new Map<string, VaultRole>(); // `${mount}|${role}`
  /** Every sign request: path and body. */
  readonly signRequests: { path: string; body: Record<string, unknown>; namespace: string }[] = [];
  /** Counts by endpoint kind: keys (GET public key), sign, login, renew, lookup. */
  readonly counts = { keys: 0, sign: 0, login: 0, renew: 0, lookup: 0 };
  /** Server clock (ms); tests may replace it to simulate time passing. */
  now: () => number = Date.now;
  throttle = false;
  sealed = false;
  #started: Started | undefined;

  static async start(tls = false): Promise<VaultServer> {
    const s = new VaultServer();
    s.tokens.set(s.rootToken, { ttlSeconds: 0, expiresAt: undefined, renewable: false, policies: ['root'], namespace: '' });
    s.#started = await startServer((req, body, res) => s.#handle(req, body, res), tls);
    return s;
  }

  get url(): string {
    return (this.#started as Started).url;
  }
  close(): Promise<void> {
    return (this.#started as Started).close();
  }

  createKey(name: string, type: VaultKeyType, opts: { mount?: string; namespace?: string } = {}): VaultTestKey {
    const key: VaultTestKey = { name, type, versions: [gen(type)], minEncryptionVersion: 0, minDecryptionVersion: 1, namespace: opts.namespace ?? '' };
    this.keys.set(`${key.namespace}|${opts.mount ?? 'transit'}|${name}`, key);
    return key;
  }

  rotate(key: VaultTestKey): void {
    key.versions.push(gen(key.type));
  }

  /** A token with a TTL (renewable by default). */
  createToken(ttlSeconds: number, renewable = true, namespace = ''): string {
    const t = `hvs.${randomBytes(18).toString('base64url')}`;
    this.tokens.set(t, { ttlSeconds, expiresAt: ttlSeconds > 0 ? this.now() + ttlSeconds * 1000 : undefined, renewable, policies: ['default'], namespace });
    return t;
  }

  addRole(mount: string, role: string, r: VaultRole): void {
    this.roles.set(`${mount}|${role}`, r);
  }

  #auth(req: IncomingMessage): TokenInfo {
    const t = req.headers['x-vault-token'];
    if (typeof t !== 'string' || t === '') throw DENIED();
    const info = this.tokens.get(t);
    if (info === undefined) throw DENIED();
    if (info.expiresAt !== undefined && this.now() >= info.expiresAt) {
      this.tokens.delete(t);
      throw DENIED();
    }
    return info;
  }

  #handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    try {
      if (this.sealed) throw new VaultError(503, ['Vault is sealed']);
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname.replace(/\/{2,}/g, '/').replace(/\/$/, '');
      if (!path.startsWith('/v1/')) throw new VaultError(404, []);
      const rest = path.slice(4);
      const ns = typeof req.headers['x-vault-namespace'] === 'string' ? req.headers['x-vault-namespace'].replace(/^\/|\/$/g, '') : '';
      let input: Record<string, unknown> = {};
      if (body.length > 0) {
        try {
          input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          throw new VaultError(400, ['failed to parse JSON input']);
        }
      }
      const write = req.method === 'POST' || req.method === 'PUT';
      let m: RegExpExecArray | null;
      if ((m = /^auth\/([\w-]+)\/login$/.exec(rest)) !== null && write) return this.#login(res, m[1] as string, input);
      if (rest === 'auth/token/renew-self' && write) return this.#renew(req, res);
      if (rest === 'auth/token/lookup-self' && req.method === 'GET') return this.#lookup(req, res);
      const tok = this.#auth(req);
      if (tok.namespace !== ns && tok.policies[0] !== 'root') throw DENIED();
      if (this.throttle) throw new VaultError(429, [`request path "${rest}": rate limit quota exceeded`]);
      if ((m = /^([\w/-]+?)\/keys\/([\w.-]+)$/.exec(rest)) !== null && req.method === 'GET') return this.#readKey(res, ns, m[1] as string, m[2] as string);
      if ((m = /^([\w/-]+?)\/sign\/([\w.-]+)(?:\/(sha2-256|sha2-384|sha2-512|[\w-]+))?$/.exec(rest)) !== null && write) {
        return this.#sign(res, ns, m[1] as string, m[2] as string, m[3], input, rest);
      }
      throw new VaultError(404, [`no handler for route "${rest}". route entry not found.`]);
    } catch (e) {
      if (e instanceof VaultError) sendJson(res, e.status, { errors: e.errors });
      else sendJson(res, 500, { errors: [(e as Error).message] });
    }
  }

  #envelope(data: unknown, auth: unknown = null): Record<string, unknown> {
    return { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth };
  }

  #login(res: ServerResponse, mount: string, input: Record<string, unknown>): void {
    this.counts.login++;
    const role = input['role'];
    if (typeof role !== 'string' || role === '') throw new VaultError(400, ['missing role']);
    const r = this.roles.get(`${mount}|${role}`);
    if (r === undefined) throw new VaultError(400, [`invalid role name "${role}"`]);
    if (input['jwt'] !== r.jwt) throw DENIED();
    const token = this.createToken(r.ttlSeconds, r.renewable ?? true);
    sendJson(
      res,
      200,
      this.#envelope(null, {
        client_token: token,
        accessor: randomUUID(),
        policies: ['default', 'cosign'],
        token_policies: ['default', 'cosign'],
        metadata: { role },
        lease_duration: r.ttlSeconds,
        renewable: r.renewable ?? true,
        entity_id: randomUUID(),
        token_type: 'service',
        orphan: true,
      }),
    );
  }

  #renew(req: IncomingMessage, res: ServerResponse): void {
    this.counts.renew++;
    const t = req.headers['x-vault-token'] as string;
    const info = this.#auth(req);
    if (!info.renewable) throw new VaultError(400, ['lease is not renewable']);
    info.expiresAt = info.ttlSeconds > 0 ? this.now() + info.ttlSeconds * 1000 : undefined;
    sendJson(
      res,
      200,
      this.#envelope(null, { client_token: t, accessor: randomUUID(), policies: info.policies, lease_duration: info.ttlSeconds, renewable: true }),
    );
  }

  #lookup(req: IncomingMessage, res: ServerResponse): void {
    this.counts.lookup++;
    const info = this.#auth(req);
    const ttl = info.expiresAt === undefined ? 0 : Math.max(0, Math.floor((info.expiresAt - this.now()) / 1000));
    sendJson(
      res,
      200,
      this.#envelope({
        ttl,
        creation_ttl: info.ttlSeconds,
        renewable: info.renewable,
        policies: info.policies,
        expire_time: info.expiresAt === undefined ? null : new Date(info.expiresAt).toISOString(),
      }),
    );
  }

  #key(ns: string, mount: string, name: string): VaultTestKey | undefined {
    return this.keys.get(`${ns}|${mount}|${name}`);
  }

  #readKey(res: ServerResponse, ns: string, mount: string, name: string): void {
    this.counts.keys++;
    const key = this.#key(ns, mount, name);
    if (key === undefined) throw new VaultError(404, []);
    const keys: Record<string, unknown> = {};
    key.versions.forEach((v, i) => {
      if (i + 1 < key.minDecryptionVersion) return;
      if (v.publicKey === undefined) {
        keys[String(i + 1)] = Math.floor(Date.parse(v.created) / 1000);
        return;
      }
      const public_key =
        key.type === 'ed25519'
          ? Buffer.from(v.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url').toString('base64')
          : v.publicKey.export({ type: 'spki', format: 'pem' });
      const curveName = key.type.startsWith('ecdsa-') ? `P-${key.type.slice(7)}` : key.type;
      keys[String(i + 1)] = { certificate_chain: '', creation_time: v.created, name: curveName, public_key };
    });
    const signing = key.type !== 'aes256-gcm96';
    sendJson(
      res,
      200,
      this.#envelope({
        name: key.name,
        type: key.type,
        keys,
        latest_version: key.versions.length,
        min_available_version: 0,
        min_decryption_version: key.minDecryptionVersion,
        min_encryption_version: key.minEncryptionVersion,
        supports_signing: signing,
        supports_encryption: !key.type.startsWith('ecdsa') && key.type !== 'ed25519',
        supports_decryption: !key.type.startsWith('ecdsa') && key.type !== 'ed25519',
        supports_derivation: key.type === 'aes256-gcm96' || key.type === 'ed25519',
        deletion_allowed: false,
        derived: false,
        exportable: false,
        allow_plaintext_backup: false,
        auto_rotate_period: 0,
        imported_key: false,
        kdf: 'hkdf_sha256',
      }),
    );
  }

  #sign(res: ServerResponse, ns: string, mount: string, name: string, hashPath: string | undefined, input: Record<string, unknown>, rest: string): void {
    this.counts.sign++;
    this.signRequests.push({ path: rest, body: input, namespace: ns });
    const key = this.#key(ns, mount, name);
    if (key === undefined) throw new VaultError(400, ['signing key not found']);
    if (key.type === 'aes256-gcm96') throw new VaultError(400, [`key type ${key.type} does not support signing`]);
    const hashName = hashPath ?? (typeof input['hash_algorithm'] === 'string' ? input['hash_algorithm'] : 'sha2-256');
    const hash = HASHES[hashName];
    if (hash === undefined) throw new VaultError(400, [`unsupported hash algorithm ${hashName}`]);
    let version = input['key_version'] === undefined ? 0 : Number(input['key_version']);
    if (!Number.isInteger(version) || version < 0) throw new VaultError(400, ['invalid key_version']);
    if (version === 0) version = key.versions.length;
    if (version > key.versions.length) throw new VaultError(400, ['requested version for signing is higher than the latest key version']);
    if (version < key.minEncryptionVersion) throw new VaultError(400, ['requested version for signing is less than the minimum encryption key version']);
    const v = key.versions[version - 1] as VaultKeyVersion;
    if (typeof input['input'] !== 'string') throw new VaultError(400, ['missing input to process']);
    const data = Buffer.from(input['input'], 'base64');
    if (key.type === 'ed25519') throw new VaultError(400, ['ed25519 signing is not implemented by this test server']);
    let digest: Buffer;
    if (input['prehashed'] === true) {
      if (data.length !== createHash(hash).digest().length) throw new VaultError(400, ['invalid input length for prehashed input']);
      digest = data;
    } else digest = createHash(hash).update(data).digest();
    if (key.type.startsWith('rsa-')) {
      const alg = input['signature_algorithm'] ?? 'pss';
      if (alg !== 'pkcs1v15') throw new VaultError(400, [`signature algorithm ${String(alg)} is not implemented by this test server`]);
    }
    const marshaling = input['marshaling_algorithm'] ?? 'asn1';
    let sig: Buffer;
    if (marshaling === 'jws' && key.type.startsWith('ecdsa')) sig = signDigest(v.privateKey as KeyObject, hash, digest, true);
    else if (marshaling === 'asn1') sig = signDigest(v.privateKey as KeyObject, hash, digest);
    else throw new VaultError(400, [`unsupported marshaling algorithm ${String(marshaling)}`]);
    const encoded = marshaling === 'jws' ? sig.toString('base64url') : sig.toString('base64');
    sendJson(res, 200, this.#envelope({ signature: `vault:v${version}:${encoded}`, key_version: version }));
  }
}
