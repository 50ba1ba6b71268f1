/**
 * The OCI distribution client: manifests, blobs, tags, deletes and referrers, with registry auth
 * (anonymous, basic, bearer token challenges with per-repository scopes and token reuse until expiry,
 * identity-token refresh grants) and the "never trust the registry" rules: every manifest and blob is
 * checked against its digest, and everything fetched has a size limit.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { schema } from '../internal/deps.js';
import { parseDigest, type Digest } from '../digest.js';
import { parseJson } from '../json/strict.js';
import { CosignError, fail, isCosignError } from '../errors.js';
import { formatReference, isLoopbackRegistry, withTag, type ImageReference } from '../reference.js';
import {
  DOCKER_MANIFEST_LIST_MEDIA_TYPE,
  DOCKER_MANIFEST_MEDIA_TYPE,
  manifestMediaType,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  parseImageIndex,
  referrersFallbackTag,
  type Descriptor,
} from './manifest.js';
import { anonymousKeychain, dockerConfigKeychain, type Credentials, type Keychain, type KeychainContext } from './keychain.js';
import { headerString, redact, Transport, untilAborted, type HttpResponse, type TransportOptions, type TransportStats } from './transport.js';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';

/** Media types a manifest GET accepts by default. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST_LIST_MEDIA_TYPE].join(', ');

/** How many times {@link RegistryClient.updateFallbackReferrers} tries a conditional write answered 412. */
export const FALLBACK_INDEX_ATTEMPTS = 10;

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions extends TransportOptions {
  /**
   * Where credentials come from. Default: Docker's `config.json` (`DOCKER_CONFIG`), else anonymous, as
   * cosign. Cloud credentials are opt-in (no metadata or token service is called unless asked):
   * `chainKeychains(dockerConfigKeychain(), cloudKeychain())`, or `k8sKeychain()` for pull secrets.
   */
  readonly keychain?: Keychain;
  /** Registries (`host[:port]`) where plain HTTP is allowed besides loopback ones (`--allow-http-registry`). */
  readonly insecureRegistries?: ReadonlyArray<string>;
  /** Allow plain HTTP to any registry (`--allow-http-registry` with no list). */
  readonly allowHttp?: boolean;
  /** Largest manifest accepted. Default 4 MiB (registries refuse larger ones themselves). */
  readonly maxManifestBytes?: number;
  /** Default largest blob accepted by {@link RegistryClient.getBlob}. Default 16 MiB. */
  readonly maxBlobBytes?: number;
}

/** A fetched manifest. */
export interface ManifestResponse {
  /** The exact bytes (already checked against `digest`). */
  readonly bytes: Uint8Array;
  /** The manifest's digest. */
  readonly digest: Digest;
  /** Its media type (the `mediaType` field, else Content-Type). */
  readonly mediaType: string;
  /** Size in bytes. */
  readonly size: number;
}

/** Per-call options. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Size limit for this call. */
  readonly maxBytes?: number;
  /** `Accept` header for manifest GETs. */
  readonly accept?: string;
}

/**
 * What verification reads from where images live: manifests, blobs and referrers. {@link RegistryClient}
 * reads them from a registry, `OciLayout` from an OCI image layout on disk (`verify --local-image`), so
 * both go through the same verification code. Every implementation checks content against its digest
 * and enforces size limits.
 */
export interface RegistryReader {
  /**
   * A manifest by tag or digest, its bytes checked against the digest.
   * @throws CosignError `NOT_FOUND`, `DIGEST_MISMATCH`, `TOO_LARGE`, …
   */
  getManifest(ref: ImageReference, options?: CallOptions): Promise<ManifestResponse>;
  /**
   * A blob of `repo`, its bytes checked against `digest`.
   * @throws CosignError `NOT_FOUND`, `DIGEST_MISMATCH`, `TOO_LARGE`, …
   */
  getBlob(repo: ImageReference, digest: Digest, options?: CallOptions): Promise<Uint8Array>;
  /** Descriptors of the manifests whose `subject` is `digest` (optionally only those of `artifactType`). */
  referrers(repo: ImageReference, digest: Digest, options?: CallOptions & { artifactType?: string }): Promise<Descriptor[]>;
}

interface TokenEntry {
  readonly value: string;
  readonly expires: number;
}

