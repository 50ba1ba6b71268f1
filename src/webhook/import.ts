/**
 * Importers for the policies clusters already have, mapped onto the shared policy model
 * (`cosign-ts/policy`). Only the subset cosign-ts verifies is accepted; any other field is refused at
 * load with an error naming the document, the path and the field, never silently ignored.
 *
 * - **policy-controller `ClusterImagePolicy`** (`policy.sigstore.dev/v1alpha1|v1beta1`): `images[].glob`;
 *   authorities `key{data|kms|secretRef}`, `keyless{identities}`, `static{action}`, `source[].oci`,
 *   `ctlog{url}`; `mode: enforce|warn`. A `secretRef` secret (in policy-controller's namespace) must hold exactly one
 *   data entry, whatever its name: the PEM public key. Key authorities are verified offline unless they name a Rekor
 *   `ctlog.url`, which makes a Rekor bundle (SET) verified with the trusted Rekor keys required, as policy-controller
 *   does (it is checked from the signature's bundle: the log is not searched online); a keyless authority with an empty
 *   `ctlog: {}` ignores the log, as policy-controller does. `ctlog.trustRootRef` (TrustRoot resources) is refused:
 *   the webhook's trust material is its `--trusted-root` (else TUF). Every matching policy must pass (`match: all`), any one authority of a policy
 *   suffices. The `config-policy-controller` ConfigMap's `no-match-policy` (`deny` default, `warn`,
 *   `allow`) applies to images no policy matches. Namespace opt-in (`policy.sigstore.dev/include=true`)
 *   is the webhook configuration's `namespaceSelector` (see deploy/webhook).
 * - **Kyverno `ClusterPolicy`** (`kyverno.io/v1`, `v2beta1`): `rules[].verifyImages[]` with
 *   `imageReferences`, `skipImageReferences`, `attestors[].entries[].keys{publicKeys|kms}` and
 *   `keyless{issuer, subject, issuerRegExp, subjectRegExp}`, `rekor{ignoreTlog, url}` (a verified Rekor bundle is
 *   required unless `ignoreTlog: true`, for keys as for keyless, as in Kyverno), `ctlog.ignoreSCT`, `failureAction` (or `spec.validationFailureAction`),
 *   `mutateDigest`, `verifyDigest`, `required`, `repository`; `spec.failurePolicy: Ignore` makes outages
 *   fail open. Kyverno's `*` matches across `/`, as in Kyverno.
 * - `cosign-ts/v1` policies (the native format) pass through unchanged.
 *
 * @module
 */
import { fail } from '../errors.js';
import { schema, yamlLib } from '../internal/deps.js';
import { MAX_POLICY_BYTES, policyFromObject, type Policy } from '../policy/policy.js';

/** Options of {@link importPolicies}. */
export interface ImportOptions {
  /** Name of the input in errors. Default `policy`. */
  readonly source?: string;
  /** Namespace of ClusterImagePolicy `secretRef` secrets (policy-controller's own). Default `cosign-system`. */
  readonly secretNamespace?: string;
}

/** What {@link importPolicies} found. */
export interface ImportedPolicies {
  readonly policy: Policy;
  /** Kinds of the documents read, in order (`ClusterImagePolicy`, `ClusterPolicy`, `ConfigMap`, `cosign-ts/v1`). */
  readonly documents: ReadonlyArray<string>;
}

type NativeAuthority =
  | { key: { pem: string } | { kms: string } | { secretRef: { namespace: string; name: string } } }
  | { keyless: Record<string, string> }
  | { static: { action: 'pass' | 'fail' } };
interface NativeRule {
  name: string;
  images: string[];
  mode: 'enforce' | 'audit';
  authorities: NativeAuthority[];
  annotations?: Record<string, string>;
  signatureRepository?: string;
  exclude?: string[];
  failurePolicy?: 'closed' | 'open';
  tlog?: 'require' | 'ignore';
  mutateDigest?: boolean;
  requireDigest?: boolean;
}

