/**
 * HTTP/2 to TLS registries (issue #16): a `node:http2` secure server (with `allowHTTP1`) stands in for
 * the registry. One session, so one TLS handshake, per host for a batch, its requests multiplexed as
 * streams (queued at the server's `SETTINGS_MAX_CONCURRENT_STREAMS`); the same size limit, deadlines,
 * redirect policy and error codes as HTTP/1.1; RST_STREAM, GOAWAY and a dying session mid-batch; mutual
 * TLS; an HTTP/1.1-only TLS server and `http2: false` keep HTTP/1.1.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transport } from '../../src/oci/transport.js';
import { makeClientCertificate, makeTestCertificates, skipReal, type TestCertificates } from '../helpers/real/registry.js';

type Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, n: number) => void;

interface Server {
  readonly host: string;
  /** TLS handshakes the server completed. */
  handshakes: number;
  /** HTTP/2 sessions. */
  sessions: number;
  requests: number;
  /** Most requests in progress at once. */
  maxInFlight: number;
  readonly versions: string[];
  /** `Authorization` of each request ('' without). */
  readonly authorizations: string[];
  /** Client certificate CN of each request ('' without). */
  readonly clients: string[];
  readonly server: http2.Http2SecureServer;
  close(): Promise<void>;
}

async function serve(
  certs: TestCertificates,
  handler: Handler = (_req, res) => res.end('ok'),
  opts: { maxConcurrentStreams?: number; requireClientCert?: boolean; delayMs?: number } = {},
): Promise<Server> {
  let inFlight = 0;
  const srv = http2.createSecureServer(
    {
      cert: await readFile(certs.certFile),
      key: await readFile(certs.keyFile),
      ca: await readFile(certs.caFile),
      allowHTTP1: true,
      requestCert: true,
      rejectUnauthorized: opts.requireClientCert === true,
      ...(opts.maxConcurrentStreams === undefined ? {} : { settings: { maxConcurrentStreams: opts.maxConcurrentStreams } }),
    },
    (req, res) => {
      const n = ++state.requests;
      state.versions.push(req.httpVersion);
      state.authorizations.push(String(req.headers.authorization ?? ''));
      state.clients.push(String((req.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN ?? ''));
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      res.on('close', () => inFlight--);
      if (opts.delayMs === undefined) handler(req, res, n);
      else setTimeout(() => handler(req, res, n), opts.delayMs);
    },
  );
  srv.on('secureConnection', () => state.handshakes++);
  srv.on('session', () => state.sessions++);
  const sessions = new Set<http2.ServerHttp2Session>();
  srv.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  const sockets = new Set<TLSSocket>();
  srv.on('secureConnection', (s: TLSSocket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const state: Server = {
    host: `127.0.0.1:${(srv.address() as AddressInfo).port}`,
    handshakes: 0,
    sessions: 0,
    requests: 0,
    maxInFlight: 0,
    versions: [],
    authorizations: [],
    clients: [],
    server: srv,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
  return state;
}

const get = (t: Transport, host: string, p = '/v2/', extra: Partial<Parameters<Transport['request']>[0]> = {}) =>
  t.request({ method: 'GET', url: new URL(`https://${host}${p}`), ...extra });

describe.skipIf(skipReal(['openssl']))('HTTP/2 to TLS registries', () => {
  let dir: string;
  let certs: TestCertificates;
  let client: { cert: Buffer; key: Buffer };
  let ca: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-h2-'));
    certs = await makeTestCertificates(dir, { ips: ['127.0.0.1'], dns: ['registry.test'] });
    const c = await makeClientCertificate(certs, dir);
    client = { cert: await readFile(c.certFile), key: await readFile(c.keyFile) };
    ca = await readFile(certs.caFile, 'utf8');
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a registry that accepts the connection and never answers the TLS handshake: the idle deadline, retried once', async () => {
    const sockets = new Set<net.Socket>();
    const srv = net.createServer((s) => sockets.add(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const t = new Transport({ backoffMs: 1, timeoutMs: 5000, idleTimeoutMs: 300, tls: { [host]: { ca } } });
      const t0 = Date.now();
      await expect(Promise.all([get(t, host), get(t, host)])).rejects.toMatchObject({
        code: 'REGISTRY_UNAVAILABLE',
        message: expect.stringMatching(/^GET https:\/\/127\.0\.0\.1:\d+\/v2\/: timed out: no TLS handshake for 0\.3 s \(2 attempts\)$/),
        details: { timeout: true },
      });
      expect(Date.now() - t0).toBeLessThan(2500);
      t.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('a 32-way batch is multiplexed over one session: one TLS handshake per host', async () => {
    const srv = await serve(certs, (_req, res) => res.end('ok'), { delayMs: 20 });
    try {
      const t = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      const bodies = await Promise.all(Array.from({ length: 32 }, async (_, i) => String((await get(t, srv.host, `/v2/${i}`)).body)));
      expect(bodies.every((b) => b === 'ok')).toBe(true);
      expect(srv.versions.every((v) => v === '2.0')).toBe(true);
      expect(srv.sessions).toBe(1);
      expect(srv.handshakes).toBe(1);
      expect(srv.maxInFlight).toBeGreaterThan(8);
      expect(t.stats.tlsHandshakesByHost[srv.host]).toEqual({ full: 1, resumed: 0 });
      expect(t.stats.requests).toBe(32);
      // Later requests reuse the session.
      for (let i = 0; i < 3; i++) expect((await get(t, srv.host)).status).toBe(200);
      expect(t.stats.tlsHandshakes).toBe(1);
      t.close();
    } finally {
      await srv.close();
    }
  });

  it("streams queue at the server's SETTINGS_MAX_CONCURRENT_STREAMS and at maxSockets", async () => {
    const srv = await serve(certs, (_req, res) => res.end('ok'), { maxConcurrentStreams: 4, delayMs: 10 });
    try {
      const t = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      await Promise.all(Array.from({ length: 32 }, () => get(t, srv.host)));
      expect(srv.maxInFlight).toBeLessThanOrEqual(4);
      expect(srv.requests).toBe(32);
      expect(t.stats.tlsHandshakes).toBe(1);
      t.close();
      srv.maxInFlight = 0;
      const three = new Transport({ attempts: 1, maxSockets: 3, tls: { [srv.host]: { ca } } });
      await Promise.all(Array.from({ length: 12 }, () => get(three, srv.host)));
      expect(srv.maxInFlight).toBeLessThanOrEqual(3);
      three.close();
    } finally {
      await srv.close();
    }
  });

  it('an oversized body is cut at the limit (declared or streamed); the session keeps serving', async () => {
    const big = Buffer.alloc(256 * 1024, 0x61);
    const srv = await serve(certs, (req, res) => {
      if (req.url === '/declared') {
        res.setHeader('content-length', String(big.length));
        res.end(big);
      } else if (req.url === '/streamed') {
        // No content-length: only counting the streamed bytes finds it.
        res.write(big.subarray(0, 100 * 1024));
        setTimeout(() => res.end(big.subarray(100 * 1024)), 50);
      } else res.end('ok');
    });
    try {
      const t = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      await expect(get(t, srv.host, '/declared', { maxBytes: 1000 })).rejects.toMatchObject({
        code: 'TOO_LARGE',
        message: expect.stringContaining('262144 bytes'),
      });
      await expect(get(t, srv.host, '/streamed', { maxBytes: 64 * 1024 })).rejects.toMatchObject({ code: 'TOO_LARGE' });
      expect(String((await get(t, srv.host)).body)).toBe('ok');
      expect((await get(t, srv.host, '/declared')).body.length).toBe(big.length);
      expect(t.stats.tlsHandshakes).toBe(1);
      t.close();
    } finally {
      await srv.close();
    }
  });

  it("a trickled body hits the per-attempt deadline; a stalled one the idle deadline; the caller's signal cancels only its stream", async () => {
    const srv = await serve(certs, (req, res) => {
      if (req.url === '/trickle') {
        res.writeHead(200);
        const t = setInterval(() => res.write('x'), 50);
        res.on('close', () => clearInterval(t));
      } else if (req.url === '/stall') {
        // headers never come
      } else res.end('ok');
    });
    try {
      const t = new Transport({ attempts: 1, timeoutMs: 400, idleTimeoutMs: 300, tls: { [srv.host]: { ca } } });
      const t0 = Date.now();
      await expect(get(t, srv.host, '/trickle')).rejects.toMatchObject({
        code: 'REGISTRY_UNAVAILABLE',
        message: expect.stringMatching(/\/trickle: timed out: no complete response within 0.4 s/),
        details: { timeout: true },
      });
      await expect(get(t, srv.host, '/stall')).rejects.toMatchObject({ message: expect.stringMatching(/timed out: no response for 0.3 s/) });
      expect(Date.now() - t0).toBeLessThan(3000);
      const c = new AbortController();
      const aborted = get(t, srv.host, '/stall', { signal: c.signal });
      const ok = get(t, srv.host, '/');
      setTimeout(() => c.abort(), 50);
      await expect(aborted).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE', message: expect.stringMatching(/aborted$/) });
      expect((await ok).status).toBe(200);
      expect(t.stats.tlsHandshakes).toBe(1);
      t.close();
    } finally {
      await srv.close();
    }
  });

  it('a redirect to another host drops Authorization (and a same-origin-only request refuses it)', async () => {
    const target = await serve(certs);
    const origin = await serve(certs, (req, res) => {
      if (req.url === '/blob') {
        res.writeHead(307, { location: `https://${target.host}/done` });
        res.end();
      } else res.end('ok');
    });
    try {
      const t = new Transport({ attempts: 1, tls: { [origin.host]: { ca }, [target.host]: { ca } } });
      const res = await get(t, origin.host, '/blob', { headers: { Authorization: 'Bearer secret' } });
      expect(res.status).toBe(200);
      expect(res.url.host).toBe(target.host);
      expect(origin.authorizations).toEqual(['Bearer secret']);
      expect(target.authorizations).toEqual(['']);
      expect(origin.versions).toEqual(['2.0']);
      expect(target.versions).toEqual(['2.0']);
      await expect(get(t, origin.host, '/blob', { sameOriginRedirectsOnly: true })).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
      expect(Object.keys(t.stats.tlsHandshakesByHost).sort()).toEqual([origin.host, target.host].sort());
      expect(t.stats.tlsHandshakes).toBe(2);
      t.close();
    } finally {
      await origin.close();
      await target.close();
    }
  });

  it('RST_STREAM: retried like a reset connection, or a typed error without retries; the session survives', async () => {
    let resets = 4;
    const srv = await serve(certs, (req, res) => {
      if (req.url === '/reset' && resets-- > 0) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      else res.end('ok');
    });
    try {
      const t = new Transport({ backoffMs: 1, tls: { [srv.host]: { ca } } });
      const all = await Promise.all(Array.from({ length: 8 }, () => get(t, srv.host, '/reset')));
      expect(all.every((r) => r.status === 200)).toBe(true);
      expect(t.stats.retries).toBe(4);
      t.close();
      resets = 1;
      const once = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      await expect(get(once, srv.host, '/reset')).rejects.toMatchObject({
        code: 'REGISTRY_UNAVAILABLE',
        message: expect.stringMatching(/GET https:\/\/127\.0\.0\.1:\d+\/reset: HTTP\/2: .*NGHTTP2_INTERNAL_ERROR/),
        details: { http2: true },
      });
      expect((await get(once, srv.host)).status).toBe(200);
      expect(once.stats.tlsHandshakes).toBe(1);
      once.close();
    } finally {
      await srv.close();
    }
  });

  it('GOAWAY mid-batch: streams the server did not process go to one new session (one more handshake), without retries', async () => {
    let goneAway = false;
    const srv = await serve(
      certs,
      (req, res, n) => {
        if (n === 4 && !goneAway) {
          goneAway = true;
          // Streams up to this one are processed; the client must send the later ones again elsewhere.
          req.stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, req.stream.id);
        }
        if (!req.stream.closed) res.end('ok');
      },
      { delayMs: 5 },
    );
    try {
      const t = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      const all = await Promise.all(Array.from({ length: 32 }, () => get(t, srv.host)));
      expect(all.every((r) => r.status === 200)).toBe(true);
      expect(t.stats.retries).toBe(0);
      expect(srv.sessions).toBe(2);
      expect(t.stats.tlsHandshakes).toBe(2);
      t.close();
    } finally {
      await srv.close();
    }
  });

  it('a session the server closes when idle is replaced by one new connection that resumes the TLS session', async () => {
    const srv = await serve(certs);
    const open = new Set<http2.ServerHttp2Session>();
    srv.server.on('session', (s) => {
      open.add(s);
      s.on('close', () => open.delete(s));
    });
    try {
      const t = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      await Promise.all(Array.from({ length: 8 }, () => get(t, srv.host)));
      // The server's idle timeout: GOAWAY (no error), then the connection closes.
      for (const s of open) s.close();
      await new Promise((r) => setTimeout(r, 100));
      await Promise.all(Array.from({ length: 8 }, () => get(t, srv.host)));
      expect(t.stats.retries).toBe(0);
      expect(t.stats.http2Sessions).toBe(2);
      expect(t.stats.tlsHandshakesByHost[srv.host]).toEqual({ full: 1, resumed: 1 });
      t.close();
    } finally {
      await srv.close();
    }
  });

  it('a session dying mid-batch (connection reset): the retries share one new session', async () => {
    let killed = false;
    const srv = await serve(certs, (req, res, n) => {
      if (n === 8 && !killed) {
        killed = true;
        req.stream.session?.socket.destroy();
        return;
      }
      setTimeout(() => res.end('ok'), 30);
    });
    try {
      const t = new Transport({ backoffMs: 1, tls: { [srv.host]: { ca } } });
      const all = await Promise.all(Array.from({ length: 32 }, () => get(t, srv.host)));
      expect(all.every((r) => r.status === 200)).toBe(true);
      expect(t.stats.tlsHandshakes).toBe(2);
      expect(t.stats.tlsHandshakesByHost[srv.host]).toEqual({ full: 1, resumed: 1 });
      t.close();
      // Without retries: a typed error for the streams in flight.
      killed = false;
      srv.requests = 0;
      const once = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      const settled = await Promise.allSettled(Array.from({ length: 16 }, () => get(once, srv.host)));
      const failed = settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason);
      expect(failed.length).toBeGreaterThan(0);
      for (const e of failed) expect(e).toMatchObject({ code: 'REGISTRY_UNAVAILABLE' });
      once.close();
    } finally {
      await srv.close();
    }
  });

  it('a connection that dies silently (no FIN, no reset): a timed-out request PINGs it, the session is dropped, the retry reconnects', async () => {
    const srv = await serve(certs, (req, res) => (req.url === '/slow' ? setTimeout(() => res.end('late'), 600) : res.end('ok')));
    // A TCP proxy to the server that can stop forwarding its existing connections (a network path gone dead).
    const [srvHost, srvPort] = srv.host.split(':') as [string, string];
    const live = new Set<net.Socket>();
    const dead = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(srvPort), srvHost);
      live.add(client).add(upstream);
      client.on('data', (d) => !dead.has(client) && upstream.write(d));
      upstream.on('data', (d) => !dead.has(client) && client.write(d));
      for (const s of [client, upstream]) s.on('error', () => undefined);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const t = new Transport({ backoffMs: 1, timeoutMs: 5000, idleTimeoutMs: 300, tls: { [host]: { ca } } });
      expect((await get(t, host)).status).toBe(200);
      // A slow request on a healthy connection: it times out, the PING is answered, the session stays.
      await expect(get(t, host, '/slow', { attempts: 1 })).rejects.toMatchObject({ details: { timeout: true } });
      await new Promise((r) => setTimeout(r, 100));
      expect((await get(t, host)).status).toBe(200);
      expect(t.stats.http2Sessions).toBe(1);
      // Now the path goes dead: the request times out, the PING goes unanswered, the session is dropped and
      // the retry (waiting for the PING) opens a new connection, which works.
      for (const s of live) dead.add(s);
      const t0 = Date.now();
      const res = await get(t, host).catch((e: Error) => e);
      expect(res).toMatchObject({ status: 200 });
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(t.stats.http2Sessions).toBe(2);
      expect(t.stats.retries).toBe(1);
      t.close();
    } finally {
      for (const s of live) s.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
      await srv.close();
    }
  });

  it('mutual TLS over HTTP/2: the client certificate is sent; without it a typed TLS error', async () => {
    const srv = await serve(certs, undefined, { requireClientCert: true });
    try {
      const without = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      await expect(get(without, srv.host)).rejects.toMatchObject({
        code: 'REGISTRY_ERROR',
        message: expect.stringMatching(
          /TLS handshake refused by the registry \(does it require a client certificate\?\): ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED/,
        ),
      });
      without.close();
      const t = new Transport({ attempts: 1, tls: { [srv.host]: { ca, ...client } } });
      await Promise.all(Array.from({ length: 16 }, () => get(t, srv.host)));
      expect(srv.clients.every((c) => c === 'client')).toBe(true);
      expect(srv.versions.every((v) => v === '2.0')).toBe(true);
      expect(t.stats.tlsHandshakesByHost[srv.host]).toEqual({ full: 1, resumed: 0 });
      t.close();
      const untrusted = new Transport({ attempts: 1 });
      await expect(get(untrusted, srv.host)).rejects.toMatchObject({ code: 'REGISTRY_ERROR', message: expect.stringContaining('not trusted') });
      untrusted.close();
      const named = new Transport({ attempts: 1, tls: { [srv.host]: { ca, ...client, servername: 'registry.test' } } });
      expect((await get(named, srv.host)).status).toBe(200);
      named.close();
    } finally {
      await srv.close();
    }
  });

  it('an HTTP/1.1-only TLS server, and http2: false, keep HTTP/1.1 with resumed sessions', async () => {
    let h1Handshakes = 0;
    const h1 = https.createServer({ cert: await readFile(certs.certFile), key: await readFile(certs.keyFile) }, (_req, res) =>
      setTimeout(() => res.end('ok'), 10),
    );
    h1.on('secureConnection', () => h1Handshakes++);
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    const h1Host = `127.0.0.1:${(h1.address() as AddressInfo).port}`;
    const srv = await serve(certs);
    try {
      const t = new Transport({ attempts: 1, tls: { [h1Host]: { ca } } });
      const all = await Promise.all(Array.from({ length: 32 }, () => get(t, h1Host)));
      expect(all.every((r) => String(r.body) === 'ok')).toBe(true);
      const c = t.stats.tlsHandshakesByHost[h1Host];
      // The negotiating connection is the pool's first; the others resume its session.
      expect(c?.full).toBe(1);
      expect((c?.full ?? 0) + (c?.resumed ?? 0)).toBe(h1Handshakes);
      expect(h1Handshakes).toBeGreaterThan(1);
      t.close();
      const off = new Transport({ attempts: 1, http2: false, tls: { [srv.host]: { ca } } });
      await Promise.all(Array.from({ length: 8 }, () => get(off, srv.host)));
      expect(srv.versions.every((v) => v === '1.1')).toBe(true);
      expect(off.stats.tlsHandshakesByHost[srv.host]?.full).toBe(1);
      off.close();
    } finally {
      h1.closeAllConnections();
      await new Promise<void>((r) => h1.close(() => r()));
      await srv.close();
    }
  });

  it('PUT bodies and HEAD over HTTP/2; close() ends the session', async () => {
    const srv = await serve(certs, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('docker-content-digest', 'sha256:x');
        res.setHeader('content-length', String(Buffer.concat(chunks).length));
        if (req.method === 'HEAD') res.end();
        else res.end(Buffer.concat(chunks));
      });
    });
    try {
      const t = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      const body = Buffer.alloc(300 * 1024, 0x62);
      const put = await t.request({ method: 'PUT', url: new URL(`https://${srv.host}/v2/x`), body, headers: { 'Content-Type': 'application/octet-stream' } });
      expect(put.body.equals(body)).toBe(true);
      expect(put.headers['docker-content-digest']).toBe('sha256:x');
      expect(put.headers[':status' as 'age']).toBeUndefined();
      const head = await t.request({ method: 'HEAD', url: new URL(`https://${srv.host}/v2/x`) });
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      t.close();
      // A new request after close() opens a new session.
      expect((await get(t, srv.host)).status).toBe(200);
      expect(srv.sessions).toBe(2);
      t.close();
    } finally {
      await srv.close();
    }
  });

  it('an idle HTTP/2 session does not keep a process alive (a CLI exits without close())', async () => {
    const srv = await serve(certs);
    try {
      const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
      const child = path.join(dir, 'idle-child.ts');
      await writeFile(
        child,
        [
          `import { Transport } from ${JSON.stringify(path.join(root, 'src/oci/transport.ts'))};`,
          `const t = new Transport({ attempts: 1, tls: { ${JSON.stringify(srv.host)}: { ca: ${JSON.stringify(ca)} } } });`,
          `const r = await t.request({ method: 'GET', url: new URL('https://${srv.host}/v2/') });`,
          'console.log(r.status, t.stats.http2Sessions);',
        ].join('\n'),
      );
      const t0 = Date.now();
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [path.join(root, 'node_modules/vite-node/vite-node.mjs'), child], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      expect(out.trim()).toBe('200 1');
      expect(srv.sessions).toBe(1);
      expect(Date.now() - t0).toBeLessThan(30_000);
    } finally {
      await srv.close();
    }
  }, 40_000);
});
