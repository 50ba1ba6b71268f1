/**
 * A small registry client used by the CLI only while `src/oci` (the library's `RegistryClient`) is not
 * available in the build. It speaks the OCI distribution API over `fetch`: anonymous, basic and bearer
 * token auth (credentials from the flags or `$DOCKER_CONFIG/config.json` `auths`), plain HTTP for
 * loopback registries or with `--allow-http-registry`, digest checks on everything read.
 *
 * It implements the methods `signImage`/`verifyImage` and the CLI verbs call. It is deliberately
 * minimal (no credential helpers, no retries): the library client replaces it.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fail } from '../errors.js';
import type { ImageReference } from '../reference.js';
import { isLoopbackRegistry } from '../reference.js';

/** Options of {@link FallbackRegistryClient}. */
export interface FallbackClientOptions {
  readonly allowHttp?: boolean;
  readonly allowInsecure?: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly token?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

type Sig = { signal?: AbortSignal; maxBytes?: number };

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

function sha256(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** The fallback client (see the module description). */
export class FallbackRegistryClient {
  readonly #opts: FallbackClientOptions;
  readonly #tokens = new Map<string, string>();

  constructor(opts: FallbackClientOptions = {}) {
    this.#opts = opts;
  }

  #base(registry: string): string {
    const http = this.#opts.allowHttp === true || isLoopbackRegistry(registry);
    return `${http ? 'http' : 'https'}://${registry}`;
  }

  #basic(registry: string): string | undefined {
    const o = this.#opts;
    if (o.username !== undefined && o.username !== '') return Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64');
    const env = o.env ?? process.env;
    const dir = env.DOCKER_CONFIG ?? (env.HOME === undefined ? undefined : path.join(env.HOME, '.docker'));
    if (dir === undefined) return undefined;
    try {
      const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
      for (const [k, v] of Object.entries(cfg.auths ?? {})) {
        const host = k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
        if (host !== registry && !(registry === 'index.docker.io' && host === 'docker.io')) continue;
        if (typeof v.auth === 'string' && v.auth !== '') return v.auth;
        if (typeof v.username === 'string') return Buffer.from(`${v.username}:${v.password ?? ''}`).toString('base64');
      }
    } catch {
      return undefined;
    }
    return undefined;
  }

  async #token(registry: string, challenge: string, scope: string, signal?: AbortSignal): Promise<string | undefined> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const realm = params.realm;
    if (realm === undefined) return undefined;
    const url = new URL(realm);
    if (params.service !== undefined) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', scope);
    const basic = this.#basic(registry);
    const res = await fetch(url, { headers: basic === undefined ? {} : { authorization: `Basic ${basic}` }, ...(signal === undefined ? {} : { signal }) });
    if (!res.ok) throw fail('REGISTRY_UNAUTHORIZED', `token request to ${url.origin} failed: HTTP ${res.status}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    return body.token ?? body.access_token;
  }

  async #request(repo: ImageReference, method: string, urlPath: string, init: { headers?: Record<string, string>; body?: Uint8Array; signal?: AbortSignal; push?: boolean } = {}): Promise<Response> {
    const url = urlPath.startsWith('http') ? urlPath : `${this.#base(repo.registry)}${urlPath}`;
    const scope = `repository:${repo.repository}:${init.push === true ? 'pull,push' : 'pull'}`;
    const key = `${repo.registry}|${scope}`;
    const doFetch = (auth?: string): Promise<Response> =>
      fetch(url, {
        method,
        headers: { ...(init.headers ?? {}), ...(auth === undefined ? {} : { authorization: auth }) },
        ...(init.body === undefined ? {} : { body: init.body }),
        ...(init.signal === undefined ? {} : { signal: init.signal }),
        redirect: 'follow',
      }).catch((cause: unknown) => {
        if ((cause as Error).name === 'AbortError' || (cause as Error).name === 'TimeoutError') throw cause;
        throw fail('REGISTRY_UNAVAILABLE', `${method} ${url}: ${(cause as Error).message}${(cause as { cause?: { code?: string } }).cause?.code ? ` (${(cause as { cause: { code: string } }).cause.code})` : ''}`, { cause });
      });
    const explicit = this.#opts.token;
    let auth = explicit !== undefined && explicit !== '' ? `Bearer ${explicit}` : this.#tokens.get(key);
    let res = await doFetch(auth);
    if (res.status === 401 && (explicit === undefined || explicit === '')) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      await res.body?.cancel();
      if (/^bearer/i.test(challenge)) {
        const t = await this.#token(repo.registry, challenge, scope, init.signal);
        if (t !== undefined) {
          auth = `Bearer ${t}`;
          this.#tokens.set(key, auth);
        }
      } else {
        const b = this.#basic(repo.registry);
        if (b !== undefined) auth = `Basic ${b}`;
      }
      res = await doFetch(auth);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw fail('REGISTRY_UNAUTHORIZED', `${method} ${url}: HTTP ${res.status}`);
    }
    return res;
  }