const CipSchema = schema((z) => {
  const identity = z
    .strictObject({ issuer: z.string().optional(), subject: z.string().optional(), issuerRegExp: z.string().optional(), subjectRegExp: z.string().optional() })
    .refine((k) => (k.issuer ?? k.issuerRegExp) !== undefined && (k.subject ?? k.subjectRegExp) !== undefined, {
      message: 'an identity needs issuer (or issuerRegExp) and subject (or subjectRegExp)',
    });
  const authority = z
    .strictObject({
      name: z.string().optional(),
      key: z
        .strictObject({
          data: z.string().optional(),
          kms: z.string().optional(),
          secretRef: z.strictObject({ name: z.string().min(1), namespace: z.string().optional() }).optional(),
          hashAlgorithm: z.literal('sha256', { error: 'only sha256 is supported' }).optional(),
        })
        .refine((k) => [k.data, k.kms, k.secretRef].filter((x) => x !== undefined).length === 1, { message: 'key needs exactly one of data, kms, secretRef' })
        .optional(),
      keyless: z.strictObject({ identities: z.array(identity).min(1), url: z.literal('https://fulcio.sigstore.dev').optional() }).optional(),
      static: z.strictObject({ action: z.enum(['pass', 'fail']), message: z.string().optional() }).optional(),
      ctlog: z
        .strictObject({
          url: z
            .string()
            .max(2048)
            .regex(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
            .optional(),
          trustRootRef: z.string().optional(),
        })
        .refine((t) => t.trustRootRef === undefined, {
          message: 'trustRootRef is not supported: TrustRoot resources are not imported; give cosign-ts-webhook the trusted root with --trusted-root',
          path: ['trustRootRef'],
        })
        .optional(),
      source: z
        .array(z.strictObject({ oci: z.string().min(1) }))
        .max(1, { message: 'one signature source per authority' })
        .optional(),
    })
    .refine((a) => [a.key, a.keyless, a.static].filter((x) => x !== undefined).length === 1, {
      message: 'an authority needs exactly one of key, keyless, static',
    })
    .refine((a) => a.static === undefined || a.ctlog === undefined, { message: 'expected exactly one, got both: static, ctlog' });
  return z.strictObject({
    images: z.array(z.strictObject({ glob: z.string().min(1).max(1024) })).min(1),
    authorities: z.array(authority).min(1),
    mode: z.enum(['enforce', 'warn']).optional(),
  });
});

const KyvernoSchema = schema((z) => {
  const resources = z.strictObject({ kinds: z.array(z.string()).min(1) });
  const filter = z.strictObject({ resources });
  const match = z.union([z.strictObject({ any: z.array(filter).min(1) }), z.strictObject({ all: z.array(filter).min(1) }), z.strictObject({ resources })]);
  const rekor = z.strictObject({ ignoreTlog: z.boolean().optional(), url: z.string().optional() });
  const ctlog = z.strictObject({ ignoreSCT: z.boolean().optional() });
  const entry = z
    .strictObject({
      keys: z
        .strictObject({
          publicKeys: z.string().optional(),
          kms: z.string().optional(),
          signatureAlgorithm: z.literal('sha256', { error: 'only sha256 is supported' }).optional(),
          rekor: rekor.optional(),
          ctlog: ctlog.optional(),
        })
        .refine((k) => (k.publicKeys === undefined) !== (k.kms === undefined), { message: 'keys needs exactly one of publicKeys, kms' })
        .optional(),
      keyless: z
        .strictObject({
          issuer: z.string().optional(),
          subject: z.string().optional(),
          issuerRegExp: z.string().optional(),
          subjectRegExp: z.string().optional(),
          rekor: rekor.optional(),
          ctlog: ctlog.optional(),
        })
        .optional(),
      annotations: z.record(z.string(), z.string()).optional(),
      repository: z.string().optional(),
    })
    .refine((e) => (e.keys === undefined) !== (e.keyless === undefined), { message: 'an attestor entry needs exactly one of keys, keyless' });
  const verify = z.strictObject({
    imageReferences: z.array(z.string().min(1).max(1024)).min(1),
    skipImageReferences: z.array(z.string().min(1).max(1024)).optional(),
    type: z.literal('Cosign', { error: 'only type Cosign is supported' }).optional(),
    failureAction: z.enum(['Audit', 'Enforce']).optional(),
    mutateDigest: z.boolean().optional(),
    verifyDigest: z.boolean().optional(),
    required: z.boolean().optional(),
    useCache: z.boolean().optional(),
    repository: z.string().optional(),
    attestors: z
      .array(z.strictObject({ count: z.number().int().min(1).optional(), entries: z.array(entry).min(1) }))
      .min(1, { message: 'attestors are required: cosign-ts verifies signatures' }),
  });
  const rule = z.strictObject({ name: z.string().min(1), match, verifyImages: z.array(verify).min(1) });
  return z.strictObject({
    rules: z.array(rule).min(1),
    background: z.boolean().optional(),
    admission: z.boolean().optional(),
    validationFailureAction: z.enum(['Audit', 'Enforce', 'audit', 'enforce']).optional(),
    failurePolicy: z.enum(['Fail', 'Ignore']).optional(),
    webhookTimeoutSeconds: z.number().int().min(1).max(30).optional(),
  });
});

const DocSchema = schema((z) =>
  z.looseObject({
    apiVersion: z.string(),
    kind: z.string().optional(),
    metadata: z.looseObject({ name: z.string().min(1).max(253), namespace: z.string().optional() }).optional(),
  }),
);

const POD_KINDS = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);

