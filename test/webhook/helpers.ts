/**
 * Shared by the webhook tests: real Kubernetes objects from `kubectl create … --dry-run=client -o json`,
 * AdmissionReview wrapping, and an HTTPS client that trusts the test CA.
 */
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { realTools, runOk } from '../helpers/real/proc.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The static test CA and a leaf for 127.0.0.1 (test/kms/servers/tls). */
export const TLS = {
  caFile: path.join(here, '../kms/servers/tls/ca.pem'),
  certFile: path.join(here, '../kms/servers/tls/server.pem'),
  keyFile: path.join(here, '../kms/servers/tls/server.key'),
};

/** A Kubernetes object built offline by kubectl (`create deployment|job|cronjob …` or `run`). */
export async function kubectlObject(args: readonly string[]): Promise<Record<string, unknown>> {
  const r = await runOk(realTools.kubectl, [...args, '--dry-run=client', '-o', 'json'], { timeoutMs: 30_000 });
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const GROUPS: Record<string, [string, string]> = {
  Pod: ['', 'v1'],
  Deployment: ['apps', 'v1'],
  StatefulSet: ['apps', 'v1'],
  DaemonSet: ['apps', 'v1'],
  ReplicaSet: ['apps', 'v1'],
  Job: ['batch', 'v1'],
  CronJob: ['batch', 'v1'],
};

/** Wrap `object` in an `admission.k8s.io/v1` AdmissionReview request, as the API server sends it. */
export function admissionReview(
  object: Record<string, unknown>,
  opts: { uid?: string; namespace?: string; operation?: string; dryRun?: boolean } = {},
): Record<string, unknown> {
  const kind = String(object['kind']);
  const [group, version] = GROUPS[kind] ?? ['example.com', 'v1'];
  const meta = (object['metadata'] ?? {}) as Record<string, unknown>;
  const resource = `${kind.toLowerCase()}s`;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: opts.uid ?? randomUUID(),
      kind: { group, version, kind },
      resource: { group, version, resource },
      requestKind: { group, version, kind },
      requestResource: { group, version, resource },
      name: meta['name'],
      namespace: opts.namespace ?? 'default',
      operation: opts.operation ?? 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object: { ...object, metadata: { ...meta, namespace: opts.namespace ?? 'default' } },
      oldObject: null,
      dryRun: opts.dryRun ?? false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'kubectl-create' },
    },
  };
}

/** The same object as another pod-owning kind (StatefulSet, DaemonSet, ReplicaSet from a Deployment). */
export function asKind(deployment: Record<string, unknown>, kind: string): Record<string, unknown> {
  const spec = { ...(deployment['spec'] as Record<string, unknown>) };
  if (kind === 'DaemonSet') delete spec['replicas'];
  delete spec['strategy'];
  return { ...deployment, kind, spec };
}

/** Response of {@link post}. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** An HTTPS request trusting the test CA (keep-alive agent optional). */
export function post(
  url: string,
  body: unknown,
  opts: { ca: string; agent?: https.Agent; method?: string; contentType?: string; raw?: Buffer } = { ca: '' },
): Promise<Reply> {
  const data = opts.raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: opts.method ?? (data === undefined ? 'GET' : 'POST'),
        ca: opts.ca,
        ...(opts.agent === undefined ? {} : { agent: opts.agent }),
        headers: data === undefined ? {} : { 'content-type': opts.contentType ?? 'application/json', 'content-length': data.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
