/**
 * Deadlines against misbehaving registries over real sockets on 127.0.0.1 (issue #10 item 7): one that
 * accepts and never answers, one that sends headers then trickles the body forever, one that stalls
 * mid-body, and one that answers 503 forever. Short configured deadlines for speed, plus one run of
 * the real library defaults.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CosignError } from '../../src/errors.js';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, RegistryClient, type Keychain } from '../../src/oci/index.js';
import { Transport, withDeadline } from '../../src/oci/transport.js';
import { DEFAULT_VERIFY_TIMEOUT_MS, keyAuthority, verifyImage, verifyImages } from '../../src/verify/index.js';
import { MAX_TIMED_OUT_ATTEMPTS } from '../../src/oci/transport.js';

const anonymous: Keychain = { resolve: async () => undefined };

interface Misbehaving {
  readonly host: string;
  /** TCP connections accepted. */
  connections: number;
  close(): Promise<void>;
}

/** A raw TCP server: `onData` sees each connection's first bytes. */
async function tcpServer(onData: (socket: net.Socket, timers: Set<ReturnType<typeof setInterval>>) => void): Promise<Misbehaving> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<ReturnType<typeof setInterval>>();
  const s = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => onData(socket, timers));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const state: Misbehaving = {
    host: `127.0.0.1:${(s.address() as AddressInfo).port}`,
    connections: 0,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearInterval(t);
        for (const sock of sockets) sock.destroy();
        s.close(() => r());
      }),
  };
  return state;
}

/** Accepts, reads, never answers. */
const stalled = (): Promise<Misbehaving> => tcpServer(() => undefined);

/** Answers with headers (a 1 MB body announced), then one byte every `everyMs` forever. */
const trickling = (everyMs: number): Promise<Misbehaving> =>
  tcpServer((socket, timers) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 1000000\r\n\r\n{');
    const t = setInterval(() => socket.write(' '), everyMs);
    timers.add(t);
    socket.on('close', () => clearInterval(t));
  });

/** Answers with headers and a few bytes, then nothing. */
const stallsMidBody = (): Promise<Misbehaving> =>
  tcpServer((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a"');
  });