/**
 * One rule's `tlog` from its authorities' own settings (policy-controller's `ctlog`, Kyverno's `rekor.ignoreTlog`):
 * `undefined` for keys offline and keyless logged (the model's default), `require` for both logged, `ignore` for
 * neither; other mixes cannot be one rule.
 * @throws CosignError `POLICY_INVALID` for a mix (`where` names it).
 */
function ruleTlog(keys: ReadonlyArray<'require' | 'ignore'>, keyless: ReadonlyArray<'require' | 'ignore'>, where: string): 'require' | 'ignore' | undefined {
  const k = new Set(keys);
  const l = new Set(keyless);
  if (k.size > 1) throw fail('POLICY_INVALID', `${where}: key authorities with and without a transparency-log requirement in one policy are not supported`);
  if (l.size > 1) throw fail('POLICY_INVALID', `${where}: keyless authorities with and without a transparency-log requirement in one policy are not supported`);
  const [kt] = k;
  const [lt] = l;
  if (kt === 'require' && lt === 'ignore')
    throw fail('POLICY_INVALID', `${where}: key authorities requiring the transparency log with keyless ones ignoring it are not supported`);
  return kt === 'require' ? 'require' : lt === 'ignore' ? 'ignore' : undefined;
}

/** Kyverno's wildcard (`*` matches any characters, `/` included) as a cosign-ts glob. */
function kyvernoGlob(p: string): string {
  if (/^\*+$/.test(p)) return '**/**';
  return p.replace(/\*+/g, '**');
}

function zodError(source: string, where: string, error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): never {
  const issue = error.issues[0];
  const path = [where, ...(issue?.path ?? []).map(String)].join('.');
  throw fail('POLICY_INVALID', `${source}: ${path}: ${issue?.message ?? 'invalid'} (not supported by cosign-ts-webhook, refused)`, {
    details: { path },
  });
}

/**
 * Import policies from YAML or JSON text holding one or more documents (`---`): policy-controller
 * ClusterImagePolicies (and its `config-policy-controller` ConfigMap), Kyverno ClusterPolicies, or
 * one native `cosign-ts/v1` policy.
 * @throws CosignError `POLICY_INVALID` naming the document and field that cannot be mapped.
 */
