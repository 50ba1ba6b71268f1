/**
 * A very small HTTP(S) client for test helpers: talks to the real registry (optionally over TLS with
 * a private CA and basic auth) and to podman's Docker-compatible API over a unix socket.
 * It is deliberately independent of the library under test.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** PEM file of the CA that signed the server's certificate (https only). */
  caFile?: string;
  /** Client certificate and key (PEM files) for a registry requiring mutual TLS. */
  clientCertFile?: string;
  clientKeyFile?: string;
  /** Basic credentials sent on every request. */
  username?: string;
  password?: string;
  /** Unix socket to connect to instead of the URL's host (the URL then only supplies the path). */
  socketPath?: string;
  /** Abort after this many milliseconds (default 30 s). */
  timeoutMs?: number;
}

/** Response of {@link httpRequest}. */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Body parsed as JSON (throws when it is not JSON). */
  json<T = unknown>(): T;
  text(): string;
}

const caCache = new Map<string, Buffer>();

/** Sends one request and buffers the whole response. Never follows redirects. */
export function httpRequest(url: string | URL, opts: HttpRequestOptions = {}): Promise<HttpResponse> {
  const u = typeof url === 'string' ? new URL(url) : url;
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.username !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
  }
  const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  if (body !== undefined) headers['content-length'] = String(body.length);
  const isHttps = u.protocol === 'https:';
  let ca: Buffer | undefined;
  if (opts.caFile !== undefined) {
    ca = caCache.get(opts.caFile);
    if (ca === undefined) {
      ca = readFileSync(opts.caFile);
      caCache.set(opts.caFile, ca);
    }
  }
  const reqOpts: https.RequestOptions = {
    method: opts.method ?? 'GET',
    headers,
    path: u.pathname + u.search,
    ...(opts.socketPath !== undefined ? { socketPath: opts.socketPath } : { host: u.hostname, port: u.port === '' ? (isHttps ? 443 : 80) : Number(u.port) }),
    ...(isHttps && ca !== undefined ? { ca } : {}),
    ...(isHttps && opts.clientCertFile !== undefined ? { cert: readFileSync(opts.clientCertFile) } : {}),
    ...(isHttps && opts.clientKeyFile !== undefined ? { key: readFileSync(opts.clientKeyFile) } : {}),
    agent: false,
  };
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = (isHttps && opts.socketPath === undefined ? https : http).request(reqOpts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: buf,
          json<T>() {
            return JSON.parse(buf.toString('utf8')) as T;
          },
          text() {
            return buf.toString('utf8');
          },
        });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${reqOpts.method} ${u.href}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
