/**
 * The policy model shared by the image killer and (next) the admission webhook: image glob patterns →
 * authorities, an allow-list, per-rule `enforce` | `audit` modes, and what to do with images no rule
 * matches. Policies are YAML or JSON, validated with zod; errors name the line and column (YAML) or
 * the path (both).
 *
 * ```yaml
 * apiVersion: cosign-ts/v1
 * defaults:
 *   unmatched: deny          # deny (default) | allow
 *   unverifiable: deny       # deny (default) | allow: images with no registry digest (built locally)
 *   mode: enforce            # default mode of rules
 * allow:                     # never checked: the killer itself, infrastructure containers
 *   - registry.example.com/infra/**
 * rules:
 *   - name: ci-images
 *     images: [registry.example.com/ci/*]
 *     mode: enforce
 *     authorities:
 *       - key: { path: /etc/cosign/cosign.pub }
 *       - key: { kms: awskms:///alias/image_signing_cosign_signature_key }
 *       - key: { secretRef: { namespace: cosign-system, name: release-key } }  # one data entry: the PEM key
 *     annotations: { approved: "true" }
 *     tlog: require          # key signatures need a verified Rekor bundle (default: offline)
 * ```
 *
 * @module
 */
import { fail } from '../errors.js';
import { schema, yamlLib } from '../internal/deps.js';
import { parseJson } from '../json/strict.js';
import { compileGlob } from './glob.js';

/** What a signature must verify with. */
export type PolicyAuthority =
  | { readonly kind: 'key'; readonly path: string }
  | { readonly kind: 'key'; readonly pem: string }
  | { readonly kind: 'key'; readonly kms: string }
  /**
   * A Kubernetes secret holding exactly one data entry, whatever its name: the PEM public key (policy-controller's
   * `key.secretRef`; unlike `kms: k8s://…`, which is cosign's `cosign.pub` / `cosign.key` layout).
   */
  | { readonly kind: 'key'; readonly secretRef: { readonly namespace: string; readonly name: string } }
  | { readonly kind: 'keyless'; readonly issuer?: string; readonly issuerRegExp?: string; readonly subject?: string; readonly subjectRegExp?: string }
  | { readonly kind: 'static'; readonly action: 'pass' | 'fail' };

/** Per-workload keyless identity: annotation names and the limits the cluster policy sets. */
export interface IdentityFromAnnotations {
  /** Annotation holding the expected OIDC issuer. Default `cosign-ts.dev/keyless-issuer`. */
  readonly issuerAnnotation: string;
  /** Annotation holding the expected certificate subject. Default `cosign-ts.dev/keyless-subject`. */
  readonly subjectAnnotation: string;
  /** Issuers a workload may name. */
  readonly allowedIssuers: ReadonlyArray<string>;
  /** Subjects a workload may name must match this (anchored by the policy author). */
  readonly subjectRegExp: string;
}

/** `enforce` kills (or rejects); `audit` only reports. */
export type PolicyMode = 'enforce' | 'audit';

