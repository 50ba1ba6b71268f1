/**
 * Registry TLS settings over real sockets (issue #16 item 1): a test CA and certificates made with
 * openssl, a Node HTTPS server standing in for the registry. Per-host CA, client certificate (mutual
 * TLS) and server name; a redirect to another host never gets the client certificate; one handshake
 * per host for a batch; `NODE_EXTRA_CA_CERTS` kept when a custom CA is added.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transport } from '../../src/oci/transport.js';
import { makeClientCertificate, makeTestCertificates, skipReal, type TestCertificates } from '../helpers/real/registry.js';

interface Server {
  readonly host: string;
  handshakes: number;
  /** Subject CN of the client certificate of each request ('' without one). */
  readonly clients: string[];
  close(): Promise<void>;
}

async function serve(
  certs: TestCertificates,
  opts: { requireClientCert?: boolean; redirectTo?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {},
): Promise<Server> {
  const srv = https.createServer(
    {
      ...(opts.maxVersion === undefined ? {} : { maxVersion: opts.maxVersion }),
      cert: await readFile(certs.certFile),
      key: await readFile(certs.keyFile),
      ca: await readFile(certs.caFile),
      requestCert: true,
      rejectUnauthorized: opts.requireClientCert === true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      state.clients.push(String(peer?.subject?.CN ?? ''));
      if (opts.redirectTo !== undefined && req.url !== '/done') {
        res.writeHead(307, { location: `https://${opts.redirectTo}/done` });
        res.end();
        return;
      }
      res.end('ok');
    },
  );
  srv.on('secureConnection', () => state.handshakes++);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const state: Server = {
    host: `127.0.0.1:${(srv.address() as AddressInfo).port}`,
    handshakes: 0,
    clients: [],
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
  return state;
}

const get = (t: Transport, host: string, p = '/v2/') => t.request({ method: 'GET', url: new URL(`https://${host}${p}`) });

describe.skipIf(skipReal(['openssl']))('registry TLS settings', () => {
  let dir: string;
  let certs: TestCertificates;
  let client: { certFile: string; keyFile: string };
  let ca: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-tls-'));
    certs = await makeTestCertificates(dir, { ips: ['127.0.0.1'], dns: ['registry.test'] });
    client = await makeClientCertificate(certs, dir);
    ca = await readFile(certs.caFile, 'utf8');
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an untrusted CA fails; the per-host CA succeeds; another host keeps default trust', async () => {
    const srv = await serve(certs);
    try {
      const plain = new Transport({ attempts: 1 });
      await expect(get(plain, srv.host)).rejects.toThrow(/TLS: the registry's certificate is not trusted \(add its CA\?\): SELF_SIGNED_CERT_IN_CHAIN/);
      plain.close();
      const t = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      const res = await get(t, srv.host);
      expect(res.status).toBe(200);
      // The same server under another name (localhost is not in the certificate, and its CA is not configured for it).
      const other = `localhost:${srv.host.split(':')[1]}`;
      await expect(get(t, other)).rejects.toThrow();
      t.close();
    } finally {
      await srv.close();
    }
  });

  it('mutual TLS: without a client certificate fails, with it succeeds; one handshake per host for a batch', async () => {
    const srv = await serve(certs, { requireClientCert: true });
    try {
      const without = new Transport({ attempts: 1, tls: { [srv.host]: { ca } } });
      await expect(get(without, srv.host)).rejects.toThrow(
        /TLS handshake refused by the registry \(does it require a client certificate\?\): ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED/,
      );
      without.close();
      const hs = srv.handshakes;
      const t = new Transport({
        attempts: 1,
        tls: { [srv.host]: { ca, cert: await readFile(client.certFile), key: await readFile(client.keyFile) } },
      });
      for (let i = 0; i < 5; i++) expect((await get(t, srv.host)).status).toBe(200);
      await Promise.all(Array.from({ length: 3 }, async () => (await get(t, srv.host)).body));
      expect(srv.clients.at(-1)).toBe('client');
      // Sequential requests reuse one connection; the three in parallel open at most two more.
      expect(srv.handshakes - hs).toBeLessThanOrEqual(3);
      t.close();
    } finally {
      await srv.close();
    }
  });

  it('the server name is sent and checked instead of an IP host', async () => {
    const srv = await serve(certs);
    try {
      const t = new Transport({ attempts: 1, tls: { [srv.host]: { ca, servername: 'registry.test' } } });
      expect((await get(t, srv.host)).status).toBe(200);
      t.close();
      const wrong = new Transport({ attempts: 1, tls: { [srv.host]: { ca, servername: 'elsewhere.test' } } });
      await expect(get(wrong, srv.host)).rejects.toThrow();
      wrong.close();
      const probe = new Transport({ tls: { [srv.host]: { ca, servername: 'registry.test' } } });
      expect(await probe.probeTls(srv.host)).toBe('tls');
      probe.close();
    } finally {
      await srv.close();
    }
  });

  it('`*` applies to every host without its own entry; a redirect to another host never gets the client certificate', async () => {
    const target = await serve(certs);
    const origin = await serve(certs, { redirectTo: target.host, requireClientCert: true });
    try {
      const cert = await readFile(client.certFile);
      const key = await readFile(client.keyFile);
      const t = new Transport({ attempts: 1, tls: { [origin.host]: { ca, cert, key }, [target.host]: { ca } } });
      await get(t, origin.host, '/blob');
      expect(origin.clients).toEqual(['client']);
      expect(target.clients.every((c) => c === '' || c === undefined)).toBe(true);
      t.close();
      const all = new Transport({ attempts: 1, tls: { '*': { ca, cert, key } } });
      expect((await get(all, origin.host, '/done')).status).toBe(200);
      all.close();
    } finally {
      await origin.close();
      await target.close();
    }
  });

  it('SSL_CERT_FILE and SSL_CERT_DIR are trusted like Go does; NODE_EXTRA_CA_CERTS stays trusted beside a custom CA', async () => {
    const srv = await serve(certs);
    const saved = { f: process.env.SSL_CERT_FILE, d: process.env.SSL_CERT_DIR, x: process.env.NODE_EXTRA_CA_CERTS };
    const restore = (k: 'SSL_CERT_FILE' | 'SSL_CERT_DIR' | 'NODE_EXTRA_CA_CERTS', v: string | undefined) => {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    };
    try {
      process.env.SSL_CERT_FILE = certs.caFile;
      const viaFile = new Transport({ attempts: 1 });
      expect((await get(viaFile, srv.host)).status).toBe(200);
      viaFile.close();
      // A file without certificates: nothing trusted from it (and no crash).
      process.env.SSL_CERT_FILE = certs.keyFile.replace(/server\.key$/, 'server.ext');
      const none = new Transport({ attempts: 1 });
      await expect(get(none, srv.host)).rejects.toThrow(/not trusted/);
      none.close();
      delete process.env.SSL_CERT_FILE;
      process.env.SSL_CERT_DIR = `/nonexistent:${certs.certDir}`;
      const viaDir = new Transport({ attempts: 1 });
      expect((await get(viaDir, srv.host)).status).toBe(200);
      viaDir.close();
      delete process.env.SSL_CERT_DIR;
      process.env.NODE_EXTRA_CA_CERTS = certs.caFile;
      // An unrelated custom CA (the client certificate stands in for one) must not drop NODE_EXTRA_CA_CERTS.
      const both = new Transport({ attempts: 1, ca: await readFile(client.certFile, 'utf8') });
      expect((await get(both, srv.host)).status).toBe(200);
      both.close();
    } finally {
      restore('SSL_CERT_FILE', saved.f);
      restore('SSL_CERT_DIR', saved.d);
      restore('NODE_EXTRA_CA_CERTS', saved.x);
      await srv.close();
    }
  });

  it('a batch opening many connections at once pays one full handshake per host and resumes the others (TLS 1.3 and 1.2)', async () => {
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      const srv = await serve(certs, { requireClientCert: true, maxVersion });
      try {
        const t = new Transport({
          attempts: 1,
          maxSockets: 16,
          tls: { [srv.host]: { ca, cert: await readFile(client.certFile), key: await readFile(client.keyFile) } },
        });
        await Promise.all(Array.from({ length: 48 }, async () => (await get(t, srv.host)).body));
        const c = t.stats.tlsHandshakesByHost[srv.host];
        expect(c?.full, maxVersion).toBe(1);
        expect(c?.resumed, maxVersion).toBe(t.stats.tlsHandshakes - 1);
        expect(t.stats.tlsHandshakes).toBe(srv.handshakes);
        expect(t.stats.tlsHandshakes).toBeLessThanOrEqual(16);
        // Resumed sessions still carry the client certificate.
        expect(srv.clients.every((cn) => cn === 'client')).toBe(true);
        // Sequential requests afterwards reuse the pooled connections: no new handshake.
        const before = t.stats.tlsHandshakes;
        for (let i = 0; i < 5; i++) await get(t, srv.host);
        expect(t.stats.tlsHandshakes).toBe(before);
        t.close();
      } finally {
        await srv.close();
      }
    }
  });

  it('caOnly trusts only the given CA (cosign --registry-cacert): not SSL_CERT_FILE, NODE_EXTRA_CA_CERTS or the transport ca', async () => {
    const srv = await serve(certs);
    const saved = { f: process.env.SSL_CERT_FILE, x: process.env.NODE_EXTRA_CA_CERTS };
    try {
      process.env.SSL_CERT_FILE = certs.caFile;
      process.env.NODE_EXTRA_CA_CERTS = certs.caFile;
      const other = await readFile(client.certFile, 'utf8'); // a valid certificate that did not issue the server's
      const added = new Transport({ attempts: 1, tls: { [srv.host]: { ca: other } } });
      expect((await get(added, srv.host)).status).toBe(200);
      added.close();
      const only = new Transport({ attempts: 1, ca, tls: { [srv.host]: { ca: other, caOnly: true } } });
      await expect(get(only, srv.host)).rejects.toThrow(/not trusted/);
      only.close();
      const right = new Transport({ attempts: 1, tls: { '*': { ca, caOnly: true } } });
      expect((await get(right, srv.host)).status).toBe(200);
      right.close();
    } finally {
      for (const [k, v] of [
        ['SSL_CERT_FILE', saved.f],
        ['NODE_EXTRA_CA_CERTS', saved.x],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await srv.close();
    }
  });

  it('a CA bundle without a valid certificate is a BAD_INPUT error, never echoing the bundle', async () => {
    const key = await readFile(client.keyFile, 'utf8');
    for (const bad of [key, 'not pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n']) {
      let err: unknown;
      try {
        new Transport({ tls: { 'r.example': { ca: bad } } });
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'BAD_INPUT', message: 'TLS settings of r.example: ca: no valid PEM certificate found' });
    }
    expect(() => new Transport({ ca: 'junk' })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => new Transport({ tls: { 'r.example': { caOnly: true } } })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    // A bundle with one good certificate among junk is accepted, as Go's AppendCertsFromPEM does.
    expect(() => new Transport({ tls: { 'r.example': { ca: `junk\n${ca}` } } })).not.toThrow();
  });

  it('a client certificate without its key is refused', () => {
    expect(() => new Transport({ tls: { 'r.example': { cert: 'x' } } })).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('client certificate needs its key') }),
    );
  });
});