export function importPolicies(text: string, options: ImportOptions = {}): ImportedPolicies {
  const source = options.source ?? 'policy';
  if (text.length > MAX_POLICY_BYTES) throw fail('POLICY_INVALID', `${source}: larger than ${MAX_POLICY_BYTES} bytes`);
  const { parseAllDocuments, LineCounter } = yamlLib();
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs)) throw fail('POLICY_INVALID', `${source}: not a YAML stream`);
  const values: unknown[] = [];
  for (const doc of docs) {
    const first = doc.errors[0];
    if (first !== undefined) {
      const pos = lines.linePos(first.pos[0]);
      throw fail('POLICY_INVALID', `${source}:${pos.line}:${pos.col}: ${first.message.split('\n')[0] ?? 'invalid YAML'}`);
    }
    let v: unknown;
    try {
      v = doc.toJS({ maxAliasCount: 100 }) as unknown;
    } catch (cause) {
      throw fail('POLICY_INVALID', `${source}: ${(cause as Error).message.split('\n')[0] ?? 'invalid YAML'}`, { cause });
    }
    if (v !== null && v !== undefined) values.push(v);
  }
  if (values.length === 0) throw fail('POLICY_INVALID', `${source}: no policy document`);
  return importPolicyObjects(values, options);
}

/**
 * {@link importPolicies} for documents already parsed (e.g. read from the Kubernetes API).
 * @throws CosignError `POLICY_INVALID` naming the document and field that cannot be mapped.
 */
