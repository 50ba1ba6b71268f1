/**
 * The webhook server's protocols: HTTP/2 (negotiated through ALPN, as kube-apiserver's client-go
 * transport does) and HTTP/1.1 on one port through one handler. AdmissionReviews over both, with an
 * image signed in the in-process registry; many streams on one connection; the body limit and the
 * review deadline on HTTP/2 (the stream is answered and reset, the connection goes on) and on HTTP/1.1
 * (the connection is closed); a graceful close with an HTTP/2 connection open; TLS hot reload over HTTP/2.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signerFromPrivateKey } from '../../src/keys/index.js';
import { anonymousKeychain, RegistryClient } from '../../src/oci/index.js';
import { parsePolicy } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { AdmissionController, MAX_REVIEW_BYTES, startWebhookServer, type WebhookServer } from '../../src/webhook/index.js';
import { makeTestCertificates, skipReal } from '../helpers/real/index.js';
import { post, TLS } from './helpers.js';

const ca = readFileSync(TLS.caFile, 'utf8');

function podReview(uid: string, image: string): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'default',
      name: 'p',
      operation: 'CREATE',
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image }] } },
    },
  };
}

interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  text: string;
  json: any;
}

function connect(url: string, trust = ca): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url, { ca: trust });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** One HTTP/2 request on `session`; `body` a value (sent as JSON), raw bytes, or a function that drives the stream. */
function h2(
  session: http2.ClientHttp2Session,
  path: string,
  opts: { method?: string; body?: unknown; raw?: Buffer; contentType?: string; drive?: (s: http2.ClientHttp2Stream) => void } = {},
): Promise<H2Reply> {
  const data = opts.raw ?? (opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body)));
  return new Promise((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders = { ':method': opts.method ?? (data === undefined && opts.drive === undefined ? 'GET' : 'POST'), ':path': path };
    if (data !== undefined || opts.drive !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    if (opts.body !== undefined && data !== undefined) headers['content-length'] = data.length;
    const req = session.request(headers);
    let status = 0;
    let head: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      status = Number(h[':status']);
      head = h;
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status, headers: head, text, json });
    });
    req.on('error', (e) => (status !== 0 ? resolve({ status, headers: head, text: Buffer.concat(chunks).toString('utf8'), json: undefined }) : reject(e)));
    if (opts.drive !== undefined) opts.drive(req);
    else req.end(data);
  });
}

