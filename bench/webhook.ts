/**
 * The admission webhook under load: 1,000 AdmissionReviews (Deployments) naming 50 distinct images
 * (signed in the in-process registry), 100 in flight over HTTPS keep-alive from a worker thread (its
 * own event loop, like an API server), against the webhook server on 127.0.0.1. Cold (empty cache:
 * each distinct digest must be verified exactly once) and warm; p50/p99 latency, requests per second,
 * registry requests. Floor: the same HTTPS server answering a fixed AdmissionReview without looking
 * at the request (TLS + HTTP + the client).
 */
import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import https from 'node:https';
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
import { fmt, type BenchSection } from './lib.js';

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
const { performance } = require('node:perf_hooks');
const { url, ca, bodies, inFlight } = workerData;
const agent = new https.Agent({ keepAlive: true, maxSockets: inFlight, ca });
const u = new URL(url);
function one(body) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', agent, ca,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200 || !text.includes('"allowed":true')) return reject(new Error('bad answer ' + res.statusCode + ' ' + text.slice(0, 300)));
        resolve(performance.now() - t0);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
parentPort.on('message', async (msg) => {
  try {
    const lat = new Array(bodies.length);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < bodies.length) { const i = next++; lat[i] = await one(bodies[i]); }
    }));
    parentPort.postMessage({ latencies: lat, totalMs: performance.now() - t0 });
  } catch (e) { parentPort.postMessage({ error: String(e && e.stack || e) }); }
});
`;

interface Run {
  latencies: number[];
  totalMs: number;
}

function runLoad(worker: Worker): Promise<Run> {
  return new Promise((resolve, reject) => {
    worker.once('message', (m: Run & { error?: string }) => (m.error === undefined ? resolve(m) : reject(new Error(m.error))));
    worker.postMessage('go');
  });
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};

export async function benchWebhook(reviews = 1000, images = 50, inFlight = 100): Promise<BenchSection> {
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
  const devnull = createWriteStream('/dev/null');
  const controller = new AdmissionController({ policy, keychain: () => anonymousKeychain, tagTtlMs: 60_000 });
  // Server-side time of each review (handler entry to response written), from the log lines.
  let serverMs: number[] = [];
  const log = (l: string): void => {
    devnull.write(l);
    const m = /"durationMs":([0-9.]+)/.exec(l);
    if (m !== null) serverMs.push(Number(m[1]));
  };
  const server = await startWebhookServer({ controller, tls, host: '127.0.0.1', port: 0, log, certReloadIntervalMs: 0 });
  // Floor: TLS + HTTP + client, with a fixed answer.
  const fixed = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'x', allowed: true } });
  const floorServer = https.createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(fixed) });
      res.end(fixed);
    });
  });
  await new Promise<void>((r) => floorServer.listen(0, '127.0.0.1', r));
  const floorUrl = `https://127.0.0.1:${(floorServer.address() as AddressInfo).port}/validate`;
  const mk = (url: string): Worker => new Worker(WORKER, { eval: true, workerData: { url, ca, bodies, inFlight } });
  const w = mk(`${server.url}/validate?timeout=10s`);
  const wf = mk(floorUrl);
  try {
    const r0 = reg.requests.length;
    const cold = await runLoad(w);
    const coldRegistry = reg.requests.length - r0;
    const coldVerifications = controller.verifications;
    const warmRuns: Run[] = [];
    const warmServer: number[][] = [];
    const r1 = reg.requests.length;
    for (let i = 0; i < 3; i++) {
      serverMs = [];
      warmRuns.push(await runLoad(w));
      warmServer.push(serverMs);
    }
    const warmRegistry = reg.requests.length - r1;
    const floorRuns: Run[] = [];
    for (let i = 0; i < 3; i++) floorRuns.push(await runLoad(wf));
    // the median warm run by p99
    const pick = (runs: Run[]): Run => [...runs].sort((a, b) => pct(a.latencies, 99) - pct(b.latencies, 99))[runs.length >> 1] as Run;
    const warm = pick(warmRuns);
    const warmServerMs = warmServer[warmRuns.indexOf(warm)] ?? [];
    const floor = pick(floorRuns);
    const row = (measure: string, r: Run, note: string) => ({
      measure,
      'p50 (ms)': fmt(pct(r.latencies, 50), 2),
      'p99 (ms)': fmt(pct(r.latencies, 99), 2),
      'req/s': fmt((r.latencies.length / r.totalMs) * 1000, 0),
      note,
    });
    const rows = [
      row(
        `cold: ${reviews} reviews, ${images} images, ${inFlight} in flight`,
        cold,
        `${coldVerifications} verifications for ${images} digests (target: exactly ${images}); ${coldRegistry} registry requests`,
      ),
      row(
        `warm (median of 3 runs by p99)`,
        warm,
        `${warmRegistry} registry requests in 3 warm runs; server-side p50 ${fmt(pct(warmServerMs, 50), 2)} ms, p99 ${fmt(pct(warmServerMs, 99), 2)} ms; target p99 ≤ 5 ms`,
      ),
      row('floor: same TLS server, fixed answer', floor, 'TLS + HTTP + client only'),
    ];
    if (coldVerifications !== images) throw new Error(`bench webhook: ${coldVerifications} verifications, expected ${images}`);
    return {
      rows,
      results: [
        {
          section: 'webhook',
          name: `warm AdmissionReview latency, ${inFlight} in flight (floor: TLS server with a fixed answer)`,
          unit: 'ms',
          series: { 'cosign-ts': statOf(warm.latencies), floor: statOf(floor.latencies) },
        },
      ],
    };
  } finally {
    await w.terminate();
    await wf.terminate();
    await server.close();
    floorServer.close();
    controller.close();
    devnull.end();
    await reg.close();
  }
}
