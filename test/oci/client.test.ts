/**
 * The registry client against the in-process registry over real HTTP: every auth mode and fault.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../src/digest.js';
import { isCosignError } from '../../src/errors.js';
import { dockerConfigKeychain, RegistryClient, staticKeychain, type Keychain } from '../../src/oci/index.js';
import { Transport } from '../../src/oci/transport.js';
import { parseReference, withDigest, withTag } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { makeTestCertificates } from '../helpers/real/registry.js';
import { codeOfAsync } from '../helpers/errors.js';
import { parseRetryAfter } from '../../src/oci/transport.js';
import { parseWwwAuthenticate } from '../../src/oci/www-authenticate.js';

const anonymous: Keychain = { resolve: async () => undefined };

describe('RegistryClient: content', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  beforeAll(async () => {
    reg = await startTestRegistry();
    client = new RegistryClient({ keychain: anonymous });
  });
  afterAll(async () => {
    client.close();
    await reg.close();
  });

  it('pushes and pulls manifests by tag and digest, checking digests', async () => {
    const ref = parseReference(`${reg.host}/a/b:v1`);
    const digest = await pushSampleImage(client, ref, { x: '1' });
    const byTag = await client.getManifest(ref);
    expect(byTag.digest).toBe(digest);
    const byDigest = await client.getManifest(withDigest(ref, digest));
    expect(Buffer.from(byDigest.bytes).equals(Buffer.from(byTag.bytes))).toBe(true);
    expect(byDigest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect((await client.headManifest(ref))?.digest).toBe(digest);
    expect(await client.headManifest(withTag(ref, 'nope'))).toBeUndefined();
  });

  it('blobs: monolithic, chunked, mounted, HEAD', async () => {
    const repo = parseReference(`${reg.host}/blobs/one`);
    const small = Buffer.from('small blob');
    await client.uploadBlob(repo, digestOf(small), small);
    expect(Buffer.from(await client.getBlob(repo, digestOf(small))).toString()).toBe('small blob');
    const big = Buffer.alloc(300_000, 7);
    await client.uploadBlob(repo, digestOf(big), big, { chunkSize: 64 * 1024 });
    expect((await client.getBlob(repo, digestOf(big))).byteLength).toBe(300_000);
    expect(reg.requests.filter((r) => r.method === 'PATCH').length).toBeGreaterThanOrEqual(5);
    const other = parseReference(`${reg.host}/blobs/two`);
    const before = reg.requests.length;
    await client.uploadBlob(other, digestOf(small), small, { mountFrom: repo });
    const made = reg.requests.slice(before);
    expect(made.some((r) => r.method === 'POST')).toBe(true);
    expect(made.some((r) => r.method === 'PUT')).toBe(false); // mounted, not uploaded
    expect(await client.headBlob(other, digestOf(small))).toBe(true);
    // Existing blobs are not uploaded again.
    const n = reg.requests.length;
    await client.uploadBlob(other, digestOf(small), small);
    expect(reg.requests.length - n).toBe(1);
  });

  it('tags list follows Link pagination; delete by digest', async () => {
    const repo = parseReference(`${reg.host}/tags/many`);
    const digest = await pushSampleImage(client, withTag(repo, 't0'));
    const m = await client.getManifest(withDigest(repo, digest));
    for (let i = 1; i < 1205; i++) await client.putManifest(withTag(repo, `t${i}`), m.bytes, m.mediaType);
    const tags = await client.listTags(repo);
    expect(tags).toHaveLength(1205);
    expect(new Set(tags).size).toBe(1205);
    await client.deleteManifest(withDigest(repo, digest));
    expect(await codeOfAsync(client.getManifest(withTag(repo, 't0')))).toBe('NOT_FOUND');
  });

  it('referrers: the API, and the fallback tag index on a registry without it (remembered)', async () => {
    const subject = await pushSampleImage(client, `${reg.host}/ref/app:v1`);
    const repo = parseReference(`${reg.host}/ref/app`);
    const art = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/x-test',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' },
        layers: [],
        subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject, size: 1 },
      }),
    );
    await client.uploadBlob(repo, 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', Buffer.from('{}'));
    await client.putManifest(withDigest(repo, digestOf(art)), art, 'application/vnd.oci.image.manifest.v1+json');
    const list = await client.referrers(repo, subject);
    expect(list.map((d) => d.digest)).toEqual([digestOf(art)]);
    expect(list[0]?.artifactType).toBe('application/x-test');
    expect(await client.referrers(repo, subject, { artifactType: 'other' })).toEqual([]);
    expect(client.supportsReferrersApi(reg.host)).toBe(true);

    const noApi = await startTestRegistry({ referrers: false });
    try {
      const c2 = new RegistryClient({ keychain: anonymous });
      const s2 = await pushSampleImage(c2, `${noApi.host}/ref/app:v1`);
      const r2 = parseReference(`${noApi.host}/ref/app`);
      expect(await c2.referrers(r2, s2)).toEqual([]);
      expect(c2.supportsReferrersApi(noApi.host)).toBe(false);
      const desc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf('x') as Digest, size: 1, artifactType: 'application/x-test' };
      await c2.addFallbackReferrer(r2, s2, desc);
      await c2.addFallbackReferrer(r2, s2, desc); // de-duplicated
      const before = noApi.requests.length;
      const got = await c2.referrers(r2, s2);
      expect(got).toHaveLength(1);
      // Remembered: no second probe of the API.
      expect(noApi.requests.slice(before).some((r) => r.path.includes('/referrers/'))).toBe(false);
      c2.close();
    } finally {
      await noApi.close();
    }
  });
});

describe('RegistryClient: auth', () => {
  it('basic auth with static credentials; wrong credentials → REGISTRY_UNAUTHORIZED without the password in the error', async () => {
    const reg = await startTestRegistry({ basicAuth: { username: 'u', password: 's3cret-pass' } });
    try {
      const good = new RegistryClient({ keychain: staticKeychain({ [reg.host]: { username: 'u', password: 's3cret-pass' } }) });
      await pushSampleImage(good, `${reg.host}/a:v1`);
      expect((await good.getManifest(parseReference(`${reg.host}/a:v1`))).size).toBeGreaterThan(0);
      const bad = new RegistryClient({ keychain: staticKeychain({ [reg.host]: { username: 'u', password: 'wrong-pass-value' } }) });
      let err: unknown;
      try {
        await bad.getManifest(parseReference(`${reg.host}/a:v1`));
      } catch (e) {
        err = e;
      }
      expect(isCosignError(err, 'REGISTRY_UNAUTHORIZED')).toBe(true);
      expect(JSON.stringify(err) + String(err)).not.toContain('wrong-pass-value');
      expect(await codeOfAsync(new RegistryClient({ keychain: anonymous }).getManifest(parseReference(`${reg.host}/a:v1`)))).toBe('REGISTRY_UNAUTHORIZED');
    } finally {
      await reg.close();
    }
  });

  it('bearer tokens: scoped per repository and action, reused, refreshed after expiry', async () => {
    const reg = await startTestRegistry({ tokenAuth: { username: 'u', password: 'tok-pass', expiresIn: 300 } });
    try {
      const client = new RegistryClient({ keychain: staticKeychain({ [reg.host]: { username: 'u', password: 'tok-pass' } }) });
      await pushSampleImage(client, `${reg.host}/team/app:v1`); // pull,push scope
      const pushTokens = client.stats.tokenFetches;
      for (let i = 0; i < 10; i++) await client.getManifest(parseReference(`${reg.host}/team/app:v1`));
      expect(pushTokens).toBe(2); // pull (HEAD blob) and pull,push (upload) scopes
      expect(client.stats.tokenFetches - pushTokens).toBe(0); // the pull token is reused
      await codeOfAsync(client.getManifest(parseReference(`${reg.host}/team/other:v1`)));
      expect(client.stats.tokenFetches - pushTokens).toBe(1); // another repository, another scope
      // Tokens that expire are fetched again.
      const short = await startTestRegistry({ tokenAuth: { username: 'u', password: 'p', expiresIn: 1 } });
      try {
        const c = new RegistryClient({ keychain: staticKeychain({ [short.host]: { username: 'u', password: 'p' } }) });
        await pushSampleImage(c, `${short.host}/x:v1`);
        const n = c.stats.tokenFetches;
        await c.getManifest(parseReference(`${short.host}/x:v1`));
        await c.getManifest(parseReference(`${short.host}/x:v1`));
        expect(c.stats.tokenFetches - n).toBe(0);
        // The registry expires the token after 1 s; the client's 401 answer is a fresh token, once.
        await new Promise((r) => setTimeout(r, 1100));
        expect((await c.getManifest(parseReference(`${short.host}/x:v1`))).size).toBeGreaterThan(0);
        expect(c.stats.tokenFetches - n).toBe(1);
      } finally {
        await short.close();
      }
    } finally {
      await reg.close();
    }
  });

  it('identity tokens use the refresh_token grant (POST form)', async () => {
    const reg = await startTestRegistry({ tokenAuth: { username: 'ignored', password: 'refresh-token-value' } });
    try {
      const client = new RegistryClient({ keychain: staticKeychain({ [reg.host]: { identityToken: 'refresh-token-value' } }) });
      await pushSampleImage(client, `${reg.host}/id/app:v1`);
      expect(reg.requests.some((r) => r.method === 'POST' && r.path === '/token')).toBe(true);
    } finally {
      await reg.close();
    }
  });

  it('Docker config.json: auths (URL and path keys), credHelpers and credsStore executables', async () => {
    const reg = await startTestRegistry({ basicAuth: { username: 'cfg', password: 'cfg-pass' } });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-dockercfg-'));
    try {
      const auth = Buffer.from('cfg:cfg-pass').toString('base64');
      await writeFile(path.join(dir, 'config.json'), JSON.stringify({ auths: { [`http://${reg.host}/v1/`]: { auth } } }));
      const c1 = new RegistryClient({ keychain: dockerConfigKeychain({ configDir: dir }) });
      await pushSampleImage(c1, `${reg.host}/cfg/app:v1`);
      // Path-scoped entries: the longest matching path wins.
      await writeFile(
        path.join(dir, 'config.json'),
        JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('cfg:nope').toString('base64') }, [`${reg.host}/cfg`]: { auth } } }),
      );
      const c2 = new RegistryClient({ keychain: dockerConfigKeychain({ configDir: dir }) });
      expect((await c2.getManifest(parseReference(`${reg.host}/cfg/app:v1`))).size).toBeGreaterThan(0);
      expect(await codeOfAsync(c2.getManifest(parseReference(`${reg.host}/other/app:v1`)))).toBe('REGISTRY_UNAUTHORIZED');
      // Credential helpers: docker-credential-<name> on PATH reads the server on stdin.
      const bin = path.join(dir, 'bin');
      await import('node:fs/promises').then((fs) => fs.mkdir(bin));
      const helper = path.join(bin, 'docker-credential-cosigntstest');
      await writeFile(helper, `#!/bin/sh\nread server\necho "$server" >> ${path.join(dir, 'asked')}\necho '{"Username":"cfg","Secret":"cfg-pass"}'\n`);
      await chmod(helper, 0o755);
      const oldPath = process.env.PATH;
      process.env.PATH = `${bin}:${oldPath ?? ''}`;
      try {
        await writeFile(path.join(dir, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: 'cosigntstest' } }));
        const c3 = new RegistryClient({ keychain: dockerConfigKeychain({ configDir: dir }) });
        expect((await c3.getManifest(parseReference(`${reg.host}/cfg/app:v1`))).size).toBeGreaterThan(0);
        await writeFile(path.join(dir, 'config.json'), JSON.stringify({ credsStore: 'cosigntstest' }));
        const c4 = new RegistryClient({ keychain: dockerConfigKeychain({ configDir: dir }) });
        expect((await c4.getManifest(parseReference(`${reg.host}/cfg/app:v1`))).size).toBeGreaterThan(0);
        const asked = (await import('node:fs/promises').then((fs) => fs.readFile(path.join(dir, 'asked'), 'utf8'))).trim().split('\n');
        expect(asked).toContain(reg.host);
        expect(asked).toContain(`${reg.host}/cfg/app`); // credsStore: repository first, like cosign
      } finally {
        process.env.PATH = oldPath;
      }
      // No config.json → anonymous.
      expect(await dockerConfigKeychain({ configDir: path.join(dir, 'missing') }).resolve(reg.host)).toBeUndefined();
    } finally {
      await reg.close();
    }
  });
});

describe('RegistryClient: faults', () => {
  let reg: TestRegistry;
  let ref: ReturnType<typeof parseReference>;
  let digest: Digest;
  const fast = (): RegistryClient => new RegistryClient({ keychain: anonymous, backoffMs: 10, timeoutMs: 1500, maxRetryDelayMs: 3000 });
  beforeAll(async () => {
    reg = await startTestRegistry();
    ref = parseReference(`${reg.host}/faults/app:v1`);
    digest = await pushSampleImage(new RegistryClient({ keychain: anonymous }), ref);
  });
  afterEach(() => reg.faults.clear());
  afterAll(async () => {
    await reg.close();
  });

  it('5xx then success: retried', async () => {
    const c = fast();
    reg.faults.next({ path: /manifests/, status: 503, times: 2 });
    expect((await c.getManifest(ref)).digest).toBe(digest);
    expect(c.stats.retries).toBe(2);
  });

  it('persistent 503 → REGISTRY_UNAVAILABLE; persistent 429 → REGISTRY_THROTTLED', async () => {
    reg.faults.next({ path: /manifests/, status: 503, times: 10 });
    expect(await codeOfAsync(fast().getManifest(ref))).toBe('REGISTRY_UNAVAILABLE');
    reg.faults.clear();
    reg.faults.next({ path: /manifests/, status: 429, times: 10 });
    expect(await codeOfAsync(fast().getManifest(ref))).toBe('REGISTRY_THROTTLED');
  });

  it('429 with Retry-After is honoured', async () => {
    reg.faults.next({ path: /manifests/, status: 429, retryAfter: '1' });
    const t = Date.now();
    expect((await fast().getManifest(ref)).digest).toBe(digest);
    expect(Date.now() - t).toBeGreaterThanOrEqual(900);
  });

  it('a stalled response times out quickly', async () => {
    reg.faults.next({ path: /manifests/, delayMs: 5000, times: 10 });
    const t = Date.now();
    expect(await codeOfAsync(new RegistryClient({ keychain: anonymous, timeoutMs: 300, attempts: 2, backoffMs: 10 }).getManifest(ref))).toBe(
      'REGISTRY_UNAVAILABLE',
    );
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('wrong digest on a manifest by digest and on a blob → DIGEST_MISMATCH', async () => {
    reg.faults.next({ path: /manifests/, wrongDigest: true });
    expect(await codeOfAsync(fast().getManifest(withDigest(ref, digest)))).toBe('DIGEST_MISMATCH');
    const blob = Buffer.from('blob content');
    const c = fast();
    await c.uploadBlob(ref, digestOf(blob), blob);
    reg.faults.next({ path: /blobs\/sha256/, method: 'GET', wrongDigest: true });
    expect(await codeOfAsync(c.getBlob(ref, digestOf(blob)))).toBe('DIGEST_MISMATCH');
  });

  it('oversize manifest and blob → TOO_LARGE; bad JSON → BAD_MANIFEST; 404 → NOT_FOUND with the registry code', async () => {
    reg.faults.next({ path: /manifests/, oversizeBytes: 5 * 1024 * 1024 });
    expect(await codeOfAsync(fast().getManifest(ref))).toBe('TOO_LARGE');
    const blob = Buffer.from('x');
    const c = fast();
    await c.uploadBlob(ref, digestOf(blob), blob);
    reg.faults.next({ path: /blobs\/sha256/, method: 'GET', oversizeBytes: 2 * 1024 * 1024 });
    expect(await codeOfAsync(c.getBlob(ref, digestOf(blob), { maxBytes: 1024 * 1024 }))).toBe('TOO_LARGE');
    reg.faults.next({ path: /manifests/, badJson: true });
    expect(await codeOfAsync(fast().getManifest(ref))).toBe('BAD_MANIFEST');
    try {
      await fast().getManifest(withTag(ref, 'missing'));
    } catch (e) {
      expect(isCosignError(e, 'NOT_FOUND')).toBe(true);
      expect((e as { details?: { errors?: string[] } }).details?.errors).toEqual(['MANIFEST_UNKNOWN']);
    }
  });

  it('a blob redirect to another host gets no Authorization header', async () => {
    const authed = await startTestRegistry({ basicAuth: { username: 'u', password: 'redirect-secret' } });
    let sawAuth: boolean | undefined;
    const storage = http.createServer((req, res) => {
      sawAuth = req.headers.authorization !== undefined;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('redirected blob');
    });
    await new Promise<void>((r) => storage.listen(0, '127.0.0.2', r));
    try {
      const c = new RegistryClient({ keychain: staticKeychain({ [authed.host]: { username: 'u', password: 'redirect-secret' } }), backoffMs: 10 });
      const r = parseReference(`${authed.host}/redir/app`);
      const blob = Buffer.from('redirected blob');
      await c.uploadBlob(r, digestOf(blob), blob);
      authed.faults.next({ path: /blobs\/sha256/, method: 'GET', redirectTo: `http://127.0.0.2:${(storage.address() as AddressInfo).port}` });
      expect(Buffer.from(await c.getBlob(r, digestOf(blob))).toString()).toBe('redirected blob');
      expect(sawAuth).toBe(false);
    } finally {
      storage.close();
      await authed.close();
    }
  });

  it('plain HTTP is refused for a non-loopback registry unless allowed', async () => {
    const c = new RegistryClient({ keychain: anonymous, attempts: 1, timeoutMs: 500 });
    // https is tried (and fails: nothing listens); http is never attempted for a public name.
    const e = await codeOfAsync(c.getManifest(parseReference('registry.invalid/app:v1')));
    expect(e).toBe('REGISTRY_UNAVAILABLE');
    const allowed = new RegistryClient({ keychain: anonymous, insecureRegistries: ['registry.invalid'], attempts: 1, timeoutMs: 500 });
    expect(await codeOfAsync(allowed.getManifest(parseReference('registry.invalid/app:v1')))).toBe('REGISTRY_UNAVAILABLE');
  });
});

describe('RegistryClient: start-up helpers', () => {
  it('probeTls tells a TLS server from a plain HTTP one without an HTTPS request; refused is an error', async () => {
    const certs = await makeTestCertificates(await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-probe-')));
    const tlsServer = https.createServer({ cert: await readFile(certs.certFile), key: await readFile(certs.keyFile) }, (_req, res) => res.end('tls'));
    const plain = http.createServer((_req, res) => res.end('plain'));
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const t = new Transport({ timeoutMs: 5000 });
      expect(await t.probeTls(`127.0.0.1:${(tlsServer.address() as AddressInfo).port}`)).toBe('tls');
      expect(await t.probeTls(`localhost:${(tlsServer.address() as AddressInfo).port}`)).toBe('tls');
      expect(await t.probeTls(`127.0.0.1:${(plain.address() as AddressInfo).port}`)).toBe('plain');
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      closed.close();
      await expect(t.probeTls(`127.0.0.1:${port}`)).rejects.toThrow(`GET https://127.0.0.1:${port}/v2/: ECONNREFUSED`);
      t.close();
    } finally {
      tlsServer.close();
      plain.close();
    }
  });

  it('preconnect is a bounded hint: once per registry, at most MAX_PRECONNECTS probes in flight, never throws', async () => {
    // Servers that accept and never answer: each probe stays in flight.
    const held: net.Socket[] = [];
    let open = 0;
    let peak = 0;
    const servers = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const server = net.createServer((s) => {
          held.push(s);
          open++;
          peak = Math.max(peak, open);
          s.on('close', () => open--);
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        return server;
      }),
    );
    const c = new RegistryClient({ keychain: anonymous, timeoutMs: 2000 });
    try {
      for (const server of servers) {
        const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
        c.preconnect(host);
        c.preconnect(host);
      }
      c.preconnect('127.0.0.1:1'); // refused: no error surfaces
      c.preconnect('not a registry');
      await new Promise((r) => setTimeout(r, 300));
      expect(RegistryClient.MAX_PRECONNECTS).toBe(4);
      expect(peak).toBe(RegistryClient.MAX_PRECONNECTS);
    } finally {
      c.close();
      for (const s of held) s.destroy();
      for (const server of servers) server.close();
    }
  });
});

describe('header parsers', () => {
  it('WWW-Authenticate: quoted commas and escapes', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
    expect(parseWwwAuthenticate('Basic realm="x \\"y\\""')?.params.realm).toBe('x "y"');
    expect(parseWwwAuthenticate('')).toBeUndefined();
  });

  it('WWW-Authenticate never throws, and round-trips generated challenges', () => {
    fc.assert(
      fc.property(fc.string(), (s) => void parseWwwAuthenticate(s)),
      { numRuns: 2000 },
    );
    const token = fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/);
    fc.assert(
      fc.property(fc.constantFrom('Bearer', 'Basic'), fc.dictionary(token, fc.string({ maxLength: 30 }), { maxKeys: 5 }), (scheme, params) => {
        const header = `${scheme} ${Object.entries(params)
          .map(([k, v]) => `${k}="${v.replace(/["\\]/g, '\\$&')}"`)
          .join(',')}`;
        const c = parseWwwAuthenticate(header);
        expect(c?.scheme).toBe(scheme.toLowerCase());
        expect(c?.params).toEqual(params);
      }),
      { numRuns: 1000 },
    );
  });

  it('Retry-After: seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1)).toUTCString(), Date.UTC(2030, 0, 1) - 2000)).toBe(2000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
