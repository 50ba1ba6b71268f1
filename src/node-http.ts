/**
 * `node:http` and `node:https`, loaded with `require()`. An ESM import of `node:http` evaluates its lazy
 * exports (`WebSocket`, `MessageEvent`, …), which loads Node's bundled undici: ~20 ms added to every
 * process start, a large share of a CLI call. `require()` leaves them lazy.
 *
 * `node:https` (and with it `node:tls` and the TLS context code) is loaded only when first asked for,
 * through {@link nodeHttps}: a plain-HTTP registry call (a local registry, CI) never pays for it.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { lazy } from './lazy.js';

const require = createRequire(import.meta.url);

/** `node:http`. */
export const http = require('node:http') as typeof import('node:http');

/** `node:net` (already loaded by `node:http`). */
export const net = require('node:net') as typeof import('node:net');

/** `node:https`, loaded on first use. */
export const nodeHttps: () => typeof import('node:https') = lazy(() => require('node:https') as typeof import('node:https'));

/** `node:tls`, loaded on first use. */
export const nodeTls: () => typeof import('node:tls') = lazy(() => require('node:tls') as typeof import('node:tls'));

/** `node:child_process`, loaded on first use (credential helpers). */
export const nodeChildProcess: () => typeof import('node:child_process') = lazy(() => require('node:child_process') as typeof import('node:child_process'));