const TokenSchema = schema((z) => z.object({ token: z.string().optional(), access_token: z.string().optional(), expires_in: z.number().optional() }));
const ErrorsSchema = schema((z) => z.object({ errors: z.array(z.object({ code: z.string().optional(), message: z.string().optional() })).optional() }));
const ReferrerManifestSchema = schema((z) => z.object({ config: z.object({ mediaType: z.string() }), subject: z.object({ digest: z.string() }).optional() }));
const TagsSchema = schema((z) => z.object({ tags: z.array(z.string()).nullable().optional() }));

type Action = 'pull' | 'push' | 'delete';
type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
type RequestOptions = { headers?: Record<string, string>; body?: Uint8Array; maxBytes?: number; signal?: AbortSignal };

/**
 * A registry client. Create one per process and share it: connections, tokens and per-registry
 * discoveries (scheme, auth challenge, referrers support) are reused across calls.
 */
export class RegistryClient implements RegistryReader {
  readonly #transport: Transport;
  readonly #keychain: Keychain;
  readonly #insecure: ReadonlySet<string>;
  readonly #allowHttp: boolean;
  readonly #maxManifest: number;
  readonly #maxBlob: number;
  readonly #schemes = new Map<string, Promise<'https' | 'http'>>();
  readonly #challenges = new Map<string, Challenge>();
  readonly #tokens = new Map<string, TokenEntry | Promise<TokenEntry>>();
  readonly #referrersApi = new Map<string, boolean>();
  #preconnecting = 0;
  /** Token fetches made (for tests and benchmarks). */
  tokenFetches = 0;

  constructor(options: RegistryClientOptions = {}) {
    this.#transport = new Transport(options);
    this.#keychain = options.keychain ?? dockerConfigKeychain();
    this.#insecure = new Set(options.insecureRegistries ?? []);
    this.#allowHttp = options.allowHttp ?? false;
    this.#maxManifest = options.maxManifestBytes ?? 4 * 1024 * 1024;
    this.#maxBlob = options.maxBlobBytes ?? 16 * 1024 * 1024;
  }

