/**
 * The admission decision: every image of a reviewed Pod (or pod owner) is matched against the policy,
 * its tag resolved to a digest, and the digest verified under each matching rule, through one cache
 * shared by all requests (keyed by digest and rule; concurrent reviews of one digest verify it once,
 * failures are kept briefly, outages not at all). Tag resolutions are cached per registry credential (a
 * fingerprint of the credential the review's keychain gives for that registry): a tag resolved with one pod's
 * pull secret is never served to a pod with other credentials. An image named by digest is first reached
 * (HEAD of its manifest) with the review's own credentials, cached the same way, so a verified digest is
 * reused only for requesters that can read it. The response echoes the request's `uid`, names the
 * image, rule and authorities of every failure, carries `warnings` for audit-mode violations and
 * fail-open outages, and, on the mutating path, a JSONPatch pinning tags to their verified digests.
 *
 * @module
 */
import type { KeylessOptions } from '../verify/keyless.js';
import type { Digest } from '../digest.js';
import { fail, isCosignError } from '../errors.js';
import type { CosignErrorCode } from '../errors.js';
import { loadRuleAuthorities, tlogSettingsForRule } from '../enforce/verifier.js';
import { outcomeOf, type VerifyOutcome } from '../enforce/killer.js';
import type { KmsOptions } from '../kms/index.js';
import { dockerConfigKeychain, type Keychain } from '../oci/keychain.js';
import { RegistryClient, type RegistryClientOptions } from '../oci/client.js';
import { matchingRules, type Policy, type PolicyAuthority, type PolicyMode, type PolicyRule } from '../policy/index.js';
import { canonicalName, parseReference, withDigest, type ImageReference } from '../reference.js';
import type { Authority } from '../verify/authority.js';
import { VerificationCache } from '../verify/cache.js';
import { resolveDigest, verifyImage } from '../verify/image.js';
import { raceAbort } from '../concurrency.js';
import { credentialFingerprint } from './credentials.js';
import type { ParsedReview } from './review.js';

/** Who is asking for the images: what a keychain factory chooses credentials by. */
export interface ReviewContext {
  readonly namespace: string;
  /** The pod's service account (`default` when unset). */
  readonly serviceAccountName: string;
  /** Names of the pod's `imagePullSecrets`. */
  readonly imagePullSecrets: ReadonlyArray<string>;
}

/**
 * Registry credentials for one review. Return the same {@link Keychain} object for the same credentials:
 * registry clients (connections, tokens) are kept per keychain object. The default returns one
 * Docker config keychain (`DOCKER_CONFIG`, the node's docker config when mounted) for every review.
 */
export type KeychainFactory = (context: ReviewContext) => Keychain;

/** Options of {@link AdmissionController}. */
export interface AdmissionControllerOptions {
  /** The policy (see `cosign-ts/policy`, or the importers). Replace it with {@link AdmissionController.setPolicy}. */
  readonly policy: Policy;
  /** Registry credentials per review. Default: one Docker config keychain for all. */
  readonly keychain?: KeychainFactory;
  /** Registry client settings (`insecureRegistries`, CA, timeouts), besides the keychain. */
  readonly registry?: Omit<RegistryClientOptions, 'keychain'>;
  /** Options for KMS authorities. */
  readonly kms?: KmsOptions;
  /**
   * Trust material for keyless authorities (policy `keyless` identities and `identityFromAnnotations`): Fulcio
   * roots, CT logs, Rekor logs, TSAs (`trustFromTrustedRootFile`, `publicGoodTrust` in `cosign-ts/verify`); its Rekor
   * keys also check the Rekor bundles of key-made signatures under rules with `tlog: require`. Without it keyless
   * rules, and key rules requiring the log, fail closed.
   */
  readonly keyless?: KeylessOptions;
  /** How long a verified digest is reused, in ms. Default 10 minutes. */
  readonly successTtlMs?: number;
  /** How long a definitive failure is reused (negative cache), in ms. Default 30 s. */
  readonly failureTtlMs?: number;
  /**
   * How long a tag → digest resolution (per registry credential), or the check that a credential reaches an image
   * named by digest, is reused, in ms. Default 10 s; 0 resolves (or checks) on every review.
   */
  readonly tagTtlMs?: number;
  /** Deadline of one verification (continues in the background after a review's deadline). Default 45 s. */
  readonly verifyTimeoutMs?: number;
  /** Most distinct registry clients kept (one per keychain object). Default 256. */
  readonly maxClients?: number;
}

