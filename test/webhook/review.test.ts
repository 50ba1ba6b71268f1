/**
 * parseAdmissionReview over real objects from kubectl (offline, `--dry-run=client -o json`): every
 * pod-owning kind, the three container lists, JSON Pointers, and malformed reviews.
 */
import { describe, expect, it } from 'vitest';
import { MAX_REVIEW_BYTES, parseAdmissionReview } from '../../src/webhook/index.js';
import { codeOf } from '../helpers/errors.js';
import { skipReal } from '../helpers/real/proc.js';
import { admissionReview, asKind, kubectlObject } from './helpers.js';

const text = (v: unknown): string => JSON.stringify(v);

describe.skipIf(skipReal(['kubectl']))('parseAdmissionReview (kubectl objects)', () => {
  it('a Deployment: images, pointers, service account, pull secrets; the same pod template as StatefulSet, DaemonSet, ReplicaSet', async () => {
    const d = await kubectlObject(['create', 'deployment', 'web', '--image=registry.example.com/web/nginx:1.27', '--image=busybox']);
    const tpl = ((d['spec'] as Record<string, unknown>)['template'] as Record<string, Record<string, unknown>>)['spec'] as Record<string, unknown>;
    tpl['initContainers'] = [{ name: 'init', image: 'registry.example.com/init@sha256:' + 'a'.repeat(64) }];
    tpl['serviceAccountName'] = 'builder';
    tpl['imagePullSecrets'] = [{ name: 'regcred' }, {}];
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']) {
      const r = parseAdmissionReview(text(admissionReview(asKind(d, kind), { uid: `u-${kind}`, namespace: 'team-a' })));
      expect(r.handled).toBe(true);
      expect(r.request).toMatchObject({ uid: `u-${kind}`, namespace: 'team-a', name: 'web', operation: 'CREATE', dryRun: false });
      expect(r.serviceAccountName).toBe('builder');
      expect(r.imagePullSecrets).toEqual(['regcred']);
      expect(r.images).toEqual([
        {
          image: `registry.example.com/init@sha256:${'a'.repeat(64)}`,
          list: 'initContainers',
          container: 'init',
          pointer: '/spec/template/spec/initContainers/0/image',
        },
        { image: 'registry.example.com/web/nginx:1.27', list: 'containers', container: 'nginx', pointer: '/spec/template/spec/containers/0/image' },
        { image: 'busybox', list: 'containers', container: 'busybox', pointer: '/spec/template/spec/containers/1/image' },
      ]);
    }
  });

  it('a Job, a CronJob and a Pod (from a Job template) with an ephemeral container', async () => {
    const job = parseAdmissionReview(text(admissionReview(await kubectlObject(['create', 'job', 'j', '--image=busybox:1.36']))));
    expect(job.images.map((i) => i.pointer)).toEqual(['/spec/template/spec/containers/0/image']);
    expect(job.serviceAccountName).toBe('default');
    const cj = parseAdmissionReview(text(admissionReview(await kubectlObject(['create', 'cronjob', 'c', '--image=busybox:1.36', '--schedule=*/5 * * * *']))));
    expect(cj.images).toEqual([
      { image: 'busybox:1.36', list: 'containers', container: 'c', pointer: '/spec/jobTemplate/spec/template/spec/containers/0/image' },
    ]);
    // `kubectl run` needs a server; a Pod is the Job's pod template, as the Job controller makes it
    const tpl = ((await kubectlObject(['create', 'job', 'p', '--image=busybox:1.36']))['spec'] as Record<string, Record<string, unknown>>)[
      'template'
    ] as Record<string, unknown>;
    const pod: Record<string, unknown> = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: tpl['spec'] };
    (pod['spec'] as Record<string, unknown>)['ephemeralContainers'] = [{ name: 'debugger', image: 'registry.example.com/debug:1' }];
    const r = parseAdmissionReview(text(admissionReview(pod, { dryRun: true })));
    expect(r.request.dryRun).toBe(true);
    expect(r.images.map((i) => [i.list, i.pointer])).toEqual([
      ['containers', '/spec/containers/0/image'],
      ['ephemeralContainers', '/spec/ephemeralContainers/0/image'],
    ]);
  });

  it('DELETE, other kinds and same-named kinds of other API groups are not checked', async () => {
    const d = await kubectlObject(['create', 'deployment', 'web', '--image=busybox']);
    const del = admissionReview(d, { operation: 'DELETE' }) as { request: Record<string, unknown> };
    del.request['object'] = null;
    expect(parseAdmissionReview(text(del))).toMatchObject({ handled: true, images: [] });
    const crd = admissionReview(d) as { request: { kind: Record<string, string> } };
    crd.request.kind = { group: 'example.com', version: 'v1', kind: 'Deployment' };
    expect(parseAdmissionReview(text(crd)).handled).toBe(false);
    const cm = await kubectlObject(['create', 'configmap', 'cm', '--from-literal=a=b']);
    const r = admissionReview(cm) as { request: { kind: Record<string, string> } };
    r.request.kind = { group: '', version: 'v1', kind: 'ConfigMap' };
    expect(parseAdmissionReview(text(r)).handled).toBe(false);
  });

  it('malformed reviews are BAD_INPUT naming the field; oversized ones TOO_LARGE', async () => {
    const d = await kubectlObject(['create', 'deployment', 'web', '--image=busybox']);
    const review = admissionReview(d) as { apiVersion: string; request: Record<string, unknown> };
    expect(codeOf(() => parseAdmissionReview('{'))).toBe('BAD_INPUT');
    expect(codeOf(() => parseAdmissionReview(text({ ...review, apiVersion: 'admission.k8s.io/v1beta1' })))).toBe('BAD_INPUT');
    expect(() => parseAdmissionReview(text({ ...review, request: { ...review.request, uid: 7 } }))).toThrow(/request\.uid/);
    const noImage = JSON.parse(text(review));
    noImage.request.object.spec.template.spec.containers[0].image = undefined;
    expect(() => parseAdmissionReview(text(noImage))).toThrow(/containers\.0\.image: image is missing/);
    const noSpec = JSON.parse(text(review));
    noSpec.request.object.spec = {};
    expect(() => parseAdmissionReview(text(noSpec))).toThrow(/pod spec is missing/);
    expect(codeOf(() => parseAdmissionReview(Buffer.alloc(MAX_REVIEW_BYTES + 1, 32)))).toBe('TOO_LARGE');
    // duplicate keys (a classic smuggling trick) are refused by the strict parser
    expect(codeOf(() => parseAdmissionReview('{"apiVersion":"admission.k8s.io/v1","apiVersion":"x"}'))).toBe('BAD_INPUT');
  });
});

