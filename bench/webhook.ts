/**
 * The admission webhook under load: 1,000 AdmissionReviews (Deployments) naming 50 distinct images
 * (signed in the in-process registry), 100 in flight from a worker thread (its own event loop, like an
 * API server), against the webhook server on 127.0.0.1, over each protocol the server speaks:
 * - h1: HTTP/1.1 keep-alive, 100 sockets;
 * - h2: HTTP/2, one connection with 100 concurrent streams (what kube-apiserver's client-go transport does).
 * Per protocol: a cold run (a new controller, empty cache: each distinct digest must be verified
 * exactly once), then warm runs; p50/p99 latency and requests per second as median (min–max) over the
 * runs, server-side time (handler entry to answer written, from the log lines), registry requests.
 * Floor: the same kind of server (node:http2, HTTP/1.1 allowed, the same TLS material) answering a
 * fixed AdmissionReview after reading the body: TLS + HTTP + the client, interleaved with the warm runs.
 *
 * `BENCH_WEBHOOK_RUNS` (default 5) sets the warm and floor runs per protocol; `BENCH_WEBHOOK_PROTOCOLS`
 * (default `h1,h2`) the protocols; `BENCH_WEBHOOK_PROFILE=DIR` writes a CPU profile of the server's
 * thread over the warm runs of each protocol to DIR.
 */
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import http2 from 'node:http2';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { signerFromPrivateKey } from '../src/keys/index.js';
import { anonymousKeychain, RegistryClient } from '../src/oci/index.js';
import { parseReference } from '../src/reference.js';
import { signImage } from '../src/sign/index.js';
import { pushSampleImage, startTestRegistry } from '../src/testing/index.js';
import { AdmissionController, importPolicies, startWebhookServer } from '../src/webhook/index.js';
import { statOf } from './chart.js';
import { fmt, median, type BenchSection } from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TLS_DIR = path.join(here, '../test/kms/servers/tls');

