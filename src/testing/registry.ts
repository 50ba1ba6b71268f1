/**
 * A small in-memory OCI distribution server for tests and demos (`cosign-ts/testing`): manifests by
 * tag and digest, blobs, monolithic and chunked uploads, cross-repository mounts, tag lists with
 * pagination, deletes, the referrers API (switchable off to exercise the fallback tag), optional basic
 * or bearer-token auth, and a fault injector.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { http } from '../internal/node-http.js';
import type * as httpT from 'node:http';

/** Options of {@link startTestRegistry}. */
export interface TestRegistryOptions {
  /** Serve the referrers API (default true); false answers 404 so clients use the fallback tag. */
  readonly referrers?: boolean;
  /** Require HTTP basic auth with these credentials. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** Require bearer tokens from the registry's own token endpoint (`/token`), granted for these credentials. */
  readonly tokenAuth?: { readonly username: string; readonly password: string; readonly expiresIn?: number };
  /**
   * Honour conditional manifest PUTs (`If-Match` / `If-None-Match` against the `ETag` `"<digest>"` that
   * manifest GETs and HEADs carry, answering 412 Precondition Failed). Default true; false behaves like
   * Debian's docker-registry (no ETag checks).
   */
  readonly conditionalRequests?: boolean;
  /** Host to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /**
   * Serve blob uploads from a second listener on this address (e.g. `127.0.0.2`, another port too), as
   * registries that hand uploads to storage do: the upload `Location` is an absolute URL there, and that
   * listener needs no credentials (the upload URL is the capability). Its requests are logged with its
   * `host`.
   */
  readonly uploadHost?: string;
}

/** A fault to inject into upcoming requests. */
export interface Fault {
  /** Only requests whose path matches. Default: every request. */
  readonly path?: RegExp;
  /** Only this method. */
  readonly method?: string;
  /** How many requests it applies to. Default 1. */
  times?: number;
  /** Answer with this status (and `body`). */
  readonly status?: number;
  readonly body?: string;
  readonly retryAfter?: string;
  /** Wait before answering (ms). With no status, the normal answer follows the delay. */
  readonly delayMs?: number;
  /** Serve different bytes than the digest says (manifest and blob GETs). */
  readonly wrongDigest?: boolean;
  /** Redirect blob GETs to this base URL (e.g. another host serving the same content). */
  readonly redirectTo?: string;
  /** Send this many bytes of body (oversize responses). */
  readonly oversizeBytes?: number;
  /** Reply with malformed JSON. */
  readonly badJson?: boolean;
}

/** Request log entry. */
export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: boolean;
  /** The `Authorization` header as received (test servers only: for "who got which credentials" checks). */
  readonly authorizationHeader?: string;
  /** The `host:port` of the listener that received it (the registry's, or {@link TestRegistryOptions.uploadHost}'s). */
  readonly host: string;
}

/** A running test registry. */
export interface TestRegistry {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `127.0.0.1:PORT`, for image references. */
  readonly host: string;
  readonly port: number;
  /** `host:port` of the upload listener, when {@link TestRegistryOptions.uploadHost} is set. */
  readonly uploadHost?: string;
  /** Every request received, in order. */
  readonly requests: LoggedRequest[];
  /** Token grants made by the token endpoint. */
  readonly tokensIssued: () => number;
  /** Inject faults (applied in order, first match wins). */
  readonly faults: { next(f: Fault): void; clear(): void };
  /**
   * Raw storage access for tests (e.g. to tamper with a blob). Keys: `blobs` by digest, `manifests` by
   * `repo@digest`, `tags` by `repo:tag`; `repoBlobs` says which blob digests each repository holds (a
   * blob stored directly must also be added there to be served).
   */
  readonly storage: {
    blobs: Map<string, Buffer>;
    manifests: Map<string, { bytes: Buffer; mediaType: string }>;
    tags: Map<string, string>;
    repoBlobs: Map<string, Set<string>>;
  };
  close(): Promise<void>;
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const NAME = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*';
const ROUTE = new RegExp(`^/v2/(${NAME})/(manifests|blobs|tags|referrers)(?:/(.*))?$`);

function err(res: httpT.ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Start the in-memory registry on a random port of 127.0.0.1. */
export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const blobs = new Map<string, Buffer>(); // key: digest (shared across repos) — membership per repo below
  const repoBlobs = new Map<string, Set<string>>();
  const manifests = new Map<string, { bytes: Buffer; mediaType: string }>(); // key: repo@digest
  const tags = new Map<string, string>(); // key: repo:tag → digest
  const uploads = new Map<string, { repo: string; parts: Buffer[] }>();
  const requests: LoggedRequest[] = [];
  const faults: Fault[] = [];
  const tokens = new Map<string, number>();
  let tokensIssued = 0;
  let base = '';
  let uploadBase = '';

  const takeFault = (method: string, path: string): Fault | undefined => {
    const i = faults.findIndex((f) => (f.path === undefined || f.path.test(path)) && (f.method === undefined || f.method === method));
    if (i < 0) return undefined;
    const f = faults[i] as Fault;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) faults.splice(i, 1);
    return f;
  };

