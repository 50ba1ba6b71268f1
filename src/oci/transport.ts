/**
 * HTTP transport for registries: HTTP/2 to TLS registries that pick it by ALPN (one connection per host,
 * every request a stream of it, as Go's client does), else keep-alive HTTP/1.1 connections resuming one
 * TLS session; per-request deadlines (a total one per attempt, covering connect, headers and body, and
 * an idle one while waiting for the server, so a stalled or trickling registry fails in bounded time),
 * retries with backoff on network errors, 408, 429 and 5xx honouring `Retry-After` (a timed-out request
 * is retried at most once), streamed size limits, and manual redirects that never forward
 * `Authorization` to another host. Both wires share that one pipeline.
 *
 * @module
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { http, net, nodeDns, nodeHttp2, nodeHttps, nodeTls } from '../internal/node-http.js';
import { CosignError, fail } from '../errors.js';
import { raceAbort, timerDelay } from '../concurrency.js';
import type * as httpT from 'node:http';
import type * as httpsT from 'node:https';
import type { LookupFunction } from 'node:net';
import type * as tlsT from 'node:tls';

/** A response with its body fully read (within the size limit). */
export interface HttpResponse {
  readonly status: number;
  readonly headers: httpT.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The final URL after redirects. */
  readonly url: URL;
}

/** One request. */
export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** Reject bodies larger than this (`TOO_LARGE`). */
  readonly maxBytes?: number;
  readonly signal?: AbortSignal;
  /** Attempts for this request (default: the transport's). */
  readonly attempts?: number;
  /**
   * Refuse (`REGISTRY_ERROR`) a redirect to another origin instead of following it: for requests whose
   * body is a secret (a token request's `refresh_token` form, which a 307 would forward).
   */
  readonly sameOriginRedirectsOnly?: boolean;
}

/** Transport settings. */
export interface TransportOptions {
  /** Extra trusted CA certificates (PEM), added to Node's defaults. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /**
   * Deadline of one attempt of a request, in ms, covering connect, sending, headers and the whole body
   * (so a body trickled a byte at a time fails too). Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. Raise it for large blob transfers.
   */
  readonly timeoutMs?: number;
  /**
   * Longest wait for the server, in ms: for the response once the request is sent, for each next piece
   * of the body, and for the answer to the HTTPS-or-HTTP probe. Default {@link DEFAULT_IDLE_TIMEOUT_MS} (capped by `timeoutMs`).
   */
  readonly idleTimeoutMs?: number;
  /**
   * A response body still arriving at this average rate (bytes per second since its headers) when
   * `timeoutMs` passes gets more time, as long as that holds (large blobs); a slower one (a trickle)
   * times out. Default {@link DEFAULT_MIN_BYTES_PER_SECOND}; 0: `timeoutMs` is strict.
   */
  readonly minBytesPerSecond?: number;
  /**
   * Attempts for retryable failures (network error, 408, 429, 5xx). Default 4. An attempt that timed out
   * is retried at most once, whatever this says.
   */
  readonly attempts?: number;
  /** First backoff delay in ms (doubles each attempt, plus jitter). Default 200. */
  readonly backoffMs?: number;
  /** Longest wait honoured for `Retry-After`, in ms. Default 10 000. */
  readonly maxRetryDelayMs?: number;
  /**
   * After a request to a host ran out of time on every attempt, further requests to that host (scheme,
   * host and port) fail at once with the same timeout for this long, in ms, unless the host answers
   * one in between. A stalled registry then costs one deadline per batch, not one per image.
   * Default {@link DEFAULT_UNRESPONSIVE_MS}; 0 turns it off.
   */
  readonly unresponsiveMs?: number;
  /**
   * Concurrent requests per host: HTTP/1.1 connections, or streams of the HTTP/2 session (also bounded
   * by the server's `SETTINGS_MAX_CONCURRENT_STREAMS`; further requests queue). Default 64.
   */
  readonly maxSockets?: number;
  /**
   * Offer HTTP/2 to HTTPS registries (ALPN `h2`, then `http/1.1`), as Go's HTTP client and so cosign do.
   * Default true. A registry that picks HTTP/2 gets one connection (one TLS handshake) per host per
   * transport, every request a stream of it; one that picks HTTP/1.1 gets keep-alive connections that
   * resume the first one's TLS session. False: HTTP/1.1 only. Plain-HTTP registries always use HTTP/1.1.
   */
  readonly http2?: boolean;
  /** `User-Agent` header. */
  readonly userAgent?: string;
  /** Skip TLS verification (tests only; cosign's `--allow-insecure-registry`). */
  readonly insecureSkipVerify?: boolean;
  /**
   * TLS settings per registry, keyed by host as in image references (`registry.example:5000`); the key
   * `*` applies to every host without its own entry (what the CLI's `--registry-*` TLS flags do, like cosign).
   * A host's settings are used for connections to that host only: a redirect to another host (blob
   * storage) gets that host's settings or the defaults, never the client certificate of another.
   */
  readonly tls?: Readonly<Record<string, RegistryTlsOptions>>;
  /**
   * Connect to these IP addresses instead of resolving the host names (`{ 'registry.example': '10.0.0.5' }`),
   * like curl's `--resolve`: URLs, `Host`, the TLS server name and the certificate check still use the
   * name. For split-horizon networks and tests (a cloud registry's name served on 127.0.0.1).
   */
  readonly connectTo?: Readonly<Record<string, string>>;
}

/** TLS settings of one registry (cosign's `--registry-cacert/-client-cert/-client-key/-server-name`). */
export interface RegistryTlsOptions {
  /** Extra trusted CA certificates (PEM), added to Node's defaults, `NODE_EXTRA_CA_CERTS` and {@link TransportOptions.ca}. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Client certificate chain (PEM) for mutual TLS; needs {@link key}. */
  readonly cert?: string | Buffer;
  /** Private key (PEM) of {@link cert}. */
  readonly key?: string | Buffer;
  /** Server name to send (SNI) and to check the certificate against, instead of the host. */
  readonly servername?: string;
  /**
   * Trust only {@link ca} for this registry: not Node's bundled roots, `SSL_CERT_FILE`/`SSL_CERT_DIR`,
   * `NODE_EXTRA_CA_CERTS` or {@link TransportOptions.ca}. This is what cosign's `--registry-cacert` does
   * (it sets Go's `RootCAs`, which replaces the system pool). Needs `ca`.
   */
  readonly caOnly?: boolean;
}

/** TLS handshakes with one host (`host:port`), see {@link TransportStats.tlsHandshakesByHost}. */
export interface TlsHandshakeCount {
  /** Full handshakes (certificate chain sent and verified). */
  full: number;
  /** Abbreviated handshakes that resumed an earlier session (no certificate verification). */
  resumed: number;
}

/** Request counters, for benchmarks, metrics and "zero requests" assertions. */
export interface TransportStats {
  requests: number;
  retries: number;
  bytesReceived: number;
  /** TLS handshakes completed (full and resumed). */
  tlsHandshakes: number;
  /** Of {@link tlsHandshakes}, those that resumed an earlier session. */
  tlsResumedHandshakes: number;
  /** TLS handshakes per host (`host:port`). */
  tlsHandshakesByHost: Record<string, TlsHandshakeCount>;
  /** HTTP/2 sessions opened (each one TLS handshake, counted above too); see {@link TransportOptions.http2}. */
  http2Sessions: number;
}

