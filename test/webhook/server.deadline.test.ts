/**
 * The review deadline: derived from the API server's `?timeout=` (else timeoutSeconds), kept below it,
 * and enforced by the server against a stalled registry (in-process registry, TLS on 127.0.0.1).
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymousKeychain } from '../../src/oci/index.js';
import { parsePolicy } from '../../src/policy/index.js';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { AdmissionController, reviewDeadlineMs, startWebhookServer, type WebhookServer } from '../../src/webhook/index.js';
import { post, TLS } from './helpers.js';

describe('reviewDeadlineMs', () => {
  it('stays below the API server timeout: 20 % and at least 500 ms of margin, 1–30 s', () => {
    expect(reviewDeadlineMs('/validate?timeout=10s')).toBe(8000);
    expect(reviewDeadlineMs('/validate?timeout=2s')).toBe(1500);
    expect(reviewDeadlineMs('/validate?timeout=1500ms')).toBe(1000);
    expect(reviewDeadlineMs('/validate', 5)).toBe(4000);
    expect(reviewDeadlineMs('/validate?timeout=bogus', 10)).toBe(8000);
    expect(reviewDeadlineMs('/validate?timeout=10m')).toBe(24000); // capped at 30 s, the API server's maximum
    expect(reviewDeadlineMs(undefined)).toBe(8000);
  });
});

describe('the server enforces the deadline', () => {
  let reg: TestRegistry;
  let server: WebhookServer;
  let controller: AdmissionController;
  beforeAll(async () => {
    reg = await startTestRegistry();
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const policy = parsePolicy(`rules:\n  - name: r\n    images: ["${reg.host}/**"]\n    authorities: [{ key: { pem: ${JSON.stringify(pem)} } }]\n`);
    controller = new AdmissionController({ policy, keychain: () => anonymousKeychain });
    server = await startWebhookServer({ controller, tls: TLS, host: '127.0.0.1', port: 0, log: () => undefined });
  });
  afterAll(async () => {
    await server?.close();
    controller?.close();
    await reg?.close();
  });

  it('a registry stalled past the deadline: denied (fail closed) before the API server gives up', async () => {
    reg.faults.next({ delayMs: 5000, times: 10 });
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'slow',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        namespace: 'default',
        operation: 'CREATE',
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: `${reg.host}/a/b:1` }] } },
      },
    };
    const t0 = Date.now();
    const r = await post(`${server.url}/validate?timeout=2s`, review, { ca: readFileSync(TLS.caFile, 'utf8') });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(2000);
    expect(r.json.response.uid).toBe('slow');
    expect(r.json.response.allowed).toBe(false);
    expect(r.json.response.status.message).toMatch(/REGISTRY_UNAVAILABLE: the review deadline passed/);
    expect(server.metrics.deadlinesReached).toBe(1);
    reg.faults.clear();
  });
});
