/**
 * The webhook's HTTPS server: `POST /validate` (ValidatingAdmissionWebhook) and `POST /mutate`
 * (MutatingAdmissionWebhook: the same checks plus the digest-pinning JSONPatch), `GET /healthz`,
 * `GET /readyz`, `GET /metrics` (Prometheus). HTTP/2 (what kube-apiserver's client-go transport
 * negotiates through ALPN) and HTTP/1.1 on the same port, through one request handler: same routes,
 * body limit, deadline and logs for both. TLS certificates are re-read periodically and swapped in
 * without a restart (cert-manager or a rotated Secret). One JSON log line per review; every external
 * string in it is JSON-escaped and length-capped. The default log sink writes the lines of one event
 * loop turn to stdout in one write.
 *
 * Each review has a deadline below the API server's webhook timeout (the `?timeout=10s` query the API
 * server adds, else `timeoutSeconds`): what is still verifying then counts as an outage, decided by
 * each rule's failure policy, and the verification continues in the background for the next review.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fail, isCosignError } from '../errors.js';
import { nodeHttp2, nodeTls } from '../internal/node-http.js';
import type { AdmissionController, AdmissionDecision } from './admission.js';
import { safeText } from './admission.js';
import { WebhookMetrics } from './metrics.js';
import { MAX_REVIEW_BYTES, parseAdmissionReview, type ParsedReview } from './review.js';

/** TLS material: PEM files (re-read for hot reload), or PEM text (fixed). */
export type WebhookTls = { readonly certFile: string; readonly keyFile: string } | { readonly cert: string; readonly key: string };

/** Log levels, least severe first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Options of {@link startWebhookServer}. */
export interface WebhookServerOptions {
  readonly controller: AdmissionController;
  readonly tls: WebhookTls;
  /** Default `0.0.0.0`. */
  readonly host?: string;
  /** Default 8443; 0 for a free port. */
  readonly port?: number;
  /**
   * The webhook configuration's `timeoutSeconds` (1–30), used when a request carries no `?timeout=`.
   * Default 10.
   */
  readonly timeoutSeconds?: number;
  /** How often certificate files are re-read, in ms. Default 10 s; 0 disables. */
  readonly certReloadIntervalMs?: number;
  /** Where JSON log lines go. Default `process.stdout`. */
  readonly log?: (line: string) => void;
  /** Least severe level logged. Default `info` (one line per review). */
  readonly logLevel?: LogLevel;
  /** Metrics (default: a new instance). */
  readonly metrics?: WebhookMetrics;
  /** Reviews handled at once; more wait for a slot. Default 1000. */
  readonly maxInFlight?: number;
}

/** A running webhook server. */
export interface WebhookServer {
  /** `https://host:port`. */
  readonly url: string;
  readonly port: number;
  readonly metrics: WebhookMetrics;
  /** Re-read the certificate files now (when they changed); false when they could not be loaded. */
  reloadCertificate(): Promise<boolean>;
  /** Stop accepting reviews (`/readyz` fails), finish those in flight, close. */
  close(): Promise<void>;
}