async function failure(p: Promise<unknown>): Promise<{ error: CosignError; ms: number }> {
  const t = performance.now();
  try {
    await p;
  } catch (e) {
    if (!(e instanceof CosignError)) throw e;
    return { error: e, ms: performance.now() - t };
  }
  throw new Error('expected a failure');
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('Transport deadlines', () => {
  it('a server that accepts and never answers: the idle deadline, retried once (not `attempts` times), names the host', async () => {
    const srv = await stalled();
    cleanup.push(() => srv.close());
    const t = new Transport({ timeoutMs: 5000, idleTimeoutMs: 300, attempts: 4, backoffMs: 10 });
    cleanup.push(() => t.close());
    const { error, ms } = await failure(t.request({ method: 'GET', url: new URL(`http://${srv.host}/v2/app/manifests/v1`) }));
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.message).toContain(`http://${srv.host}/v2/app/manifests/v1`);
    expect(error.message).toMatch(/timed out: no response for 0\.3 s \(2 attempts\)/);
    expect((error.details as { timeout?: boolean }).timeout).toBe(true);
    expect(srv.connections).toBe(2);
    expect(ms).toBeGreaterThanOrEqual(550);
    expect(ms).toBeLessThan(2500);
  });

  it('headers then a body trickled forever: the total per-attempt deadline, retried once', async () => {
    const srv = await trickling(50);
    cleanup.push(() => srv.close());
    const t = new Transport({ timeoutMs: 600, idleTimeoutMs: 300, attempts: 4, backoffMs: 10 });
    cleanup.push(() => t.close());
    const { error, ms } = await failure(t.request({ method: 'GET', url: new URL(`http://${srv.host}/v2/app/manifests/v1`) }));
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.message).toContain(srv.host);
    expect(error.message).toMatch(/timed out: no complete response within 0\.6 s \(2 attempts\)/);
    expect(srv.connections).toBe(2);
    expect(ms).toBeGreaterThanOrEqual(1150);
    expect(ms).toBeLessThan(3500);
  });

  it('a large body still arriving at a useful rate is not cut at the per-attempt deadline (a trickle is)', async () => {
    const total = 2 * 1024 * 1024;
    const chunk = 64 * 1024;
    const srv = await tcpServer((socket, timers) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${total}\r\n\r\n`);
      let sent = 0;
      const t = setInterval(() => {
        socket.write(Buffer.alloc(chunk, 0x61)); // 64 KiB every 40 ms: about 1.6 MB/s
        sent += chunk;
        if (sent >= total) clearInterval(t);
      }, 40);
      timers.add(t);
      socket.on('close', () => clearInterval(t));
    });
    cleanup.push(() => srv.close());
    const t = new Transport({ timeoutMs: 400, idleTimeoutMs: 300, attempts: 1 });
    cleanup.push(() => t.close());
    const t0 = performance.now();
    const res = await t.request({ method: 'GET', url: new URL(`http://${srv.host}/v2/app/blobs/x`), maxBytes: total });
    expect(res.body.byteLength).toBe(total);
    expect(performance.now() - t0).toBeGreaterThan(400);
    const strict = new Transport({ timeoutMs: 400, idleTimeoutMs: 300, attempts: 1, minBytesPerSecond: 0 });
    cleanup.push(() => strict.close());
    expect((await failure(strict.request({ method: 'GET', url: new URL(`http://${srv.host}/v2/app/blobs/x`), maxBytes: total }))).error.message).toContain(
      'no complete response within 0.4 s',
    );
  });

  it('a body that stops mid-way: the idle deadline', async () => {
    const srv = await stallsMidBody();
    cleanup.push(() => srv.close());
    const t = new Transport({ timeoutMs: 5000, idleTimeoutMs: 200, attempts: 1 });
    cleanup.push(() => t.close());
    const { error, ms } = await failure(t.request({ method: 'GET', url: new URL(`http://${srv.host}/x`) }));
    expect(error.message).toMatch(/timed out: the body stalled \(no bytes\) for 0\.2 s/);
    expect(ms).toBeLessThan(2000);
  });

  it('503 forever: `attempts` tries with backoff, then REGISTRY_UNAVAILABLE naming the host', async () => {
    let n = 0;
    const srv = http.createServer((_req, res) => {
      n++;
      res.writeHead(503);
      res.end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))));
    const host = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
    const t = new Transport({ backoffMs: 20 });
    cleanup.push(() => t.close());
    const { error, ms } = await failure(t.request({ method: 'GET', url: new URL(`http://${host}/v2/`) }));
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.message).toBe(`GET http://${host}/v2/: HTTP 503 after 4 attempts`);
    expect(n).toBe(4);
    expect(ms).toBeLessThan(3000);
  });

  it("the caller's deadline stops a request mid-flight and says it timed out; an aborted signal sends nothing", async () => {
    const srv = await stalled();
    cleanup.push(() => srv.close());
    const t = new Transport({ timeoutMs: 10_000 });
    cleanup.push(() => t.close());
    const { error, ms } = await failure(t.request({ method: 'GET', url: new URL(`http://${srv.host}/v2/`), signal: AbortSignal.timeout(300) }));
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.message).toBe(`GET http://${srv.host}/v2/: timed out (the deadline of the whole call passed)`);
    expect(ms).toBeLessThan(2000);
    const c = new AbortController();
    c.abort();
    const before = srv.connections;
    const aborted = await failure(t.request({ method: 'GET', url: new URL(`http://${srv.host}/v2/`), signal: c.signal }));
    expect(aborted.error.message).toContain(': aborted');
    expect(srv.connections).toBe(before);
  });

  it('the HTTPS-or-HTTP probe of a stalled registry fails within the idle deadline', async () => {
    const srv = await stalled();
    cleanup.push(() => srv.close());
    const t = new Transport({ idleTimeoutMs: 300 });
    const t0 = performance.now();
    await expect(t.probeTls(srv.host)).rejects.toThrow(`GET https://${srv.host}/v2/: timed out: no answer within 0.3 s (HTTPS-or-HTTP probe)`);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('an unresponsive host', () => {
  it('after a request timed out on every attempt, the next ones to that host fail at once without connecting; other hosts are not affected', async () => {
    const srv = await stalled();
    cleanup.push(() => srv.close());
    const other = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => other.close(() => r())));
    const t = new Transport({ timeoutMs: 5000, idleTimeoutMs: 200, backoffMs: 10 });
    cleanup.push(() => t.close());
    const url = new URL(`http://${srv.host}/v2/app/manifests/v1`);
    const first = await failure(t.request({ method: 'GET', url }));
    expect(first.error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(srv.connections).toBe(2);
    const second = await failure(t.request({ method: 'GET', url: new URL(`http://${srv.host}/v2/app/blobs/sha256:00`) }));
    expect(second.ms).toBeLessThan(100);
    expect(second.error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(second.error.message).toContain(`${srv.host} timed out moments ago`);
    expect((second.error.details as { timeout?: boolean }).timeout).toBe(true);
    expect(srv.connections).toBe(2);
    const res = await t.request({ method: 'GET', url: new URL(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`) });
    expect(res.status).toBe(200);
  });

  it('the window passes (unresponsiveMs), and 0 turns it off', async () => {
    const srv = await stalled();
    cleanup.push(() => srv.close());
    const url = new URL(`http://${srv.host}/v2/app/manifests/v1`);
    const short = new Transport({ timeoutMs: 5000, idleTimeoutMs: 100, backoffMs: 10, unresponsiveMs: 150 });
    cleanup.push(() => short.close());
    await failure(short.request({ method: 'GET', url }));
    await new Promise((r) => setTimeout(r, 200));
    await failure(short.request({ method: 'GET', url }));
    expect(srv.connections).toBe(4);
    const off = new Transport({ timeoutMs: 5000, idleTimeoutMs: 100, backoffMs: 10, unresponsiveMs: 0 });
    cleanup.push(() => off.close());
    await failure(off.request({ method: 'GET', url }));
    await failure(off.request({ method: 'GET', url }));
    expect(srv.connections).toBe(8);
  });

  it('a batch against a stalled registry costs about one deadline, not one per wave of images', async () => {
    const srv = await stalled();
    cleanup.push(() => srv.close());
    const client = new RegistryClient({ keychain: anonymous, timeoutMs: 5000, idleTimeoutMs: 200, backoffMs: 10 });
    cleanup.push(() => client.close());
    const authorities = [keyAuthority(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, 'test.pub')];
    const t0 = performance.now();
    const results = await verifyImages(
      Array.from({ length: 24 }, (_, i) => `${srv.host}/app${i}:v1`),
      { client, authorities, batchConcurrency: 3 },
    );
    const ms = performance.now() - t0;
    expect(results.every((r) => !r.ok && r.error.code === 'REGISTRY_UNAVAILABLE')).toBe(true);
    // Three images in flight, each tried twice: at most 6 connections (before: 8 waves × 2 = 48), and
    // about one timed-out request's time (2 × 200 ms), not eight of them.
    expect(srv.connections).toBeLessThanOrEqual(6);
    expect(ms).toBeLessThan(2000);
  });
});

describe('withDeadline', () => {
  it("aborts at the deadline with a TimeoutError, or with the caller's reason first; dispose stops the timer", async () => {
    const d = withDeadline(undefined, 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(d.signal?.aborted).toBe(true);
    expect((d.signal!.reason as Error).name).toBe('TimeoutError');
    const c = new AbortController();
    const d2 = withDeadline(c.signal, 10_000);
    c.abort(new Error('caller'));
    expect((d2.signal!.reason as Error).message).toBe('caller');
    d2.dispose();
    const d3 = withDeadline(undefined, 50);
    d3.dispose();
    await new Promise((r) => setTimeout(r, 120));
    expect(d3.signal?.aborted).toBe(false);
    expect(withDeadline(c.signal, 0).signal).toBe(c.signal);
  });

  it('a deadline beyond what Node timers hold (9999999 h) is far away, not at once', async () => {
    const d = withDeadline(undefined, 9_999_999 * 3_600_000);
    await new Promise((r) => setTimeout(r, 30));
    expect(d.signal?.aborted).toBe(false);
    d.dispose();
  });

  it('huge timeouts on a Transport still let a request complete (no 1 ms timer)', async () => {
    const srv = http.createServer((_req, res) => setTimeout(() => res.end('{}'), 20));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
    const t = new Transport({ timeoutMs: 1e13, idleTimeoutMs: 1e13 });
    cleanup.push(() => t.close());
    const res = await t.request({ method: 'GET', url: new URL(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/v2/`) });
    expect(res.status).toBe(200);
  });
});

describe('verifyImage deadlines', () => {
  const authorities = [keyAuthority(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, 'test.pub')];

  it('the whole-call deadline (timeoutMs) bounds a verification against a stalled registry, naming the host', async () => {
    const srv = await stalled();
    cleanup.push(() => srv.close());
    const client = new RegistryClient({ keychain: anonymous });
    cleanup.push(() => client.close());
    const { error, ms } = await failure(verifyImage(`${srv.host}/app:v1`, { client, authorities, timeoutMs: 700 }));
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.message).toContain(srv.host);
    expect(error.message).toContain('timed out');
    expect(ms).toBeLessThan(2500);
  });

  it("the caller's signal still bounds it when shorter", async () => {
    const srv = await trickling(100);
    cleanup.push(() => srv.close());
    const client = new RegistryClient({ keychain: anonymous });
    cleanup.push(() => client.close());
    const { error, ms } = await failure(verifyImage(`${srv.host}/app:v1`, { client, authorities, signal: AbortSignal.timeout(500) }));
    expect(error.message).toContain('timed out');
    expect(ms).toBeLessThan(2500);
  });

  it('the defaults bound a verification well under 60 s', () => {
    // One request that keeps timing out: each attempt ends by the per-attempt deadline, and it is tried twice.
    expect(MAX_TIMED_OUT_ATTEMPTS * DEFAULT_REQUEST_TIMEOUT_MS).toBeLessThan(DEFAULT_VERIFY_TIMEOUT_MS);
    expect(DEFAULT_IDLE_TIMEOUT_MS).toBeLessThanOrEqual(DEFAULT_REQUEST_TIMEOUT_MS);
    // And the whole call, whatever happens inside it, ends by its deadline (plus process start-up in the CLI).
    expect(DEFAULT_VERIFY_TIMEOUT_MS).toBeLessThanOrEqual(50_000);
  });

  it('with every default, a registry trickling its body forever fails in under 50 s with a timeout naming the host', async () => {
    const srv = await trickling(1000);
    cleanup.push(() => srv.close());
    const client = new RegistryClient({ keychain: anonymous });
    cleanup.push(() => client.close());
    const { error, ms } = await failure(verifyImage(`${srv.host}/app:v1`, { client, authorities }));
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.message).toContain(srv.host);
    expect(error.message).toContain('timed out');
    expect(ms).toBeLessThan(50_000);
    console.log(`defaults vs a trickling registry: failed after ${Math.round(ms)} ms: ${error.message}`);
  }, 60_000);
});
