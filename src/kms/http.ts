/**
 * A minimal JSON-over-HTTP(S) client on `node:http`/`node:https` (for providers without an SDK, such as
 * Vault), with a timeout, a response size limit and optional custom CA / TLS verification settings.
 *
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import { http, nodeHttps } from '../internal/node-http.js';

/** TLS settings for {@link httpJson}. */
export interface TlsSettings {
  /** PEM CA bundle to trust instead of the system roots. */
  readonly ca?: string | Buffer;
  /** Skip certificate verification (tests only). */
  readonly insecureSkipVerify?: boolean;
}

/** One HTTP exchange. */
export interface HttpJsonRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  readonly tls?: TlsSettings;
}

/** The response: status, headers and raw body (parse it yourself). */
export interface HttpJsonResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Thrown when a response is larger than `maxBytes`. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

/** Perform one request; rejects with the socket error (ECONNREFUSED, …) on network failure. */
export function httpJson(req: HttpJsonRequest): Promise<HttpJsonResponse> {
  const maxBytes = req.maxBytes ?? 1024 * 1024;
  const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), 'utf8');
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }
  const isHttps = req.url.protocol === 'https:';
  const fn = isHttps ? nodeHttps().request : http.request;
  return new Promise((resolve, reject) => {
    const r = fn(
      req.url,
      {
        method: req.method,
        headers,
        timeout: req.timeoutMs ?? 30_000,
        ...(isHttps && req.tls?.ca !== undefined ? { ca: req.tls.ca } : {}),
        ...(isHttps && req.tls?.insecureSkipVerify === true ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            res.destroy(new ResponseTooLargeError(`response larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    r.on('timeout', () => r.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
    r.on('error', reject);
    r.end(body);
  });
}
