/**
 * HTTP transport for registries: keep-alive connection reuse, per-request deadlines (a total one per
 * attempt, covering connect, headers and body, and an idle one while waiting for the server, so a
 * stalled or trickling registry fails in bounded time), retries with backoff on network errors, 408,
 * 429 and 5xx honouring `Retry-After` (a timed-out request is retried at most once), streamed size
 * limits, and manual redirects that never forward `Authorization` to another host.
 *
 * @module
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { http, net, nodeDns, nodeHttps, nodeTls } from '../internal/node-http.js';
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
  /** Sockets per host. Default 64. */
  readonly maxSockets?: number;
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
  readonly stats: TransportStats = { requests: 0, retries: 0, bytesReceived: 0, tlsHandshakes: 0, tlsResumedHandshakes: 0, tlsHandshakesByHost: {} };
  readonly #http: httpT.Agent;
  // Created on the first https:// request: loading node:https and node:tls costs several ms per process.
  #https: httpsT.Agent | undefined;
  readonly #httpsOptions: httpsT.AgentOptions;
  readonly #globalCa: ReadonlyArray<string | Buffer>;
  readonly #tls = new Map<string, RegistryTlsOptions>();
  /** HTTPS agents of hosts with their own TLS settings (one pool each, so connections stay reused). */
  readonly #hostAgents = new Map<string, httpsT.Agent>();
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
    this.#httpsOptions = {
      keepAlive: true,
      maxSockets,
      ...(lookup === undefined ? {} : { lookup }),
      ...(options.insecureSkipVerify === true ? { rejectUnauthorized: false } : {}),
    };
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
  }

  /** Close idle keep-alive sockets. */
  close(): void {
    this.#http.destroy();
    this.#https?.destroy();
    for (const a of this.#hostAgents.values()) a.destroy();
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

  #httpsAgent(host: string): httpsT.Agent {
    const t = this.tlsSettings(host);
    if (t === undefined) {
      if (this.#https === undefined) {
        this.#https = resumingAgent({ ...this.#httpsOptions, ...caOption(this.#globalCa) }, this.stats);
      }
      return this.#https;
    }
    let agent = this.#hostAgents.get(host);
    if (agent === undefined) {
      agent = resumingAgent(
        {
          ...this.#httpsOptions,
          ...(t.caOnly === true ? { ca: asList(t.ca).map(String) } : caOption([...this.#globalCa, ...asList(t.ca)])),
          ...(t.cert === undefined ? {} : { cert: t.cert }),
          ...(t.key === undefined ? {} : { key: t.key }),
          ...(t.servername === undefined || t.servername === '' ? {} : { servername: t.servername }),
        },
        this.stats,
      );
      this.#hostAgents.set(host, agent);
    }
    return agent;
  }

  async #once(req: HttpRequest): Promise<HttpResponse> {
    const isHttps = req.url.protocol === 'https:';
    const agent = isHttps ? this.#httpsAgent(req.url.host) : this.#http;
    if (isHttps) {
      // The first connection to this host is being set up: wait for its session and resume it.
      const first = sessionGates.get(agent as httpsT.Agent)?.(poolKey(req.url.hostname, req.url.port === '' ? 443 : req.url.port));
      if (first !== undefined) await (req.signal === undefined ? first : untilAborted(first, req.signal, `${req.method} ${redact(req.url)}`));
    }
    return this.#send(req, agent);
  }

  #send(req: HttpRequest, agent: httpT.Agent): Promise<HttpResponse> {
    this.stats.requests++;
    const isHttps = req.url.protocol === 'https:';
    const mod = isHttps ? nodeHttps() : http;
    const what = `${req.method} ${redact(req.url)}`;
    if (req.signal?.aborted === true) return Promise.reject(abortError(req.signal, what));
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      let idle: ReturnType<typeof setTimeout> | undefined;
      let responded = false;
      let bodyStart = 0;
      let size = 0;
      const done = (err: Error | undefined, res?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(idle);
        req.signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) reject(err);
        else resolve(res as HttpResponse);
      };
      const headers: Record<string, string> = { 'user-agent': this.#ua, ...(req.headers ?? {}) };
      if (req.body !== undefined) headers['content-length'] = String(req.body.byteLength);
      /** Wait at most the idle timeout for the server's next bytes. */
      const waitForServer = (waiting: string): void => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          r.destroy();
          done(fail('REGISTRY_UNAVAILABLE', `${what}: timed out: ${waiting} for ${secs(this.#idle)}`, { details: { timeout: true, timeoutMs: this.#idle } }));
        }, timerDelay(this.#idle));
      };
      const r = mod.request(req.url, { method: req.method, headers, agent }, (res) => {
        responded = true;
        bodyStart = performance.now();
        waitForServer('the body stalled (no bytes)');
        const max = req.maxBytes ?? 4 * 1024 * 1024;
        const declared = Number(res.headers['content-length']);
        if (req.method !== 'HEAD' && Number.isFinite(declared) && declared > max && (res.statusCode ?? 0) < 300) {
          res.destroy();
          r.destroy();
          return done(
            fail('TOO_LARGE', `${req.method} ${redact(req.url)}: response of ${declared} bytes is over the ${max}-byte limit`, { details: { limit: max } }),
          );
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          waitForServer('the body stalled (no bytes)');
          size += c.byteLength;
          this.stats.bytesReceived += c.byteLength;
          if (size > max && (res.statusCode ?? 0) < 300) {
            res.destroy();
            r.destroy();
            return done(fail('TOO_LARGE', `${req.method} ${redact(req.url)}: response is over the ${max}-byte limit`, { details: { limit: max } }));
          }
          if (size <= Math.max(max, 64 * 1024)) chunks.push(c);
        });
        res.on('end', () => done(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url: req.url }));
        res.on('error', (e) => done(fail('REGISTRY_UNAVAILABLE', `${req.method} ${redact(req.url)}: ${e.message}`, { cause: e })));
      });
      const onDeadline = (): void => {
        // A large body still arriving at a useful rate (a blob being copied) gets more time, a second at
        // a time, as long as that holds; a trickle does not. The size limit bounds how long that can be.
        if (responded && this.#minRate > 0 && size >= (this.#minRate * (performance.now() - bodyStart)) / 1000) {
          timer = setTimeout(onDeadline, 1000);
          return;
        }
        r.destroy();
        done(
          fail('REGISTRY_UNAVAILABLE', `${what}: timed out: no complete response within ${secs(this.#timeout)}`, {
            details: { timeout: true, timeoutMs: this.#timeout },
          }),
        );
      };
      let timer = setTimeout(onDeadline, timerDelay(this.#timeout));
      // Once the request is sent, the server has the idle timeout to start answering.
      r.on('finish', () => {
        if (!settled && !responded) waitForServer('no response');
      });
      const onAbort = (): void => {
        r.destroy();
        done(abortError(req.signal as AbortSignal, what));
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      r.on('error', (e: NodeJS.ErrnoException) => done(networkError(`${req.method} ${redact(req.url)}`, e)));
      r.end(req.body === undefined ? undefined : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength));
    });
  }
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

/** The pool key of {@link resumingAgent} for a connection to `host:port`. */
function poolKey(host: string | undefined, port: number | string | undefined): string {
  return `${String(host ?? '').replace(/^\[(.*)\]$/, '$1')}:${String(port ?? 443)}`;
}

/**
 * Per agent of {@link resumingAgent}: what a request to `host:port` waits for before it may open a
 * connection (the first connection's session), or undefined.
 */
const sessionGates = new WeakMap<httpsT.Agent, (key: string) => Promise<void> | undefined>();

/**
 * An HTTPS agent (keep-alive pool, Node's TLS session cache) that resumes sessions across connections:
 * while the first connection to a host has no session yet, further requests to it wait (in
 * {@link Transport}, before reaching the agent, so `maxSockets` holds) for that session (a TLS 1.2
 * session or a TLS 1.3 ticket); a batch that opens many connections at once then pays one full
 * handshake per host and resumes the others. Handshakes are counted in `stats`.
 */
function resumingAgent(options: httpsT.AgentOptions, stats: TransportStats): httpsT.Agent {
  const agent = new (nodeHttps().Agent)(options);
  const proto = agent as unknown as { createConnection(o: AgentConnectOptions, cb?: unknown): tlsT.TLSSocket };
  const base = proto.createConnection.bind(agent);
  /** Hosts with a session to resume. */
  const resumable = new Set<string>();
  /** Hosts whose first connection is still waiting for a session: released when it has one (or fails). */
  const firsts = new Map<string, Promise<void>>();
  proto.createConnection = (o: AgentConnectOptions, cb?: unknown): tlsT.TLSSocket => {
    const socket = base(o, cb);
    const key = poolKey(o.host, o.port);
    socket.once('secureConnect', () => {
      const reused = socket.isSessionReused();
      stats.tlsHandshakes++;
      if (reused) stats.tlsResumedHandshakes++;
      const count = (stats.tlsHandshakesByHost[key] ??= { full: 0, resumed: 0 });
      if (reused) count.resumed++;
      else count.full++;
    });
    socket.on('session', () => resumable.add(key));
    socket.once('close', (hadError: boolean) => {
      if (hadError) resumable.delete(key);
    });
    if (!resumable.has(key) && !firsts.has(key)) {
      firsts.set(
        key,
        new Promise<void>((release) => {
          const done = (): void => {
            firsts.delete(key);
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
    return socket;
  };
  sessionGates.set(agent, (key) => firsts.get(key));
  return agent;
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