export function importPolicyObjects(values: ReadonlyArray<unknown>, options: ImportOptions = {}): ImportedPolicies {
  const source = options.source ?? 'policy';
  const secretNamespace = options.secretNamespace ?? 'cosign-system';
  const rules: NativeRule[] = [];
  const kinds: string[] = [];
  let noMatch: 'deny' | 'warn' | 'allow' | undefined;
  let sawCip = false;
  for (const [n, value] of values.entries()) {
    const head = DocSchema().safeParse(value);
    if (!head.success) zodError(source, `document ${n}`, head.error);
    const { apiVersion, kind } = head.data;
    const name = head.data.metadata?.name ?? '';
    const doc = value as Record<string, unknown>;
    const where = `document ${n} (${kind ?? apiVersion} ${JSON.stringify(name)})`;
    if (apiVersion === 'cosign-ts/v1') {
      if (values.length !== 1) throw fail('POLICY_INVALID', `${source}: ${where}: a cosign-ts/v1 policy must be the only document`);
      return { policy: policyFromObject(value, { source }), documents: ['cosign-ts/v1'] };
    }
    if (name === '') throw fail('POLICY_INVALID', `${source}: document ${n} (${kind ?? apiVersion}): metadata.name is required`);
    kinds.push(kind ?? '');
    if (kind === 'ClusterImagePolicy' && /^policy\.sigstore\.dev\/v1(alpha1|beta1)$/.test(apiVersion)) {
      sawCip = true;
      const spec = CipSchema().safeParse(doc['spec']);
      if (!spec.success) zodError(source, `${where}: spec`, spec.error);
      const s = spec.data;
      const repos = new Set(s.authorities.map((a) => a.source?.[0]?.oci));
      if (repos.size > 1) throw fail('POLICY_INVALID', `${source}: ${where}: spec.authorities: different source.oci per authority is not supported`);
      const repo = [...repos][0];
      const authorities = s.authorities.flatMap((a): NativeAuthority[] => {
        if (a.static !== undefined) return [{ static: { action: a.static.action } }];
        if (a.keyless !== undefined)
          return a.keyless.identities.map((i) => ({
            keyless: Object.fromEntries(Object.entries(i).filter(([, v]) => v !== undefined)) as Record<string, string>,
          }));
        const k = a.key as { data?: string; kms?: string; secretRef?: { name: string; namespace?: string } };
        if (k.data !== undefined) return [{ key: { pem: k.data } }];
        if (k.kms !== undefined) return [{ key: { kms: k.kms } }];
        const ref = k.secretRef as { name: string; namespace?: string };
        // policy-controller reads secretRef secrets from its own namespace, whatever the reference says
        if (ref.namespace !== undefined && ref.namespace !== secretNamespace)
          throw fail(
            'POLICY_INVALID',
            `${source}: ${where}: spec.authorities: secretRef.namespace ${JSON.stringify(ref.namespace)}: policy-controller reads secretRef secrets from its own namespace (${secretNamespace}, --secret-namespace) only`,
          );
        return [{ key: { secretRef: { namespace: secretNamespace, name: ref.name } } }];
      });
      // policy-controller: a key authority needs a Rekor entry only with a ctlog URL; a keyless one unless its ctlog is {}
      const tlog = ruleTlog(
        s.authorities.flatMap((a) => (a.key === undefined ? [] : [a.ctlog?.url === undefined ? ('ignore' as const) : ('require' as const)])),
        s.authorities.flatMap((a) =>
          a.keyless === undefined ? [] : [a.ctlog !== undefined && a.ctlog.url === undefined ? ('ignore' as const) : ('require' as const)],
        ),
        `${source}: ${where}: spec.authorities`,
      );
      rules.push({
        name,
        // `**` (or `*`) alone means every image in policy-controller, not Docker Hub's library/**.
        images: s.images.map((i) => (/^\*+$/.test(i.glob) ? '**/**' : i.glob)),
        mode: s.mode === 'warn' ? 'audit' : 'enforce',
        authorities,
        ...(repo === undefined ? {} : { signatureRepository: repo }),
        ...(tlog === undefined ? {} : { tlog }),
      });
      continue;
    }
    if ((kind === 'ClusterPolicy' || kind === 'Policy') && /^kyverno\.io\/(v1|v2beta1)$/.test(apiVersion)) {
      if (kind === 'Policy') throw fail('POLICY_INVALID', `${source}: ${where}: namespaced Kyverno Policy is not supported; use a ClusterPolicy`);
      const spec = KyvernoSchema().safeParse(doc['spec']);
      if (!spec.success) zodError(source, `${where}: spec`, spec.error);
      const s = spec.data;
      const open = s.failurePolicy === 'Ignore';
      s.rules.forEach((r, ri) => {
        const filters = 'resources' in r.match ? [{ resources: r.match.resources }] : 'any' in r.match ? r.match.any : r.match.all;
        const kindsOf = filters.flatMap((f) => f.resources.kinds);
        const other = kindsOf.filter((k) => !POD_KINDS.has(k.replace(/^.*\//, '')));
        if (other.length > 0)
          throw fail('POLICY_INVALID', `${source}: ${where}: spec.rules.${ri}.match: kinds ${other.join(', ')} are not pods or pod owners (refused)`);
        r.verifyImages.forEach((v, vi) => {
          const actionRaw = v.failureAction ?? s.validationFailureAction ?? 'Audit';
          const mode = v.required === false || actionRaw.toLowerCase() === 'audit' ? 'audit' : 'enforce';
          const base = `${name}/${r.name}${r.verifyImages.length > 1 ? `/${vi}` : ''}`;
          v.attestors.forEach((set, si) => {
            const count = set.count ?? set.entries.length;
            if (count !== 1 && count !== set.entries.length)
              throw fail(
                'POLICY_INVALID',
                `${source}: ${where}: spec.rules.${ri}.verifyImages.${vi}.attestors.${si}.count: ${count} of ${set.entries.length} is not supported (1, or all)`,
              );
            // count 1: any entry suffices (one rule); all: every entry must verify (one rule each, match: all)
            const groups = count === 1 ? [set.entries] : set.entries.map((e) => [e]);
            groups.forEach((entries, gi) => {
              const at = `spec.rules.${ri}.verifyImages.${vi}.attestors.${si}`;
              const annotations = entries[0]?.annotations;
              const repo = entries[0]?.repository ?? v.repository;
              for (const e of entries) {
                if (JSON.stringify(e.annotations ?? {}) !== JSON.stringify(annotations ?? {}) || (e.repository ?? v.repository) !== repo)
                  throw fail('POLICY_INVALID', `${source}: ${where}: ${at}: entries with different annotations or repository need count: all`);
              }
              // Kyverno requires a Rekor entry unless rekor.ignoreTlog is true, for keys as for keyless
              const tlogOf = (r: { ignoreTlog?: boolean | undefined } | undefined) => (r?.ignoreTlog === true ? ('ignore' as const) : ('require' as const));
              const tlog = ruleTlog(
                entries.flatMap((e) => (e.keys === undefined ? [] : [tlogOf(e.keys.rekor)])),
                entries.flatMap((e) => (e.keyless === undefined ? [] : [tlogOf(e.keyless.rekor)])),
                `${source}: ${where}: ${at}.entries (use count: all for entries that differ)`,
              );
              const authorities = entries.map((e): NativeAuthority => {
                if (e.keys !== undefined) return e.keys.kms !== undefined ? { key: { kms: e.keys.kms } } : { key: { pem: e.keys.publicKeys as string } };
                const { rekor: _r, ctlog: _c, ...identity } = e.keyless as Record<string, unknown>;
                return { keyless: identity as Record<string, string> };
              });
              const suffix = (v.attestors.length > 1 ? `/attestors${si}` : '') + (groups.length > 1 ? `/${gi}` : '');
              rules.push({
                name: `${base}${suffix}`,
                images: v.imageReferences.map(kyvernoGlob),
                mode,
                authorities,
                ...(annotations === undefined ? {} : { annotations }),
                ...(repo === undefined ? {} : { signatureRepository: repo }),
                ...(v.skipImageReferences === undefined ? {} : { exclude: v.skipImageReferences.map(kyvernoGlob) }),
                failurePolicy: open ? 'open' : 'closed',
                ...(tlog === undefined ? {} : { tlog }),
                mutateDigest: v.mutateDigest ?? true,
                requireDigest: v.verifyDigest ?? true,
              });
            });
          });
        });
      });
      continue;
    }
    if (kind === 'ConfigMap' && apiVersion === 'v1' && name === 'config-policy-controller') {
      const data = (doc['data'] ?? {}) as Record<string, unknown>;
      const keys = Object.keys(data).filter((k) => k !== 'no-match-policy');
      if (keys.length > 0) throw fail('POLICY_INVALID', `${source}: ${where}: data.${keys[0]}: not supported (only no-match-policy)`);
      const v = data['no-match-policy'];
      if (v !== undefined && v !== 'deny' && v !== 'warn' && v !== 'allow')
        throw fail('POLICY_INVALID', `${source}: ${where}: data.no-match-policy must be deny, warn or allow`);
      noMatch = v;
      continue;
    }
    throw fail(
      'POLICY_INVALID',
      `${source}: ${where}: ${apiVersion} ${kind ?? ''} is not a policy cosign-ts-webhook imports (ClusterImagePolicy, Kyverno ClusterPolicy, config-policy-controller ConfigMap, cosign-ts/v1)`,
    );
  }
  const unmatched = noMatch ?? (sawCip ? 'deny' : 'allow');
  const native = {
    defaults: {
      match: 'all',
      unmatched: unmatched === 'allow' ? 'allow' : 'deny',
      unmatchedMode: unmatched === 'warn' ? 'audit' : 'enforce',
    },
    rules,
  };
  return { policy: policyFromObject(native, { source }), documents: kinds };
}
