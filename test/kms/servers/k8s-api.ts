/**
 * A local Kubernetes API server (HTTPS, CA in the kubeconfig) for `GET /api/v1/namespaces/{ns}/secrets/{name}` with bearer-token auth
 * and Kubernetes `Status` error objects (401, 403, 404, 429).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TEST_CA_PEM, sendJson, startServer, type Started } from './base.js';

export class K8sApiServer {
  readonly token = `k8s-sa-token-${randomBytes(16).toString('hex')}`;
  /** `${ns}/${name}` → data (raw bytes, base64-encoded on the wire). */
  readonly secrets = new Map<string, Record<string, Buffer>>();
  /** `${ns}/${name}` → secret type (default `Opaque`). */
  readonly secretTypes = new Map<string, string>();
  /** `${ns}/${name}` → the service account's `imagePullSecrets` names. */
  readonly serviceAccounts = new Map<string, string[]>();
  /** `${ns}/${name}` the token may not read. */
  readonly forbidden = new Set<string>();
  throttle = false;
  readonly calls: string[] = [];
  #started: Started | undefined;

  static async start(): Promise<K8sApiServer> {
    const s = new K8sApiServer();
    s.#started = await startServer((req, _body, res) => s.#handle(req, res), true);
    return s;
  }
  get url(): string {
    return (this.#started as Started).url;
  }
  close(): Promise<void> {
    return (this.#started as Started).close();
  }

  /** A kubeconfig document pointing at this server with `token` (default: the valid one). */
  kubeconfig(token = this.token): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      '  cluster:',
      `    server: ${this.url}`,
      `    certificate-authority-data: ${Buffer.from(TEST_CA_PEM).toString('base64')}`,
      'users:',
      '- name: test',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: test',
      '  context:',
      '    cluster: test',
      '    user: test',
      'current-context: test',
      '',
    ].join('\n');
  }

  async writeKubeconfig(path: string, token = this.token): Promise<string> {
    await writeFile(path, this.kubeconfig(token));
    return path;
  }

  #status(res: ServerResponse, code: number, reason: string, message: string, details?: Record<string, unknown>): void {
    sendJson(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.calls.push(`${req.method} ${url.pathname}`);
    if (req.headers['authorization'] !== `Bearer ${this.token}`) return this.#status(res, 401, 'Unauthorized', 'Unauthorized');
    const sa = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && sa !== null) {
      const [, ns, name] = sa as unknown as [string, string, string];
      if (this.forbidden.has(`${ns}/sa/${name}`))
        return this.#status(res, 403, 'Forbidden', `serviceaccounts "${name}" is forbidden`, { name, kind: 'serviceaccounts' });
      const pull = this.serviceAccounts.get(`${ns}/${name}`);
      if (pull === undefined) return this.#status(res, 404, 'NotFound', `serviceaccounts "${name}" not found`, { name, kind: 'serviceaccounts' });
      return sendJson(res, 200, {
        kind: 'ServiceAccount',
        apiVersion: 'v1',
        metadata: { name, namespace: ns, uid: randomUUID(), resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z' },
        ...(pull.length === 0 ? {} : { imagePullSecrets: pull.map((n) => ({ name: n })) }),
      });
    }
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || m === null) return this.#status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const [, ns, name] = m as unknown as [string, string, string];
    if (this.throttle) return this.#status(res, 429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later');
    if (this.forbidden.has(`${ns}/${name}`)) {
      return this.#status(
        res,
        403,
        'Forbidden',
        `secrets "${name}" is forbidden: User "system:serviceaccount:default:signer" cannot get resource "secrets" in API group "" in the namespace "${ns}"`,
        {
          name,
          kind: 'secrets',
        },
      );
    }
    const data = this.secrets.get(`${ns}/${name}`);
    if (data === undefined) return this.#status(res, 404, 'NotFound', `secrets "${name}" not found`, { name, kind: 'secrets' });
    sendJson(res, 200, {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name, namespace: ns, uid: randomUUID(), resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z' },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('base64')])),
      type: this.secretTypes.get(`${ns}/${name}`) ?? 'Opaque',
    });
  }
}