  /** Request counters, TLS handshakes (full and resumed, per host) and token fetches. */
  get stats(): Readonly<TransportStats & { tokenFetches: number }> {
    return { ...this.#transport.stats, tokenFetches: this.tokenFetches };
  }

  /** Close idle connections. */
  close(): void {
    this.#transport.close();
  }

  /**
   * Start finding out how to reach `registry` (`host[:port]`) in the background: where plain HTTP is
   * allowed, the HTTPS-or-HTTP probe. A CLI calls this first so the probe's round trip overlaps its
   * own start-up work. A hint, bounded: once per registry, and ignored while
   * {@link RegistryClient.MAX_PRECONNECTS} registries are being probed (a call naming a thousand
   * registries starts no more). Never throws nor rejects: a failure is reported by the next real call
   * (which probes again).
   */
  preconnect(registry: string): void {
    if (this.#schemes.has(registry) || this.#preconnecting >= RegistryClient.MAX_PRECONNECTS) return;
    this.#preconnecting++;
    this.#scheme(registry)
      .catch(() => undefined)
      .finally(() => this.#preconnecting--);
  }

  /** Most {@link RegistryClient.preconnect} probes in flight at once. */
  static readonly MAX_PRECONNECTS = 4;

  // --- manifests -------------------------------------------------------------------------------

  /**
   * GET a manifest by tag or digest. By digest, the bytes must hash to it; by tag, the digest is
   * computed (and must agree with `Docker-Content-Digest` when the registry sends one).
   * @throws CosignError `NOT_FOUND`, `DIGEST_MISMATCH`, `TOO_LARGE`, `REGISTRY_*`.
   */
  async getManifest(ref: ImageReference, options: CallOptions = {}): Promise<ManifestResponse> {
    const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
    const res = await this.#call(ref, 'pull', 'GET', `/manifests/${tagOrDigest}`, {
      headers: { accept: options.accept ?? MANIFEST_ACCEPT },
      maxBytes: options.maxBytes ?? this.#maxManifest,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.#expect(res, [200], ref, 'manifest');
    const bytes = new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.byteLength);
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
    const expected = ref.digest ?? (headerString(res.headers['docker-content-digest']) as Digest | undefined);
    if (expected !== undefined && (expected as string) !== '') {
      const { algorithm } = parseDigest(expected);
      if (algorithm !== 'sha256' && algorithm !== 'sha384' && algorithm !== 'sha512')
        throw fail(
          'BAD_DIGEST',
          `manifest ${formatReference(ref)}: unsupported digest algorithm in ${ref.digest === undefined ? 'Docker-Content-Digest' : 'the reference'}: ${JSON.stringify(expected.slice(0, 100))}`,
        );
      const computed = algorithm === 'sha256' ? actual : (`${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` as Digest);
      if (computed !== expected) {
        throw fail('DIGEST_MISMATCH', `manifest ${formatReference(ref)}: registry sent content with digest ${computed}, expected ${expected}`, {
          details: { expected, actual: computed },
        });
      }
    }
    // Untrusted: strict JSON (no duplicate keys; escaped keys decoded right, unlike V8's JSON.parse).
    const mediaType = manifestMediaType(bytes, headerString(res.headers['content-type'])?.split(';')[0]?.trim() ?? '', `manifest ${formatReference(ref)}`);
    return { bytes, digest: ref.digest ?? actual, mediaType, size: bytes.byteLength };
  }

  /** HEAD a manifest: its descriptor, or undefined when it does not exist. */
  async headManifest(ref: ImageReference, options: CallOptions = {}): Promise<Descriptor | undefined> {
    const res = await this.#call(ref, 'pull', 'HEAD', `/manifests/${ref.digest ?? ref.tag ?? 'latest'}`, {
      headers: { accept: options.accept ?? MANIFEST_ACCEPT },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    if (res.status === 404) return undefined;
    this.#expect(res, [200], ref, 'manifest');
    const digest = headerString(res.headers['docker-content-digest']);
    if (digest === undefined) {
      const m = await this.getManifest(ref, options);
      return { mediaType: m.mediaType, digest: m.digest, size: m.size };
    }
    parseDigest(digest);
    return {
      mediaType: headerString(res.headers['content-type'])?.split(';')[0]?.trim() ?? '',
      digest: digest as Digest,
      size: Number(headerString(res.headers['content-length']) ?? 0),
    };
  }

  /** PUT a manifest at `ref`'s tag (or digest). Returns the digest of the bytes. */
  async putManifest(ref: ImageReference, bytes: Uint8Array, mediaType: string, options: CallOptions = {}): Promise<Digest> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
    const res = await this.#call(ref, 'push', 'PUT', `/manifests/${ref.digest ?? ref.tag ?? digest}`, {
      headers: { 'content-type': mediaType },
      body: bytes,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.#expect(res, [200, 201, 202], ref, 'manifest push');
    return digest;
  }

  /** DELETE a manifest by digest. */
  async deleteManifest(ref: ImageReference, options: CallOptions = {}): Promise<void> {
    if (ref.digest === undefined) throw fail('USAGE', `deleting needs a digest reference, not ${formatReference(ref)}`);
    const res = await this.#call(ref, 'delete', 'DELETE', `/manifests/${ref.digest}`, options.signal === undefined ? {} : { signal: options.signal });
    this.#expect(res, [200, 202, 204], ref, 'manifest delete');
  }

  // --- blobs -----------------------------------------------------------------------------------

  /**
   * GET a blob; the bytes must hash to `digest`.
   * @throws CosignError `NOT_FOUND`, `DIGEST_MISMATCH`, `TOO_LARGE`, `REGISTRY_*`.
   */
  async getBlob(repo: ImageReference, digest: Digest, options: CallOptions = {}): Promise<Uint8Array> {
    const { algorithm } = parseDigest(digest);
    const res = await this.#call(repo, 'pull', 'GET', `/blobs/${digest}`, {
      maxBytes: options.maxBytes ?? this.#maxBlob,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.#expect(res, [200], repo, `blob ${digest}`);
    const actual = `${algorithm}:${createHash(algorithm).update(res.body).digest('hex')}`;
    if (actual !== digest) {
      throw fail('DIGEST_MISMATCH', `blob ${digest} in ${repo.name}: registry sent content with digest ${actual}`, { details: { expected: digest, actual } });
    }
    return new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.byteLength);
  }

  /** Whether a blob exists. */
  async headBlob(repo: ImageReference, digest: Digest, options: CallOptions = {}): Promise<boolean> {
    const res = await this.#call(repo, 'pull', 'HEAD', `/blobs/${digest}`, options.signal === undefined ? {} : { signal: options.signal });
    if (res.status === 404) return false;
    this.#expect(res, [200], repo, `blob ${digest}`);
    return true;
  }

