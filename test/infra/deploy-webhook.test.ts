/**
 * deploy/webhook: the manifests go through `kubectl apply --dry-run=client` (kubectl 1.36, offline:
 * there is no cluster, so a discovery-only API server on 127.0.0.1 answers kubectl's resource mapping,
 * and every object is "created (dry run)"), then their content is checked: ≥ 2 replicas, a PDB, a
 * Service, webhook configurations whose namespaceSelector exempts kube-system and the webhook's own
 * namespace, RBAC that reads secrets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.js';
import { kubectl, skipReal } from '../helpers/real/index.js';

const RESOURCES: Record<string, Array<[string, string, boolean]>> = {
  v1: [
    ['namespaces', 'Namespace', false],
    ['serviceaccounts', 'ServiceAccount', true],
    ['configmaps', 'ConfigMap', true],
    ['services', 'Service', true],
    ['secrets', 'Secret', true],
    ['pods', 'Pod', true],
  ],
  'apps/v1': [['deployments', 'Deployment', true]],
  'policy/v1': [['poddisruptionbudgets', 'PodDisruptionBudget', true]],
  'rbac.authorization.k8s.io/v1': [
    ['clusterroles', 'ClusterRole', false],
    ['clusterrolebindings', 'ClusterRoleBinding', false],
  ],
  'admissionregistration.k8s.io/v1': [
    ['validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false],
    ['mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false],
  ],
};

function discoveryServer(): http.Server {
  return http.createServer((req, res) => {
    const json = (status: number, v: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    };
    const url = (req.url ?? '/').split('?')[0] ?? '/';
    if (url === '/api')
      return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
    if (url === '/apis') {
      const groups = Object.keys(RESOURCES)
        .filter((gv) => gv.includes('/'))
        .map((gv) => {
          const [name, version] = gv.split('/') as [string, string];
          return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
        });
      return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    const gv = url === '/api/v1' ? 'v1' : url.startsWith('/apis/') ? url.slice('/apis/'.length) : undefined;
    const list = gv === undefined ? undefined : RESOURCES[gv];
    if (list !== undefined) {
      return json(200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: gv,
        resources: list.map(([name, kind, namespaced]) => ({
          name,
          singularName: kind.toLowerCase(),
          namespaced,
          kind,
          verbs: ['create', 'get', 'list', 'patch', 'update', 'delete'],
        })),
      });
    }
    json(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'not found', reason: 'NotFound', code: 404 });
  });
}

describe.skipIf(skipReal(['kubectl']))('deploy/webhook manifests', () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = discoveryServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('kubectl apply --dry-run=client accepts every object; the content meets the deployment requirements', async () => {
    const dir = path.join(repoRoot, 'deploy/webhook');
    const home = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-kubectl-')); // kubectl's discovery cache goes there
    const r = await kubectl(['apply', '--dry-run=client', '--validate=false', '-s', url, '-f', dir, '-o', 'json'], {
      env: { HOME: home, KUBECONFIG: '/dev/null' },
    }).finally(() => rm(home, { recursive: true, force: true }));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { items: Array<Record<string, any>> };
    const byKind = (k: string) => out.items.filter((o) => o.kind === k);
    expect(out.items.map((o) => o.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'Deployment',
        'MutatingWebhookConfiguration',
        'Namespace',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
        'ValidatingWebhookConfiguration',
      ].sort(),
    );
    const [dep] = byKind('Deployment');
    expect(dep?.spec.replicas).toBeGreaterThanOrEqual(2);
    const ns = dep?.metadata.namespace;
    expect(byKind('PodDisruptionBudget')[0]?.spec.minAvailable).toBe(1);
    expect(byKind('Service')[0]?.spec.selector).toEqual(dep?.spec.selector.matchLabels);
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      for (const w of byKind(kind)[0]?.webhooks ?? []) {
        expect(w.admissionReviewVersions).toEqual(['v1']);
        expect(w.sideEffects).toBe('None'); // dryRun requests are sent: the webhook has no side effects
        expect(w.timeoutSeconds).toBeLessThanOrEqual(30);
        expect(w.namespaceSelector.matchExpressions).toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', ns] }]);
        expect(w.rules.flatMap((x: { resources: string[] }) => x.resources)).toEqual(
          expect.arrayContaining(['pods', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'jobs', 'cronjobs']),
        );
      }
    }
    expect(byKind('ClusterRole')[0]?.rules).toEqual([{ apiGroups: [''], resources: ['secrets', 'serviceaccounts'], verbs: ['get'] }]);
    const args: string[] = dep?.spec.template.spec.containers[0].args;
    expect(args).toEqual(expect.arrayContaining(['--port=8443', '--timeout-seconds=10']));
    // the policies shipped in the ConfigMap import cleanly
    const { importPolicies } = await import('../../src/webhook/index.js');
    expect(importPolicies(byKind('ConfigMap')[0]?.data['policies.yaml']).documents).toEqual(['ClusterImagePolicy', 'ConfigMap']);
  });
});
