/**
 * `node:http` and `node:https`, loaded with `require()`. An ESM import of `node:http` evaluates its lazy
 * exports (`WebSocket`, `MessageEvent`, …), which loads Node's bundled undici: ~20 ms added to every
 * process start, a large share of a CLI call. `require()` leaves them lazy.
 *
 * @module
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `node:http`. */
export const http = require('node:http') as typeof import('node:http');
/** `node:https`. */
export const https = require('node:https') as typeof import('node:https');
