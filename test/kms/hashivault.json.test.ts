/**
 * Vault answers are untrusted JSON: parsed strictly, so an ambiguous answer (a repeated `data` key,
 * which `JSON.parse` would resolve to the last one) is a typed error, never a public key.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { resolvePublicKey } from '../../src/kms/index.js';

const pem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const keyData = (publicKey: string): string =>
  JSON.stringify({ type: 'ecdsa-p256', latest_version: 1, supports_signing: true, keys: { '1': { name: 'P-256', public_key: publicKey } } });

describe('Vault answers with duplicate keys', () => {
  let server: http.Server;
  let url = '';
  let body = '';
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/v1/transit/keys/k') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"errors":[]}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const resolve = (): Promise<unknown> =>
    resolvePublicKey('hashivault://k', { env: { VAULT_ADDR: url, VAULT_TOKEN: 'hvs.test-token' } }).catch((e: unknown) => e);

  it('a well-formed answer gives the key', async () => {
    body = `{"data":${keyData(pem())}}`;
    expect(isCosignError(await resolve())).toBe(false);
  });

  it('two `data` members: KMS_ERROR, not the last key', async () => {
    body = `{"data":${keyData(pem())},"data":${keyData(pem())}}`;
    const e = await resolve();
    expect(isCosignError(e, 'KMS_ERROR')).toBe(true);
    expect((e as Error).message).toMatch(/not a JSON object/);
  });
});