/** One rule: images it covers, what they must be signed by. */
export interface PolicyRule {
  readonly name: string;
  readonly images: ReadonlyArray<string>;
  readonly mode: PolicyMode;
  readonly authorities: ReadonlyArray<PolicyAuthority>;
  /** Required payload annotations (`cosign verify -a`). */
  readonly annotations: Readonly<Record<string, string>>;
  /** Where signatures are stored (`COSIGN_REPOSITORY`). */
  readonly signatureRepository?: string;
  /** Globs of images this rule does not cover even though `images` matches (Kyverno `skipImageReferences`). */
  readonly exclude: ReadonlyArray<string>;
  /**
   * What an outage (registry or KMS unavailable, throttled, deadline passed) means for an image this rule
   * covers: `closed` (default) denies it like a failed verification, `open` lets it through with a warning.
   */
  readonly failurePolicy: 'closed' | 'open';
  /**
   * Transparency-log (Rekor) checks. Absent (the default): signatures made with a key are verified offline without
   * the log (`cosign verify --insecure-ignore-tlog`, policy-controller key authorities without `ctlog`), keyless
   * signatures need a verified Rekor entry. `require`: key-made signatures too must carry a Rekor bundle whose SET
   * verifies with a trusted Rekor key (the trust material's Rekor logs: trusted root, TUF, `SIGSTORE_REKOR_PUBLIC_KEY`)
   * and whose entry matches the signature. `ignore`: no signature needs a log entry (Kyverno `rekor.ignoreTlog`),
   * keyless ones included.
   */
  readonly tlog?: 'require' | 'ignore';
  /** Admission: pin the image's tag to the verified digest (Kyverno `mutateDigest`). Default false. */
  readonly mutateDigest: boolean;
  /** Admission: the image must be named by digest (Kyverno `verifyDigest`, after mutation). Default false. */
  readonly requireDigest: boolean;
  /**
   * Admission: the keyless identity expected of the image comes from annotations on the workload,
   * within the limits set here (the issuer must be one of `allowedIssuers`, the subject must match
   * `subjectRegExp`). It is added to the rule's authorities for that workload.
   */
  readonly identityFromAnnotations?: IdentityFromAnnotations;
  /** Compiled matchers (internal). */
  readonly matchers: ReadonlyArray<(name: string) => boolean>;
  /** Compiled `exclude` matchers (internal). */
  readonly excludeMatchers: ReadonlyArray<(name: string) => boolean>;
}

/** A validated policy. */
export interface Policy {
  readonly unmatched: 'deny' | 'allow';
  /** Mode used for unmatched images when `unmatched` is `deny` (`defaults.unmatchedMode`, else `defaults.mode`). */
  readonly unmatchedMode: PolicyMode;
  /**
   * `first` (default): the first rule whose images match decides (the killer always works this way).
   * `all`: every matching rule must pass (policy-controller and Kyverno semantics; the webhook honours it).
   */
  readonly match: 'first' | 'all';
  /**
   * What to do with an image that has no registry digest, so no signature can vouch for it (built
   * locally, or pulled and then untagged): `deny` (default) applies the matching rule's mode (or
   * `defaults.mode` when the image has no name at all), so it is killed in `enforce` mode; `allow`
   * lets it run (development hosts).
   */
  readonly unverifiable: 'deny' | 'allow';
  readonly allow: ReadonlyArray<string>;
  readonly rules: ReadonlyArray<PolicyRule>;
  readonly allowMatchers: ReadonlyArray<(name: string) => boolean>;
}