/** Default deadline of one attempt of a request ({@link TransportOptions.timeoutMs}): 20 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;
/** Default wait for the server's next bytes ({@link TransportOptions.idleTimeoutMs}): 10 s. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/** Default {@link TransportOptions.minBytesPerSecond}: 128 KiB/s. */
export const DEFAULT_MIN_BYTES_PER_SECOND = 128 * 1024;
/** Attempts of a request that timed out: the first and one retry. */
export const MAX_TIMED_OUT_ATTEMPTS = 2;
/** Default {@link TransportOptions.unresponsiveMs}: 30 s. */
export const DEFAULT_UNRESPONSIVE_MS = 30_000;

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
const REDIRECT = new Set([301, 302, 303, 307, 308]);

/** Parse `Retry-After` (seconds or an HTTP date) into ms, or undefined. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * The error for a request to `what` (`GET https://host/path`) stopped by `signal`: "timed out" when the
 * signal is a deadline (`AbortSignal.timeout`, the reason being a `TimeoutError`), else "aborted".
 */
export function abortError(signal: AbortSignal, what: string): CosignError {
  const reason: unknown = signal.reason;
  if (reason instanceof CosignError) return reason;
  const timedOut = (reason as { name?: unknown } | null | undefined)?.name === 'TimeoutError';
  return fail('REGISTRY_UNAVAILABLE', `${what}: ${timedOut ? 'timed out (the deadline of the whole call passed)' : 'aborted'}`, {
    details: { timeout: timedOut, aborted: true },
  });
}

/** A signal with a deadline, from {@link withDeadline}. */
export interface Deadline {
  /** Aborts when the caller's signal does, or at the deadline (reason: a `TimeoutError`). */
  readonly signal: AbortSignal | undefined;
  /** Stop the timer and detach from the caller's signal (call when the work is done). */
  dispose(): void;
}

/**
 * `signal` combined with a deadline of `timeoutMs` from now, whose reason is a `TimeoutError` (so the
 * requests it stops say "timed out"). `timeoutMs` of 0 or less: `signal` alone. Built from a controller
 * and a timer rather than `AbortSignal.any([signal, AbortSignal.timeout()])`: before Node 22 the
 * timeout signal held only by `any` can be garbage-collected and then never fires.
 */
export function withDeadline(signal: AbortSignal | undefined, timeoutMs: number): Deadline {
  if (!(timeoutMs > 0)) return { signal, dispose: () => undefined };
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  const timer = setTimeout(() => controller.abort(new DOMException(`the deadline of ${timeoutMs} ms passed`, 'TimeoutError')), timerDelay(timeoutMs));
  if (signal?.aborted === true) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** `p`, unless `signal` aborts first (then the {@link abortError} for `what`). */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return raceAbort(p, signal, () => abortError(signal, what));
}

