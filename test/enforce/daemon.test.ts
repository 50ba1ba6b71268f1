/**
 * `runKiller` (the daemon loop) over the Docker API test server: hostile strings from the engine and
 * the registry never forge log lines (JSON lines and syslog), and against a stalled registry every
 * cycle ends by its deadline, below the interval, with the stalled checks logged as unavailable.
 */
import dgram from 'node:dgram';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/digest.js';
import { KillerMetrics, runKiller } from '../../src/enforce/index.js';
import { http } from '../../src/internal/node-http.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { DockerApiServer } from './docker-api-server.js';
import { HOSTILE } from './hostile-strings.js';

const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;
const anonymous = { keychain: { resolve: async () => undefined } };

describe('runKiller', () => {
  let reg: TestRegistry;
  let docker: DockerApiServer;
  let dir: string;
  let keyPath: string;
  let stalled: import('node:http').Server;
  let stalledHost: string;

  beforeAll(async () => {
    reg = await startTestRegistry();
    docker = await DockerApiServer.start();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-killer-daemon-'));
    keyPath = path.join(dir, 'cosign.pub');
    await writeFile(keyPath, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
    stalled = http.createServer((req, res) => {
      if (req.url === '/v2/' || req.url === '/v2') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': 1000 });
      const t = setInterval(() => res.write(' '), 100); // trickles, never finishes
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    stalledHost = `127.0.0.1:${(stalled.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    stalled.closeAllConnections();
    await new Promise<void>((r) => stalled.close(() => r()));
    await docker.close();
    await reg.close();
  });

  it('hostile container and image names never forge a line in JSON lines or syslog', async () => {
    docker.containers.clear();
    const client = new RegistryClient(anonymous);
    const ref = `${reg.host}/ci/unsigned:v1`;
    const d = await pushSampleImage(client, ref, { hostile: '1' });
    client.close();
    const img = docker.addImage([`${parseReference(ref).name}@${d}`], [ref]);
    for (const h of HOSTILE) docker.run(ref, img, `name${h}`);
    const weird = docker.addImage([], []);
    for (const h of HOSTILE.slice(0, 4)) docker.run(`img${h}`, weird, 'weird-image');
    const policyFile = path.join(dir, 'policy.yaml');
    await writeFile(policyFile, `rules:\n  - name: ci\n    images: ["${reg.host}/ci/*"]\n    authorities: [{ key: { path: ${JSON.stringify(keyPath)} } }]\n`);
    const sock = dgram.createSocket('udp4');
    const datagrams: string[] = [];
    sock.on('message', (m) => datagrams.push(m.toString('utf8')));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const lines: string[] = [];
    try {
      await runKiller({
        policyFile,
        once: true,
        dockerHost: docker.dockerHost,
        syslog: `udp://127.0.0.1:${sock.address().port}`,
        out: (l) => lines.push(l),
        registry: anonymous,
      });
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      sock.close();
    }
    expect(lines).toHaveLength(HOSTILE.length + 4);
    for (const l of lines) expect(l).not.toMatch(RAW_UNSAFE);
    const names = lines.map((l) => (JSON.parse(l) as { containerName: string }).containerName);
    for (const h of HOSTILE) expect(names).toContain(`name${h}`);
    expect(datagrams).toHaveLength(HOSTILE.length + 4);
    for (const g of datagrams) {
      expect(g).not.toMatch(RAW_UNSAFE);
      expect(g.match(/\[cosign-ts@32473 /g)).toHaveLength(1);
    }
  });

  it('daemon against a stalled registry: each cycle ends by its deadline (80 % of a 1 s interval), the stalled checks logged as unavailable', async () => {
    docker.containers.clear();
    for (let i = 0; i < 4; i++) docker.run(`${stalledHost}/app${i}:v1`, docker.addImage([`${stalledHost}/app${i}@${digestOf(`s${i}`)}`]));
    const policyFile = path.join(dir, 'stalled.yaml');
    await writeFile(policyFile, `rules:\n  - name: ci\n    images: ["${stalledHost}/**"]\n    authorities: [{ key: { path: ${JSON.stringify(keyPath)} } }]\n`);
    const lines: string[] = [];
    const metrics = new KillerMetrics();
    const abort = new AbortController();
    const durations: number[] = [];
    const t0 = performance.now();
    const done = runKiller({
      policyFile,
      intervalSeconds: 1,
      dockerHost: docker.dockerHost,
      syslog: 'none',
      out: (l) => lines.push(l),
      registry: { ...anonymous, timeoutMs: 60_000, attempts: 1 },
      metricsRecorder: metrics,
      abort: abort.signal,
    });
    const observe = metrics.observeCycle.bind(metrics);
    metrics.observeCycle = (r) => {
      durations.push(r.durationMs);
      observe(r);
      if (metrics.cycles >= 3) abort.abort();
    };
    const last = await done;
    const total = performance.now() - t0;
    expect(metrics.cycles).toBe(3);
    for (const ms of durations) expect(ms).toBeLessThan(1000);
    expect(last?.deadlineReached).toBe(true);
    expect(metrics.render()).toContain('cosign_killer_cycle_deadlines_reached_total 3');
    const events = lines.map((l) => JSON.parse(l) as { action: string; reason?: string; code?: string });
    expect(events).toHaveLength(12);
    for (const e of events)
      expect(e).toMatchObject({
        action: 'skipped-unavailable',
        code: 'REGISTRY_UNAVAILABLE',
        reason: expect.stringMatching(/cycle deadline \(800 ms\) passed/),
      });
    console.log(`stalled registry, 1 s interval: cycles took ${durations.map((d) => d.toFixed(0)).join(', ')} ms; 3 cycles in ${total.toFixed(0)} ms`);
  });
});
