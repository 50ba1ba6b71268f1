/**
 * RFC 5424 syslog: a formatter with structured data, and transports to `/dev/log` (through util-linux
 * `logger`, since Node has no unix datagram sockets), UDP, and TCP with octet-counting framing
 * (RFC 6587).
 *
 * @module
 */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { fail } from '../errors.js';

/** Syslog severities (RFC 5424 §6.2.1). */
export const SEVERITY = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;
/** Severity name. */
export type Severity = keyof typeof SEVERITY;

/** One message. */
export interface SyslogMessage {
  readonly severity: Severity;
  readonly msgId: string;
  readonly message: string;
  /** Structured data parameters, under one SD-ID. */
  readonly data?: Readonly<Record<string, string | number | undefined>>;
  readonly timestamp?: Date;
}

/** Formatter settings. */
export interface SyslogFormat {
  /** Facility number (default 4 `auth`? no: 1 `user`). */
  readonly facility?: number;
  readonly appName?: string;
  readonly hostname?: string;
  readonly procId?: string;
  /** SD-ID (default `cosign-ts@32473`, the example private enterprise number). */
  readonly sdId?: string;
}

const PRINTUSASCII = /[^\x21-\x7e]/g;

function header(v: string | undefined, max: number): string {
  const s = (v ?? '').replace(PRINTUSASCII, '').slice(0, max);
  return s === '' ? '-' : s;
}

/**
 * Characters that never reach a log line raw, whoever wrote them (image names, reasons and digests
 * come from registries and container engines): C0 controls (newline, CR, NUL, ESC of ANSI
 * sequences …), DEL, C1 controls, the Unicode line and paragraph separators U+2028/U+2029, the byte
 * order mark, and bidirectional controls (they reorder what a reader sees).
 */
const UNSAFE = '\\u0000-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069\\ufeff';
const UNSAFE_RE = new RegExp(`[${UNSAFE}]`, 'g');
const MSG_RE = new RegExp(`[\\\\${UNSAFE}]`, 'g');
const PARAM_RE = new RegExp(`["\\\\\\]${UNSAFE}]`, 'g');
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\', '"': '\\"', ']': '\\]' };

/** `\n`, `\r`, `\t` by name, other unsafe characters as `\xHH` / `\uHHHH`; backslash, `"` and `]` with a backslash. */
function visible(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Escape an SD-PARAM value: `"`, `\` and `]` get a backslash (RFC 5424 §6.3.3), and control
 * characters, line separators and bidirectional controls are written visibly (`\n`, `\x00`,
 * `\u2028`), so no value can end the structured data or start a forged line.
 */
export function escapeParamValue(v: string): string {
  return v.replace(PARAM_RE, visible);
}

/**
 * Escape the free-text MSG part: backslash doubled, and control characters, line separators and
 * bidirectional controls written visibly (`\n`, `\x1b`, `\u2028`), so one message is one line.
 */
export function escapeMessage(v: string): string {
  return v.replace(MSG_RE, visible);
}

/**
 * `JSON.stringify(value)` as one safe log line: JSON escapes C0 controls itself; this also escapes
 * DEL, C1 controls, U+2028/U+2029, the byte order mark and bidirectional controls (`\u2028`), which
 * JSON leaves raw and which break lines or reorder text in terminals and log viewers.
 */
export function safeJsonLine(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_RE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Format an RFC 5424 line (no trailing newline). */
export function formatSyslog(m: SyslogMessage, f: SyslogFormat = {}): string {
  const pri = (f.facility ?? 1) * 8 + SEVERITY[m.severity];
  const ts = (m.timestamp ?? new Date()).toISOString();
  const params = Object.entries(m.data ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${header(k, 32).replace(/[= "\]]/g, '')}="${escapeParamValue(String(v))}"`)
    .join('');
  const sd = params === '' ? '-' : `[${f.sdId ?? 'cosign-ts@32473'}${params}]`;
  return `<${pri}>1 ${ts} ${header(f.hostname ?? os.hostname(), 255)} ${header(f.appName ?? 'cosign-ts-killer', 48)} ${header(f.procId ?? String(process.pid), 128)} ${header(m.msgId, 32)} ${sd} ${escapeMessage(m.message)}`;
}

/** Where syslog lines go. */
export interface SyslogTransport {
  send(line: string, m: SyslogMessage): Promise<void>;
  close(): Promise<void>;
}

/** UDP to `host:port` (one datagram per message). */
export function udpTransport(host: string, port = 514): SyslogTransport {
  const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  sock.unref();
  return {
    send: (line) => new Promise((resolve, reject) => sock.send(Buffer.from(line), port, host, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise((resolve) => sock.close(() => resolve())),
  };
}

/** TCP to `host:port`, octet-counting framing (`LEN SP MSG`), reconnecting on failure. */
export function tcpTransport(host: string, port = 514): SyslogTransport {
  let sock: net.Socket | undefined;
  const connect = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const s = net.connect({ host, port }, () => resolve(s));
      s.once('error', reject);
      s.on('close', () => {
        if (sock === s) sock = undefined;
      });
    });
  return {
    async send(line) {
      sock ??= await connect();
      const bytes = Buffer.from(line);
      await new Promise<void>((resolve, reject) =>
        (sock as net.Socket).write(Buffer.concat([Buffer.from(`${bytes.byteLength} `), bytes]), (e) => (e ? reject(e) : resolve())),
      );
    },
    close: async () => {
      sock?.end();
      sock = undefined;
    },
  };
}

/**
 * The local syslog socket (`/dev/log` by default) through util-linux `logger --rfc5424`, which writes
 * the same header, structured data and message.
 */
export function unixTransport(socketPath = '/dev/log', format: SyslogFormat = {}): SyslogTransport {
  return {
    send: (_line, m) =>
      new Promise((resolve, reject) => {
        const args = [
          '--socket',
          socketPath,
          '--rfc5424=notq',
          '-p',
          `${format.facility ?? 1}.${SEVERITY[m.severity]}`,
          '-t',
          format.appName ?? 'cosign-ts-killer',
          '--msgid',
          m.msgId,
        ];
        const sd = format.sdId ?? 'cosign-ts@32473';
        const data = Object.entries(m.data ?? {}).filter(([, v]) => v !== undefined);
        if (data.length > 0) {
          args.push('--sd-id', sd);
          for (const [k, v] of data) args.push('--sd-param', `${k}="${escapeParamValue(String(v))}"`);
        }
        args.push('--', escapeMessage(m.message));
        execFile('logger', args, { timeout: 10_000 }, (e) => (e ? reject(e) : resolve()));
      }),
    close: async () => undefined,
  };
}

/** Parse `--syslog` targets: `unix:///dev/log`, `udp://host:514`, `tcp://host:514`, `none`. */
export function syslogTransportFor(target: string, format: SyslogFormat = {}): SyslogTransport | undefined {
  if (target === 'none' || target === '') return undefined;
  const u = new URL(target);
  if (u.protocol === 'unix:') return unixTransport(u.pathname || '/dev/log', format);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (u.protocol === 'udp:') return udpTransport(host, Number(u.port || 514));
  if (u.protocol === 'tcp:') return tcpTransport(host, Number(u.port || 514));
  throw fail('USAGE', `unsupported syslog target ${JSON.stringify(target.slice(0, 200))} (unix:///dev/log, udp://host:port, tcp://host:port)`);
}