/** How one image fared under one rule. */
export interface RuleResult {
  readonly rule: string;
  readonly mode: PolicyMode;
  /** `verified`; `failed` (definitive); `outage` (registry/KMS down, deadline); `digest-required`. */
  readonly result: 'verified' | 'failed' | 'outage' | 'digest-required';
  readonly code?: CosignErrorCode;
  readonly reason?: string;
}

/** The report of one image (for logs and tests). */
export interface ImageReport {
  readonly image: string;
  readonly container: string;
  readonly digest?: string;
  /** `allowed` (allow-list / unmatched allow), `verified`, `denied`, `warned`. */
  readonly result: 'allowed' | 'verified' | 'denied' | 'warned';
  readonly rules: ReadonlyArray<RuleResult>;
}

/** The `response` of an AdmissionReview. */
export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly code: number; readonly message: string; readonly reason?: string };
  readonly warnings?: ReadonlyArray<string>;
  readonly patchType?: 'JSONPatch';
  /** base64 of the JSONPatch (RFC 6902). */
  readonly patch?: string;
}

/** A decision: the response to send and what it was based on. */
export interface AdmissionDecision {
  readonly response: AdmissionResponse;
  readonly images: ReadonlyArray<ImageReport>;
  /** True when the deadline passed before every verification finished. */
  readonly deadlineReached: boolean;
}

/** Options of one {@link AdmissionController.review}. */
export interface ReviewOptions {
  /** The mutating path: add a JSONPatch pinning tags of `mutateDigest` rules to their verified digests. */
  readonly mutate?: boolean;
  /** Aborts waiting (the review's deadline): unfinished verifications count as outages. */
  readonly signal?: AbortSignal;
}

const MAX_WARNINGS = 32;
const MAX_WARNING_CHARS = 256;
const MAX_MESSAGE_CHARS = 8192;

/** Control characters and the like escaped, length capped: external text in a status message or warning. */
export function safeText(s: string, max = 1024): string {
  const escaped = s.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped;
}

/** How an authority is named in messages (never key material). */
export function describeAuthority(a: PolicyAuthority): string {
  if (a.kind === 'static') return `static ${a.action}`;
  if (a.kind === 'keyless') {
    const issuer = a.issuer ?? (a.issuerRegExp === undefined ? '' : `~${a.issuerRegExp}`);
    const subject = a.subject ?? (a.subjectRegExp === undefined ? '' : `~${a.subjectRegExp}`);
    return `keyless issuer=${issuer} subject=${subject}`;
  }
  if ('path' in a) return `key ${a.path}`;
  if ('kms' in a) return `key ${a.kms}`;
  if ('secretRef' in a) return `key secret ${a.secretRef.namespace}/${a.secretRef.name}`;
  return 'key (PEM in the policy)';
}

interface ImageCheck {
  readonly result: ImageReport['result'];
  readonly digest?: string;
  readonly rules: RuleResult[];
  readonly pin?: boolean;
  readonly messages: string[];
  readonly warnings: string[];
}

/** The outcome of a rule decided by its `static` authorities alone (`pass` admits; only `fail`s deny), else undefined. */
function staticOutcome(rule: PolicyRule): VerifyOutcome | undefined {
  if (rule.authorities.some((a) => a.kind === 'static' && a.action === 'pass')) return { ok: true };
  if (rule.authorities.length > 0 && rule.authorities.every((a) => a.kind === 'static')) {
    return { ok: false, definitive: true, code: 'NO_MATCHING_SIGNATURES', reason: 'the static authority fails every image' };
  }
  return undefined;
}

