/**
 * src/internal/node-http.ts: the built-ins are Node's own, and importing the module (built, as the
 * package runs it) loads neither Node's bundled undici (what an ES module import of `node:http`
 * evaluates) nor `node:https`/`node:tls`/`node:http2`/`node:child_process` until they are asked for.
 */
import { spawnSync } from 'node:child_process';
import * as childProcess from 'node:child_process';
import * as httpNs from 'node:http';
import * as http2Ns from 'node:http2';
import * as httpsNs from 'node:https';
import * as netNs from 'node:net';
import path from 'node:path';
import * as tlsNs from 'node:tls';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { http, net, nodeChildProcess, nodeHttp2, nodeHttps, nodeTls } from '../../src/internal/node-http.js';
import { ensureBuilt } from '../cli/helpers.js';
import { repoRoot } from '../helpers/fixtures.js';

describe('node-http', () => {
  it('gives Node’s modules, the same object on every call', () => {
    expect(http.request).toBe(httpNs.request);
    expect(net.connect).toBe(netNs.connect);
    expect(nodeHttps().request).toBe(httpsNs.request);
    expect(nodeHttps()).toBe(nodeHttps());
    expect(nodeTls().connect).toBe(tlsNs.connect);
    expect(nodeChildProcess().spawn).toBe(childProcess.spawn);
    expect(nodeHttp2().connect).toBe(http2Ns.connect);
    expect(nodeHttp2()).toBe(nodeHttp2());
  });

  describe('built', () => {
    beforeAll(() => ensureBuilt(), 120_000);

    /** Node's internal modules loaded after importing the built module and running `after`. */
    function loadedAfter(after: string): string[] {
      const url = pathToFileURL(path.join(repoRoot, 'dist', 'internal', 'node-http.js')).href;
      const body = `const m = await import(${JSON.stringify(url)}); ${after}; process.stdout.write(JSON.stringify(process.moduleLoadList));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', body], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as string[]).map((m) => m.replace(/^NativeModule /, ''));
    }

    it('importing it loads node:http but not undici, https, tls, http2 or child_process', () => {
      const loaded = loadedAfter('');
      expect(loaded).toContain('http');
      expect(loaded.filter((m) => /undici|^https$|^tls$|^_tls_wrap$|^http2$|^child_process$/.test(m))).toEqual([]);
    });

    it('nodeHttps() loads https and tls', () => {
      const loaded = loadedAfter('m.nodeHttps()');
      expect(loaded).toEqual(expect.arrayContaining(['https', 'tls']));
    });
  });
});
