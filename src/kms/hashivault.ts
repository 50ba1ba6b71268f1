/**
 * HashiCorp Vault (and OpenBao) transit signer: `hashivault://<key>`, configured like cosign by
 * `VAULT_ADDR`, `VAULT_TOKEN` (or `~/.vault-token`), `VAULT_NAMESPACE` and `TRANSIT_SECRET_ENGINE_PATH`.
 * No SDK: plain HTTP. Beyond cosign: Kubernetes and JWT auth methods and token renewal.
 *
 * @module
 */
import { MAX_CA_BUNDLE_BYTES, MAX_TOKEN_FILE_BYTES, readFileLimited } from '../internal/read-file.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { decodeBase64Strict, encodeBase64 } from '../encoding.js';
import { parseJson } from '../json/strict.js';
import type { HashAlgorithm, Signer } from '../keys/signer.js';
import { digest, keyInfo, parsePublicKey } from './crypto.js';
import { CachedFetch } from './cached.js';
import { describe, kmsError, networkErrorCode, passThrough, redact } from './errors.js';
import { httpJson, ResponseTooLargeError, type HttpJsonResponse } from './http.js';

/** Log in with Vault's Kubernetes auth method: a role and the pod's service-account token. */
export interface VaultKubernetesAuth {
  /** Discriminator. */
  readonly method: 'kubernetes';
  /** The Vault role bound to the service account. */
  readonly role: string;
  /** Auth mount path. Default `kubernetes`. */
  readonly mount?: string;
  /** Service-account JWT file. Default `/var/run/secrets/kubernetes.io/serviceaccount/token`. */
  readonly jwtPath?: string;
}

/** Log in with Vault's JWT/OIDC auth method: a role and a CI id-token (GitLab `id_tokens`, GitHub OIDC, …). */
export interface VaultJwtAuth {
  /** Discriminator. */
  readonly method: 'jwt';
  /** The Vault role. */
  readonly role: string;
  /** Auth mount path. Default `jwt`. */
  readonly mount?: string;
  /** The JWT itself. */
  readonly jwt?: string;
  /** Name of an environment variable holding the JWT. Default `VAULT_AUTH_JWT`. */
  readonly jwtEnv?: string;
  /** A file holding the JWT (read at each login, so a rotated file is picked up). */
  readonly jwtPath?: string;
}

/** A static token (cosign's only method). */
export interface VaultTokenAuth {
  /** Discriminator. */
  readonly method: 'token';
  /** Default: `VAULT_TOKEN`, `BAO_TOKEN`, then `~/.vault-token`. */
  readonly token?: string;
}

/** How to authenticate to Vault. */
export type VaultAuth = VaultKubernetesAuth | VaultJwtAuth | VaultTokenAuth;

/** Options for `hashivault://` (and `openbao://`) keys. Unset fields come from the environment. */
export interface VaultKmsOptions {
  /** Vault address. Default `VAULT_ADDR` (or `BAO_ADDR`). */
  readonly address?: string;
  /** Static token; shorthand for `auth: { method: 'token', token }`. */
  readonly token?: string;
  /**
   * Authentication. Default: a static token, unless `VAULT_AUTH_METHOD` is `kubernetes` or `jwt`
   * (then `VAULT_AUTH_ROLE`, `VAULT_AUTH_MOUNT`, `VAULT_AUTH_JWT_FILE`, `VAULT_AUTH_JWT` configure it).
   */
  readonly auth?: VaultAuth;
  /** Enterprise namespace, sent as `X-Vault-Namespace`. Default `VAULT_NAMESPACE`. */
  readonly namespace?: string;
  /** Transit mount path. Default `TRANSIT_SECRET_ENGINE_PATH`, else `transit`. */
  readonly transitPath?: string;
  /** Pin a key version (≥ 1). Default: the latest version. */
  readonly keyVersion?: number;
  /** Hash sent to Vault (the `/sha2-NNN` path). Default `sha256`, as cosign. */
  readonly hash?: HashAlgorithm;
  /**
   * Renew the token (`auth/token/renew-self`) before it expires. Default: true for Kubernetes/JWT
   * logins (which also log in again when renewal is impossible), false for a static token.
   */
  readonly renew?: boolean;
  /** Renew when fewer than this many seconds of the lease remain. Default: a third of the lease. */
  readonly renewBeforeSeconds?: number;
  /** PEM CA bundle (or a path to one). Default `VAULT_CACERT`. */
  readonly caCert?: string;
  /** Skip TLS verification. Default `VAULT_SKIP_VERIFY`. */
  readonly insecureSkipVerify?: boolean;
  /** Per-request timeout. Default 30 s. */
  readonly timeoutMs?: number;
  /** Clock (ms since epoch), for tests. */
  readonly now?: () => number;
}