describe('webhook server over HTTP/2 and HTTP/1.1 (in-process registry, TLS on 127.0.0.1)', () => {
  let reg: TestRegistry;
  let server: WebhookServer;
  let controller: AdmissionController;
  let image: string;
  const logs: string[] = [];

  beforeAll(async () => {
    reg = await startTestRegistry();
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const client = new RegistryClient({ keychain: anonymousKeychain });
    image = `${reg.host}/h2/app:v1`;
    const digest = await pushSampleImage(client, image, { n: 'h2' });
    await signImage(`${parseReference(image).name}@${digest}`, signerFromPrivateKey(kp.privateKey, 'k'), { client });
    client.close();
    const pem = kp.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const policy = parsePolicy(`rules:\n  - name: r\n    images: ["${reg.host}/**"]\n    authorities: [{ key: { pem: ${JSON.stringify(pem)} } }]\n`);
    controller = new AdmissionController({ policy, keychain: () => anonymousKeychain });
    server = await startWebhookServer({ controller, tls: TLS, host: '127.0.0.1', port: 0, certReloadIntervalMs: 0, log: (l) => logs.push(l) });
  });
  afterAll(async () => {
    await server?.close();
    controller?.close();
    await reg?.close();
  });

  it('ALPN offers h2 and http/1.1; a client without ALPN gets HTTP/1.1', async () => {
    const alpn = (protocols: string[] | undefined): Promise<string | false> =>
      new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: server.port, ca, ...(protocols === undefined ? {} : { ALPNProtocols: protocols }) }, () => {
          resolve(s.alpnProtocol ?? false);
          s.end();
        });
        s.on('error', reject);
      });
    expect(await alpn(['h2', 'http/1.1'])).toBe('h2');
    expect(await alpn(['http/1.1'])).toBe('http/1.1');
    expect(await alpn(undefined)).toBe(false);
  });

  it('the same AdmissionReview over HTTP/2 and over HTTP/1.1: same answer, one verification', async () => {
    const session = await connect(server.url);
    try {
      const r2 = await h2(session, '/validate?timeout=10s', { body: podReview('over-h2', image) });
      expect(r2.status, r2.text).toBe(200);
      expect(r2.headers['content-type']).toBe('application/json');
      expect(r2.json).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'over-h2', allowed: true } });
      const r1 = await post(`${server.url}/validate?timeout=10s`, podReview('over-h1', image), { ca });
      expect(r1.status, r1.text).toBe(200);
      expect(r1.json).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'over-h1', allowed: true } });
      const m = await h2(session, '/mutate', { body: podReview('mutate-h2', image) });
      expect(m.json.response).toMatchObject({ uid: 'mutate-h2', allowed: true });
      expect(controller.verifications).toBe(1);
      const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l['uid'] === 'over-h2')).toMatchObject({ msg: 'admission review', endpoint: 'validate', allowed: true });
      expect(lines.find((l) => l['uid'] === 'over-h1')).toMatchObject({ msg: 'admission review', endpoint: 'validate', allowed: true });
    } finally {
      session.close();
    }
  });

  it('100 concurrent streams on one HTTP/2 connection are all answered', async () => {
    const session = await connect(server.url);
    try {
      const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => h2(session, '/validate', { body: podReview(`s-${i}`, image) })));
      expect(replies.map((r) => r.status)).toEqual(Array(100).fill(200));
      expect(replies.map((r) => r.json.response.uid)).toEqual(Array.from({ length: 100 }, (_, i) => `s-${i}`));
      expect(replies.every((r) => r.json.response.allowed === true)).toBe(true);
      expect(controller.verifications).toBe(1);
    } finally {
      session.close();
    }
  });

  it('healthz, readyz, metrics, 404 and 415 over HTTP/2', async () => {
    const session = await connect(server.url);
    try {
      expect((await h2(session, '/healthz')).text).toBe('ok\n');
      expect((await h2(session, '/readyz')).status).toBe(200);
      const m = await h2(session, '/metrics');
      expect(m.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(m.text).toMatch(/cosign_webhook_reviews_total\{endpoint="validate",result="allowed",dry_run="false"\} \d+/);
      expect((await h2(session, '/nope')).status).toBe(404);
      expect((await h2(session, '/validate', { body: {}, contentType: 'text/plain' })).status).toBe(415);
      expect((await h2(session, '/validate', { body: { apiVersion: 'v1' } })).status).toBe(400);
    } finally {
      session.close();
    }
  });

  it('HTTP/2 body limit: a declared or streamed body over 3 MiB is 413, the stream reset, the connection still serves', async () => {
    const session = await connect(server.url);
    try {
      const big = await h2(session, '/validate', {
        drive: (s) => {
          const chunk = Buffer.alloc(256 * 1024, 32);
          let sent = 0;
          const pump = (): void => {
            while (sent <= MAX_REVIEW_BYTES + chunk.length) {
              sent += chunk.length;
              if (!s.write(chunk)) {
                s.once('drain', pump);
                return;
              }
            }
            s.end();
          };
          s.on('error', () => undefined);
          pump();
        },
      });
      expect(big.status).toBe(413);
      expect(big.json).toEqual({ error: `AdmissionReview: larger than ${MAX_REVIEW_BYTES} bytes` });
      const withLength = await new Promise<number>((resolve, reject) => {
        const s = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json', 'content-length': MAX_REVIEW_BYTES + 1 });
        s.on('response', (h) => resolve(Number(h[':status'])));
        s.on('error', reject);
        s.write(Buffer.alloc(1024, 32));
      });
      expect(withLength).toBe(413);
      const after = await h2(session, '/validate', { body: podReview('after-413', image) });
      expect(after.json.response).toEqual({ uid: 'after-413', allowed: true });
      expect(session.destroyed).toBe(false);
    } finally {
      session.destroy(); // its abandoned request streams would keep a graceful close waiting
    }
  });

  it('HTTP/2 deadline: a body that stalls is answered 408 before the API server gives up; the connection still serves', async () => {
    const session = await connect(server.url);
    try {
      const t0 = Date.now();
      const stalled = await h2(session, '/validate?timeout=2s', {
        drive: (s) => {
          s.on('error', () => undefined);
          s.write('{"apiVersion":'); // and nothing more
        },
      });
      const took = Date.now() - t0;
      expect(stalled.status).toBe(408);
      expect(stalled.json.error).toMatch(/did not arrive before the review deadline/);
      expect(took).toBeGreaterThanOrEqual(1400);
      expect(took).toBeLessThan(2000);
      const after = await h2(session, '/validate', { body: podReview('after-408', image) });
      expect(after.json.response).toEqual({ uid: 'after-408', allowed: true });
    } finally {
      session.destroy(); // its abandoned request streams would keep a graceful close waiting
    }
  });

  it('HTTP/1.1 deadline and limit: a stalled or oversized body is answered, then the connection is closed', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    try {
      const stalled = await new Promise<{ status: number; connection: string | undefined; closed: Promise<void> }>((resolve, reject) => {
        const req = https.request(`${server.url}/validate?timeout=1s`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          const closed = new Promise<void>((r) => res.socket.once('close', () => r()));
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, closed });
        });
        req.on('error', reject);
        req.write('{"apiVersion":');
      });
      expect(stalled.status).toBe(408);
      expect(stalled.connection).toBe('close');
      await stalled.closed;
      const big = await post(`${server.url}/validate`, undefined, { ca, agent, raw: Buffer.alloc(MAX_REVIEW_BYTES + 1, 32) });
      expect(big.status).toBe(413);
      // streamed (chunked, no length): refused once the limit is passed, then the connection is closed
      const chunked = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = https.request(`${server.url}/validate`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
        });
        req.on('error', () => undefined);
        const chunk = Buffer.alloc(256 * 1024, 32);
        let sent = 0;
        const pump = (): void => {
          while (sent <= MAX_REVIEW_BYTES + chunk.length) {
            sent += chunk.length;
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
        setTimeout(() => reject(new Error('no answer')), 10_000).unref();
      });
      expect(chunked).toEqual({ status: 413, connection: 'close' });
      const ok = await post(`${server.url}/validate`, podReview('h1-after', image), { ca, agent });
      expect(ok.json.response).toEqual({ uid: 'h1-after', allowed: true });
    } finally {
      agent.destroy();
    }
  });

  it('close: an open HTTP/2 connection gets GOAWAY after its streams are answered, and close resolves', async () => {
    const other = await startWebhookServer({ controller, tls: TLS, host: '127.0.0.1', port: 0, certReloadIntervalMs: 0, log: () => undefined });
    const session = await connect(other.url);
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    let closed: Promise<void> | undefined;
    const t0 = Date.now();
    const body = JSON.stringify(podReview('before-close', image));
    // the review is in the handler (headers and half the body arrived) when the server starts closing
    const pending = h2(session, '/validate', {
      drive: (s) => {
        s.write(body.slice(0, 40));
        setTimeout(() => {
          closed = other.close();
          setTimeout(() => s.end(body.slice(40)), 100);
        }, 200);
      },
    });
    expect((await pending).json.response).toEqual({ uid: 'before-close', allowed: true });
    await goaway;
    await closed;
    expect(Date.now() - t0).toBeLessThan(4000);
    session.destroy();
  });

  it.skipIf(skipReal(['openssl']))('TLS hot reload: new HTTP/2 connections get the rotated certificate, an open one keeps serving', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-webhook-h2-'));
    try {
      await copyFile(TLS.certFile, path.join(work, 'tls.crt'));
      await copyFile(TLS.keyFile, path.join(work, 'tls.key'));
      const tlsFiles = { certFile: path.join(work, 'tls.crt'), keyFile: path.join(work, 'tls.key') };
      const other = await startWebhookServer({ controller, tls: tlsFiles, host: '127.0.0.1', port: 0, certReloadIntervalMs: 0, log: () => undefined });
      try {
        const before = await connect(other.url);
        const next = await makeTestCertificates(path.join(work, 'rotated'));
        await copyFile(next.certFile, tlsFiles.certFile);
        await copyFile(next.keyFile, tlsFiles.keyFile);
        expect(await other.reloadCertificate()).toBe(true);
        const after = await connect(other.url, readFileSync(next.caFile, 'utf8'));
        expect(after.alpnProtocol).toBe('h2');
        expect((await h2(after, '/validate', { body: podReview('rotated', image) })).json.response).toEqual({ uid: 'rotated', allowed: true });
        expect((await h2(before, '/validate', { body: podReview('kept', image) })).json.response).toEqual({ uid: 'kept', allowed: true });
        await expect(connect(other.url)).rejects.toThrow(/certificate/);
        before.close();
        after.close();
      } finally {
        await other.close();
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