/**
 * The keyless identity a workload asks for through its annotations, when the rule takes it from there:
 * `{issuer, subject}` within the rule's limits, a definitive failure outside them (or when missing).
 */
function workloadIdentity(
  rule: PolicyRule,
  annotations: Readonly<Record<string, string>>,
): { issuer: string; subject: string } | (VerifyOutcome & { ok: false }) | undefined {
  const spec = rule.identityFromAnnotations;
  if (spec === undefined) return undefined;
  const issuer = annotations[spec.issuerAnnotation];
  const subject = annotations[spec.subjectAnnotation];
  const refuse = (reason: string) => ({ ok: false as const, definitive: true, code: 'ANNOTATION_MISMATCH' as const, reason });
  if (issuer === undefined || subject === undefined)
    return refuse(`the workload must name its signer in the annotations ${spec.issuerAnnotation} and ${spec.subjectAnnotation}`);
  if (!spec.allowedIssuers.includes(issuer))
    return refuse(`annotation ${spec.issuerAnnotation}: issuer ${JSON.stringify(issuer)} is not one the policy allows`);
  if (!new RegExp(spec.subjectRegExp, 'u').test(subject))
    return refuse(`annotation ${spec.subjectAnnotation}: subject ${JSON.stringify(subject)} is outside the policy's limit ${spec.subjectRegExp}`);
  return { issuer, subject };
}

function keepOf(o: VerifyOutcome): 'success' | 'failure' | 'none' {
  return o.ok ? 'success' : o.definitive ? 'failure' : 'none';
}

/**
 * Decides AdmissionReviews. One instance serves every request: its caches (verified digests, failures,
 * tag resolutions) and registry clients are shared.
 */
export class AdmissionController {
  #policy: Policy;
  readonly #keychain: KeychainFactory;
  readonly #options: AdmissionControllerOptions;
  readonly #clients = new Map<Keychain, RegistryClient>();
  readonly #keychains = new WeakMap<RegistryClient, Keychain>();
  readonly #ruleIds = new WeakMap<PolicyRule, number>();
  #nextRuleId = 0;
  #authorities = new WeakMap<PolicyRule, Promise<Authority[]>>();
  /** Verification outcomes by `rule id + repository@digest`: singleflight, success and failure TTLs. */
  readonly outcomes: VerificationCache<VerifyOutcome>;
  /**
   * Tag → digest resolutions by `credential fingerprint + repository:tag`, and reachability of by-digest images by
   * `credential fingerprint + repository@digest` (short TTL, singleflight).
   */
  readonly tags: VerificationCache<Digest>;
  /** Verifications actually run (cache misses that were not joined). */
  verifications = 0;

  constructor(options: AdmissionControllerOptions) {
    this.#options = options;
    this.#policy = options.policy;
    if (options.keychain === undefined) {
      const docker = dockerConfigKeychain();
      this.#keychain = () => docker;
    } else this.#keychain = options.keychain;
    this.outcomes = new VerificationCache<VerifyOutcome>({
      successTtlMs: options.successTtlMs ?? 10 * 60_000,
      failureTtlMs: options.failureTtlMs ?? 30_000,
    });
    const tagTtl = options.tagTtlMs ?? 10_000;
    this.tags = new VerificationCache<Digest>({ successTtlMs: tagTtl, failureTtlMs: 0 });
  }

  /** The current policy. */
  get policy(): Policy {
    return this.#policy;
  }

  /** Replace the policy (reloaded file): later reviews use it; cached outcomes of old rules are not reused. */
  setPolicy(policy: Policy): void {
    this.#policy = policy;
    this.#authorities = new WeakMap();
    this.#images = new Map();
  }

  /** Registry requests sent so far, over all clients. */
  registryRequests(): number {
    let n = 0;
    for (const c of this.#clients.values()) n += c.stats.requests;
    return n;
  }

  /** Close every registry client. */
  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }

