/**
 * `admission.k8s.io/v1` AdmissionReview requests: parsed with zod (only what the webhook reads; the
 * rest of the object is left alone), and the images of Pods and of the kinds that own pods
 * (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob), with the JSON Pointer of each image
 * so a mutating response can patch it.
 *
 * @module
 */
import { fail } from '../errors.js';
import { schema } from '../internal/deps.js';
import { parseJson } from '../json/strict.js';

/** Largest AdmissionReview body accepted: 3 MiB (the API server's own request limit). */
export const MAX_REVIEW_BYTES = 3 * 1024 * 1024;

/** The kinds whose pod template (or pod spec) the webhook checks, with the path to their pod spec. */
export const POD_SPEC_PATHS: Readonly<Record<string, ReadonlyArray<string>>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** Which list of the pod spec a container is in. */
export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

/** One image of the reviewed object. */
export interface ReviewImage {
  /** The image exactly as written in the object. */
  readonly image: string;
  /** `containers`, `initContainers` or `ephemeralContainers`. */
  readonly list: ContainerList;
  /** The container's name. */
  readonly container: string;
  /** JSON Pointer (RFC 6901) of the `image` field, for a JSONPatch. */
  readonly pointer: string;
}

/** What the webhook reads from an AdmissionReview request. */
export interface AdmissionRequest {
  readonly uid: string;
  /** `{group, version, kind}` of the object. */
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly namespace: string;
  /** The object's name (may be empty on CREATE with `generateName`). */
  readonly name: string;
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  readonly subResource?: string;
  /** True when the API server will not persist the object (`kubectl --dry-run=server`). */
  readonly dryRun: boolean;
  /** The object (Pod or pod owner); undefined on DELETE / CONNECT. */
  readonly object?: Readonly<Record<string, unknown>>;
}

/** A parsed review: the request and the pod-level facts the webhook needs. */
export interface ParsedReview {
  readonly request: AdmissionRequest;
  /** Whether the kind is one the webhook checks (else it is allowed untouched). */
  readonly handled: boolean;
  readonly images: ReadonlyArray<ReviewImage>;
  /** `spec.serviceAccountName` of the pod template (default `default`). */
  readonly serviceAccountName: string;
  /** Names in the pod template's `imagePullSecrets`. */
  readonly imagePullSecrets: ReadonlyArray<string>;
  /** The object's `metadata.annotations`. */
  readonly annotations: Readonly<Record<string, string>>;
}

const ReviewSchema = schema((z) => {
  const name = z.string().max(253);
  return z.looseObject({
    apiVersion: z.literal('admission.k8s.io/v1', { error: 'apiVersion must be admission.k8s.io/v1' }),
    kind: z.literal('AdmissionReview', { error: 'kind must be AdmissionReview' }),
    request: z.looseObject({
      uid: z.string().min(1).max(128),
      kind: z.looseObject({ group: z.string().max(253), version: z.string().max(63), kind: z.string().min(1).max(253) }),
      namespace: name.optional(),
      name: name.optional(),
      operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
      subResource: z.string().max(253).optional(),
      dryRun: z.boolean().optional(),
      object: z.record(z.string(), z.unknown()).nullable().optional(),
    }),
  });
});

const PodSpecSchema = schema((z) => {
  const container = z.looseObject({ name: z.string().max(253), image: z.string({ error: 'image is missing' }).min(1).max(4096) });
  const containers = z.array(container).max(1000).optional();
  return z.looseObject({
    containers,
    initContainers: containers,
    ephemeralContainers: containers,
    serviceAccountName: z.string().max(253).optional(),
    imagePullSecrets: z
      .array(z.looseObject({ name: z.string().max(253).optional() }))
      .max(100)
      .optional(),
  });
});

const AnnotationsSchema = schema((z) => z.looseObject({ annotations: z.record(z.string(), z.string()).optional() }).optional());

// Fast acceptance: plain checks that accept only what the zod schemas above accept (each is at least
// as strict). A value they accept is read as is; anything else goes through zod, which decides and
// names the offending field. The common, well-formed review thus never pays for zod.

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, min: number, max: number): v is string => typeof v === 'string' && v.length >= min && v.length <= max;
const optStr = (v: unknown, max: number): boolean => v === undefined || isStr(v, 0, max);
const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

type ReviewData = {
  request: {
    uid: string;
    kind: { group: string; version: string; kind: string };
    namespace?: string;
    name?: string;
    operation: AdmissionRequest['operation'];
    subResource?: string;
    dryRun?: boolean;
    object?: Record<string, unknown> | null;
  };
};

function fastReview(v: unknown): v is ReviewData {
  if (!isObject(v) || v['apiVersion'] !== 'admission.k8s.io/v1' || v['kind'] !== 'AdmissionReview') return false;
  const r = v['request'];
  if (!isObject(r) || !isStr(r['uid'], 1, 128) || !OPERATIONS.has(r['operation'] as string)) return false;
  const k = r['kind'];
  if (!isObject(k) || !isStr(k['group'], 0, 253) || !isStr(k['version'], 0, 63) || !isStr(k['kind'], 1, 253)) return false;
  if (!optStr(r['namespace'], 253) || !optStr(r['name'], 253) || !optStr(r['subResource'], 253)) return false;
  if (r['dryRun'] !== undefined && typeof r['dryRun'] !== 'boolean') return false;
  const o = r['object'];
  return o === undefined || o === null || isObject(o);
}

