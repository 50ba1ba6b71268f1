/**
 * `node:http` and `node:https`, loaded with `require()`. An ESM import of `node:http` evaluates its lazy
 * exports (`WebSocket`, `MessageEvent`, …), which loads Node's bundled undici: on Node 24 it made importing
 * `cosign-ts` about 1.6× slower. `require()` leaves them lazy.
 *
 * `node:https` (and with it `node:tls` and the TLS context code) and `node:child_process` are loaded
 * only when first asked for: a plain-HTTP registry call (a local registry, CI) never pays for them.
 *
 * @internal
 * @module
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `node:http`. */
export const http = require('node:http') as typeof import('node:http');

/** `node:net` (already loaded by `node:http`). */
export const net = require('node:net') as typeof import('node:net');

let https: typeof import('node:https') | undefined;
/** `node:https`, loaded on first use. */
export function nodeHttps(): typeof import('node:https') {
  return (https ??= require('node:https') as typeof import('node:https'));
}

let tls: typeof import('node:tls') | undefined;
/** `node:tls`, loaded on first use. */
export function nodeTls(): typeof import('node:tls') {
  return (tls ??= require('node:tls') as typeof import('node:tls'));
}

let childProcess: typeof import('node:child_process') | undefined;
/** `node:child_process`, loaded on first use (credential helpers). */
export function nodeChildProcess(): typeof import('node:child_process') {
  return (childProcess ??= require('node:child_process') as typeof import('node:child_process'));
}

let dns: typeof import('node:dns') | undefined;
/** `node:dns` (`lookup`, for names a transport does not map itself). */
export function nodeDns(): typeof import('node:dns') {
  return (dns ??= require('node:dns') as typeof import('node:dns'));
}

let http2: typeof import('node:http2') | undefined;
/** `node:http2`, loaded on first use (the webhook server; an HTTPS registry that negotiates HTTP/2). */
export function nodeHttp2(): typeof import('node:http2') {
  return (http2 ??= require('node:http2') as typeof import('node:http2'));
}