  #client(context: ReviewContext): RegistryClient {
    const keychain = this.#keychain(context);
    let client = this.#clients.get(keychain);
    if (client === undefined) {
      if (this.#clients.size >= (this.#options.maxClients ?? 256)) {
        const [oldest] = this.#clients;
        if (oldest !== undefined) {
          this.#clients.delete(oldest[0]);
          oldest[1].close();
        }
      }
      client = new RegistryClient({ ...(this.#options.registry ?? {}), keychain });
      this.#clients.set(keychain, client);
      this.#keychains.set(client, keychain);
    }
    return client;
  }

  /**
   * Parsed image references, and the rules matching them under the current policy, by image text (images
   * repeat across reviews): at most 4096, then started afresh; emptied when the policy changes.
   */
  #images = new Map<string, { ref: ImageReference; match: ReturnType<typeof matchingRules> }>();

  #imageMatch(image: string): { ref: ImageReference; match: ReturnType<typeof matchingRules> } {
    let e = this.#images.get(image);
    if (e === undefined) {
      const ref = parseReference(image);
      e = { ref, match: matchingRules(this.#policy, ref) };
      if (this.#images.size >= 4096) this.#images.clear();
      this.#images.set(image, e);
    }
    return e;
  }

  #ruleId(rule: PolicyRule): number {
    let id = this.#ruleIds.get(rule);
    if (id === undefined) {
      id = this.#nextRuleId++;
      this.#ruleIds.set(rule, id);
    }
    return id;
  }

  #load(rule: PolicyRule): Promise<Authority[]> {
    let p = this.#authorities.get(rule);
    if (p === undefined) {
      p = loadRuleAuthorities(rule, this.#options.kms);
      this.#authorities.set(rule, p);
      p.catch(() => this.#authorities.delete(rule));
    }
    return p;
  }

  /** Verify `ref` (which has a digest) under `rule`, through the shared outcome cache. */
  #verify(
    client: RegistryClient,
    ref: ImageReference & { digest: Digest },
    rule: PolicyRule,
    identity?: { issuer: string; subject: string },
  ): Promise<VerifyOutcome> {
    const key = `${this.#ruleId(rule)}\n${canonicalName(ref)}@${ref.digest}${identity === undefined ? '' : `\n${JSON.stringify([identity.issuer, identity.subject])}`}`;
    return this.outcomes.share(
      key,
      async (): Promise<VerifyOutcome> => {
        this.verifications++;
        const fixed = staticOutcome(rule);
        if (fixed !== undefined) return fixed;
        let authorities: Authority[];
        try {
          authorities = await this.#load(rule);
          if (identity !== undefined) authorities = [...authorities, { kind: 'identity', issuer: identity.issuer, subject: identity.subject }];
        } catch (e) {
          return { ok: false, definitive: false, code: isCosignError(e) ? e.code : 'IO_ERROR', reason: `cannot load the authorities: ${(e as Error).message}` };
        }
        const tlog = tlogSettingsForRule(rule, this.#options.keyless);
        if ('outcome' in tlog) return tlog.outcome;
        try {
          await verifyImage(ref, {
            client,
            authorities,
            ...(Object.keys(rule.annotations).length === 0 ? {} : { annotations: rule.annotations }),
            ...(rule.signatureRepository === undefined ? {} : { signatureRepository: rule.signatureRepository }),
            ...(this.#options.verifyTimeoutMs === undefined ? {} : { timeoutMs: this.#options.verifyTimeoutMs }),
            ...tlog,
          });
          return { ok: true };
        } catch (e) {
          return outcomeOf(e);
        }
      },
      keepOf,
    );
  }

  /**
   * The digest of `ref` as the review's credentials see it: a tag resolved, a digest reached (HEAD of its manifest:
   * the verification cache answers only requesters that can read the image). Cached per credential fingerprint.
   */
  async #digestOf(client: RegistryClient, ref: ImageReference): Promise<Digest> {
    const reach = async (): Promise<Digest> => {
      if (ref.digest === undefined) return resolveDigest(client, ref);
      const d = await client.headManifest(ref);
      if (d === undefined) throw fail('NOT_FOUND', `manifest ${canonicalName(ref)}@${ref.digest} not found`);
      if (d.digest !== ref.digest) throw fail('DIGEST_MISMATCH', `manifest ${canonicalName(ref)}@${ref.digest}: the registry answered for ${d.digest}`);
      return ref.digest;
    };
    if ((this.#options.tagTtlMs ?? 10_000) <= 0) return reach();
    const keychain = this.#keychains.get(client);
    const who = credentialFingerprint(keychain === undefined ? undefined : await keychain.resolve(ref.registry, ref.repository));
    const what = ref.digest === undefined ? `:${ref.tag ?? 'latest'}` : `@${ref.digest}`;
    return this.tags.share(`${who}\n${canonicalName(ref)}${what}`, reach, () => 'success');
  }

  /** Check one image under every rule that matches it. */
  async #checkImage(
    client: RegistryClient,
    image: string,
    mutate: boolean,
    signal: AbortSignal | undefined,
    annotations: Readonly<Record<string, string>>,
  ): Promise<ImageCheck> {
    let ref: ImageReference;
    let m: ReturnType<typeof matchingRules>;
    try {
      ({ ref, match: m } = this.#imageMatch(image));
    } catch (e) {
      return { result: 'denied', rules: [], messages: [`not a valid image reference: ${(e as Error).message}`], warnings: [] };
    }
    if (m.kind === 'allowed') return { result: 'allowed', rules: [], messages: [], warnings: [] };
    if (m.kind === 'unmatched') {
      if (m.action === 'allow') return { result: 'allowed', rules: [], messages: [], warnings: [] };
      const text = 'no policy rule matches it (no-match policy: deny)';
      return m.mode === 'enforce'
        ? { result: 'denied', rules: [], messages: [text], warnings: [] }
        : { result: 'warned', rules: [], messages: [], warnings: [text] };
    }
    const outage = (e: unknown): VerifyOutcome => outcomeOf(e);
    const deadline = (): Error => fail('REGISTRY_UNAVAILABLE', 'the review deadline passed before the verification finished');
    const wait = <T>(p: Promise<T>): Promise<T> => (signal === undefined ? p : raceAbort(p, signal, deadline));
    let digest: Digest | undefined = ref.digest;
    let resolveFailure: VerifyOutcome | undefined;
    // Rules decided by static authorities alone need no registry at all.
    if (m.rules.some((r) => staticOutcome(r) === undefined)) {
      try {
        digest = await wait(this.#digestOf(client, ref));
      } catch (e) {
        resolveFailure = outage(e);
      }
    }
    const rules: RuleResult[] = [];
    const messages: string[] = [];
    const warnings: string[] = [];
    let pin = false;
    await Promise.all(
      m.rules.map(async (rule) => {
        // Named only in messages: built when one is written, not for every verified image.
        const where = (): string => {
          const authorities = [
            ...rule.authorities.map(describeAuthority),
            ...(rule.identityFromAnnotations === undefined ? [] : [`keyless identity from the workload's annotations`]),
          ].join(', ');
          return `rule ${JSON.stringify(rule.name)} (authorities: ${authorities})`;
        };
        let outcome: VerifyOutcome;
        const fixed = staticOutcome(rule);
        const identity = workloadIdentity(rule, annotations);
        if (fixed !== undefined) outcome = fixed;
        else if (identity !== undefined && 'reason' in identity) outcome = identity;
        else if (digest === undefined || resolveFailure !== undefined)
          outcome = resolveFailure ?? { ok: false, definitive: true, code: 'NOT_FOUND', reason: 'no digest' };
        else {
          try {
            outcome = await wait(
              this.#verify(
                client,
                withDigest(ref, digest) as ImageReference & { digest: Digest },
                rule,
                identity as { issuer: string; subject: string } | undefined,
              ),
            );
          } catch (e) {
            outcome = outage(e);
          }
        }
        if (outcome.ok) {
          if (ref.digest === undefined && rule.requireDigest && !(mutate && rule.mutateDigest)) {
            rules.push({ rule: rule.name, mode: rule.mode, result: 'digest-required' });
            const text = `${where()}: the image must be named by digest (verifyDigest)`;
            (rule.mode === 'enforce' ? messages : warnings).push(text);
            return;
          }
          if (ref.digest === undefined && digest !== undefined && rule.mutateDigest) pin = true;
          rules.push({ rule: rule.name, mode: rule.mode, result: 'verified' });
          return;
        }
        rules.push({ rule: rule.name, mode: rule.mode, result: outcome.definitive ? 'failed' : 'outage', code: outcome.code, reason: outcome.reason });
        const text = `${where()}: ${outcome.code}: ${outcome.reason}`;
        if (!outcome.definitive && rule.failurePolicy === 'open') warnings.push(`${text} (failure policy open: admitted)`);
        else if (rule.mode === 'enforce') messages.push(text);
        else warnings.push(text);
      }),
    );
    const result: ImageReport['result'] = messages.length > 0 ? 'denied' : warnings.length > 0 ? 'warned' : 'verified';
    return { result, ...(digest === undefined ? {} : { digest }), rules, pin: pin && mutate && result !== 'denied', messages, warnings };
  }

  /**
   * Decide one review. Never throws for a bad image or an outage: those become denials (or warnings,
   * by rule mode and failure policy).
   */
  async review(parsed: ParsedReview, options: ReviewOptions = {}): Promise<AdmissionDecision> {
    const uid = parsed.request.uid;
    if (!parsed.handled || parsed.images.length === 0) return { response: { uid, allowed: true }, images: [], deadlineReached: false };
    const client = this.#client({
      namespace: parsed.request.namespace,
      serviceAccountName: parsed.serviceAccountName,
      imagePullSecrets: parsed.imagePullSecrets,
    });
    const mutate = options.mutate === true;
    const distinct = new Map<string, Promise<ImageCheck>>();
    for (const i of parsed.images)
      if (!distinct.has(i.image)) distinct.set(i.image, this.#checkImage(client, i.image, mutate, options.signal, parsed.annotations));
    const checked = new Map<string, ImageCheck>();
    await Promise.all([...distinct].map(async ([image, p]) => checked.set(image, await p)));
    const messages: string[] = [];
    const warnings: string[] = [];
    const patch: Array<{ op: 'replace'; path: string; value: string }> = [];
    const images: ImageReport[] = [];
    const reported = new Set<string>();
    for (const i of parsed.images) {
      const c = checked.get(i.image);
      if (c === undefined) continue;
      images.push({ image: i.image, container: i.container, ...(c.digest === undefined ? {} : { digest: c.digest }), result: c.result, rules: c.rules });
      if (c.pin === true && c.digest !== undefined) patch.push({ op: 'replace', path: i.pointer, value: `${i.image}@${c.digest}` });
      if (reported.has(i.image)) continue;
      reported.add(i.image);
      if (c.messages.length === 0 && c.warnings.length === 0) continue;
      const who = `image ${JSON.stringify(safeText(i.image, 512))} (${i.list === 'containers' ? 'container' : i.list.replace(/s$/, '')} ${JSON.stringify(safeText(i.container, 253))})`;
      for (const msg of c.messages) messages.push(`${who}: ${safeText(msg)}`);
      for (const w of c.warnings) warnings.push(safeText(`${who}: ${w}`, MAX_WARNING_CHARS));
    }
    const deadlineReached = options.signal?.aborted === true;
    const allowed = messages.length === 0;
    const message = messages.join('; ');
    const response: AdmissionResponse = {
      uid,
      allowed,
      ...(allowed
        ? {}
        : {
            status: {
              code: 403,
              reason: 'Forbidden',
              message: message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message,
            },
          }),
      ...(warnings.length === 0 ? {} : { warnings: warnings.slice(0, MAX_WARNINGS) }),
      ...(allowed && patch.length > 0 ? { patchType: 'JSONPatch' as const, patch: Buffer.from(JSON.stringify(patch)).toString('base64') } : {}),
    };
    return { response, images, deadlineReached };
  }
}