type ContainerData = { name: string; image: string };
type PodSpecData = {
  containers?: ContainerData[];
  initContainers?: ContainerData[];
  ephemeralContainers?: ContainerData[];
  serviceAccountName?: string;
  imagePullSecrets?: Array<{ name?: string }>;
};

function fastContainers(v: unknown): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v) || v.length > 1000) return false;
  for (const c of v) if (!isObject(c) || !isStr(c['name'], 0, 253) || !isStr(c['image'], 1, 4096)) return false;
  return true;
}

function fastPodSpec(v: unknown): v is PodSpecData {
  if (!isObject(v)) return false;
  if (!fastContainers(v['containers']) || !fastContainers(v['initContainers']) || !fastContainers(v['ephemeralContainers'])) return false;
  if (!optStr(v['serviceAccountName'], 253)) return false;
  const s = v['imagePullSecrets'];
  if (s === undefined) return true;
  if (!Array.isArray(s) || s.length > 100) return false;
  for (const x of s) if (!isObject(x) || !optStr(x['name'], 253)) return false;
  return true;
}

/** The annotations when `metadata` is well formed (absent, or an object whose annotations map strings to strings). */
function fastAnnotations(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return {};
  if (!isObject(v)) return undefined;
  const a = v['annotations'];
  if (a === undefined) return {};
  if (!isObject(a)) return undefined;
  for (const k in a) if (typeof a[k] !== 'string') return undefined;
  return a as Record<string, string>;
}

function issueText(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }, prefix: string): string {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter((s) => s !== '').join('.');
  return `${path}: ${issue?.message ?? 'invalid'}`;
}

/**
 * Parse an AdmissionReview body (bytes or text) and extract the images to check.
 * @throws CosignError `TOO_LARGE` over {@link MAX_REVIEW_BYTES}; `BAD_INPUT` when it is not an
 *   `admission.k8s.io/v1` AdmissionReview request, or the pod spec of a handled kind is malformed.
 */
export function parseAdmissionReview(body: Uint8Array | string): ParsedReview {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > MAX_REVIEW_BYTES) throw fail('TOO_LARGE', `AdmissionReview: larger than ${MAX_REVIEW_BYTES} bytes`);
  const value = parseJson(body, 'AdmissionReview', 'BAD_INPUT');
  let data: ReviewData;
  if (fastReview(value)) data = value;
  else {
    const parsed = ReviewSchema().safeParse(value);
    if (!parsed.success) throw fail('BAD_INPUT', `AdmissionReview: ${issueText(parsed.error, '')}`);
    data = parsed.data;
  }
  const r = data.request;
  const object = r.object ?? undefined;
  const request: AdmissionRequest = {
    uid: r.uid,
    kind: { group: r.kind.group, version: r.kind.version, kind: r.kind.kind },
    namespace: r.namespace ?? '',
    name: r.name ?? '',
    operation: r.operation,
    ...(r.subResource === undefined ? {} : { subResource: r.subResource }),
    dryRun: r.dryRun === true,
    ...(object === undefined ? {} : { object }),
  };
  const specPath = POD_SPEC_PATHS[r.kind.kind];
  const empty = { request, images: [], serviceAccountName: 'default', imagePullSecrets: [], annotations: {} };
  // Only core Pods, and the owners in apps / batch: a CRD of the same kind name is not a pod owner.
  const group = r.kind.kind === 'Pod' ? '' : r.kind.kind === 'Job' || r.kind.kind === 'CronJob' ? 'batch' : 'apps';
  if (specPath === undefined || r.kind.group !== group) return { ...empty, handled: false };
  if (object === undefined || r.operation === 'DELETE' || r.operation === 'CONNECT') return { ...empty, handled: true };
  let annotations = fastAnnotations(object['metadata']);
  if (annotations === undefined) {
    const meta = AnnotationsSchema().safeParse(object['metadata']);
    annotations = meta.success ? (meta.data?.annotations ?? {}) : {};
  }
  let node: unknown = object;
  for (const key of specPath) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  const where = `${r.kind.kind} ${specPath.join('.')}`;
  if (typeof node !== 'object' || node === null) throw fail('BAD_INPUT', `AdmissionReview: ${where}: the pod spec is missing`);
  let specData: PodSpecData;
  if (fastPodSpec(node)) specData = node;
  else {
    const spec = PodSpecSchema().safeParse(node);
    if (!spec.success) throw fail('BAD_INPUT', `AdmissionReview: ${issueText(spec.error, where)}`);
    specData = spec.data;
  }
  const base = `/object/${specPath.join('/')}`.slice('/object'.length);
  const images: ReviewImage[] = [];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    (specData[list] ?? []).forEach((c, i) => {
      images.push({ image: c.image, list, container: c.name, pointer: `${base}/${list}/${i}/image` });
    });
  }
  return {
    request,
    handled: true,
    images,
    serviceAccountName: specData.serviceAccountName ?? 'default',
    imagePullSecrets: (specData.imagePullSecrets ?? []).flatMap((s) => (s.name === undefined || s.name === '' ? [] : [s.name])),
    annotations,
  };
}