function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(abortError(signal, what));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, timerDelay(ms));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError(signal as AbortSignal, what));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Whether `signal` has aborted (a function: a property check would be narrowed away by TypeScript). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Whether `e` is a request that ran out of time (its own deadline or the caller's). */
function isTimeout(e: CosignError): boolean {
  return (e.details as { timeout?: unknown } | undefined)?.timeout === true;
}

/** Seconds for messages: `10 s`, `0.3 s`. */
function secs(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** The low-level HTTP client shared by a {@link RegistryClient}. */
export class Transport {
  readonly stats: TransportStats = {
    requests: 0,
    retries: 0,
    bytesReceived: 0,
    tlsHandshakes: 0,
    tlsResumedHandshakes: 0,
    tlsHandshakesByHost: {},
    http2Sessions: 0,
  };
  readonly #http: httpT.Agent;
  // Created on the first https:// request: loading node:https and node:tls costs several ms per process.
  #https: TlsPool | undefined;
  readonly #poolSettings: PoolSettings;
  readonly #globalCa: ReadonlyArray<string | Buffer>;
  readonly #tls = new Map<string, RegistryTlsOptions>();
  /** TLS pools of hosts with their own TLS settings (one each, so connections stay reused). */
  readonly #hostPools = new Map<string, TlsPool>();
  readonly #timeout: number;
  readonly #lookup: LookupFunction | undefined;
  readonly #idle: number;
  readonly #minRate: number;
  readonly #attempts: number;
  readonly #backoff: number;
  readonly #maxRetryDelay: number;
  readonly #ua: string;
  readonly #unresponsiveMs: number;
  /** Origins whose last request timed out on every attempt: until when, and that error. */
  readonly #unresponsive = new Map<string, { until: number; error: CosignError }>();

  constructor(options: TransportOptions = {}) {
    const maxSockets = options.maxSockets ?? 64;
    const lookup = connectToLookup(options.connectTo);
    this.#lookup = lookup;
    this.#http = new http.Agent({ keepAlive: true, maxSockets, ...(lookup === undefined ? {} : { lookup }) });
    this.#globalCa = asList(options.ca);
    for (const bundle of this.#globalCa) assertCertificates(bundle, 'transport ca');
    for (const [host, t] of Object.entries(options.tls ?? {})) {
      if ((t.cert === undefined) !== (t.key === undefined)) {
        throw fail('USAGE', `TLS settings of ${host}: a client certificate needs its key and a key needs its certificate`);
      }
      if (t.caOnly === true && t.ca === undefined) throw fail('USAGE', `TLS settings of ${host}: caOnly needs ca`);
      for (const bundle of asList(t.ca)) assertCertificates(bundle, `TLS settings of ${host}: ca`);
      this.#tls.set(host, t);
    }
    this.#timeout = Math.max(1, options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    this.#minRate = Math.max(0, options.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND);
    this.#idle = Math.max(1, Math.min(this.#timeout, options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS));
    this.#attempts = Math.max(1, options.attempts ?? 4);
    this.#backoff = options.backoffMs ?? 200;
    this.#maxRetryDelay = options.maxRetryDelayMs ?? 10_000;
    this.#ua = options.userAgent ?? 'cosign-ts';
    this.#unresponsiveMs = Math.max(0, options.unresponsiveMs ?? DEFAULT_UNRESPONSIVE_MS);
    this.#poolSettings = {
      stats: this.stats,
      http2: options.http2 ?? true,
      maxSockets,
      connectTimeoutMs: this.#idle,
      insecureSkipVerify: options.insecureSkipVerify === true,
      lookup,
    };
  }

  /** Close idle keep-alive sockets and HTTP/2 sessions. */
  close(): void {
    this.#http.destroy();
    this.#https?.close();
    for (const p of this.#hostPools.values()) p.close();
  }

  /**
   * Send a request, following redirects (without `Authorization` across hosts) and retrying
   * retryable failures (a timed-out attempt at most once). Returns the final response whatever its
   * status (the caller maps 4xx).
   * @throws CosignError `REGISTRY_UNAVAILABLE` (network, timeout, 5xx after retries; a timeout's message
   *   names the URL and says it timed out, and its `details.timeout` is true), `REGISTRY_THROTTLED`
   *   (429 after retries), `TOO_LARGE`.
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let last: HttpResponse | CosignError | undefined;
    const attempts = Math.max(1, req.attempts ?? this.#attempts);
    const what = `${req.method} ${redact(req.url)}`;
    let timeouts = 0;
    const origin = req.url.origin;
    this.#assertResponsive(req.url, what);
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        const hinted = last instanceof CosignError ? undefined : parseRetryAfter(headerString(last?.headers['retry-after']));
        const base = this.#backoff * 2 ** (attempt - 1);
        const delay = Math.min(this.#maxRetryDelay, hinted ?? base + Math.random() * base * 0.5);
        await sleep(delay, req.signal, what);
      }
      if (req.signal?.aborted === true) throw abortError(req.signal, what);
      try {
        const res = await this.#follow(req);
        this.#unresponsive.delete(origin);
        if (!RETRYABLE.has(res.status)) return res;
        last = res;
      } catch (e) {
        if (e instanceof CosignError && e.code !== 'REGISTRY_UNAVAILABLE') throw e;
        last = e instanceof CosignError ? e : fail('REGISTRY_UNAVAILABLE', `${what}: ${(e as Error).message}`, { cause: e });
        if (isAborted(req.signal)) throw last;
        // A registry that stalled once is likely to stall again: one more try, not `attempts` more.
        if (isTimeout(last) && ++timeouts >= MAX_TIMED_OUT_ATTEMPTS) {
          const error = fail('REGISTRY_UNAVAILABLE', `${last.message} (${attempt + 1} attempts)`, { cause: last, details: last.details ?? {} });
          this.#markUnresponsive([origin], error);
          throw error;
        }
      }
    }
    if (last instanceof CosignError) throw last;
    const res = last as HttpResponse;
    if (res.status === 429) {
      throw fail('REGISTRY_THROTTLED', `${req.method} ${redact(req.url)}: throttled (429) after ${attempts} attempts`, { details: { status: 429 } });
    }
    throw fail('REGISTRY_UNAVAILABLE', `${req.method} ${redact(req.url)}: HTTP ${res.status} after ${attempts} attempts`, { details: { status: res.status } });
  }

  async #follow(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers = { ...(req.headers ?? {}) };
    let method = req.method;
    let body = req.body;
    for (let hop = 0; hop <= 5; hop++) {
      const res = await this.#once({ ...req, url, headers, method, ...(body === undefined ? {} : { body }) });
      if (!REDIRECT.has(res.status)) return res;
      const loc = headerString(res.headers.location);
      if (loc === undefined) return res;
      const next = new URL(loc, url);
      if (next.origin !== url.origin && req.sameOriginRedirectsOnly === true) {
        throw fail('REGISTRY_ERROR', `${req.method} ${redact(req.url)}: refusing a redirect to another host (${next.host})`);
      }
      if (next.host !== url.host || next.protocol !== url.protocol) {
        // Blob storage on another host: never forward the registry's credentials.
        const { authorization: _drop, Authorization: _drop2, ...rest } = headers as Record<string, string>;
        headers = rest;
      }
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method !== 'HEAD' && method !== 'GET')) {
        method = 'GET';
        body = undefined;
      }
      url = next;
    }
    throw fail('REGISTRY_ERROR', `${req.method} ${redact(req.url)}: too many redirects`);
  }

  /** Throws the remembered timeout when `url`'s origin timed out moments ago (see {@link TransportOptions.unresponsiveMs}). */
  #assertResponsive(url: URL, what: string): void {
    const down = this.#unresponsive.get(url.origin);
    if (down === undefined) return;
    if (down.until > Date.now()) {
      throw fail('REGISTRY_UNAVAILABLE', `${what}: not sent, ${url.host} timed out moments ago (${down.error.message})`, {
        cause: down.error,
        details: down.error.details ?? {},
      });
    }
    this.#unresponsive.delete(url.origin);
  }

  /** Remember that these origins timed out on every attempt. */
  #markUnresponsive(origins: readonly string[], error: CosignError): void {
    if (this.#unresponsiveMs === 0) return;
    for (const o of origins) this.#unresponsive.set(o, { until: Date.now() + this.#unresponsiveMs, error });
  }

  /**
   * Does `host[:port]` (default port 443) answer TLS? Sends a TLS ClientHello over plain TCP and looks
   * at the first bytes of the answer: a TLS record (handshake or alert) means yes; plain-HTTP bytes
   * (a `400 Bad Request`), a reset or a close means no. Used to choose between `https://` and `http://`
   * where plain HTTP is allowed, as an HTTPS request would, but without loading `node:tls` and Node's
   * root certificates (about 10–20 ms of a CLI call) when the registry speaks plain HTTP.
   * @returns `'tls'`, `'plain'`, or `'unknown'` (another network error: not a reason to drop TLS).
   * @throws CosignError `REGISTRY_UNAVAILABLE` when the connection is refused or the host unknown (the
   *   same message as the HTTPS request, `GET https://host/v2/: ECONNREFUSED`), or when nothing answers
   *   within the idle timeout (a stalled registry: an HTTPS request would stall the same way).
   */
  probeTls(registry: string, signal?: AbortSignal): Promise<'tls' | 'plain' | 'unknown'> {
    const url = new URL(`https://${registry}/v2/`);
    // The probe asks for both schemes: either one timing out moments ago stops it, and its own timeout is remembered for both.
    const origins = [url.origin, new URL(`http://${registry}/v2/`).origin];
    try {
      this.#assertResponsive(url, `GET ${redact(url)}`);
      this.#assertResponsive(new URL(`http://${registry}/v2/`), `GET ${redact(url)}`);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    this.stats.requests++;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? 443 : Number(url.port);
    return new Promise((resolve, reject) => {
      let settled = false;
      const socket = net.connect({ host, port, ...(this.#lookup === undefined ? {} : { lookup: this.#lookup }) });
      const finish = (v: 'tls' | 'plain' | 'unknown' | CosignError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        if (v instanceof CosignError) {
          if (isTimeout(v) && !isAborted(signal)) this.#markUnresponsive(origins, v);
          reject(v);
        } else resolve(v);
      };
      const timer = setTimeout(
        () =>
          finish(
            fail('REGISTRY_UNAVAILABLE', `GET ${redact(url)}: timed out: no answer within ${secs(this.#idle)} (HTTPS-or-HTTP probe)`, {
              details: { timeout: true, timeoutMs: this.#idle },
            }),
          ),
        timerDelay(this.#idle),
      );
      const onAbort = (): void => finish(abortError(signal as AbortSignal, `GET ${redact(url)}`));
      signal?.addEventListener('abort', onAbort, { once: true });
      let head = Buffer.alloc(0);
      const sni = this.tlsSettings(url.host)?.servername || (net.isIP(host) === 0 ? host : undefined);
      socket.on('connect', () => socket.write(clientHello(sni)));
      socket.on('data', (d: Buffer) => {
        head = Buffer.concat([head, d]);
        if (head.length < 2) return;
        // A TLS record: content type handshake (22) or alert (21), protocol major version 3.
        finish((head[0] === 22 || head[0] === 21) && head[1] === 3 ? 'tls' : 'plain');
      });
      socket.on('end', () => finish(head.length > 0 && (head[0] === 22 || head[0] === 21) ? 'tls' : 'plain'));
      socket.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return finish('plain');
        if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND') {
          return finish(fail('REGISTRY_UNAVAILABLE', `GET ${redact(url)}: ${e.code}`, { cause: e, details: { errno: e.code } }));
        }
        finish('unknown');
      });
    });
  }

  /** TLS settings of `host` (`host[:port]`): its own, else `*`'s. */
  tlsSettings(host: string): RegistryTlsOptions | undefined {
    return this.#tls.get(host) ?? this.#tls.get(host.replace(/:443$/, '')) ?? this.#tls.get('*');
  }

  /** The TLS pool of `host` (`host[:port]`): the shared one, or the host's own when it has TLS settings. */
  #tlsPool(host: string): TlsPool {
    const t = this.tlsSettings(host);
    if (t === undefined) {
      this.#https ??= new TlsPool(caOption(this.#globalCa), this.#poolSettings);
      return this.#https;
    }
    let pool = this.#hostPools.get(host);
    if (pool === undefined) {
      pool = new TlsPool(
        {
          ...(t.caOnly === true ? { ca: asList(t.ca).map(String) } : caOption([...this.#globalCa, ...asList(t.ca)])),
          ...(t.cert === undefined ? {} : { cert: t.cert }),
          ...(t.key === undefined ? {} : { key: t.key }),
          ...(t.servername === undefined || t.servername === '' ? {} : { servername: t.servername }),
        },
        this.#poolSettings,
      );
      this.#hostPools.set(host, pool);
    }
    return pool;
  }

  #once(req: HttpRequest): Promise<HttpResponse> {
    return this.#send(req, req.url.protocol === 'https:' ? this.#tlsPool(req.url.host) : undefined);
  }

  /**
   * One attempt of one request, whatever carries it (an HTTP/1.1 request on a keep-alive socket, or a
   * stream of the host's HTTP/2 session): one deadline, idle timeout, abort signal, size limit, byte
   * count and error mapping for all of them.
   */
  #send(req: HttpRequest, pool: TlsPool | undefined): Promise<HttpResponse> {
    this.stats.requests++;
    const what = `${req.method} ${redact(req.url)}`;
    if (req.signal?.aborted === true) return Promise.reject(abortError(req.signal, what));
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      let idle: ReturnType<typeof setTimeout> | undefined;
      let responded = false;
      let bodyStart = 0;
      let size = 0;
      let status = 0;
      let responseHeaders: httpT.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let exchange: Exchange | undefined;
      const max = req.maxBytes ?? 4 * 1024 * 1024;
      const done = (err: Error | undefined, res?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(idle);
        req.signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) {
          exchange?.abort(err instanceof CosignError && isTimeout(err));
          reject(err);
        } else resolve(res as HttpResponse);
      };
      const headers: Record<string, string> = { 'user-agent': this.#ua, ...(req.headers ?? {}) };
      if (req.body !== undefined) headers['content-length'] = String(req.body.byteLength);
      /** Wait at most the idle timeout for the server's next bytes. */
      const waitForServer = (waiting: string): void => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          done(fail('REGISTRY_UNAVAILABLE', `${what}: timed out: ${waiting} for ${secs(this.#idle)}`, { details: { timeout: true, timeoutMs: this.#idle } }));
        }, timerDelay(this.#idle));
      };
      const events: ExchangeEvents = {
        sent: () => {
          // Once the request is sent, the server has the idle timeout to start answering.
          if (!settled && !responded) waitForServer('no response');
        },
        response: (code, h) => {
          if (settled || responded) return;
          responded = true;
          status = code;
          responseHeaders = h;
          bodyStart = performance.now();
          waitForServer('the body stalled (no bytes)');
          const declared = Number(h['content-length']);
          if (req.method !== 'HEAD' && Number.isFinite(declared) && declared > max && code < 300) {
            done(fail('TOO_LARGE', `${what}: response of ${declared} bytes is over the ${max}-byte limit`, { details: { limit: max } }));
          }
        },
        data: (c) => {
          if (settled) return;
          waitForServer('the body stalled (no bytes)');
          size += c.byteLength;
          this.stats.bytesReceived += c.byteLength;
          if (size > max && status < 300) {
            return done(fail('TOO_LARGE', `${what}: response is over the ${max}-byte limit`, { details: { limit: max } }));
          }
          if (size <= Math.max(max, 64 * 1024)) chunks.push(c);
        },
        end: () => done(undefined, { status, headers: responseHeaders, body: Buffer.concat(chunks), url: req.url }),
        error: (e) => done(e instanceof CosignError ? e : networkError(what, e as NodeJS.ErrnoException)),
      };
      const onDeadline = (): void => {
        // A large body still arriving at a useful rate (a blob being copied) gets more time, a second at
        // a time, as long as that holds; a trickle does not. The size limit bounds how long that can be.
        if (responded && this.#minRate > 0 && size >= (this.#minRate * (performance.now() - bodyStart)) / 1000) {
          timer = setTimeout(onDeadline, 1000);
          return;
        }
        done(
          fail('REGISTRY_UNAVAILABLE', `${what}: timed out: no complete response within ${secs(this.#timeout)}`, {
            details: { timeout: true, timeoutMs: this.#timeout },
          }),
        );
      };
      let timer = setTimeout(onDeadline, timerDelay(this.#timeout));
      const onAbort = (): void => done(abortError(req.signal as AbortSignal, what));
      req.signal?.addEventListener('abort', onAbort, { once: true });
      exchange = pool === undefined ? h1Exchange(http, this.#http, req, headers, events, what) : pool.exchange(req, headers, events, what);
    });
  }
}

/** What one attempt's wire reports to {@link Transport}'s request pipeline. */
interface ExchangeEvents {
  /** The request is sent (the wait for the answer starts). */
  sent(): void;
  /** The status and headers arrived (before any `data`). */
  response(status: number, headers: httpT.IncomingHttpHeaders): void;
  data(chunk: Buffer): void;
  end(): void;
  /** A network or TLS error (mapped by `networkError`), or a {@link CosignError} as is. */
  error(e: Error): void;
}

/** One request in flight on a wire. */
interface Exchange {
  /** Stop it: free its socket or stream (idempotent). `timedOut`: because the server took too long. */
  abort(timedOut?: boolean): void;
}

/** An HTTP/1.1 request through a keep-alive agent. */
function h1Exchange(
  mod: typeof httpT | typeof httpsT,
  agent: httpT.Agent,
  req: HttpRequest,
  headers: Record<string, string>,
  ev: ExchangeEvents,
  what: string,
): Exchange {
  let response: httpT.IncomingMessage | undefined;
  const r = mod.request(req.url, { method: req.method, headers, agent }, (res) => {
    response = res;
    ev.response(res.statusCode ?? 0, res.headers);
    res.on('data', (c: Buffer) => ev.data(c));
    res.on('end', () => ev.end());
    res.on('error', (e) => ev.error(fail('REGISTRY_UNAVAILABLE', `${what}: ${e.message}`, { cause: e })));
  });
  r.on('finish', () => ev.sent());
  r.on('error', (e) => ev.error(e));
  r.end(req.body === undefined ? undefined : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength));
  return {
    abort: () => {
      response?.destroy();
      r.destroy();
    },
  };
}

/**
 * A TLS 1.2/1.3 ClientHello record (offering common suites, groups and signature schemes).
 * It always contains a 0x0a byte (the supported_groups extension type, 0x000a), as the ClientHello of
 * Node's and Go's TLS clients does: a plain HTTP server that reads a request line (Go's net/http waits
 * for a newline) sees a malformed line and answers 400 at once, so the probe never waits for a timeout.
 */
/** Certificate verification failures: the same on every attempt, so not retried. */
const TLS_TRUST_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_PURPOSE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A request's network error: a certificate the client does not trust, a failed handshake, or another (retryable) failure. */
function networkError(what: string, e: NodeJS.ErrnoException): CosignError {
  const code = e.code ?? e.message;
  if (e.code !== undefined && TLS_TRUST_ERRORS.has(e.code)) {
    const why = e.code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'is not valid for this host name (set the TLS server name?)' : 'is not trusted (add its CA?)';
    return fail('REGISTRY_ERROR', `${what}: TLS: the registry's certificate ${why}: ${code}`, { cause: e, details: { errno: e.code, tls: true } });
  }
  if (e.code !== undefined && /^ERR_SSL_.*(CERTIFICATE|HANDSHAKE)/.test(e.code)) {
    return fail('REGISTRY_ERROR', `${what}: TLS handshake refused by the registry (does it require a client certificate?): ${code}`, {
      cause: e,
      details: { errno: e.code, tls: true },
    });
  }
  return fail('REGISTRY_UNAVAILABLE', `${what}: ${code}`, { cause: e, details: { errno: e.code } });
}

/** The `lookup` of {@link TransportOptions.connectTo}: its addresses for its names, DNS for the others. */
function connectToLookup(map: Readonly<Record<string, string>> | undefined): LookupFunction | undefined {
  if (map === undefined || Object.keys(map).length === 0) return undefined;
  for (const [name, ip] of Object.entries(map)) {
    if (net.isIP(ip) === 0) throw fail('USAGE', `connectTo[${JSON.stringify(name)}]: ${JSON.stringify(ip)} is not an IP address`);
  }
  return (hostname, options, callback) => {
    const ip = Object.hasOwn(map, hostname) ? map[hostname] : undefined;
    if (ip === undefined) return nodeDns().lookup(hostname, options, callback as never);
    const family = net.isIP(ip);
    if ((options as { all?: boolean }).all === true)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: ip, family }]);
    else callback(null, ip, family);
  };
}

/** Options Node's agent passes to `createConnection`. */
type AgentConnectOptions = tlsT.ConnectionOptions;

/** The key of a connection to `host:port` in a {@link TlsPool}. */
function poolKey(host: string | undefined, port: number | string | undefined): string {
  return `${String(host ?? '').replace(/^\[(.*)\]$/, '$1')}:${String(port ?? 443)}`;
}

/** The TLS options of a {@link TlsPool}: trust, client certificate, server name. */
type PoolTlsOptions = Pick<tlsT.ConnectionOptions, 'ca' | 'cert' | 'key' | 'servername'>;

/** What every {@link TlsPool} of a {@link Transport} shares. */
interface PoolSettings {
  readonly stats: TransportStats;
  /** Offer HTTP/2 (ALPN `h2`) and use it when the server picks it. */
  readonly http2: boolean;
  /** Connections per host (HTTP/1.1), streams per session (HTTP/2). */
  readonly maxSockets: number;
  /** Longest wait for a connection's TLS handshake, in ms: the idle timeout, as for the answer to an HTTP/1.1 request. */
  readonly connectTimeoutMs: number;
  readonly insecureSkipVerify: boolean;
  readonly lookup: LookupFunction | undefined;
}

/** The HTTP/2 settings this client sends: no server push; a 1 MiB stream window (Node's default, 64 KiB, slows large blobs). */
const H2_SETTINGS = { enablePush: false, initialWindowSize: 1024 * 1024 } as const;
/** The receive window of a whole HTTP/2 session. */
const H2_SESSION_WINDOW = 16 * 1024 * 1024;
/** Node's soft cap on a session's buffered frames, in MB (default 10): up to 64 streams may be receiving blobs. */
const H2_MAX_SESSION_MEMORY_MB = 32;
/** Request headers HTTP/2 forbids (connection-specific) or carries as pseudo-headers. */
const H2_DROPPED_HEADERS = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);
/** The error code of a TLS handshake that took longer than {@link PoolSettings.connectTimeoutMs}. */
const HANDSHAKE_TIMEOUT = 'COSIGN_TS_TLS_HANDSHAKE_TIMEOUT';
/** Body bytes held until the `response` event of their stream (at most a stream window). */
const H2_MAX_EARLY_BYTES = H2_SETTINGS.initialWindowSize;
/** Sessions a request may see go away under it (each time it waited or was refused, unprocessed) before it fails. */
const H2_MAX_SESSION_LOSSES = 2;

/**
 * One HTTP/2 session with a host: its streams are counted against the server's
 * `SETTINGS_MAX_CONCURRENT_STREAMS` and the transport's bound, further requests queue (each under its
 * own deadline). The session is unreferenced while no stream is open, so it never keeps a process alive.
 */
class H2Conn {
  #active = 0;
  readonly #waiters: Array<(ok: boolean) => void> = [];
  /** The server's GOAWAY: streams above this id were not processed (safe to send again). */
  goawayLastStreamId: number | undefined;
  /** The session's error (a TLS alert after the handshake, a reset connection), for its streams' errors. */
  error: Error | undefined;
  #gone = false;

  /** While a PING after a timeout is unanswered: settles when it is answered or the session is dropped. */
  checking: Promise<void> | undefined;

  constructor(
    readonly session: import('node:http2').ClientHttp2Session,
    readonly maxStreams: number,
    /** How long a PING may go unanswered before the session counts as dead, in ms. */
    readonly pingTimeoutMs: number,
  ) {}

  /**
   * After a request on this session timed out: send a PING, and close the session if it goes
   * unanswered for {@link pingTimeoutMs} (its streams fail, the next requests open a new connection).
   */
  check(): void {
    if (this.checking !== undefined || !this.usable) return;
    let settle = (): void => undefined;
    this.checking = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const timer = setTimeout(() => {
      this.error ??= Object.assign(new Error(`the connection stopped answering (PING unanswered for ${secs(this.pingTimeoutMs)})`), {
        code: 'ERR_HTTP2_PING_TIMEOUT',
      });
      this.checking = undefined;
      this.gone();
      this.session.destroy();
      settle();
    }, timerDelay(this.pingTimeoutMs));
    timer.unref();
    const answered = (): void => {
      clearTimeout(timer);
      this.checking = undefined;
      settle();
    };
    try {
      if (!this.session.ping(answered)) answered();
    } catch {
      answered();
    }
  }

  /** Whether new streams may be opened. */
  get usable(): boolean {
    return !this.#gone && !this.session.closed && !this.session.destroyed;
  }

  #limit(): number {
    return Math.max(1, Math.min(this.maxStreams, this.session.remoteSettings?.maxConcurrentStreams ?? this.maxStreams));
  }

  /** A stream slot: `true` when granted, `false` when the session went away first. `cancel` leaves the queue. */
  acquire(): { readonly granted: Promise<boolean>; cancel(): void } {
    if (!this.usable) return { granted: Promise.resolve(false), cancel: () => undefined };
    if (this.#active < this.#limit()) {
      this.#take();
      return { granted: Promise.resolve(true), cancel: () => undefined };
    }
    let waiter: ((ok: boolean) => void) | undefined;
    const granted = new Promise<boolean>((resolve) => {
      waiter = resolve;
      this.#waiters.push(resolve);
    });
    return {
      granted,
      cancel: () => {
        const i = this.#waiters.indexOf(waiter as (ok: boolean) => void);
        if (i >= 0) this.#waiters.splice(i, 1);
      },
    };
  }

  #take(): void {
    if (this.#active++ === 0) this.session.ref();
  }

  /** A stream ended: its slot goes to the next waiter. */
  release(): void {
    this.#active--;
    this.drain();
    if (this.#active === 0 && !this.session.destroyed) this.session.unref();
  }

  /** Grant waiting requests the slots the limit allows now. */
  drain(): void {
    while (this.usable && this.#waiters.length > 0 && this.#active < this.#limit()) {
      this.#take();
      (this.#waiters.shift() as (ok: boolean) => void)(true);
    }
  }

  /** No more streams on this session (GOAWAY, close, error): waiting requests look for another. */
  gone(): void {
    this.#gone = true;
    for (const w of this.#waiters.splice(0)) w(false);
  }
}

/**
 * The connections of one set of TLS settings (the transport's defaults, or a host's own): a keep-alive
 * HTTP/1.1 agent and, per host, an HTTP/2 session when the server picks `h2` by ALPN.
 *
 * The first request to a host opens one TLS connection offering `h2` and `http/1.1`, and the requests
 * that come meanwhile wait for it. With `h2`, every request to the host is a stream of that one session
 * (one handshake per host, as go-containerregistry and so cosign do); a session that goes away (GOAWAY,
 * error, idle close by the server) is replaced on the next request by one new connection, shared by all
 * the requests waiting. With `http/1.1`, that connection becomes the agent's first socket and the
 * host stays on HTTP/1.1: further connections wait for its TLS session (a TLS 1.2 session or TLS 1.3
 * ticket) and resume it, so a batch that opens many connections pays one full handshake per host.
 * Handshakes are counted in `stats`.
 */
class TlsPool {
  readonly agent: httpsT.Agent;
  /** The latest TLS session per host, to resume. */
  readonly #sessions = new Map<string, Buffer>();
  /** Hosts whose first connection is still waiting for a session: released when it has one (or fails). */
  readonly #firsts = new Map<string, Promise<void>>();
  /** The negotiating connection of a host that picked HTTP/1.1, for the agent's first socket. */
  readonly #adopted = new Map<string, tlsT.TLSSocket>();
  /** Hosts that picked HTTP/1.1. */
  readonly #h1 = new Set<string>();
  readonly #h2 = new Map<string, H2Conn>();
  readonly #negotiating = new Map<string, Promise<'h1' | H2Conn>>();
  /** Connections being negotiated (closed by {@link close}). */
  readonly #connecting = new Set<tlsT.TLSSocket>();

  constructor(
    readonly tls: PoolTlsOptions,
    readonly settings: PoolSettings,
  ) {
    this.agent = new (nodeHttps().Agent)({
      keepAlive: true,
      maxSockets: settings.maxSockets,
      ...(settings.lookup === undefined ? {} : { lookup: settings.lookup }),
      ...(settings.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
      ...tls,
    });
    const proto = this.agent as unknown as { createConnection(o: AgentConnectOptions, cb?: unknown): tlsT.TLSSocket };
    const base = proto.createConnection.bind(this.agent);
    proto.createConnection = (o: AgentConnectOptions, cb?: unknown): tlsT.TLSSocket => {
      const key = poolKey(o.host, o.port);
      const adopted = this.#adopted.get(key);
      this.#adopted.delete(key);
      if (adopted !== undefined && !adopted.destroyed) return adopted;
      const session = this.#sessions.get(key);
      const socket = base(session === undefined ? o : { ...o, session }, cb);
      this.#watch(key, socket);
      return socket;
    };
  }

  /** Count `socket`'s handshake, keep its session, and hold further connections to `key` until it has one. */
  #watch(key: string, socket: tlsT.TLSSocket): void {
    const stats = this.settings.stats;
    socket.once('secureConnect', () => {
      const reused = socket.isSessionReused();
      stats.tlsHandshakes++;
      if (reused) stats.tlsResumedHandshakes++;
      const count = (stats.tlsHandshakesByHost[key] ??= { full: 0, resumed: 0 });
      if (reused) count.resumed++;
      else count.full++;
    });
    socket.on('session', (s: Buffer) => this.#sessions.set(key, s));
    socket.once('close', (hadError: boolean) => {
      if (hadError) this.#sessions.delete(key);
    });
    if (this.#sessions.has(key) || this.#firsts.has(key)) return;
    this.#firsts.set(
      key,
      new Promise<void>((release) => {
        const done = (): void => {
          this.#firsts.delete(key);
          release();
        };
        // A TLS 1.2 session comes with the handshake, a TLS 1.3 ticket just after it and before any
        // response bytes: with a server that issues neither, its first data (or a close) releases the others.
        socket.once('session', done);
        socket.once('data', done);
        socket.once('close', done);
        socket.once('error', done);
      }),
    );
  }

  /** How requests to `key` travel: HTTP/1.1 or this HTTP/2 session (negotiating it when there is none). */
  #wire(url: URL, key: string): Promise<'h1' | H2Conn> {
    if (!this.settings.http2 || this.#h1.has(key)) return Promise.resolve('h1');
    const conn = this.#h2.get(key);
    if (conn?.usable === true) return Promise.resolve(conn);
    let p = this.#negotiating.get(key);
    if (p === undefined) {
      p = this.#connect(url, key).finally(() => this.#negotiating.delete(key));
      // Every waiting request handles the outcome; this keeps a failure nobody waits for any more from being unhandled.
      p.catch(() => undefined);
      this.#negotiating.set(key, p);
    }
    return p;
  }

  /** Open a TLS connection to `url`'s host offering `h2` and `http/1.1`, and set it up for the one picked. */
  #connect(url: URL, key: string): Promise<'h1' | H2Conn> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? 443 : Number(url.port);
    const session = this.#sessions.get(key);
    const socket = nodeTls().connect({
      host,
      port,
      ...this.tls,
      // SNI as Node's HTTPS agent sends it: the configured name, else the host unless it is an IP address.
      ...(this.tls.servername === undefined && net.isIP(host) === 0 ? { servername: host } : {}),
      ...(this.settings.lookup === undefined ? {} : { lookup: this.settings.lookup }),
      ...(this.settings.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
      ...(session === undefined ? {} : { session }),
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    this.#watch(key, socket);
    this.#connecting.add(socket);
    return new Promise<'h1' | H2Conn>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy(Object.assign(new Error('TLS handshake timed out'), { code: HANDSHAKE_TIMEOUT }));
      }, timerDelay(this.settings.connectTimeoutMs));
      const onError = (e: Error): void => {
        clearTimeout(timer);
        this.#connecting.delete(socket);
        reject(e);
      };
      const onClose = (): void => onError(Object.assign(new Error('the connection closed during the TLS handshake'), { code: 'ECONNRESET' }));
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        this.#connecting.delete(socket);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
        if (socket.alpnProtocol === 'h2') return resolve(this.#session(url, key, socket));
        this.#h1.add(key);
        // The socket waits in #adopted for the agent's first connection to the host; an error meanwhile drops it.
        socket.once('error', () => {
          if (this.#adopted.get(key) === socket) this.#adopted.delete(key);
          socket.destroy();
        });
        // Waiting, it must not keep a process alive (the agent refs the sockets it lends to requests).
        socket.unref();
        this.#adopted.set(key, socket);
        resolve('h1');
      });
    });
  }

  /** An HTTP/2 session over the negotiated `socket`. */
  #session(url: URL, key: string, socket: tlsT.TLSSocket): H2Conn {
    const session = nodeHttp2().connect(url.origin, { createConnection: () => socket, settings: H2_SETTINGS, maxSessionMemory: H2_MAX_SESSION_MEMORY_MB });
    const conn = new H2Conn(session, this.settings.maxSockets, this.settings.connectTimeoutMs);
    this.settings.stats.http2Sessions++;
    const gone = (): void => {
      conn.gone();
      if (this.#h2.get(key) === conn) this.#h2.delete(key);
    };
    session.on('error', (e: Error) => {
      conn.error ??= e;
    });
    session.on('goaway', (_code: number, lastStreamId: number) => {
      conn.goawayLastStreamId = lastStreamId;
      gone();
    });
    session.on('close', gone);
    session.on('remoteSettings', () => conn.drain());
    session.once('connect', () => {
      try {
        session.setLocalWindowSize(H2_SESSION_WINDOW);
      } catch {
        // a session closing already
      }
    });
    session.unref();
    this.#h2.set(key, conn);
    return conn;
  }

  /**
   * Start one attempt of `req` on this pool's wire to its host. Asynchronous: `ev` hears of it later.
   */
  exchange(req: HttpRequest, headers: Record<string, string>, ev: ExchangeEvents, what: string): Exchange {
    const key = poolKey(req.url.hostname, req.url.port === '' ? 443 : req.url.port);
    let stopped = false;
    let current: Exchange | undefined;
    let cancelWait: (() => void) | undefined;
    let losses = 0;
    const start = async (): Promise<void> => {
      const wire = await this.#wire(req.url, key);
      if (stopped) return;
      if (wire === 'h1') {
        // The negotiating connection is this request's; others wait for its session to resume it.
        if (!this.#claim(key)) {
          const first = this.#firsts.get(key);
          if (first !== undefined) await first;
          if (stopped) return;
        }
        current = h1Exchange(nodeHttps(), this.agent, req, headers, ev, what);
        return;
      }
      // A request on this session just timed out: wait for its PING before trusting it.
      if (wire.checking !== undefined) await wire.checking;
      if (stopped) return;
      const slot = wire.acquire();
      cancelWait = slot.cancel;
      const granted = await slot.granted;
      cancelWait = undefined;
      if (stopped) {
        if (granted) wire.release();
        return;
      }
      if (!granted) return retry(fail('REGISTRY_UNAVAILABLE', `${what}: the HTTP/2 connection closed`));
      current = h2Exchange(wire, req, headers, ev, what, retry);
    };
    /** The session went away before the server processed this request: send it on a new one (bounded). */
    const retry = (e: Error): void => {
      if (stopped) return;
      if (++losses > H2_MAX_SESSION_LOSSES) return ev.error(e);
      current = undefined;
      run();
    };
    const run = (): void => {
      start().catch((err: NodeJS.ErrnoException) => {
        if (err.code !== HANDSHAKE_TIMEOUT) return ev.error(err);
        const ms = this.settings.connectTimeoutMs;
        ev.error(fail('REGISTRY_UNAVAILABLE', `${what}: timed out: no TLS handshake for ${secs(ms)}`, { details: { timeout: true, timeoutMs: ms } }));
      });
    };
    run();
    return {
      abort: (timedOut) => {
        stopped = true;
        cancelWait?.();
        current?.abort(timedOut);
      },
    };
  }

  /** Whether the caller takes the connection left by negotiating `key` (the first to ask does). */
  #claim(key: string): boolean {
    const s = this.#adopted.get(key);
    if (s === undefined || s.destroyed || (s as { claimed?: boolean }).claimed === true) return false;
    (s as { claimed?: boolean }).claimed = true;
    return true;
  }

  /** Close idle connections and HTTP/2 sessions (in-flight streams finish). */
  close(): void {
    this.agent.destroy();
    for (const s of this.#adopted.values()) s.destroy();
    this.#adopted.clear();
    for (const s of this.#connecting) s.destroy();
    this.#connecting.clear();
    for (const c of this.#h2.values()) {
      c.gone();
      c.session.close();
    }
    this.#h2.clear();
    this.#h1.clear();
  }
}

/**
 * A request as a stream of an HTTP/2 session. `replay` is called instead of `ev.error` when the server
 * did not process the stream (refused it, or it is above the id of a GOAWAY): the pool sends it again
 * on another session, without it counting as a failed attempt.
 */
function h2Exchange(conn: H2Conn, req: HttpRequest, headers: Record<string, string>, ev: ExchangeEvents, what: string, replay: (e: Error) => void): Exchange {
  const { constants } = nodeHttp2();
  const h: Record<string, string> = { ':method': req.method, ':path': `${req.url.pathname}${req.url.search}` };
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (!H2_DROPPED_HEADERS.has(name)) h[name] = v;
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    conn.release();
  };
  let responded = false;
  let finished = false;
  const unprocessed = (stream: import('node:http2').ClientHttp2Stream | undefined, e: NodeJS.ErrnoException | undefined): boolean =>
    !responded &&
    (stream?.rstCode === constants.NGHTTP2_REFUSED_STREAM ||
      e?.code === 'ERR_HTTP2_GOAWAY_SESSION' ||
      (conn.goawayLastStreamId !== undefined && (stream?.id === undefined || stream.id > conn.goawayLastStreamId)));
  /** The error of a failed stream: the session's own (a TLS alert, a reset connection) if it has one. */
  const failure = (stream: import('node:http2').ClientHttp2Stream, streamError: NodeJS.ErrnoException | undefined): Error => {
    const e: NodeJS.ErrnoException | undefined = conn.error ?? streamError;
    if (e !== undefined && e.code !== undefined && !e.code.startsWith('ERR_HTTP2_')) return e;
    const why = e?.message ?? `stream closed with code ${stream.rstCode ?? 'unknown'}`;
    return fail('REGISTRY_UNAVAILABLE', `${what}: HTTP/2: ${why}`, { ...(e === undefined ? {} : { cause: e }), details: { errno: e?.code, http2: true } });
  };
  let stream: import('node:http2').ClientHttp2Stream;
  try {
    stream = conn.session.request(h, { endStream: req.body === undefined });
  } catch (e) {
    // The session closed between the slot and the request.
    release();
    queueMicrotask(() => replay(e as Error));
    return { abort: () => undefined };
  }
  let declared: number | undefined;
  let received = 0;
  stream.on('response', (rh) => {
    responded = true;
    const out: httpT.IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(rh)) if (!k.startsWith(':')) out[k] = v as string | string[];
    const status = Number(rh[':status']);
    const length = Number(out['content-length']);
    if (req.method !== 'HEAD' && status !== 204 && status !== 304 && out['content-length'] !== undefined && Number.isSafeInteger(length)) declared = length;
    ev.response(status, out);
    for (const c of early.splice(0)) ev.data(c);
  });
  /** Body bytes that came before the `response` event (Node emits it on the next tick, data can be quicker). */
  const early: Buffer[] = [];
  stream.on('data', (c: Buffer) => {
    received += c.byteLength;
    if (responded) ev.data(c);
    else if (received <= H2_MAX_EARLY_BYTES) early.push(c);
    else report(Object.assign(new Error('body bytes before the response headers'), { code: 'ERR_HTTP2_PROTOCOL' }));
  });
  stream.on('end', () => {
    // Node ends the readable side of a stream reset or closed with its session too: only a response
    // that arrived whole (END_STREAM, as many bytes as declared) is one.
    const reset = stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR;
    if (!responded || reset) return report(undefined);
    if (declared !== undefined && received !== declared) {
      return report(Object.assign(new Error(`the body ended after ${received} of ${declared} bytes`), { code: 'ERR_HTTP2_TRUNCATED_BODY' }));
    }
    finished = true;
    release();
    ev.end();
  });
  let reported = false;
  const report = (e: NodeJS.ErrnoException | undefined): void => {
    if (reported || finished) return;
    reported = true;
    release();
    if (unprocessed(stream, e)) replay(failure(stream, e));
    else ev.error(failure(stream, e));
  };
  stream.on('error', (e: NodeJS.ErrnoException) => report(e));
  stream.on('close', () => {
    release();
    // A stream reset without an error event (RST_STREAM with NO_ERROR before the end).
    if (!finished) setImmediate(() => report(undefined));
  });
  if (req.body === undefined) queueMicrotask(() => ev.sent());
  else stream.end(Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength), () => ev.sent());
  return {
    abort: (timedOut) => {
      reported = true;
      if (!stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      release();
      // A slow request, or a connection that died silently (no FIN, no reset): a PING tells them apart.
      if (timedOut === true) conn.check();
    },
  };
}

/**
 * Checks that a CA bundle holds at least one PEM certificate that parses (Go's `AppendCertsFromPEM`,
 * which cosign requires of `--registry-cacert`).
 * @throws CosignError `BAD_INPUT` otherwise (the message never quotes the bundle).
 */
export function assertCertificates(bundle: string | Buffer, what: string): void {
  const blocks = String(bundle).match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  for (const b of blocks) {
    try {
      new X509Certificate(b);
      return;
    } catch {
      // try the next block
    }
  }
  throw fail('BAD_INPUT', `${what}: no valid PEM certificate found`);
}

function asList(ca: string | Buffer | ReadonlyArray<string | Buffer> | undefined): ReadonlyArray<string | Buffer> {
  return ca === undefined ? [] : Array.isArray(ca) ? (ca as ReadonlyArray<string | Buffer>) : [ca as string | Buffer];
}

/**
 * The `ca` agent option: `undefined` (Node's default store, which holds `NODE_EXTRA_CA_CERTS`) unless
 * there are extra CAs or `SSL_CERT_FILE`/`SSL_CERT_DIR` is set. Like Go's crypto/x509 on Linux,
 * `SSL_CERT_FILE` replaces the base bundle (here Node's bundled roots) and the PEM files of the
 * `SSL_CERT_DIR` folders (colon-separated) are trusted too. A `ca` option replaces Node's default store,
 * so `NODE_EXTRA_CA_CERTS` is added back explicitly.
 */
function caOption(extra: ReadonlyArray<string | Buffer>): { ca?: string[] } {
  const env = process.env;
  const certFile = env.SSL_CERT_FILE ?? '';
  const certDirs = (env.SSL_CERT_DIR ?? '').split(':').filter((d) => d !== '');
  if (extra.length === 0 && certFile === '' && certDirs.length === 0) return {};
  const base = certFile === '' ? [...nodeTls().rootCertificates] : readCaFile(certFile);
  const fromDirs = certDirs.flatMap((d) => {
    try {
      return readdirSync(d)
        .filter((n) => /\.(pem|crt)$|^[0-9a-f]{8}\.[0-9]+$/i.test(n))
        .flatMap((n) => readCaFile(path.join(d, n)));
    } catch {
      return [];
    }
  });
  return { ca: [...base, ...fromDirs, ...readCaFile(env.NODE_EXTRA_CA_CERTS ?? ''), ...extra.map(String)] };
}

/** Largest CA file read from `SSL_CERT_FILE`, `SSL_CERT_DIR` or `NODE_EXTRA_CA_CERTS`. */
const MAX_ENV_CA_BYTES = 8 * 1024 * 1024;

/** A CA bundle named by the environment; unreadable or oversized ones are skipped, as Go and Node do. */
function readCaFile(file: string): string[] {
  if (file === '') return [];
  try {
    if (statSync(file).size > MAX_ENV_CA_BYTES) return [];
    return [readFileSync(file, 'utf8')];
  } catch {
    return [];
  }
}

function clientHello(serverName: string | undefined): Buffer {
  const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
  const ext = (type: number, body: number[]): number[] => [...u16(type), ...u16(body.length), ...body];
  const list16 = (xs: number[]): number[] => [...u16(xs.length * 2), ...xs.flatMap(u16)];
  const extensions = [
    ...(serverName === undefined
      ? []
      : ext(
          0x0000,
          (() => {
            const name = [...Buffer.from(serverName, 'ascii')];
            const entry = [0, ...u16(name.length), ...name];
            return [...u16(entry.length), ...entry];
          })(),
        )),
    ...ext(0x000a, list16([0x001d, 0x0017, 0x0018])), // supported_groups: x25519, P-256, P-384
    ...ext(0x000b, [1, 0]), // ec_point_formats: uncompressed
    ...ext(0x000d, list16([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601])), // signature_algorithms
    ...ext(0x002b, [4, 3, 4, 3, 3]), // supported_versions: TLS 1.3, 1.2
  ];
  const suites = list16([0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8]);
  const hello = [3, 3, ...randomBytes(32), 0, ...suites, 1, 0, ...u16(extensions.length), ...extensions];
  const handshake = [1, (hello.length >> 16) & 0xff, ...u16(hello.length & 0xffff), ...hello];
  return Buffer.from([22, 3, 1, ...u16(handshake.length), ...handshake]);
}

/** A header value as one string. */
export function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** A URL without query secrets or user info, for messages. */
export function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