/** A Deployment as `kubectl create deployment` makes it, wrapped as the API server sends it. */
function reviewBody(i: number, image: string): string {
  const name = `app-${i}`;
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      name,
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object: {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { name, namespace: 'default', labels: { app: name } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image, resources: {} }] } },
          strategy: {},
        },
        status: {},
      },
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-create' },
    },
  });
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const https = require('node:https');
const http2 = require('node:http2');
const tls = require('node:tls');
const { performance } = require('node:perf_hooks');
const { url, ca, bodies, inFlight, protocol } = workerData;
const u = new URL(url);
const path = u.pathname + u.search;
const check = (status, text) => {
  if (status !== 200 || !text.includes('"allowed":true')) throw new Error('bad answer ' + status + ' ' + text.slice(0, 300));
};
let one;
let session;
if (protocol === 'h2') {
  const connect = () => new Promise((resolve, reject) => {
    // TCP_NODELAY, as Go's net/http sets on its connections
    const s = http2.connect(u.origin, { createConnection: () => tls.connect({ host: u.hostname, port: Number(u.port), ca, ALPNProtocols: ['h2'], noDelay: true }) });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  one = async (body) => {
    session ??= connect();
    const s = await session;
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = s.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      let status = 0;
      req.on('response', (h) => { status = h[':status']; });
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        try { check(status, Buffer.concat(chunks).toString()); resolve(performance.now() - t0); } catch (e) { reject(e); }
      });
      req.on('error', reject);
      req.end(body);
    });
  };
} else {
  const agent = new https.Agent({ keepAlive: true, maxSockets: inFlight, ca });
  one = (body) => new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = https.request({ host: u.hostname, port: u.port, path, method: 'POST', agent, ca,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try { check(res.statusCode, Buffer.concat(chunks).toString()); resolve(performance.now() - t0); } catch (e) { reject(e); }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
parentPort.on('message', async (msg) => {
  try {
    const width = msg.inFlight ?? inFlight;
    const lat = new Array(bodies.length);
    let next = 0;
    const c0 = process.threadCpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: width }, async () => {
      while (next < bodies.length) { const i = next++; lat[i] = await one(bodies[i]); }
    }));
    const c1 = process.threadCpuUsage(c0);
    parentPort.postMessage({ latencies: lat, totalMs: performance.now() - t0, clientCpuUs: c1.user + c1.system });
  } catch (e) { parentPort.postMessage({ error: String(e && e.stack || e) }); }
});
`;

type Protocol = 'h1' | 'h2';

interface Run {
  latencies: number[];
  totalMs: number;
  /** CPU time of the client's thread over the run, µs. */
  clientCpuUs: number;
  /** CPU time of this thread (the servers; only one has work at a time) over the run, µs. */
  serverCpuUs: number;
}

function runLoad(worker: Worker, inFlight?: number): Promise<Run> {
  const c0 = process.threadCpuUsage();
  return new Promise((resolve, reject) => {
    worker.once('message', (m: Run & { error?: string }) => {
      const c = process.threadCpuUsage(c0);
      return m.error === undefined ? resolve({ ...m, serverCpuUs: c.user + c.system }) : reject(new Error(m.error));
    });
    worker.postMessage({ inFlight });
  });
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};

/** `median (min–max)` of a figure over runs. */
function spread(xs: number[], d: number): string {
  return `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})`;
}

export async function benchWebhook(reviews = 1000, images = 50, inFlight = 100): Promise<BenchSection> {
  const runs = Math.max(1, Number(process.env.BENCH_WEBHOOK_RUNS ?? 5));
  const profileDir = process.env.BENCH_WEBHOOK_PROFILE;
  const protocols = (process.env.BENCH_WEBHOOK_PROTOCOLS ?? 'h1,h2').split(',').filter((x): x is Protocol => x === 'h1' || x === 'h2');
  const reg = await startTestRegistry();
  const client = new RegistryClient({ keychain: anonymousKeychain });
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = signerFromPrivateKey(kp.privateKey, 'bench.key');
  const refs: string[] = [];
  for (let i = 0; i < images; i++) {
    const ref = `${reg.host}/fleet/app${i}:v1`;
    const d = await pushSampleImage(client, ref, { i: String(i) });
    await signImage(`${parseReference(ref).name}@${d}`, signer, { client });
    refs.push(ref);
  }
  client.close();
  const pem = kp.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const { policy } = importPolicies(
    `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: { name: fleet }\nspec:\n  images: [{ glob: "${reg.host}/fleet/*" }]\n  authorities:\n    - key:\n        data: ${JSON.stringify(pem)}\n`,
  );
  const ca = readFileSync(path.join(TLS_DIR, 'ca.pem'), 'utf8');
  const tls = { certFile: path.join(TLS_DIR, 'server.pem'), keyFile: path.join(TLS_DIR, 'server.key') };
  const bodies = Array.from({ length: reviews }, (_, i) => reviewBody(i, refs[i % images] as string));
  // The log sink: the server-side time of each review from its line, and the lines written to
  // /dev/null once per event loop turn (as the default stdout sink does).
  const devnull = openSync('/dev/null', 'w');
  let serverMs: number[] = [];
  let pending: string[] = [];
  const flush = (): void => {
    const text = pending.join('');
    pending = [];
    writeSync(devnull, text);
  };
  const log = (l: string): void => {
    const at = l.indexOf('"durationMs":');
    if (at >= 0) serverMs.push(Number.parseFloat(l.slice(at + 13)));
    if (pending.push(l) === 1) setImmediate(flush);
  };
  // Floor: the same kind of server with a fixed answer, after reading the body.
  const fixed = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'x', allowed: true } });
  const floorServer = http2.createSecureServer(
    { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), noDelay: true, allowHTTP1: true, settings: { maxConcurrentStreams: 250 } },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(fixed) });
        res.end(fixed);
      });
    },
  );
  await new Promise<void>((r) => floorServer.listen(0, '127.0.0.1', r));
  const floorUrl = `https://127.0.0.1:${(floorServer.address() as AddressInfo).port}/validate`;
  const mk = (url: string, protocol: Protocol): Worker => new Worker(WORKER, { eval: true, workerData: { url, ca, bodies, inFlight, protocol } });
  const profiler = profileDir === undefined ? undefined : new Session();
  if (profiler !== undefined && profileDir !== undefined) {
    mkdirSync(profileDir, { recursive: true });
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  }
  const rows: Array<Record<string, string>> = [];
  const results: BenchSection['results'] = [];
  const workers: Worker[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  try {
    for (const protocol of protocols) {
      const controller = new AdmissionController({ policy, keychain: () => anonymousKeychain, tagTtlMs: 60_000 });
      const server = await startWebhookServer({ controller, tls, host: '127.0.0.1', port: 0, log, certReloadIntervalMs: 0 });
      cleanups.push(async () => {
        await server.close();
        controller.close();
      });
      const w = mk(`${server.url}/validate?timeout=10s`, protocol);
      const wf = mk(floorUrl, protocol);
      workers.push(w, wf);
      const r0 = reg.requests.length;
      const cold = await runLoad(w);
      const coldRegistry = reg.requests.length - r0;
      const coldVerifications = controller.verifications;
      if (coldVerifications !== images) throw new Error(`bench webhook ${protocol}: ${coldVerifications} verifications, expected ${images}`);
      await runLoad(wf); // the floor's connections and JIT warm too
      const warm: Run[] = [];
      const warmServer: number[][] = [];
      const floor: Run[] = [];
      const r1 = reg.requests.length;
      if (profiler !== undefined) await profiler.post('Profiler.start');
      for (let i = 0; i < runs; i++) {
        serverMs = [];
        warm.push(await runLoad(w));
        warmServer.push(serverMs);
        floor.push(await runLoad(wf));
      }
      if (profiler !== undefined && profileDir !== undefined) {
        const { profile } = await profiler.post('Profiler.stop');
        writeFileSync(path.join(profileDir, `webhook-warm-${protocol}.cpuprofile`), JSON.stringify(profile));
      }
      // Lower concurrency: what one review waits when the server is not saturated.
      const low: Array<{ width: number; warm: Run[]; server: number[][] }> = [];
      for (const width of [1, 10]) {
        const entry = { width, warm: [] as Run[], server: [] as number[][] };
        for (let i = 0; i < Math.min(runs, 3); i++) {
          serverMs = [];
          entry.warm.push(await runLoad(w, width));
          entry.server.push(serverMs);
        }
        low.push(entry);
      }
      const warmRegistry = reg.requests.length - r1;
      const name = protocol === 'h1' ? 'HTTP/1.1, 100 keep-alive sockets' : 'HTTP/2, 1 connection, 100 streams';
      const p = (rs: Run[], q: number) => rs.map((r) => pct(r.latencies, q));
      const rps = (rs: Run[]) => rs.map((r) => (r.latencies.length / r.totalMs) * 1000);
      const cpu = (rs: Run[]) =>
        `${spread(
          rs.map((r) => r.serverCpuUs / r.latencies.length),
          0,
        )} + ${spread(
          rs.map((r) => r.clientCpuUs / r.latencies.length),
          0,
        )}`;
      rows.push({
        measure: `${protocol} cold: ${reviews} reviews, ${images} images, ${inFlight} in flight`,
        'p50 (ms)': fmt(pct(cold.latencies, 50), 2),
        'p99 (ms)': fmt(pct(cold.latencies, 99), 2),
        'req/s': fmt((cold.latencies.length / cold.totalMs) * 1000, 0),
        'CPU µs/review: server + client': `${fmt(cold.serverCpuUs / reviews, 0)} + ${fmt(cold.clientCpuUs / reviews, 0)}`,
        note: `${coldVerifications} verifications for ${images} digests (target: exactly ${images}); ${coldRegistry} registry requests`,
      });
      rows.push({
        measure: `${protocol} warm, median (min–max) of ${runs} runs`,
        'p50 (ms)': spread(p(warm, 50), 2),
        'p99 (ms)': spread(p(warm, 99), 2),
        'req/s': spread(rps(warm), 0),
        'CPU µs/review: server + client': cpu(warm),
        note: `server-side p50 ${spread(
          warmServer.map((x) => pct(x, 50)),
          2,
        )} ms, p99 ${spread(
          warmServer.map((x) => pct(x, 99)),
          2,
        )} ms; ${warmRegistry} registry requests; target p99 ≤ 5 ms`,
      });
      for (const l of low)
        rows.push({
          measure: `${protocol} warm, ${l.width} in flight, median (min–max) of ${l.warm.length} runs`,
          'p50 (ms)': spread(p(l.warm, 50), 2),
          'p99 (ms)': spread(p(l.warm, 99), 2),
          'req/s': spread(rps(l.warm), 0),
          'CPU µs/review: server + client': cpu(l.warm),
          note: `server-side p50 ${spread(
            l.server.map((x) => pct(x, 50)),
            2,
          )} ms, p99 ${spread(
            l.server.map((x) => pct(x, 99)),
            2,
          )} ms`,
        });
      rows.push({
        measure: `${protocol} floor: fixed answer, same server kind`,
        'p50 (ms)': spread(p(floor, 50), 2),
        'p99 (ms)': spread(p(floor, 99), 2),
        'req/s': spread(rps(floor), 0),
        'CPU µs/review: server + client': cpu(floor),
        note: 'TLS + HTTP + client only',
      });
      const all = (rs: Run[]) => rs.flatMap((r) => r.latencies);
      results.push({
        section: 'webhook',
        name: `warm AdmissionReview latency, ${name}, ${inFlight} in flight (floor: same server kind, fixed answer)`,
        unit: 'ms',
        series: { 'cosign-ts': statOf(all(warm)), floor: statOf(all(floor)) },
      });
    }
    return { rows, results };
  } finally {
    profiler?.disconnect();
    for (const w of workers) await w.terminate();
    for (const c of cleanups) await c();
    floorServer.close();
    flush();
    closeSync(devnull);
    await reg.close();
  }
}