const PolicySchema = schema((z) => {
  const KeySchema = z.union([
    z.strictObject({ path: z.string().min(1) }),
    z.strictObject({ pem: z.string().includes('BEGIN', { message: 'must be a PEM public key' }) }),
    z.strictObject({ kms: z.string().regex(/^[a-z0-9]+:\/\//, { message: 'must be a KMS URI such as awskms:///alias/name' }) }),
    z.strictObject({
      secretRef: z.strictObject({
        namespace: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'must be a Kubernetes namespace name' })
          .max(63),
        name: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'must be a Kubernetes secret name' })
          .max(253),
      }),
    }),
  ]);
  const KeylessSchema = z
    .strictObject({ issuer: z.string().optional(), issuerRegExp: z.string().optional(), subject: z.string().optional(), subjectRegExp: z.string().optional() })
    .refine((k) => (k.issuer ?? k.issuerRegExp) !== undefined && (k.subject ?? k.subjectRegExp) !== undefined, {
      message: 'keyless needs an issuer (or issuerRegExp) and a subject (or subjectRegExp)',
    });
  const AuthoritySchema = z.union(
    [
      z.strictObject({ key: KeySchema }),
      z.strictObject({ keyless: KeylessSchema }),
      z.strictObject({ static: z.strictObject({ action: z.enum(['pass', 'fail']) }) }),
    ],
    {
      error: 'must be {key: {path|pem|kms|secretRef}}, {keyless: {issuer, subject}} or {static: {action: pass|fail}}',
    },
  );
  const ModeSchema = z.enum(['enforce', 'audit']);
  const GlobSchema = z.string().min(1).max(1024);
  const RuleSchema = z
    .strictObject({
      name: z.string().min(1),
      images: z.array(GlobSchema).min(1),
      mode: ModeSchema.optional(),
      authorities: z.array(AuthoritySchema),
      annotations: z.record(z.string(), z.string()).optional(),
      signatureRepository: z.string().optional(),
      exclude: z.array(GlobSchema).optional(),
      failurePolicy: z.enum(['closed', 'open']).optional(),
      tlog: z.enum(['require', 'ignore']).optional(),
      mutateDigest: z.boolean().optional(),
      requireDigest: z.boolean().optional(),
      identityFromAnnotations: z
        .strictObject({
          issuerAnnotation: z.string().min(1).max(317).optional(),
          subjectAnnotation: z.string().min(1).max(317).optional(),
          allowedIssuers: z.array(z.string().min(1)).min(1),
          subjectRegExp: z.string().min(1).max(1024),
        })
        .optional(),
    })
    .refine((r) => r.authorities.length > 0 || r.identityFromAnnotations !== undefined, {
      message: 'a rule needs at least one authority (or identityFromAnnotations)',
      path: ['authorities'],
    });
  return z.strictObject({
    apiVersion: z.literal('cosign-ts/v1').optional(),
    defaults: z
      .strictObject({
        unmatched: z.enum(['deny', 'allow']).optional(),
        unmatchedMode: ModeSchema.optional(),
        unverifiable: z.enum(['deny', 'allow']).optional(),
        mode: ModeSchema.optional(),
        match: z.enum(['first', 'all']).optional(),
      })
      .optional(),
    allow: z.array(GlobSchema).optional(),
    rules: z.array(RuleSchema).default([]),
  });
});

function checkRegExp(re: string, at: string): string {
  try {
    new RegExp(re, 'u');
  } catch (e) {
    throw fail('POLICY_INVALID', `${at}: not a valid regular expression: ${(e as Error).message}`);
  }
  return re;
}

/** Largest policy file accepted (1 MiB). */
export const MAX_POLICY_BYTES = 1024 * 1024;

/**
 * Parse and validate a policy (YAML or JSON; JSON is YAML, but `format: 'json'` gives JSON's stricter
 * parser). Glob patterns are compiled here, so a bad pattern fails at load time.
 * @throws CosignError `POLICY_INVALID` naming the line:column and path of the first problem.
 */
export function parsePolicy(text: string, options: { format?: 'yaml' | 'json'; source?: string } = {}): Policy {
  const source = options.source ?? 'policy';
  if (text.length > MAX_POLICY_BYTES) throw fail('POLICY_INVALID', `${source}: larger than ${MAX_POLICY_BYTES} bytes`);
  let value: unknown;
  let locate: (path: ReadonlyArray<PropertyKey>) => string = () => '';
  if (options.format === 'json') {
    try {
      value = parseJson(text, source, 'POLICY_INVALID');
    } catch (e) {
      throw fail('POLICY_INVALID', (e as Error).message, { cause: e });
    }
  } else {
    const { LineCounter, parseDocument } = yamlLib();
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    const first = doc.errors[0];
    if (first !== undefined) {
      const pos = lines.linePos(first.pos[0]);
      throw fail('POLICY_INVALID', `${source}:${pos.line}:${pos.col}: ${first.message.split('\n')[0] ?? 'invalid YAML'}`, {
        details: { line: pos.line, column: pos.col },
      });
    }
    try {
      value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    } catch (cause) {
      // e.g. an alias to an undefined anchor (`*x`), or alias expansion past the limit
      throw fail('POLICY_INVALID', `${source}: ${(cause as Error).message.split('\n')[0] ?? 'invalid YAML'}`, { cause });
    }
    locate = (path) => {
      let node: unknown = doc.getIn(path as PropertyKey[], true);
      for (let p = [...path]; node === undefined && p.length > 0; p = p.slice(0, -1)) node = doc.getIn(p, true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range === undefined) return '';
      const pos = lines.linePos(range[0]);
      return `:${pos.line}:${pos.col}`;
    };
  }
  return policyFromValue(value, source, locate);
}