  /**
   * Upload a blob unless it already exists: cross-repository mount when `mountFrom` is given, else a
   * monolithic POST + PUT (chunked PATCHes for blobs over `chunkSize`).
   */
  async uploadBlob(
    repo: ImageReference,
    digest: Digest,
    bytes: Uint8Array,
    options: CallOptions & { mountFrom?: ImageReference; chunkSize?: number } = {},
  ): Promise<void> {
    const sig = options.signal === undefined ? {} : { signal: options.signal };
    if (await this.headBlob(repo, digest, sig)) return;
    const query =
      options.mountFrom !== undefined && options.mountFrom.registry === repo.registry
        ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(options.mountFrom.repository)}`
        : '';
    const start = await this.#call(repo, 'push', 'POST', `/blobs/uploads/${query}`, { ...sig, body: new Uint8Array(0) });
    if (start.status === 201 && query !== '') return; // mounted
    this.#expect(start, [202], repo, 'blob upload');
    let location = this.#location(start, repo);
    const chunk = options.chunkSize ?? 8 * 1024 * 1024;
    if (bytes.byteLength > chunk) {
      for (let off = 0; off < bytes.byteLength; off += chunk) {
        const part = bytes.subarray(off, Math.min(bytes.byteLength, off + chunk));
        const res = await this.#callUrl(repo, 'push', 'PATCH', location, {
          ...sig,
          body: part,
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${off}-${off + part.byteLength - 1}` },
        });
        this.#expect(res, [202], repo, 'blob upload chunk');
        location = this.#location(res, repo);
      }
      location.searchParams.set('digest', digest);
      const done = await this.#callUrl(repo, 'push', 'PUT', location, { ...sig, body: new Uint8Array(0) });
      this.#expect(done, [201], repo, 'blob upload');
      return;
    }
    location.searchParams.set('digest', digest);
    const done = await this.#callUrl(repo, 'push', 'PUT', location, { ...sig, body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    this.#expect(done, [201], repo, 'blob upload');
  }

  // --- tags and referrers ----------------------------------------------------------------------

  /** All tags of a repository (following `Link` pagination). */
  async listTags(repo: ImageReference, options: CallOptions = {}): Promise<string[]> {
    const tags: string[] = [];
    let path = '/tags/list?n=1000';
    for (let page = 0; page < 1000; page++) {
      const res = await this.#call(repo, 'pull', 'GET', path, options.signal === undefined ? {} : { signal: options.signal });
      if (res.status === 404) return tags;
      this.#expect(res, [200], repo, 'tags list');
      const doc = TagsSchema().safeParse(parseJson(res.body, `tags list of ${repo.name}`, 'REGISTRY_ERROR'));
      if (!doc.success) throw fail('REGISTRY_ERROR', `tags list of ${repo.name}: unexpected shape`);
      tags.push(...(doc.data.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(headerString(res.headers.link) ?? '');
      if (link?.[1] === undefined) return tags;
      const next = new URL(link[1], 'http://x');
      path = `/tags/list${next.search}`;
    }
    return tags;
  }

  /**
   * Manifests whose `subject` is `digest`: the referrers API when the registry has it, else the
   * fallback tag `sha256-<hex>` index (remembered per registry). Filtering by artifact type is done
   * here as well, since registries may ignore the query.
   */
  async referrers(repo: ImageReference, digest: Digest, options: CallOptions & { artifactType?: string } = {}): Promise<Descriptor[]> {
    const sig = options.signal === undefined ? {} : { signal: options.signal };
    let list: readonly Descriptor[] | undefined;
    if (this.#referrersApi.get(repo.registry) !== false) {
      const q = options.artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(options.artifactType)}`;
      const res = await this.#call(repo, 'pull', 'GET', `/referrers/${digest}${q}`, { ...sig, maxBytes: this.#maxManifest });
      const ct = headerString(res.headers['content-type'])?.split(';')[0]?.trim();
      if (res.status === 200 && ct === OCI_INDEX_MEDIA_TYPE) {
        this.#referrersApi.set(repo.registry, true);
        list = parseImageIndex(res.body, OCI_INDEX_MEDIA_TYPE, `referrers of ${digest}`).manifests;
      } else if (res.status === 404 || res.status === 400 || res.status === 405 || (res.status === 200 && ct !== OCI_INDEX_MEDIA_TYPE)) {
        this.#referrersApi.set(repo.registry, false);
      } else {
        this.#expect(res, [200], repo, 'referrers');
      }
    }
    if (list === undefined) {
      try {
        const m = await this.getManifest(withTag(repo, referrersFallbackTag(digest)), { ...sig, accept: OCI_INDEX_MEDIA_TYPE });
        list = parseImageIndex(m.bytes, m.mediaType, `referrers index ${referrersFallbackTag(digest)}`).manifests;
      } catch (e) {
        if (isCosignError(e, 'NOT_FOUND')) list = [];
        else throw e;
      }
    }
    return list.filter((d) => options.artifactType === undefined || d.artifactType === options.artifactType);
  }

  /** Whether the registry answered the referrers API (undefined before the first referrers call). */
  supportsReferrersApi(registry: string): boolean | undefined {
    return this.#referrersApi.get(registry);
  }

  /**
   * Push a referrer manifest (one whose `subject` is `subject`) by digest, the way cosign 3 /
   * go-containerregistry do: when the registry has the referrers API (its PUT answer names the subject
   * in `OCI-Subject`, or it answered the referrers API before) nothing else is written; otherwise the
   * manifest is added to the fallback tag index `sha256-<hex>` with the descriptor go-containerregistry
   * writes (`mediaType`, `size`, `digest`, and `artifactType` = the manifest's config media type; no
   * annotations). Returns the manifest's descriptor and whether the fallback index was used.
   */
  async pushReferrer(
    repo: ImageReference,
    manifest: Uint8Array,
    mediaType: string,
    subject: Digest,
    options: CallOptions = {},
  ): Promise<{ readonly descriptor: Descriptor; readonly fallback: boolean }> {
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}` as Digest;
    const doc = ReferrerManifestSchema().safeParse(parseJson(manifest, 'referrer manifest', 'USAGE'));
    if (!doc.success) throw fail('USAGE', 'referrer manifest: expected a manifest with config.mediaType');
    if (doc.data.subject?.digest !== subject)
      throw fail('USAGE', `referrer manifest: its subject ${JSON.stringify(doc.data.subject?.digest ?? null)} is not ${subject}`);
    const ref: ImageReference = { ...repo, digest, tag: undefined };
    const res = await this.#call(ref, 'push', 'PUT', `/manifests/${digest}`, {
      headers: { 'content-type': mediaType },
      body: manifest,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.#expect(res, [200, 201, 202], ref, 'referrer push');
    const size = manifest.byteLength;
    const configType = doc.data.config.mediaType;
    const descriptor: Descriptor = { mediaType, digest, size, ...(configType === '' ? {} : { artifactType: configType }) };
    if (headerString(res.headers['oci-subject']) === subject) {
      this.#referrersApi.set(repo.registry, true);
      return { descriptor, fallback: false };
    }
    if (this.#referrersApi.get(repo.registry) === undefined) {
      // Ask once: the referrers API answers an index (possibly empty) when the registry has it.
      await this.referrers(repo, subject, options);
    }
    if (this.#referrersApi.get(repo.registry) === true) return { descriptor, fallback: false };
    await this.addFallbackReferrer(repo, subject, descriptor, options);
    return { descriptor, fallback: true };
  }

  /**
   * Record `descriptor` as a referrer of `subject` in the fallback tag index (for registries without
   * the referrers API): added once, entries sorted by digest (what cosign 3.1 leaves in the index).
   * Concurrent writers: see {@link RegistryClient.updateFallbackReferrers}.
   */
  async addFallbackReferrer(repo: ImageReference, subject: Digest, descriptor: Descriptor, options: CallOptions = {}): Promise<void> {
    await this.updateFallbackReferrers(
      repo,
      subject,
      (entries) => {
        if (entries.some((d) => d.digest === descriptor.digest)) return undefined;
        return [...entries, descriptor].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
      },
      options,
    );
  }

  /** Remove the referrer `digest` of `subject` from the fallback tag index (nothing when absent). Returns whether it was there. */
  async removeFallbackReferrer(repo: ImageReference, subject: Digest, digest: Digest, options: CallOptions = {}): Promise<boolean> {
    let found = false;
    await this.updateFallbackReferrers(
      repo,
      subject,
      (entries) => {
        found = entries.some((d) => d.digest === digest);
        return found ? entries.filter((d) => d.digest !== digest) : undefined;
      },
      options,
    );
    return found;
  }

  /**
   * Read-modify-write of the fallback tag index `sha256-<hex>` of `subject`: `update` gets the current
   * entries and returns the new ones (or undefined to leave the index alone). The write is conditional:
   * `If-Match: <ETag of what was read>`, or `If-None-Match: *` when the index did not exist; on
   * `412 Precondition Failed` (another writer got there first) the index is read again and `update`
   * re-applied, up to `FALLBACK_INDEX_ATTEMPTS` (10) times (then `REGISTRY_ERROR`). On a registry that
   * ignores these headers (Debian's docker-registry / distribution 2.8 sends an ETag but never answers
   * 412) this is a plain last-writer-wins update, as cosign's own.
   */
  async updateFallbackReferrers(
    repo: ImageReference,
    subject: Digest,
    update: (entries: readonly Descriptor[]) => readonly Descriptor[] | undefined,
    options: CallOptions = {},
  ): Promise<void> {
    const tag = referrersFallbackTag(subject);
    const tagRef = withTag(repo, tag);
    const sig = options.signal === undefined ? {} : { signal: options.signal };
    for (let attempt = 1; ; attempt++) {
      const res = await this.#call(tagRef, 'pull', 'GET', `/manifests/${tag}`, {
        ...sig,
        headers: { accept: OCI_INDEX_MEDIA_TYPE },
        maxBytes: this.#maxManifest,
      });
      let entries: readonly Descriptor[] = [];
      let condition: Record<string, string>;
      if (res.status === 404) {
        condition = { 'if-none-match': '*' };
      } else {
        this.#expect(res, [200], tagRef, 'referrers index');
        const ct = headerString(res.headers['content-type'])?.split(';')[0]?.trim() ?? '';
        entries = parseImageIndex(res.body, manifestMediaType(res.body, ct, `referrers index ${tag}`), `referrers index ${tag}`).manifests;
        const etag = headerString(res.headers.etag);
        condition = etag === undefined ? {} : { 'if-match': etag };
      }
      const next = update(entries);
      if (next === undefined) return;
      const index = {
        schemaVersion: 2,
        mediaType: OCI_INDEX_MEDIA_TYPE,
        // go-containerregistry's field order (v1.Descriptor): mediaType, size, digest, annotations, artifactType.
        manifests: next.map((d) => ({
          mediaType: d.mediaType,
          size: d.size,
          digest: d.digest,
          ...(d.annotations === undefined ? {} : { annotations: d.annotations }),
          ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
        })),
      };
      const put = await this.#call(tagRef, 'push', 'PUT', `/manifests/${tag}`, {
        ...sig,
        headers: { 'content-type': OCI_INDEX_MEDIA_TYPE, ...condition },
        body: Buffer.from(JSON.stringify(index)),
      });
      if (put.status === 412 && attempt < FALLBACK_INDEX_ATTEMPTS) {
        const pause = new Promise<void>((r) => setTimeout(r, Math.floor(Math.random() * 20 * attempt)));
        await (options.signal === undefined ? pause : untilAborted(pause, options.signal, 'referrers index update'));
        continue;
      }
      if (put.status === 412)
        throw fail('REGISTRY_ERROR', `referrers index ${formatReference(tagRef)}: still changing under us after ${attempt} attempts (412)`, {
          details: { status: 412 },
        });
      this.#expect(put, [200, 201, 202], tagRef, 'referrers index push');
      return;
    }
  }

  // --- plumbing --------------------------------------------------------------------------------

  #location(res: HttpResponse, repo: ImageReference): URL {
    const loc = headerString(res.headers.location);
    if (loc === undefined) throw fail('REGISTRY_ERROR', `${repo.registry}: upload response without Location`);
    return new URL(loc, res.url);
  }

  #expect(res: HttpResponse, ok: number[], ref: ImageReference, what: string): void {
    if (ok.includes(res.status)) return;
    const codes = registryErrorCodes(res.body);
    const where = `${what} ${formatReference(ref)}`;
    if (res.status === 404)
      throw fail('NOT_FOUND', `${where}: not found${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`, { details: { status: 404, errors: codes } });
    if (res.status === 401 || res.status === 403)
      throw fail('REGISTRY_UNAUTHORIZED', `${where}: ${res.status === 401 ? 'unauthorized' : 'denied'}${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`, {
        details: { status: res.status, errors: codes },
      });
    if (res.status === 429) throw fail('REGISTRY_THROTTLED', `${where}: throttled`, { details: { status: 429 } });
    throw fail('REGISTRY_ERROR', `${where}: unexpected HTTP ${res.status}${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`, {
      details: { status: res.status, errors: codes },
    });
  }

  async #scheme(registry: string): Promise<'https' | 'http'> {
    let s = this.#schemes.get(registry);
    if (s === undefined) {
      const plainAllowed = isLoopbackRegistry(registry) || this.#insecure.has(registry) || this.#allowHttp;
      s = plainAllowed ? this.#probe(registry) : Promise.resolve('https' as const);
      this.#schemes.set(registry, s);
      s.catch(() => this.#schemes.delete(registry));
    }
    return s;
  }

  /**
   * For registries where plain HTTP is allowed: HTTPS if it answers TLS, else HTTP (as cosign). The probe
   * is a TLS ClientHello over TCP ({@link Transport.probeTls}); a registry that answers TLS is then used
   * over HTTPS with full certificate checks (an untrusted certificate is an error, never a fallback).
   */
  async #probe(registry: string): Promise<'https' | 'http'> {
    return (await this.#transport.probeTls(registry)) === 'plain' ? 'http' : 'https';
  }

  /** Whether plain HTTP may be used to `host` (`host[:port]`). */
  #plainAllowed(host: string): boolean {
    return isLoopbackRegistry(host) || this.#insecure.has(host) || this.#allowHttp;
  }

  /** Wait for the registry's scheme, but no longer than `signal` allows (`what`: the request, for messages). */
  async #schemeFor(registry: string, signal: AbortSignal | undefined, what: string): Promise<'https' | 'http'> {
    const s = this.#scheme(registry);
    return signal === undefined ? s : untilAborted(s, signal, what);
  }

  async #call(ref: ImageReference, action: Action, method: Method, path: string, opts: RequestOptions): Promise<HttpResponse> {
    const scheme = await this.#schemeFor(ref.registry, opts.signal, `${method} ${ref.registry}/v2/${ref.repository}${path.split('?')[0] ?? ''}`);
    const url = new URL(`${scheme}://${ref.registry}/v2/${ref.repository}${path}`);
    return this.#callUrl(ref, action, method, url, opts);
  }

  /**
   * Send a request for `ref`'s registry to `url`: the registry itself, or a URL it handed out (an upload
   * `Location`). Credentials are scoped to the registry's origin (scheme, host and port), as
   * go-containerregistry does: only requests to that origin carry `Authorization` (Basic, or a token from
   * the realm the registry itself named), only a 401 *from* that origin is the registry's challenge (not
   * one from a redirect target such as a blob CDN: that is returned as is, never answered), and the
   * transport drops `Authorization` on every redirect to another origin.
   */
  async #callUrl(ref: ImageReference, action: Action, method: Method, url: URL, opts: RequestOptions): Promise<HttpResponse> {
    const registryOrigin = new URL(`${await this.#schemeFor(ref.registry, opts.signal, `${method} ${redact(url)}`)}://${ref.registry}`).origin;
    const own = url.origin === registryOrigin;
    if (url.protocol === 'http:' && !(own ? this.#plainAllowed(ref.registry) : this.#plainAllowed(url.host))) {
      throw fail(
        'INSECURE_REGISTRY',
        `refusing plain HTTP to ${url.host}${own ? '' : ` (a URL ${ref.registry} sent)`}: allow it explicitly (insecureRegistries / --allow-http-registry)`,
      );
    }
    const scope = `repository:${ref.repository}:${action === 'pull' ? 'pull' : action === 'push' ? 'pull,push' : 'delete'}`;
    const send = async (auth: string | undefined): Promise<HttpResponse> =>
      this.#transport.request({
        method,
        url,
        headers: { ...(opts.headers ?? {}), ...(auth === undefined ? {} : { authorization: auth }) },
        ...(opts.body === undefined ? {} : { body: opts.body }),
        ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
    // Another host (an upload Location on storage, say): no credentials, and its 401 is not ours to answer.
    if (!own) return send(undefined);
    // Known challenge: authenticate up front (no 401 round trip per request).
    const known = this.#challenges.get(registryOrigin);
    let res = await send(known === undefined ? undefined : await this.#authorization(ref, registryOrigin, known, scope, false, opts.signal));
    if (res.status !== 401) return res;
    // A 401 after a redirect to another origin (a blob CDN) is that host's: never recorded as the
    // registry's challenge, never answered with the registry's credentials, its realm never contacted.
    if (res.url.origin !== registryOrigin) return res;
    const header = headerString(res.headers['www-authenticate']);
    const challenge = header === undefined ? undefined : parseWwwAuthenticate(header);
    if (challenge === undefined) return res;
    this.#challenges.set(registryOrigin, challenge);
    const auth = await this.#authorization(ref, registryOrigin, challenge, scope, known !== undefined, opts.signal);
    if (auth === undefined) return res;
    res = await send(auth);
    return res;
  }

  /** The `Authorization` value for a request to the registry (`origin`) under its own `challenge`. */
  async #authorization(
    ref: ImageReference,
    origin: string,
    challenge: Challenge,
    scope: string,
    forceRefresh: boolean,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const creds = await this.#keychain.resolve(ref.registry, ref.repository, this.#keychainContext(origin, signal));
    if (challenge.scheme === 'basic') {
      if (creds === undefined || !('username' in creds)) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (creds !== undefined && 'registryToken' in creds) return `Bearer ${creds.registryToken}`;
    const key = `${origin}|${challenge.params.realm ?? ''}|${challenge.params.service ?? ''}|${scope}`;
    const cached = this.#tokens.get(key);
    if (!forceRefresh && cached !== undefined) {
      const t = await (signal === undefined || !(cached instanceof Promise) ? cached : untilAborted(cached, signal, `token for ${ref.registry}`));
      if (t.expires > Date.now()) return `Bearer ${t.value}`;
    }
    const pending = this.#fetchToken(ref, challenge, scope, creds, signal);
    this.#tokens.set(key, pending);
    try {
      const t = await pending;
      this.#tokens.set(key, t);
      return `Bearer ${t.value}`;
    } catch (e) {
      this.#tokens.delete(key);
      throw e;
    }
  }

  /** What a keychain may use while resolving credentials for `origin`: the transport, same-origin only. */
  #keychainContext(origin: string, signal: AbortSignal | undefined): KeychainContext {
    return {
      scheme: origin.startsWith('http:') ? 'http' : 'https',
      request: (r) => this.#transport.request({ ...r, sameOriginRedirectsOnly: true, ...(signal === undefined ? {} : { signal }) }),
      ...(signal === undefined ? {} : { signal }),
    };
  }

  async #fetchToken(
    ref: ImageReference,
    challenge: Challenge,
    scope: string,
    creds: Credentials | undefined,
    signal: AbortSignal | undefined,
  ): Promise<TokenEntry> {
    const realm = challenge.params.realm;
    if (realm === undefined) throw fail('REGISTRY_UNAUTHORIZED', `${ref.registry}: bearer challenge without realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw fail('REGISTRY_UNAUTHORIZED', `${ref.registry}: bearer challenge realm is not a URL`);
    }
    if (url.protocol === 'http:' && !isLoopbackRegistry(url.host) && !this.#insecure.has(url.host) && !this.#allowHttp) {
      throw fail('INSECURE_REGISTRY', `${ref.registry}: refusing to send credentials to a plain-HTTP token realm ${url.host}`);
    }
    this.tokenFetches++;
    const sig = signal === undefined ? {} : { signal };
    let res: HttpResponse;
    if (creds !== undefined && 'identityToken' in creds) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        client_id: 'cosign-ts',
        scope,
        ...(challenge.params.service === undefined ? {} : { service: challenge.params.service }),
      });
      // The form carries the refresh token: it must not follow a redirect to another host (a 307 keeps the body).
      res = await this.#transport.request({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
        maxBytes: 1024 * 1024,
        sameOriginRedirectsOnly: true,
        ...sig,
      });
    } else {
      if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
      url.searchParams.set('scope', scope);
      const headers: Record<string, string> = {};
      if (creds !== undefined && 'username' in creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      res = await this.#transport.request({ method: 'GET', url, headers, maxBytes: 1024 * 1024, ...sig });
    }
    if (res.status === 401 || res.status === 403)
      throw fail('REGISTRY_UNAUTHORIZED', `${ref.registry}: token request to ${redact(url)} was refused (HTTP ${res.status})`, {
        details: { status: res.status },
      });
    if (res.status !== 200)
      throw fail('REGISTRY_ERROR', `${ref.registry}: token request to ${redact(url)} failed (HTTP ${res.status})`, { details: { status: res.status } });
    const parsed = TokenSchema().safeParse(parseJson(res.body, 'token response', 'REGISTRY_ERROR'));
    const value = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (value === undefined || value === '') throw fail('REGISTRY_ERROR', `${ref.registry}: token response without a token`);
    const ttl = Math.max(10, parsed.success ? (parsed.data.expires_in ?? 60) : 60);
    return { value, expires: Date.now() + (ttl - 5) * 1000 };
  }
}

/** The `errors[].code` values of a distribution error body (empty when unreadable). */
function registryErrorCodes(body: Buffer): string[] {
  if (body.byteLength === 0 || body.byteLength > 64 * 1024) return [];
  try {
    const parsed = ErrorsSchema().safeParse(parseJson(body, 'error body'));
    return parsed.success ? (parsed.data.errors ?? []).map((e) => e.code ?? 'UNKNOWN').slice(0, 5) : [];
  } catch (e) {
    if (e instanceof CosignError) return [];
    throw e;
  }
}

/** The anonymous keychain, for callers that want no `config.json` lookups. */
export { anonymousKeychain };