const KEY_RE = /^(hashivault|openbao):\/\/(\w(?:[\w.-]*\w)?)$/;

/** Parse `hashivault://<key>` / `openbao://<key>`. */
export function parseVaultReference(keyRef: string): {
  /** `hashivault` or `openbao`. */
  scheme: 'hashivault' | 'openbao';
  /** The transit key name. */
  key: string;
} {
  const m = KEY_RE.exec(keyRef);
  if (m === null) throw kmsError('KMS_ERROR', keyRef, 'invalid Vault key reference; expected hashivault://<key>', { reason: 'bad-reference' });
  return { scheme: m[1] as 'hashivault' | 'openbao', key: m[2] as string };
}

/** Environment variables (`process.env` by default). */
export type KmsEnv = Readonly<Record<string, string | undefined>>;

const HASH_PATH: Record<HashAlgorithm, string> = { sha256: 'sha2-256', sha384: 'sha2-384', sha512: 'sha2-512' };

interface VaultReply {
  status: number;
  json: Record<string, unknown> | undefined;
  errors: string[];
}

/** Token lifecycle: static token, or login + renewal. */
class VaultSession {
  #token: string | undefined;
  #expiresAt: number | undefined; // ms
  #leaseMs = 0;
  #renewable = false;
  #looked = false;
  #pending: Promise<void> | undefined;

  private readonly client: VaultClient;
  private readonly auth: VaultAuth;
  private readonly renew: boolean;
  private readonly renewBeforeMs: number | undefined;
  private readonly now: () => number;

  constructor(client: VaultClient, auth: VaultAuth, renew: boolean, renewBeforeMs: number | undefined, now: () => number) {
    this.client = client;
    this.auth = auth;
    this.renew = renew;
    this.renewBeforeMs = renewBeforeMs;
    this.now = now;
    if (auth.method === 'token') this.#token = auth.token;
  }

  get loginBased(): boolean {
    return this.auth.method !== 'token';
  }