/**
 * Validate a policy already parsed into plain data (the object form of the YAML; importers build it).
 * @throws CosignError `POLICY_INVALID` naming the path of the first problem.
 */
export function policyFromObject(value: unknown, options: { source?: string } = {}): Policy {
  return policyFromValue(value, options.source ?? 'policy', () => '');
}

function policyFromValue(value: unknown, source: string, locate: (path: ReadonlyArray<PropertyKey>) => string): Policy {
  const parsed = PolicySchema().safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const where = path.length === 0 ? '(root)' : path.map(String).join('.');
    throw fail('POLICY_INVALID', `${source}${locate(path)}: ${where}: ${issue?.message ?? 'invalid'}`, { details: { path: where } });
  }
  const p = parsed.data;
  const defaultMode = p.defaults?.mode ?? 'enforce';
  const compile = (pattern: string, at: string): ((name: string) => boolean) => {
    try {
      return compileGlob(pattern);
    } catch (e) {
      throw fail('POLICY_INVALID', `${source}: ${at}: ${(e as Error).message}`, { cause: e });
    }
  };
  const names = new Set<string>();
  const rules = p.rules.map((r, i): PolicyRule => {
    if (names.has(r.name)) throw fail('POLICY_INVALID', `${source}: rules.${i}.name: duplicate rule name ${JSON.stringify(r.name)}`);
    names.add(r.name);
    return {
      name: r.name,
      images: r.images,
      mode: r.mode ?? defaultMode,
      authorities: r.authorities.map(
        (a): PolicyAuthority => ('key' in a ? { kind: 'key', ...a.key } : 'keyless' in a ? { kind: 'keyless', ...a.keyless } : { kind: 'static', ...a.static }),
      ),
      annotations: r.annotations ?? {},
      ...(r.signatureRepository === undefined ? {} : { signatureRepository: r.signatureRepository }),
      exclude: r.exclude ?? [],
      failurePolicy: r.failurePolicy ?? 'closed',
      ...(r.tlog === undefined ? {} : { tlog: r.tlog }),
      mutateDigest: r.mutateDigest ?? false,
      requireDigest: r.requireDigest ?? false,
      ...(r.identityFromAnnotations === undefined
        ? {}
        : {
            identityFromAnnotations: {
              issuerAnnotation: r.identityFromAnnotations.issuerAnnotation ?? 'cosign-ts.dev/keyless-issuer',
              subjectAnnotation: r.identityFromAnnotations.subjectAnnotation ?? 'cosign-ts.dev/keyless-subject',
              allowedIssuers: r.identityFromAnnotations.allowedIssuers,
              subjectRegExp: checkRegExp(r.identityFromAnnotations.subjectRegExp, `${source}: rules.${i}.identityFromAnnotations.subjectRegExp`),
            },
          }),
      matchers: r.images.map((g, j) => compile(g, `rules.${i}.images.${j}`)),
      excludeMatchers: (r.exclude ?? []).map((g, j) => compile(g, `rules.${i}.exclude.${j}`)),
    };
  });
  const allow = p.allow ?? [];
  return {
    unmatched: p.defaults?.unmatched ?? 'deny',
    unmatchedMode: p.defaults?.unmatchedMode ?? defaultMode,
    match: p.defaults?.match ?? 'first',
    unverifiable: p.defaults?.unverifiable ?? 'deny',
    allow,
    rules,
    allowMatchers: allow.map((g, j) => compile(g, `allow.${j}`)),
  };
}
