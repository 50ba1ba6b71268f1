/**
 * Typed KMS errors: every failure names the key reference and the reason, never a secret.
 *
 * @module
 */
import { fail, isCosignError, type CosignError, type CosignErrorCode } from '../errors.js';

/** The error codes a KMS provider produces. */
export type KmsErrorCode = Extract<
  CosignErrorCode,
  | 'KMS_ERROR'
  | 'KMS_KEY_DISABLED'
  | 'KMS_ACCESS_DENIED'
  | 'KMS_THROTTLED'
  | 'KMS_WRONG_KEY_USAGE'
  | 'KMS_UNSUPPORTED_KEY_SPEC'
  | 'KMS_NETWORK'
  | 'KMS_SDK_MISSING'
  | 'UNKNOWN_KEY_SCHEME'
>;

const MAX_REASON = 500;

/**
 * Remove every occurrence of each secret from `text` (tokens, secret keys), then cap its length.
 * Secrets shorter than 4 characters are ignored (they would redact ordinary words).
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s !== undefined && s.length >= 4) out = out.split(s).join('[REDACTED]');
  }
  // Bearer/Vault tokens that might be echoed back by a server.
  out = out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[REDACTED]');
  out = out.replace(/\b(hvs|hvb|hvr|s|b)\.[A-Za-z0-9]{20,}\b/g, '[REDACTED]');
  return out.length > MAX_REASON ? `${out.slice(0, MAX_REASON)}…` : out;
}

/** Build a KMS error whose message is `<keyRef>: <reason>`. */
export function kmsError(code: KmsErrorCode, keyRef: string, reason: string, details?: Record<string, unknown>): CosignError {
  return fail(code, `${keyRef}: ${reason}`, { details: { keyRef, ...details } });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
]);

/** The network error code (ECONNREFUSED, …) somewhere in an error's cause chain, if any. */
export function networkErrorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 8 && cur !== null && typeof cur === 'object'; depth++) {
    const o = cur as { code?: unknown; errno?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (typeof o.code === 'string' && NETWORK_CODES.has(o.code)) return o.code;
    if (o.name === 'TimeoutError' || o.name === 'TimeoutException') return 'ETIMEDOUT';
    if (Array.isArray(o.errors)) {
      for (const inner of o.errors) {
        const c = networkErrorCode(inner);
        if (c !== undefined) return c;
      }
    }
    cur = o.cause;
  }
  return undefined;
}

/**
 * The host (`host:port` when known) a network error in the cause chain was about, from Node's
 * `hostname` / `address` / `port` fields or a `connect ECONNREFUSED 1.2.3.4:443`-style message; `''`
 * when none says. Formatted as ` reaching <host>` for the KMS_NETWORK messages.
 */
export function networkErrorTarget(e: unknown): string {
  let cur: unknown = e;
  const seen: unknown[] = [];
  for (let depth = 0; depth < 8 && cur !== null && typeof cur === 'object' && !seen.includes(cur); depth++) {
    seen.push(cur);
    const o = cur as { hostname?: unknown; host?: unknown; address?: unknown; port?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    const host = [o.hostname, o.address, o.host].find((h): h is string => typeof h === 'string' && /^[\w.:[\]-]{1,255}$/.test(h));
    if (host !== undefined) {
      const port = typeof o.port === 'number' || (typeof o.port === 'string' && /^\d{1,5}$/.test(o.port)) ? `:${o.port}` : '';
      return ` reaching ${host.includes(':') && !host.startsWith('[') && port !== '' ? `[${host}]` : host}${port}`;
    }
    const m = typeof o.message === 'string' ? /\b(?:connect|getaddrinfo) [A-Z_]+ ([\w.:[\]-]{1,255})/.exec(o.message) : null;
    if (m?.[1] !== undefined) return ` reaching ${m[1]}`;
    if (Array.isArray(o.errors)) {
      for (const inner of o.errors) {
        const t = networkErrorTarget(inner);
        if (t !== '') return t;
      }
    }
    cur = o.cause;
  }
  return '';
}

/** Pass a CosignError through unchanged; otherwise return undefined so the caller maps it. */
export function passThrough(e: unknown): CosignError | undefined {
  return isCosignError(e) ? e : undefined;
}

/** A short, secret-free description of any thrown value (`Name: message`). */
export function describe(e: unknown, secrets: readonly (string | undefined)[] = []): string {
  if (e instanceof Error) {
    const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
    return redact(`${name}${e.message}`, secrets);
  }
  return redact(String(e), secrets);
}
