/**
 * Credentials and tokens stay with the host they belong to (issue #10 items 4 and 5), over real HTTP
 * servers on distinct loopback addresses: the registry (127.0.0.1), a blob CDN or upload store it
 * hands requests to (127.0.0.2), and a token realm that only the CDN names (127.0.0.3).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/digest.js';
import { signerFromPrivateKey } from '../../src/keys/index.js';
import { RegistryClient, staticKeychain, type Credentials } from '../../src/oci/index.js';
import { parseReference } from '../../src/reference.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry } from '../../src/testing/index.js';
import { codeOfAsync } from '../helpers/errors.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
}

/** A plain HTTP server on `address` that logs every request and answers with `answer`. */
async function server(
  address: string,
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ origin: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    answer(req, res);
  });
  await new Promise<void>((r) => s.listen(0, address, r));
  return {
    origin: `http://${address}:${(s.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

const USER = 'alice';
const PASSWORD = 'registry-password-9f2c';
const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('credentials are scoped to the registry host', () => {
  for (const auth of ['basicAuth', 'tokenAuth'] as const) {
    it(`${auth}: a 401 from a blob redirect target is not answered with the registry's credentials, not recorded as its challenge, and its realm is never contacted`, async () => {
      const reg = await startTestRegistry({ [auth]: { username: USER, password: PASSWORD } });
      cleanup.push(() => reg.close());
      // The third host: a token realm named only by the CDN's challenge.
      const realm = await server('127.0.0.3', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: 'evil-token', expires_in: 300 }));
      });
      cleanup.push(() => realm.close());
      // The redirect target: a CDN that wants a bearer token from that realm.
      const cdn = await server('127.0.0.2', (_req, res) => {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm.origin}/token",service="cdn"`, 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      });
      cleanup.push(() => cdn.close());

      const creds: Credentials = { username: USER, password: PASSWORD };
      const client = new RegistryClient({ keychain: staticKeychain({ [reg.host]: creds }), backoffMs: 10 });
      cleanup.push(async () => client.close());
      const ref = parseReference(`${reg.host}/redir/app:v1`);
      await pushSampleImage(client, ref);
      const blob = Buffer.from('a blob served by the CDN');
      await client.uploadBlob(ref, digestOf(blob), blob);

      reg.faults.next({ path: /blobs\/sha256/, method: 'GET', redirectTo: cdn.origin });
      expect(await codeOfAsync(client.getBlob(ref, digestOf(blob)))).toBe('REGISTRY_UNAUTHORIZED');

      expect(cdn.seen.length).toBeGreaterThan(0);
      expect(cdn.seen.map((r) => r.authorization)).toEqual(cdn.seen.map(() => undefined));
      expect(realm.seen).toEqual([]); // cosign 2.5 never contacts it either

      // The registry's own challenge still works, and the registry never got the realm's token.
      reg.requests.length = 0;
      expect(Buffer.from(await client.getBlob(ref, digestOf(blob))).toString()).toBe('a blob served by the CDN');
      await client.getManifest(ref);
      expect(reg.requests.some((r) => r.authorizationHeader === 'Bearer evil-token')).toBe(false);
      expect(reg.requests.filter((r) => r.path.startsWith('/v2/redir')).every((r) => r.authorization)).toBe(true);
      expect(realm.seen).toEqual([]);
    });
  }

  it('a redirect target on the same address but another port is another host', async () => {
    const reg = await startTestRegistry({ tokenAuth: { username: USER, password: PASSWORD } });
    cleanup.push(() => reg.close());
    const realm = await server('127.0.0.1', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"token":"evil-token"}');
    });
    cleanup.push(() => realm.close());
    const other = await server('127.0.0.1', (_req, res) => {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm.origin}/token",service="other"` });
      res.end();
    });
    cleanup.push(() => other.close());
    const client = new RegistryClient({ keychain: staticKeychain({ [reg.host]: { username: USER, password: PASSWORD } }), backoffMs: 10 });
    cleanup.push(async () => client.close());
    const ref = parseReference(`${reg.host}/port/app:v1`);
    await pushSampleImage(client, ref);
    const blob = Buffer.from('port blob');
    await client.uploadBlob(ref, digestOf(blob), blob);
    reg.faults.next({ path: /blobs\/sha256/, method: 'GET', redirectTo: other.origin });
    expect(await codeOfAsync(client.getBlob(ref, digestOf(blob)))).toBe('REGISTRY_UNAUTHORIZED');
    // A challenge from the other port is never answered: the realm it names gets no request at all.
    expect(other.seen.every((r) => r.authorization === undefined)).toBe(true);
    expect(realm.seen).toEqual([]);
    // And the registry's tokens keep working afterwards.
    expect(Buffer.from(await client.getBlob(ref, digestOf(blob))).toString()).toBe('port blob');
  });

  for (const auth of ['basicAuth', 'tokenAuth'] as const) {
    it(`${auth}: signing with an upload Location on another host sends no Authorization there (and it still works)`, async () => {
      const reg = await startTestRegistry({ [auth]: { username: USER, password: PASSWORD }, uploadHost: '127.0.0.2' });
      cleanup.push(() => reg.close());
      const client = new RegistryClient({ keychain: staticKeychain({ [reg.host]: { username: USER, password: PASSWORD } }), backoffMs: 10 });
      cleanup.push(async () => client.close());
      const ref = parseReference(`${reg.host}/upload/app:v1`);
      const digest = await pushSampleImage(client, ref);
      const signer = signerFromPrivateKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey, 'test.key');
      const signed = await signImage(`${reg.host}/upload/app@${digest}`, signer, { client });
      expect(signed.signed).toHaveLength(1);

      const elsewhere = reg.requests.filter((r) => r.host === reg.uploadHost);
      expect(elsewhere.length).toBeGreaterThan(0); // the sample image's and the signature's uploads went there
      expect(elsewhere.filter((r) => r.authorization)).toEqual([]);
      const onRegistry = reg.requests.filter((r) => r.host === reg.host && r.path !== '/token');
      expect(onRegistry.some((r) => r.authorizationHeader === basic || r.authorizationHeader?.startsWith('Bearer ') === true)).toBe(true);
    });
  }

  it('chunked uploads (PATCH then PUT) to another host carry no Authorization; a relative Location on the registry does', async () => {
    const reg = await startTestRegistry({ basicAuth: { username: USER, password: PASSWORD }, uploadHost: '127.0.0.2' });
    cleanup.push(() => reg.close());
    const client = new RegistryClient({ keychain: staticKeychain({ [reg.host]: { username: USER, password: PASSWORD } }), backoffMs: 10 });
    cleanup.push(async () => client.close());
    const ref = parseReference(`${reg.host}/chunks/app`);
    const blob = Buffer.alloc(3000, 7);
    await client.uploadBlob(ref, digestOf(blob), blob, { chunkSize: 1024 });
    const up = reg.requests.filter((r) => r.host === reg.uploadHost);
    expect(up.map((r) => r.method)).toEqual(['PATCH', 'PATCH', 'PATCH', 'PUT']);
    expect(up.some((r) => r.authorization)).toBe(false);
    expect(Buffer.from(await client.getBlob(ref, digestOf(blob))).equals(blob)).toBe(true);

    const plain = await startTestRegistry({ basicAuth: { username: USER, password: PASSWORD } });
    cleanup.push(() => plain.close());
    const c2 = new RegistryClient({ keychain: staticKeychain({ [plain.host]: { username: USER, password: PASSWORD } }), backoffMs: 10 });
    cleanup.push(async () => c2.close());
    const r2 = parseReference(`${plain.host}/chunks/app`);
    await c2.uploadBlob(r2, digestOf(blob), blob);
    const put = plain.requests.find((r) => r.method === 'PUT');
    expect(put?.authorizationHeader).toBe(basic);
  });

  it('an identity token is never forwarded by a token realm redirect to another host', async () => {
    const elsewhere = await server('127.0.0.3', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"access_token":"t"}');
    });
    cleanup.push(() => elsewhere.close());
    const realm = await server('127.0.0.2', (_req, res) => {
      res.writeHead(307, { location: `${elsewhere.origin}/token` });
      res.end();
    });
    cleanup.push(() => realm.close());
    const registry = await server('127.0.0.1', (_req, res) => {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm.origin}/token",service="reg"` });
      res.end();
    });
    cleanup.push(() => registry.close());
    const host = new URL(registry.origin).host;
    const client = new RegistryClient({ keychain: staticKeychain({ [host]: { identityToken: 'refresh-secret' } }), backoffMs: 10 });
    cleanup.push(async () => client.close());
    expect(await codeOfAsync(client.getManifest(parseReference(`${host}/idt/app:v1`)))).toBe('REGISTRY_ERROR');
    expect(realm.seen.map((r) => r.method)).toEqual(['POST']);
    expect(elsewhere.seen).toEqual([]);
  });
});