describe('parseAdmissionReview: plain checks accept what the schemas accept, zod names what they refuse', () => {
  const base = (spec: Record<string, unknown>, metadata: unknown = { name: 'p' }, request: Record<string, unknown> = {}) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      object: { apiVersion: 'v1', kind: 'Pod', metadata, spec },
      ...request,
    },
  });
  const ok = { containers: [{ name: 'c', image: 'busybox' }] };

  it('well-formed: images, annotations, defaults', () => {
    const r = parseAdmissionReview(text(base({ ...ok, imagePullSecrets: [{ name: 's' }, {}] }, { name: 'p', annotations: { a: 'b' } })));
    expect(r.images).toEqual([{ image: 'busybox', list: 'containers', container: 'c', pointer: '/spec/containers/0/image' }]);
    expect(r.annotations).toEqual({ a: 'b' });
    expect(r.imagePullSecrets).toEqual(['s']);
    expect(r.serviceAccountName).toBe('default');
    expect(r.request).toEqual({
      uid: 'u',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: '',
      name: '',
      operation: 'CREATE',
      dryRun: false,
      object: expect.any(Object),
    });
  });

  it('annotations that are not all strings are ignored, as before', () => {
    expect(parseAdmissionReview(text(base(ok, { annotations: { a: 1 } }))).annotations).toEqual({});
    expect(parseAdmissionReview(text(base(ok, 'x'))).annotations).toEqual({});
  });

  it('refused, naming the field', () => {
    const bad: Array<[unknown, RegExp]> = [
      [base(ok, {}, { uid: 'x'.repeat(129) }), /request\.uid/],
      [base(ok, {}, { operation: 'PATCH' }), /request\.operation/],
      [base(ok, {}, { dryRun: 'yes' }), /request\.dryRun/],
      [base(ok, {}, { object: [] }), /request\.object/],
      [base(ok, {}, { kind: { group: '', version: 'v1', kind: '' } }), /request\.kind\.kind/],
      [base({ containers: [{ name: 1, image: 'x' }] }), /containers\.0\.name/],
      [base({ containers: [{ name: 'c', image: '' }] }), /containers\.0\.image/],
      [base({ initContainers: {} }), /initContainers/],
      [base({ ...ok, serviceAccountName: 7 }), /serviceAccountName/],
      [base({ ...ok, imagePullSecrets: Array(101).fill({}) }), /imagePullSecrets/],
    ];
    for (const [value, message] of bad) {
      expect(codeOf(() => parseAdmissionReview(text(value)))).toBe('BAD_INPUT');
      expect(() => parseAdmissionReview(text(value))).toThrow(message);
    }
  });
});
