/**
 * `TransportOptions.connectTo`: fixed addresses for some host names (curl's `--resolve`), the name kept
 * in the URL and `Host`; the HTTPS-or-HTTP probe connects there too; other names resolve normally.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { Transport } from '../../src/oci/transport.js';

describe('connectTo', () => {
  let server: Server;
  let port = 0;
  const hosts: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      hosts.push(String(req.headers.host));
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends a mapped name to its address, keeping the name in Host; the probe goes there too', async () => {
    const t = new Transport({ connectTo: { 'registry.cosign-ts.invalid': '127.0.0.1' }, attempts: 1 });
    const res = await t.request({ method: 'GET', url: new URL(`http://registry.cosign-ts.invalid:${port}/v2/`) });
    expect(res.status).toBe(200);
    expect(hosts.at(-1)).toBe(`registry.cosign-ts.invalid:${port}`);
    expect(await t.probeTls(`registry.cosign-ts.invalid:${port}`)).toBe('plain');
    // Names not in the map resolve as usual.
    expect((await t.request({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`) })).status).toBe(200);
    await expect(t.request({ method: 'GET', url: new URL(`http://other.cosign-ts.invalid:${port}/`) })).rejects.toSatisfy((e: unknown) =>
      isCosignError(e, 'REGISTRY_UNAVAILABLE'),
    );
    t.close();
  });

  it('refuses an address that is not an IP', () => {
    expect(() => new Transport({ connectTo: { 'a.example': 'b.example' } })).toThrow(/connectTo\["a.example"\]: "b.example" is not an IP address/);
  });
});