  /** Every secret this session knows, for redaction. */
  secrets(): (string | undefined)[] {
    return [this.#token, this.auth.method === 'token' ? this.auth.token : undefined, this.auth.method === 'jwt' ? this.auth.jwt : undefined];
  }

  async token(): Promise<string> {
    if (this.#pending !== undefined) await this.#pending;
    if (this.#needsRefresh()) {
      this.#pending ??= this.#refresh().finally(() => {
        this.#pending = undefined;
      });
      await this.#pending;
    }
    if (this.#token === undefined) throw kmsError('KMS_ACCESS_DENIED', this.client.keyRef, 'no Vault token: set VAULT_TOKEN or configure an auth method');
    return this.#token;
  }

  /** Forget the token after a 403 so the next call logs in again (login-based methods only). */
  invalidate(): boolean {
    if (!this.loginBased) return false;
    this.#token = undefined;
    this.#expiresAt = undefined;
    return true;
  }

  #needsRefresh(): boolean {
    if (this.#token === undefined) return this.loginBased;
    if (!this.renew) return false;
    if (!this.#looked && !this.loginBased) return true; // learn the static token's TTL first
    if (this.#expiresAt === undefined) return false;
    const before = this.renewBeforeMs ?? this.#leaseMs / 3;
    return this.now() >= this.#expiresAt - before;
  }

  #setLease(seconds: unknown, renewable: unknown): void {
    const s = typeof seconds === 'number' && Number.isFinite(seconds) ? seconds : 0;
    this.#renewable = renewable === true;
    this.#leaseMs = s * 1000;
    this.#expiresAt = s > 0 ? this.now() + s * 1000 : undefined; // 0 = never expires (root tokens)
  }

  async #refresh(): Promise<void> {
    if (this.#token === undefined) {
      await this.#login();
      return;
    }
    if (!this.#looked && !this.loginBased) {
      this.#looked = true;
      const r = await this.client.raw('GET', 'auth/token/lookup-self', undefined, this.#token, 'look up the token');
      const data = (r.json?.['data'] ?? {}) as Record<string, unknown>;
      this.#setLease(data['ttl'], data['renewable']);
      if (!this.#needsRefresh()) return;
    }
    if (this.#renewable) {
      try {
        const r = await this.client.raw('POST', 'auth/token/renew-self', {}, this.#token, 'renew the token');
        const auth = (r.json?.['auth'] ?? {}) as Record<string, unknown>;
        if (typeof auth['client_token'] === 'string' && auth['client_token'] !== '') this.#token = auth['client_token'];
        this.#setLease(auth['lease_duration'], auth['renewable']);
        return;
      } catch (e) {
        if (!this.loginBased) throw e;
      }
    }
    if (this.loginBased) {
      await this.#login();
    } else {
      this.#expiresAt = undefined; // cannot renew a non-renewable static token; keep using it until Vault refuses
    }
  }

  async #login(): Promise<void> {
    const a = this.auth;
    if (a.method === 'token') return;
    let jwt: string;
    if (a.method === 'kubernetes') {
      jwt = await this.#readJwtFile(a.jwtPath ?? '/var/run/secrets/kubernetes.io/serviceaccount/token');
    } else if (a.jwt !== undefined && a.jwt !== '') {
      jwt = a.jwt;
    } else {
      const fromEnv = this.client.env[a.jwtEnv ?? 'VAULT_AUTH_JWT'];
      if (fromEnv !== undefined && fromEnv !== '') jwt = fromEnv.trim();
      else if (a.jwtPath !== undefined) jwt = await this.#readJwtFile(a.jwtPath);
      else throw kmsError('KMS_ACCESS_DENIED', this.client.keyRef, `Vault JWT login: no id-token (set ${a.jwtEnv ?? 'VAULT_AUTH_JWT'} or a jwtPath)`);
    }
    const mount = trimSlashes(a.mount ?? a.method);
    const r = await this.client.raw(
      'POST',
      `auth/${mount}/login`,
      { role: a.role, jwt },
      undefined,
      `log in with the ${a.method} auth method (role ${a.role})`,
      [jwt],
    );
    const auth = (r.json?.['auth'] ?? {}) as Record<string, unknown>;
    const token = auth['client_token'];
    if (typeof token !== 'string' || token === '') throw kmsError('KMS_ERROR', this.client.keyRef, `Vault ${a.method} login returned no client token`);
    this.#token = token;
    this.#setLease(auth['lease_duration'], auth['renewable']);
  }

  async #readJwtFile(path: string): Promise<string> {
    try {
      return (await readFileLimited(path, MAX_TOKEN_FILE_BYTES, 'login JWT file', 'utf8')).trim();
    } catch (e) {
      throw kmsError(
        'KMS_ACCESS_DENIED',
        this.client.keyRef,
        `cannot read the login JWT file ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}

function envBool(v: string | undefined): boolean {
  return v !== undefined && /^(1|t|true|yes)$/i.test(v.trim());
}

/** The HTTP side: address, namespace, TLS, error mapping. */
class VaultClient {
  readonly session: VaultSession;
  readonly #base: URL;
  readonly #namespace: string | undefined;
  readonly #timeoutMs: number;
  readonly #tls: { ca?: string; insecureSkipVerify?: boolean };

  readonly keyRef: string;
  readonly env: KmsEnv;

  constructor(
    keyRef: string,
    env: KmsEnv,
    address: string,
    namespace: string | undefined,
    tls: { ca?: string; insecureSkipVerify?: boolean },
    timeoutMs: number,
    auth: VaultAuth,
    renew: boolean,
    renewBeforeMs: number | undefined,
    now: () => number,
  ) {
    this.keyRef = keyRef;
    this.env = env;
    let base: URL;
    try {
      base = new URL(address);
    } catch {
      throw kmsError('KMS_ERROR', keyRef, 'the Vault address (VAULT_ADDR) is not a valid URL');
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw kmsError('KMS_ERROR', keyRef, 'the Vault address must be http:// or https://');
    this.#base = base;
    this.#namespace = namespace === '' ? undefined : namespace;
    this.#timeoutMs = timeoutMs;
    this.#tls = tls;
    this.session = new VaultSession(this, auth, renew, renewBeforeMs, now);
  }

  /** An authenticated call; retries once after a fresh login when a login-based token is refused. */
  async call(method: string, path: string, body: unknown, action: string): Promise<VaultReply> {
    const token = await this.session.token();
    try {
      return await this.raw(method, path, body, token, action);
    } catch (e) {
      if ((e as { code?: unknown }).code === 'KMS_ACCESS_DENIED' && this.session.invalidate()) {
        return await this.raw(method, path, body, await this.session.token(), action);
      }
      throw e;
    }
  }

  /** One request; maps every failure to a typed error. `extraSecrets` are redacted from messages. */
  async raw(method: string, path: string, body: unknown, token: string | undefined, action: string, extraSecrets: string[] = []): Promise<VaultReply> {
    const basePath = this.#base.pathname.replace(/\/+$/, '');
    const url = new URL(this.#base.href);
    url.pathname = `${basePath}/v1/${path}`;
    const headers: Record<string, string> = { 'x-vault-request': 'true' };
    if (token !== undefined) headers['x-vault-token'] = token;
    if (this.#namespace !== undefined) headers['x-vault-namespace'] = this.#namespace;
    const secrets = [...this.session.secrets(), token, ...extraSecrets];
    let res: HttpJsonResponse;
    try {
      res = await httpJson({ method, url, headers, body, timeoutMs: this.#timeoutMs, tls: this.#tls });
    } catch (e) {
      if (e instanceof ResponseTooLargeError) throw kmsError('KMS_ERROR', this.keyRef, `Vault: cannot ${action}: response too large`);
      const net = networkErrorCode(e);
      throw kmsError('KMS_NETWORK', this.keyRef, `Vault: cannot ${action}: network error (${net ?? describe(e, secrets)}) reaching ${this.#base.origin}`, {
        reason: net,
      });
    }
    let json: Record<string, unknown> | undefined;
    if (res.body.length > 0) {
      try {
        const parsed = parseJson(res.body, 'Vault response', 'KMS_ERROR');
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        json = undefined;
      }
    }
    const errors = Array.isArray(json?.['errors']) ? (json['errors'] as unknown[]).filter((x): x is string => typeof x === 'string') : [];
    if (res.status >= 200 && res.status < 300) {
      if (json === undefined && res.status !== 204) throw kmsError('KMS_ERROR', this.keyRef, `Vault: cannot ${action}: response is not a JSON object`);
      return { status: res.status, json, errors };
    }
    const reason = redact(errors.length > 0 ? errors.join('; ') : `HTTP ${res.status}`, secrets);
    const msg = `Vault: cannot ${action}: ${reason}`;
    const details = { status: res.status };
    if (res.status === 401 || res.status === 403) throw kmsError('KMS_ACCESS_DENIED', this.keyRef, msg, details);
    if (res.status === 429) throw kmsError('KMS_THROTTLED', this.keyRef, msg, details);
    if (res.status === 400) {
      if (/not support(s)? sign|signing not supported|does not support signing|not supported for signing/i.test(reason))
        throw kmsError('KMS_WRONG_KEY_USAGE', this.keyRef, msg, details);
      if (/disabled|less than the minimum|minimum (encryption|available) (key )?version|archived/i.test(reason))
        throw kmsError('KMS_KEY_DISABLED', this.keyRef, msg, details);
      if (/unsupported key type|unsupported hash|invalid hash/i.test(reason)) throw kmsError('KMS_UNSUPPORTED_KEY_SPEC', this.keyRef, msg, details);
    }
    if (res.status === 404) throw kmsError('KMS_ERROR', this.keyRef, `Vault: cannot ${action}: not found (${reason})`, { ...details, reason: 'not-found' });
    throw kmsError('KMS_ERROR', this.keyRef, msg, details);
  }
}

interface VaultKey {
  key: KeyObject;
  version: number;
}

/** A cosign-compatible signer over a Vault transit key. */
class VaultSigner implements Signer {
  readonly #key = new CachedFetch<VaultKey>(() => this.#fetch());

  readonly keyRef: string;
  private readonly client: VaultClient;
  private readonly mount: string;
  private readonly key: string;
  private readonly pinnedVersion: number | undefined;
  private readonly hash: HashAlgorithm;

  constructor(keyRef: string, client: VaultClient, mount: string, key: string, pinnedVersion: number | undefined, hash: HashAlgorithm) {
    this.keyRef = keyRef;
    this.client = client;
    this.mount = mount;
    this.key = key;
    this.pinnedVersion = pinnedVersion;
    this.hash = hash;
  }

  async publicKey(): Promise<KeyObject> {
    return (await this.#key.get()).key;
  }

  async #fetch(): Promise<VaultKey> {
    const r = await this.client.call('GET', `${this.mount}/keys/${this.key}`, undefined, `read transit key ${this.key}`);
    const data = r.json?.['data'];
    if (data === null || typeof data !== 'object') throw kmsError('KMS_ERROR', this.keyRef, 'Vault: transit key response has no data');
    const d = data as Record<string, unknown>;
    if (d['supports_signing'] === false)
      throw kmsError('KMS_WRONG_KEY_USAGE', this.keyRef, `Vault transit key ${this.key} of type ${String(d['type'])} does not support signing`);
    const latest = Number(d['latest_version']);
    const version = this.pinnedVersion ?? latest;
    if (!Number.isInteger(version) || version < 1) throw kmsError('KMS_ERROR', this.keyRef, 'Vault: transit key response has no valid latest_version');
    const keys = d['keys'];
    const entry = keys !== null && typeof keys === 'object' ? (keys as Record<string, unknown>)[String(version)] : undefined;
    if (entry === undefined)
      throw kmsError('KMS_KEY_DISABLED', this.keyRef, `Vault transit key ${this.key} has no version ${version} (deleted, or below min_decryption_version)`);
    if (entry === null || typeof entry !== 'object')
      throw kmsError('KMS_WRONG_KEY_USAGE', this.keyRef, `Vault transit key ${this.key} has no public key (type ${String(d['type'])})`);
    const e = entry as Record<string, unknown>;
    const pub = e['public_key'];
    if (typeof pub !== 'string' || pub === '')
      throw kmsError('KMS_WRONG_KEY_USAGE', this.keyRef, `Vault transit key ${this.key} has no public key (type ${String(d['type'])})`);
    let key: KeyObject;
    try {
      if (e['name'] === 'ed25519' || d['type'] === 'ed25519') {
        const raw = decodeBase64Strict(pub, 'Vault ed25519 public key');
        if (raw.length !== 32) throw new Error('ed25519 public key must be 32 bytes');
        key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
      } else {
        key = parsePublicKey(pub, `Vault transit key ${this.key} public key`);
      }
      keyInfo(key);
    } catch (err) {
      throw kmsError('KMS_UNSUPPORTED_KEY_SPEC', this.keyRef, `Vault transit key ${this.key}: unsupported public key (${describe(err)})`);
    }
    return { key, version };
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const { key, version } = await this.#key.get();
    if (key.asymmetricKeyType === 'ed25519')
      throw kmsError('KMS_UNSUPPORTED_KEY_SPEC', this.keyRef, 'Vault ed25519 transit keys are not supported for cosign signing (cosign signs Ed25519ph)');
    const d = digest(this.hash, message);
    const body = {
      input: encodeBase64(d),
      prehashed: true,
      key_version: String(this.pinnedVersion ?? 0),
      signature_algorithm: 'pkcs1v15',
    };
    try {
      const r = await this.client.call('POST', `${this.mount}/sign/${this.key}/${HASH_PATH[this.hash]}`, body, `sign with transit key ${this.key}`);
      const sig = (r.json?.['data'] as Record<string, unknown> | undefined)?.['signature'];
      if (typeof sig !== 'string') throw kmsError('KMS_ERROR', this.keyRef, 'Vault: sign response has no data.signature');
      const m = /^vault:v(\d+):(.*)$/s.exec(sig);
      if (m === null) throw kmsError('KMS_ERROR', this.keyRef, 'Vault: signature does not start with vault:vN:');
      if (Number(m[1]) !== version) {
        this.#key.clear(); // the key was rotated: the cached public key is stale
        throw kmsError('KMS_ERROR', this.keyRef, `Vault signed with key version ${m[1]} but the public key in use is version ${version} (key rotated?); retry`);
      }
      return decodeBase64Strict(m[2] as string, 'Vault signature', 'KMS_ERROR');
    } catch (e) {
      throw passThrough(e) ?? kmsError('KMS_ERROR', this.keyRef, `Vault signing failed: ${describe(e, this.client.session.secrets())}`);
    }
  }
}

async function readCa(caCert: string | undefined): Promise<string | undefined> {
  if (caCert === undefined || caCert === '') return undefined;
  if (caCert.includes('-----BEGIN')) return caCert;
  return readFileLimited(caCert, MAX_CA_BUNDLE_BYTES, 'Vault CA certificate file', 'utf8');
}

async function defaultToken(env: KmsEnv): Promise<string | undefined> {
  const t = env['VAULT_TOKEN'] ?? env['BAO_TOKEN'];
  if (t !== undefined && t !== '') return t;
  try {
    return (await readFileLimited(join(homedir(), '.vault-token'), MAX_TOKEN_FILE_BYTES, 'Vault token file', 'utf8')).trim();
  } catch {
    return undefined;
  }
}

function authFromEnv(env: KmsEnv): VaultAuth | undefined {
  const method = env['VAULT_AUTH_METHOD'];
  const role = env['VAULT_AUTH_ROLE'] ?? '';
  const mount = env['VAULT_AUTH_MOUNT'];
  const file = env['VAULT_AUTH_JWT_FILE'];
  if (method === 'kubernetes') return { method, role, ...(mount ? { mount } : {}), ...(file ? { jwtPath: file } : {}) };
  if (method === 'jwt') return { method, role, ...(mount ? { mount } : {}), ...(file ? { jwtPath: file } : {}) };
  return undefined;
}

/** Build a signer for `hashivault://<key>` / `openbao://<key>`. */
export async function vaultSigner(keyRef: string, opts: VaultKmsOptions = {}, env: KmsEnv = process.env): Promise<Signer> {
  const { key } = parseVaultReference(keyRef);
  const address = opts.address ?? env['VAULT_ADDR'] ?? env['BAO_ADDR'];
  if (address === undefined || address === '') throw kmsError('KMS_ERROR', keyRef, 'VAULT_ADDR is not set', { reason: 'no-address' });
  let auth: VaultAuth = opts.auth ?? (opts.token !== undefined ? { method: 'token', token: opts.token } : (authFromEnv(env) ?? { method: 'token' }));
  if (auth.method === 'token' && (auth.token === undefined || auth.token === '')) auth = { method: 'token', token: await defaultToken(env) };
  if (auth.method !== 'token' && (auth.role === undefined || auth.role === '')) throw kmsError('KMS_ERROR', keyRef, `Vault ${auth.method} auth needs a role`);
  const mount = trimSlashes(opts.transitPath ?? (env['TRANSIT_SECRET_ENGINE_PATH'] || 'transit'));
  if (opts.keyVersion !== undefined && (!Number.isInteger(opts.keyVersion) || opts.keyVersion < 1))
    throw kmsError('KMS_ERROR', keyRef, 'Vault keyVersion must be an integer ≥ 1');
  let ca: string | undefined;
  try {
    ca = await readCa(opts.caCert ?? env['VAULT_CACERT']);
  } catch (e) {
    throw kmsError('KMS_ERROR', keyRef, `cannot read the Vault CA certificate (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const tls = { ...(ca !== undefined ? { ca } : {}), insecureSkipVerify: opts.insecureSkipVerify ?? envBool(env['VAULT_SKIP_VERIFY']) };
  const client = new VaultClient(
    keyRef,
    env,
    address,
    opts.namespace ?? env['VAULT_NAMESPACE'] ?? env['BAO_NAMESPACE'],
    tls,
    opts.timeoutMs ?? 30_000,
    auth,
    opts.renew ?? auth.method !== 'token',
    opts.renewBeforeSeconds === undefined ? undefined : opts.renewBeforeSeconds * 1000,
    opts.now ?? Date.now,
  );
  return new VaultSigner(keyRef, client, mount, key, opts.keyVersion, opts.hash ?? 'sha256');
}