  async #error(res: Response, what: string): Promise<never> {
    const text = (await res.text().catch(() => '')).slice(0, 300);
    if (res.status === 404) throw fail('NOT_FOUND', `${what}: HTTP 404 ${text.trim()}`);
    if (res.status === 429) throw fail('REGISTRY_THROTTLED', `${what}: HTTP 429`);
    if (res.status >= 500) throw fail('REGISTRY_UNAVAILABLE', `${what}: HTTP ${res.status} ${text.trim()}`);
    throw fail('REGISTRY_ERROR', `${what}: HTTP ${res.status} ${text.trim()}`);
  }

  static #refPart(ref: ImageReference): string {
    const r = ref.digest ?? ref.tag;
    if (r === undefined) throw fail('BAD_REFERENCE', `${ref.name}: a tag or digest is required`);
    return r;
  }

  /** GET a manifest by tag or digest. */
  async getManifest(ref: ImageReference, opts: Sig = {}): Promise<{ bytes: Uint8Array; digest: `${string}:${string}`; mediaType: string }> {
    const url = `/v2/${ref.repository}/manifests/${FallbackRegistryClient.#refPart(ref)}`;
    const res = await this.#request(ref, 'GET', url, { headers: { accept: MANIFEST_TYPES }, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
    if (!res.ok) return this.#error(res, `GET ${ref.name} manifest ${FallbackRegistryClient.#refPart(ref)}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > 4 * 1024 * 1024) throw fail('TOO_LARGE', `manifest ${ref.name} is larger than 4 MiB`);
    const digest = sha256(bytes) as `${string}:${string}`;
    if (ref.digest !== undefined && ref.digest !== digest) throw fail('DIGEST_MISMATCH', `manifest ${ref.name}@${ref.digest}: content does not match its digest`);
    let mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    try {
      const mt = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown }).mediaType;
      if (typeof mt === 'string') mediaType = mt;
    } catch {
      /* not JSON: let the caller fail */
    }
    return { bytes, digest, mediaType };
  }

  /** PUT a manifest at a tag or digest. */
  async putManifest(ref: ImageReference, bytes: Uint8Array, mediaType: string, opts: Sig = {}): Promise<`${string}:${string}`> {
    const url = `/v2/${ref.repository}/manifests/${FallbackRegistryClient.#refPart(ref)}`;
    const res = await this.#request(ref, 'PUT', url, { headers: { 'content-type': mediaType }, body: bytes, push: true, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
    if (res.status !== 201 && res.status !== 200) return this.#error(res, `PUT ${ref.name} manifest`);
    await res.body?.cancel();
    return sha256(bytes) as `${string}:${string}`;
  }

  /** DELETE a manifest (by digest; a tag is resolved first). */
  async deleteManifest(ref: ImageReference, opts: Sig = {}): Promise<void> {
    const url = `/v2/${ref.repository}/manifests/${FallbackRegistryClient.#refPart(ref)}`;
    const res = await this.#request(ref, 'DELETE', url, { push: true, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
    if (res.status !== 202 && res.status !== 200) return this.#error(res, `DELETE ${ref.name} manifest`);
    await res.body?.cancel();
  }

  /** GET a blob, bounded and digest-checked. */
  async getBlob(repo: ImageReference, digest: `${string}:${string}`, opts: Sig = {}): Promise<Uint8Array> {
    const res = await this.#request(repo, 'GET', `/v2/${repo.repository}/blobs/${digest}`, opts.signal === undefined ? {} : { signal: opts.signal });
    if (!res.ok) return this.#error(res, `GET ${repo.name} blob ${digest}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (opts.maxBytes !== undefined && bytes.length > opts.maxBytes) throw fail('TOO_LARGE', `blob ${digest} is larger than ${opts.maxBytes} bytes`);
    if (sha256(bytes) !== digest) throw fail('DIGEST_MISMATCH', `blob ${digest}: content does not match its digest`);
    return bytes;
  }

  /** Upload a blob unless the registry has it. */
  async uploadBlob(repo: ImageReference, digest: `${string}:${string}`, bytes: Uint8Array, opts: Sig = {}): Promise<void> {
    const sig = opts.signal === undefined ? {} : { signal: opts.signal };
    const head = await this.#request(repo, 'HEAD', `/v2/${repo.repository}/blobs/${digest}`, { ...sig, push: true });
    await head.body?.cancel();
    if (head.ok) return;
    const start = await this.#request(repo, 'POST', `/v2/${repo.repository}/blobs/uploads/`, { ...sig, push: true });
    if (start.status !== 202) return this.#error(start, `POST ${repo.name} blob upload`);
    await start.body?.cancel();
    const loc = start.headers.get('location');
    if (loc === null) throw fail('REGISTRY_ERROR', `POST ${repo.name} blob upload: no Location`);
    const url = new URL(loc, this.#base(repo.registry));
    url.searchParams.set('digest', digest);
    const put = await this.#request(repo, 'PUT', url.href, { ...sig, push: true, body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    if (put.status !== 201) return this.#error(put, `PUT ${repo.name} blob ${digest}`);
    await put.body?.cancel();
  }

  /** Referrers of a digest: the API, else the fallback tag; none when neither exists. */
  async referrers(repo: ImageReference, digest: `${string}:${string}`, opts: Sig = {}): Promise<Array<{ mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }>> {
    const sig = opts.signal === undefined ? {} : { signal: opts.signal };
    const res = await this.#request(repo, 'GET', `/v2/${repo.repository}/referrers/${digest}`, { ...sig, headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
    let doc: { manifests?: Array<{ mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }> } | undefined;
    if (res.ok && (res.headers.get('content-type') ?? '').startsWith('application/vnd.oci.image.index.v1+json')) {
      doc = (await res.json()) as typeof doc;
    } else {
      await res.body?.cancel();
      const tag = digest.replace(':', '-');
      try {
        const m = await this.getManifest({ ...repo, tag, digest: undefined, name: repo.name }, sig);
        doc = JSON.parse(Buffer.from(m.bytes).toString('utf8')) as typeof doc;
      } catch (e) {
        if ((e as { code?: string }).code === 'NOT_FOUND') return [];
        throw e;
      }
    }
    return doc?.manifests ?? [];
  }
}
