import { generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/private.js';
import { privateKeyFromPem, publicKeyFromKeyReference, readKeyFile, readKeyReference, signerFromKeyReference } from '../../src/keys/resolve.js';

const MiB = 1024 * 1024;
const password = 'resolve-password';
const pair = generateKeyPair(password);
let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cosign-ts-resolve-'));
  await writeFile(path.join(dir, 'cosign.key'), pair.privateKeyPem);
  await writeFile(path.join(dir, 'cosign.pub'), pair.publicKeyPem);
  server = createServer((req, res) => {
    if (req.url === '/cosign.pub') return res.end(pair.publicKeyPem);
    if (req.url === '/declared-large') {
      res.writeHead(200, { 'content-length': String(MiB + 1) });
      return res.end();
    }
    if (req.url === '/endless') {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = (): void => {
        while (res.write(chunk)) {
          /* until the socket buffer is full */
        }
        res.once('drain', pump);
      };
      res.on('error', () => undefined);
      return pump();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('readKeyFile', () => {
  it('reads a file (path or file: URL)', async () => {
    expect((await readKeyFile(path.join(dir, 'cosign.pub'))).toString()).toBe(pair.publicKeyPem);
    expect((await readKeyFile(pathToFileURL(path.join(dir, 'cosign.pub')))).toString()).toBe(pair.publicKeyPem);
  });

  it('missing file → IO_ERROR in cosign words; a folder → IO_ERROR naming the errno', async () => {
    const missing = path.join(dir, 'nope.pub');
    await expect(readKeyFile(missing)).rejects.toMatchObject({ code: 'IO_ERROR', message: `reading key: open ${missing}: no such file or directory` });
    await expect(readKeyFile(dir)).rejects.toMatchObject({ code: 'IO_ERROR', message: `reading key ${dir}: EISDIR` });
  });

  it('/dev/zero → TOO_LARGE at 1 MiB, by bytes read', async () => {
    await expect(readKeyFile('/dev/zero')).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: 'reading key: key file /dev/zero is larger than 1048576 bytes',
    });
  });
});

describe('readKeyReference', () => {
  it('path, file://, env://', async () => {
    const file = path.join(dir, 'cosign.pub');
    expect((await readKeyReference(file)).toString()).toBe(pair.publicKeyPem);
    expect((await readKeyReference(`file://${file}`)).toString()).toBe(pair.publicKeyPem);
    expect((await readKeyReference('env://PUB', { env: { PUB: pair.publicKeyPem } })).toString()).toBe(pair.publicKeyPem);
    expect((await readKeyReference('env://EMPTY', { env: { EMPTY: '' } })).length).toBe(0);
  });

  it('an unset variable → IO_ERROR naming it (process.env by default)', async () => {
    await expect(readKeyReference('env://COSIGN_TS_RESOLVE_TEST_UNSET', { env: {} })).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: 'reading key: environment variable COSIGN_TS_RESOLVE_TEST_UNSET is not set',
    });
    await expect(readKeyReference('env://COSIGN_TS_RESOLVE_TEST_UNSET')).rejects.toMatchObject({ code: 'IO_ERROR' });
  });

  it('http(s):// only with allowHttp', async () => {
    await expect(readKeyReference(`${base}/cosign.pub`)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect((await readKeyReference(`${base}/cosign.pub`, { allowHttp: true })).toString()).toBe(pair.publicKeyPem);
  });

  it('key URLs: HTTP errors, declared and actual size over 1 MiB, abort', async () => {
    const o = { allowHttp: true };
    await expect(readKeyReference(`${base}/missing`, o)).rejects.toMatchObject({ code: 'IO_ERROR', message: `fetching key ${base}/missing: HTTP 404` });
    await expect(readKeyReference(`${base}/declared-large`, o)).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: `key at ${base}/declared-large is larger than ${MiB} bytes`,
    });
    await expect(readKeyReference(`${base}/endless`, o)).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: `key at ${base}/endless is larger than ${MiB} bytes`,
    });
    await expect(readKeyReference(`${base}/cosign.pub`, { ...o, signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining(`fetching key ${base}/cosign.pub: `),
    });
  });
});

describe('private and public keys from references', () => {
  it('privateKeyFromPem: a password function is asked only for an encrypted key; a string is always passed', async () => {
    const asked: string[] = [];
    const ask = (): Promise<string> => {
      asked.push('asked');
      return Promise.resolve(password);
    };
    const key = await privateKeyFromPem(Buffer.from(pair.privateKeyPem), ask, 'cosign.key');
    expect(key.type).toBe('private');
    const plain = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect((await privateKeyFromPem(Buffer.from(plain), ask, 'plain.pem')).type).toBe('private');
    expect(asked).toEqual(['asked']);
    await expect(privateKeyFromPem(Buffer.from(pair.privateKeyPem), 'wrong', 'cosign.key')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    await expect(privateKeyFromPem(Buffer.from(plain), 'not-empty', 'plain.pem')).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('signerFromKeyReference and publicKeyFromKeyReference agree', async () => {
    const signer = await signerFromKeyReference(path.join(dir, 'cosign.key'), { password });
    expect(signer.keyRef).toBe(path.join(dir, 'cosign.key'));
    const pub = await publicKeyFromKeyReference(`${base}/cosign.pub`, { allowHttp: true });
    expect((await signer.publicKey()).equals(pub)).toBe(true);
    expect(cryptoVerify('sha256', Buffer.from('m'), pub, Buffer.from(await signer.sign(Buffer.from('m'))))).toBe(true);
  });
});