  const authorized = (req: httpT.IncomingMessage, res: httpT.ServerResponse, repo: string): boolean => {
    const auth = req.headers.authorization;
    if (options.basicAuth !== undefined) {
      const want = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`;
      if (auth === want) return true;
      res.setHeader('www-authenticate', 'Basic realm="cosign-ts test registry"');
      err(res, 401, 'UNAUTHORIZED', 'authentication required');
      return false;
    }
    if (options.tokenAuth !== undefined) {
      const t = auth?.startsWith('Bearer ') === true ? auth.slice(7) : undefined;
      const exp = t === undefined ? undefined : tokens.get(t);
      if (exp !== undefined && exp > Date.now()) return true;
      const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'pull,push';
      res.setHeader('www-authenticate', `Bearer realm="${base}/token",service="cosign-ts-test",scope="repository:${repo}:${action}"`);
      err(res, 401, 'UNAUTHORIZED', 'authentication required');
      return false;
    }
    return true;
  };

  const readBody = (req: httpT.IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const referrersOf = (repo: string, digest: string, artifactType: string | null): unknown => {
    const list: unknown[] = [];
    for (const [key, m] of manifests) {
      if (!key.startsWith(`${repo}@`)) continue;
      let doc: {
        subject?: { digest?: string };
        artifactType?: string;
        config?: { mediaType?: string };
        annotations?: Record<string, string>;
        mediaType?: string;
      };
      try {
        doc = JSON.parse(m.bytes.toString('utf8')) as typeof doc;
      } catch {
        continue;
      }
      if (doc.subject?.digest !== digest) continue;
      const at = doc.artifactType ?? doc.config?.mediaType;
      if (artifactType !== null && at !== artifactType) continue;
      list.push({
        mediaType: m.mediaType,
        digest: key.slice(repo.length + 1),
        size: m.bytes.byteLength,
        ...(at === undefined ? {} : { artifactType: at }),
        ...(doc.annotations === undefined ? {} : { annotations: doc.annotations }),
      });
    }
    return { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: list };
  };

  const handle = async (req: httpT.IncomingMessage, res: httpT.ServerResponse, viaUpload = false): Promise<void> => {
    const url = new URL(req.url ?? '/', viaUpload ? uploadBase : base);
    const method = req.method ?? 'GET';
    requests.push({
      method,
      path: url.pathname,
      authorization: req.headers.authorization !== undefined,
      ...(req.headers.authorization === undefined ? {} : { authorizationHeader: req.headers.authorization }),
      host: url.host,
    });
    if (viaUpload) {
      // The upload listener serves uploads in progress (PATCH/PUT to a Location it handed out), nothing else.
      const inProgress = /^\/v2\/.+\/blobs\/uploads\/[0-9a-f]+$/.test(url.pathname);
      if (!inProgress || (method !== 'PATCH' && method !== 'PUT')) return err(res, 404, 'NAME_UNKNOWN', 'unknown route');
    }
    const fault = takeFault(method, url.pathname);
    if (fault?.delayMs !== undefined) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.status !== undefined) {
      if (fault.retryAfter !== undefined) res.setHeader('retry-after', fault.retryAfter);
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(fault.body ?? '');
      return;
    }
    if (url.pathname === '/token') {
      const ta = options.tokenAuth;
      const auth = req.headers.authorization;
      const body = method === 'POST' ? new URLSearchParams((await readBody(req)).toString()) : undefined;
      const okBasic = ta !== undefined && auth === `Basic ${Buffer.from(`${ta.username}:${ta.password}`).toString('base64')}`;
      const okRefresh = ta !== undefined && body?.get('grant_type') === 'refresh_token' && body.get('refresh_token') === ta.password;
      if (!okBasic && !okRefresh) return err(res, 401, 'UNAUTHORIZED', 'bad credentials');
      const token = randomBytes(16).toString('hex');
      const expiresIn = ta?.expiresIn ?? 300;
      tokens.set(token, Date.now() + expiresIn * 1000);
      tokensIssued++;
      const out = JSON.stringify(body === undefined ? { token, expires_in: expiresIn } : { access_token: token, expires_in: expiresIn });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(out);
      return;
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      if (!authorized(req, res, '')) return;
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
      res.end('{}');
      return;
    }
    const m = ROUTE.exec(url.pathname);
    if (m === null) return err(res, 404, 'NAME_UNKNOWN', 'unknown route');
    const [, repo = '', kind, rest = ''] = m;
    if (!viaUpload && !authorized(req, res, repo)) return;
    const uploadLocation = (path: string): string => (uploadBase === '' ? path : `${uploadBase}${path}`);

    if (kind === 'manifests') {
      const ref = rest;
      if (method === 'PUT') {
        const bytes = await readBody(req);
        const digest = sha256(bytes);
        if (ref.startsWith('sha256:') && ref !== digest) return err(res, 400, 'DIGEST_INVALID', 'digest mismatch');
        const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
        if (options.conditionalRequests !== false) {
          // RFC 9110 conditional PUT, checked after the body is read (so check-and-store is atomic here).
          const current = ref.startsWith('sha256:') ? (manifests.has(`${repo}@${ref}`) ? ref : undefined) : tags.get(`${repo}:${ref}`);
          const ifMatch = req.headers['if-match'];
          const ifNoneMatch = req.headers['if-none-match'];
          const etags = (h: string): string[] => h.split(',').map((t) => t.trim());
          const failed =
            (ifMatch !== undefined && (current === undefined || !(ifMatch.trim() === '*' || etags(ifMatch).includes(`"${current}"`)))) ||
            (ifNoneMatch !== undefined && current !== undefined && (ifNoneMatch.trim() === '*' || etags(ifNoneMatch).includes(`"${current}"`)));
          if (failed) return err(res, 412, 'PRECONDITION_FAILED', 'precondition failed');
        }
        manifests.set(`${repo}@${digest}`, { bytes, mediaType });
        if (!ref.startsWith('sha256:')) tags.set(`${repo}:${ref}`, digest);
        const headers: Record<string, string> = { location: `/v2/${repo}/manifests/${digest}`, 'docker-content-digest': digest };
        try {
          const subject = (JSON.parse(bytes.toString('utf8')) as { subject?: { digest?: string } }).subject?.digest;
          if (subject !== undefined && options.referrers !== false) headers['oci-subject'] = subject;
        } catch {
          /* not JSON: stored as is */
        }
        res.writeHead(201, headers);
        res.end();
        return;
      }
      const digest = ref.startsWith('sha256:') ? ref : tags.get(`${repo}:${ref}`);
      const stored = digest === undefined ? undefined : manifests.get(`${repo}@${digest}`);
      if (method === 'DELETE') {
        if (stored === undefined || digest === undefined) return err(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
        manifests.delete(`${repo}@${digest}`);
        for (const [k, v] of tags) if (v === digest && k.startsWith(`${repo}:`)) tags.delete(k);
        res.writeHead(202);
        res.end();
        return;
      }
      if (stored === undefined || digest === undefined) return err(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      let body = stored.bytes;
      if (fault?.wrongDigest === true) body = Buffer.concat([body, Buffer.from(' ')]);
      if (fault?.badJson === true) body = Buffer.from('{"schemaVersion":2,');
      if (fault?.oversizeBytes !== undefined) body = Buffer.alloc(fault.oversizeBytes, 0x20);
      // wrongDigest: the header agrees with the body, which is not what the digest reference names.
      res.writeHead(200, {
        'content-type': stored.mediaType,
        'content-length': body.byteLength,
        'docker-content-digest': body === stored.bytes ? digest : sha256(body),
        ...(options.conditionalRequests === false ? {} : { etag: `"${digest}"` }),
      });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }

    if (kind === 'blobs') {
      if (rest.startsWith('uploads')) {
        const id = rest.slice('uploads/'.length);
        if (method === 'POST' && id === '') {
          const mount = url.searchParams.get('mount');
          const from = url.searchParams.get('from');
          if (mount !== null && from !== null && repoBlobs.get(from)?.has(mount) === true) {
            if (!repoBlobs.has(repo)) repoBlobs.set(repo, new Set());
            repoBlobs.get(repo)?.add(mount);
            res.writeHead(201, { location: `/v2/${repo}/blobs/${mount}`, 'docker-content-digest': mount });
            res.end();
            return;
          }
          await readBody(req);
          const uid = randomBytes(8).toString('hex');
          uploads.set(uid, { repo, parts: [] });
          res.writeHead(202, { location: uploadLocation(`/v2/${repo}/blobs/uploads/${uid}`), range: '0-0', 'docker-upload-uuid': uid });
          res.end();
          return;
        }
        const up = uploads.get(id);
        if (up === undefined || up.repo !== repo) return err(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown');
        const chunk = await readBody(req);
        up.parts.push(chunk);
        if (method === 'PATCH') {
          const size = up.parts.reduce((n, p) => n + p.byteLength, 0);
          res.writeHead(202, { location: uploadLocation(`/v2/${repo}/blobs/uploads/${id}`), range: `0-${Math.max(0, size - 1)}` });
          res.end();
          return;
        }
        if (method === 'PUT') {
          const data = Buffer.concat(up.parts);
          const want = url.searchParams.get('digest');
          uploads.delete(id);
          if (want === null || sha256(data) !== want) return err(res, 400, 'DIGEST_INVALID', 'digest mismatch');
          blobs.set(want, data);
          if (!repoBlobs.has(repo)) repoBlobs.set(repo, new Set());
          repoBlobs.get(repo)?.add(want);
          res.writeHead(201, { location: `/v2/${repo}/blobs/${want}`, 'docker-content-digest': want });
          res.end();
          return;
        }
        return err(res, 405, 'UNSUPPORTED', 'method not allowed');
      }
      const digest = rest;
      const data = repoBlobs.get(repo)?.has(digest) === true ? blobs.get(digest) : undefined;
      if (data === undefined) return err(res, 404, 'BLOB_UNKNOWN', 'blob unknown');
      if (fault?.redirectTo !== undefined && method === 'GET') {
        res.writeHead(307, { location: `${fault.redirectTo}/v2/${repo}/blobs/${digest}` });
        res.end();
        return;
      }
      let body = data;
      if (fault?.wrongDigest === true) body = Buffer.concat([data, Buffer.from('x')]);
      if (fault?.oversizeBytes !== undefined) body = Buffer.alloc(fault.oversizeBytes, 0x41);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.byteLength, 'docker-content-digest': digest });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }

    if (kind === 'tags' && rest === 'list') {
      const all = [...tags.keys()]
        .filter((k) => k.startsWith(`${repo}:`))
        .map((k) => k.slice(repo.length + 1))
        .sort();
      if (all.length === 0 && ![...manifests.keys()].some((k) => k.startsWith(`${repo}@`))) return err(res, 404, 'NAME_UNKNOWN', 'repository unknown');
      const n = Number(url.searchParams.get('n') ?? '1000');
      const last = url.searchParams.get('last');
      const start = last === null ? 0 : all.findIndex((t) => t > last);
      const page = start < 0 ? [] : all.slice(start, start + n);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (start >= 0 && start + n < all.length)
        headers.link = `</v2/${repo}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1] ?? '')}>; rel="next"`;
      res.writeHead(200, headers);
      res.end(JSON.stringify({ name: repo, tags: page }));
      return;
    }

    if (kind === 'referrers') {
      if (options.referrers === false) return err(res, 404, 'UNSUPPORTED', 'referrers API not supported');
      const body = JSON.stringify(referrersOf(repo, rest, url.searchParams.get('artifactType')));
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      res.end(body);
      return;
    }
    err(res, 404, 'NAME_UNKNOWN', 'unknown route');
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) err(res, 500, 'UNKNOWN', (e as Error).message);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const host = `${options.host ?? '127.0.0.1'}:${port}`;
  base = `http://${host}`;
  let uploadServer: httpT.Server | undefined;
  let uploadHost: string | undefined;
  if (options.uploadHost !== undefined) {
    const s = http.createServer((req, res) => {
      handle(req, res, true).catch((e: unknown) => {
        if (!res.headersSent) err(res, 500, 'UNKNOWN', (e as Error).message);
        else res.destroy();
      });
    });
    uploadServer = s;
    await new Promise<void>((resolve) => s.listen(0, options.uploadHost, resolve));
    uploadHost = `${options.uploadHost.includes(':') ? `[${options.uploadHost}]` : options.uploadHost}:${(s.address() as AddressInfo).port}`;
    uploadBase = `http://${uploadHost}`;
  }
  const closeServer = (s: httpT.Server): Promise<void> =>
    new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  return {
    url: base,
    host,
    port,
    ...(uploadHost === undefined ? {} : { uploadHost }),
    requests,
    tokensIssued: () => tokensIssued,
    faults: { next: (f) => faults.push({ ...f }), clear: () => void faults.splice(0) },
    storage: { blobs, manifests, tags, repoBlobs },
    close: async () => {
      await Promise.all([closeServer(server), ...(uploadServer === undefined ? [] : [closeServer(uploadServer)])]);
    },
  };
}
