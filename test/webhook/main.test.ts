/**
 * The built `cosign-ts-webhook` bin as a subprocess: help, usage errors, a refused policy, and a real
 * start (policy files, TLS files) answering /readyz and an AdmissionReview, then a clean SIGTERM.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/real/http.js';
import { post, TLS } from './helpers.js';

const BIN = path.join(repoRoot, 'dist/webhook/main.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: os.tmpdir() }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });
}

describe('cosign-ts-webhook bin', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-webhook-bin-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--help; missing flags and refused policies exit 1 with a clear message', async () => {
    const h = await run(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: cosign-ts-webhook --policy FILE');
    const m = await run(['--policy', 'x.yaml']);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain('--tls-cert, --tls-key required');
    await writeFile(
      path.join(dir, 'bad.yaml'),
      'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: { name: p }\nspec: { rules: [], mutateExistingOnPolicyUpdate: true }\n',
    );
    const bad = await run(['--policy', path.join(dir, 'bad.yaml'), '--tls-cert', TLS.certFile, '--tls-key', TLS.keyFile]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: POLICY_INVALID: .*bad\.yaml: document 0 \(ClusterPolicy "p"\): spec/);
  });

  it('starts, answers /readyz and a review, and stops on SIGTERM', async () => {
    await writeFile(
      path.join(dir, 'cip.yaml'),
      'apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: { name: all }\nspec:\n  images: [{ glob: "**" }]\n  authorities: [{ static: { action: pass } }]\n',
    );
    const child = spawn(
      process.execPath,
      [BIN, '--policy', path.join(dir, 'cip.yaml'), '--tls-cert', TLS.certFile, '--tls-key', TLS.keyFile, '--port', '0', '--host', '127.0.0.1'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    try {
      await waitFor('listening', async () => out.includes('listening'), 30_000);
      const port = (JSON.parse(out.split('\n')[0] ?? '{}') as { port: number }).port;
      const ca = readFileSync(TLS.caFile, 'utf8');
      expect((await post(`https://127.0.0.1:${port}/readyz`, undefined, { ca })).status).toBe(200);
      const review = {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'bin-1',
          kind: { group: '', version: 'v1', kind: 'Pod' },
          namespace: 'default',
          name: 'p',
          operation: 'CREATE',
          object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } },
        },
      };
      const r = await post(`https://127.0.0.1:${port}/validate`, review, { ca });
      expect(r.json.response, r.text).toEqual({ uid: 'bin-1', allowed: true });
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