const LEVELS: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Most concurrent HTTP/2 streams per connection (the SETTINGS value Go's HTTP/2 server sends). */
const MAX_CONCURRENT_STREAMS = 250;

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/** Deadlines by request URL: the API server sends the same `?timeout=` on every review. */
const deadlineCache = new Map<string, number>();

/**
 * The deadline of one review, in ms: the API server's timeout (its `?timeout=Ns` query, else
 * `timeoutSeconds`), less a margin of 20 % and at least 500 ms for the answer to travel back.
 */
export function reviewDeadlineMs(url: string | undefined, timeoutSeconds = 10): number {
  const q = url?.indexOf('?') ?? -1;
  let seconds = timeoutSeconds;
  if (url !== undefined && q >= 0) {
    const t = new URLSearchParams(url.slice(q + 1)).get('timeout');
    const m = t === null ? null : /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(t);
    if (m !== null) seconds = Number(m[1]) * (m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1);
  }
  seconds = Math.min(Math.max(seconds, 1), 30);
  const ms = seconds * 1000;
  return Math.max(100, ms - Math.max(500, ms * 0.2));
}

/** {@link reviewDeadlineMs}, remembered for short URLs (at most 64 of them). */
function cachedDeadlineMs(url: string | undefined, timeoutSeconds: number): number {
  if (url === undefined || url.length > 256) return reviewDeadlineMs(url, timeoutSeconds);
  const key = `${timeoutSeconds} ${url}`;
  let ms = deadlineCache.get(key);
  if (ms === undefined) {
    ms = reviewDeadlineMs(url, timeoutSeconds);
    if (deadlineCache.size >= 64) deadlineCache.clear();
    deadlineCache.set(key, ms);
  }
  return ms;
}

async function readTls(tls: WebhookTls): Promise<{ cert: string; key: string }> {
  if ('cert' in tls) return { cert: tls.cert, key: tls.key };
  const [cert, key] = await Promise.all([readFile(tls.certFile, 'utf8'), readFile(tls.keyFile, 'utf8')]);
  return { cert, key };
}

/** Log lines to stdout, the lines of one event loop turn in one write. */
function stdoutSink(): { write: (line: string) => void; flush: () => void } {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    process.stdout.write(text);
  };
  return {
    write: (line) => {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** Start the webhook server; resolves once it listens. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const controller = options.controller;
  const metrics = options.metrics ?? new WebhookMetrics();
  metrics.sources ??= {
    verifications: () => controller.verifications,
    cacheStats: () => controller.outcomes.stats,
    registryRequests: () => controller.registryRequests(),
  };
  const sink = options.log === undefined ? stdoutSink() : undefined;
  const write = options.log ?? (sink as { write: (line: string) => void }).write;
  const minLevel = LEVELS[options.logLevel ?? 'info'];
  const log = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    if (LEVELS[level] < minLevel) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  };
  const timeoutSeconds = options.timeoutSeconds ?? 10;
  let material: { cert: string; key: string };
  try {
    material = await readTls(options.tls);
    nodeTls().createSecureContext(material);
  } catch (e) {
    throw fail('BAD_KEY', `webhook TLS certificate or key cannot be loaded: ${(e as Error).message}`, { cause: e });
  }
  let ready = false;
  let closing = false;
  const maxInFlight = options.maxInFlight ?? 1000;
  const waiting: Array<() => void> = [];

  const send = (res: Response, status: number, body: string, type = 'application/json'): void => {
    (res as ServerResponse).writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  /**
   * Answer a request whose body was not read to its end (too large, or too slow), then drop the rest:
   * HTTP/1.1 closes the connection after the answer, HTTP/2 resets only the stream (RST_STREAM NO_ERROR,
   * RFC 9113 §8.1), the connection's other streams go on.
   */
  const sendAndDrop = (req: Request, res: Response, status: number, body: string): void => {
    if (req.httpVersionMajor === 2) {
      res.once('finish', () => {
        const stream = (req as Http2ServerRequest).stream;
        if (!stream.destroyed && !req.complete) stream.close(nodeHttp2().constants.NGHTTP2_NO_ERROR);
      });
    } else if (!req.complete) (res as ServerResponse).shouldKeepAlive = false;
    send(res, status, body);
  };

  /** The request body, at most {@link MAX_REVIEW_BYTES}, read before `signal` aborts. */
  const readBody = (req: Request, signal: AbortSignal): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? '0');
      if (declared > MAX_REVIEW_BYTES) {
        reject(fail('TOO_LARGE', `AdmissionReview: larger than ${MAX_REVIEW_BYTES} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        signal.removeEventListener('abort', onAbort);
      };
      const onData = (c: Buffer): void => {
        size += c.length;
        if (size > MAX_REVIEW_BYTES) {
          done();
          req.resume(); // discard the rest until the answer is sent and the stream or connection dropped
          reject(fail('TOO_LARGE', `AdmissionReview: larger than ${MAX_REVIEW_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      };
      const onEnd = (): void => {
        done();
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      };
      const onError = (e: Error): void => {
        done();
        reject(e);
      };
      const onAbort = (): void => {
        done();
        req.resume();
        reject(fail('BAD_INPUT', 'AdmissionReview: the request body did not arrive before the review deadline'));
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      signal.addEventListener('abort', onAbort, { once: true });
    });

  const handleReview = async (req: Request, res: Response, endpoint: 'validate' | 'mutate'): Promise<void> => {
    const t0 = performance.now();
    if (metrics.inFlight >= maxInFlight) await new Promise<void>((r) => waiting.push(r));
    metrics.inFlight++;
    let parsed: ParsedReview | undefined;
    let decision: AdmissionDecision | undefined;
    const deadline = cachedDeadlineMs(req.url, timeoutSeconds);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), deadline);
    let bodyRead = false;
    try {
      const type = req.headers['content-type'] ?? '';
      if (!type.startsWith('application/json')) {
        sendAndDrop(req, res, 415, JSON.stringify({ error: 'content-type must be application/json' }));
        metrics.observeReview(endpoint, 'bad-request', (performance.now() - t0) / 1000, [], false);
        return;
      }
      const body = await readBody(req, ac.signal);
      bodyRead = true;
      parsed = parseAdmissionReview(body);
      decision = await controller.review(parsed, { mutate: endpoint === 'mutate', signal: ac.signal });
      const response = decision.response;
      send(res, 200, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":${JSON.stringify(response)}}`);
      const seconds = (performance.now() - t0) / 1000;
      if (decision.deadlineReached) metrics.deadlinesReached++;
      metrics.observeReview(endpoint, response.allowed ? 'allowed' : 'denied', seconds, decision.images, parsed.request.dryRun);
      const denied = !response.allowed;
      if ((denied ? LEVELS.warn : LEVELS.info) >= minLevel) {
        const r = parsed.request;
        log(denied ? 'warn' : 'info', 'admission review', {
          uid: r.uid,
          endpoint,
          kind: r.kind.kind,
          namespace: r.namespace,
          name: r.name,
          operation: r.operation,
          dryRun: r.dryRun,
          allowed: response.allowed,
          durationMs: Math.round(seconds * 1e4) / 10,
          ...(decision.deadlineReached ? { deadlineReached: true } : {}),
          images: decision.images.map((i) => ({
            image: safeText(i.image, 512),
            ...(i.digest === undefined ? {} : { digest: i.digest }),
            result: i.result,
            rules: i.rules.map((x) => ({
              rule: x.rule,
              result: x.result,
              ...(x.reason === undefined ? {} : { code: x.code, reason: safeText(x.reason, 512) }),
            })),
          })),
          ...(response.status === undefined ? {} : { message: safeText(response.status.message, 2048) }),
        });
      }
    } catch (e) {
      const seconds = (performance.now() - t0) / 1000;
      const bad = isCosignError(e) && (e.code === 'BAD_INPUT' || e.code === 'TOO_LARGE' || e.code === 'BAD_REFERENCE');
      if (parsed !== undefined && !bad) {
        // An unexpected failure after the review was read: deny (fail closed), naming the review.
        const message = `cosign-ts-webhook: internal error: ${safeText((e as Error).message, 512)}`;
        if (!res.headersSent)
          send(
            res,
            200,
            JSON.stringify({
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              response: { uid: parsed.request.uid, allowed: false, status: { code: 500, message } },
            }),
          );
        metrics.observeReview(endpoint, 'error', seconds, [], parsed.request.dryRun);
        log('error', 'admission review failed', { uid: parsed.request.uid, error: safeText((e as Error).message, 512) });
      } else {
        const status = isCosignError(e) && e.code === 'TOO_LARGE' ? 413 : !bodyRead && ac.signal.aborted ? 408 : 400;
        if (!res.headersSent) sendAndDrop(req, res, status, JSON.stringify({ error: safeText((e as Error).message, 1024) }));
        metrics.observeReview(endpoint, 'bad-request', seconds, [], false);
        log('warn', 'bad admission review', { error: safeText((e as Error).message, 1024), remote: req.socket?.remoteAddress ?? '' });
      }
    } finally {
      clearTimeout(timer);
      metrics.inFlight--;
      waiting.shift()?.();
    }
  };

  /** The one handler of both protocols. */
  const onRequest = (req: Request, res: Response): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (req.method === 'POST' && (path === '/validate' || path === '/mutate')) {
      if (closing) {
        sendAndDrop(req, res, 503, JSON.stringify({ error: 'shutting down' }));
        return;
      }
      void handleReview(req, res, path === '/validate' ? 'validate' : 'mutate');
      return;
    }
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
    if (req.method === 'GET' && path === '/readyz')
      return ready && !closing ? send(res, 200, 'ok\n', 'text/plain') : send(res, 503, 'not ready\n', 'text/plain');
    if (req.method === 'GET' && path === '/metrics') return send(res, 200, metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
    sendAndDrop(req, res, 404, JSON.stringify({ error: 'not found' }));
  };

  const server = nodeHttp2().createSecureServer(
    {
      ...material,
      minVersion: 'TLSv1.2',
      // Small answers go out at once (node:http sets this on its own connections, node:http2 does not).
      noDelay: true,
      allowHTTP1: true,
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
    },
    onRequest,
  );
  // HTTP/1.1 connections (served by node:http's connection handling, which reads these from the server).
  Object.assign(server, { keepAliveTimeout: 65_000, headersTimeout: 66_000, requestTimeout: 60_000 });
  // Idle connections (either protocol) are closed after 65 s, like the keep-alive timeout.
  server.setTimeout(65_000);
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const sessions = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('sessionError', () => undefined);
  server.on('tlsClientError', () => undefined);

  const reloadCertificate = async (): Promise<boolean> => {
    if ('cert' in options.tls) return true;
    try {
      const next = await readTls(options.tls);
      if (next.cert === material.cert && next.key === material.key) return true;
      server.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
      material = next;
      metrics.certReloads++;
      log('info', 'TLS certificate reloaded', { certFile: options.tls.certFile });
      return true;
    } catch (e) {
      metrics.certReloadErrors++;
      log('error', 'TLS certificate reload failed; keeping the previous one', { error: safeText((e as Error).message, 512) });
      return false;
    }
  };
  const interval = options.certReloadIntervalMs ?? 10_000;
  const reloader = interval > 0 && !('cert' in options.tls) ? setInterval(() => void reloadCertificate(), interval) : undefined;
  reloader?.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8443, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  ready = true;
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '0.0.0.0';
  log('info', 'cosign-ts-webhook listening', { port, host });
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    metrics,
    reloadCertificate,
    close: async () => {
      closing = true;
      if (reloader !== undefined) clearInterval(reloader);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // HTTP/1.1: idle keep-alive connections now, busy ones after their answer (Node >= 19).
        (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        // HTTP/2: GOAWAY, then each connection closes once its open streams are answered.
        for (const s of sessions) s.close();
        setTimeout(() => {
          for (const s of sessions) s.destroy();
          for (const s of sockets) s.destroy();
        }, 5_000).unref();
      });
      sink?.flush();
    },
  };
}
