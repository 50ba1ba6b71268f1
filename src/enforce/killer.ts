/**
 * The image killer's cycle: for every running container, decide which policy rule applies, verify
 * the image's signature by **digest** (through a digest-keyed cache, so a steady state costs no
 * registry requests), and kill containers whose signature definitively fails in `enforce` mode.
 *
 * ## Which digest is verified
 *
 * A container runs a local image; the registry digest it was pulled as comes from the image's
 * `RepoDigests` (`repo@sha256:…`). Docker records the digest the *tag* pointed to, which for a
 * multi-arch image is the **index** digest (where `cosign sign <tag>` puts the signature); Podman
 * records the digest of what it pulled. Candidates, in order:
 *
 * 1. the digest in the container's image reference, if it was started as `name@sha256:…`;
 * 2. each `RepoDigests` digest of the container's repository (all of them if none matches the name);
 * 3. if none of those has signatures and the container was started by tag: the tag is looked up in
 *    the registry, and when it is an index that lists a candidate, the index's signature is verified
 *    and the index must list that digest (`throughIndex`).
 *
 * The image passes when any candidate verifies; the report says which one and by which rule. An image
 * with no registry digest at all (built locally) is a definitive failure: nothing can vouch for it.
 *
 * @module
 */
import { isCosignError, type CosignErrorCode } from '../errors.js';
import type { Digest } from '../digest.js';
import { evaluatePolicy, type Policy, type PolicyMode, type PolicyRule } from '../policy/index.js';
import { parseReference, withDigest, type ImageReference } from '../reference.js';
import type { ContainerSummary, DockerClient, ImageInfo } from './docker.js';
import { mapLimit } from '../concurrency.js';

/** Outcome of verifying one digest under a rule. */
export type VerifyOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly definitive: boolean; readonly code: CosignErrorCode; readonly reason: string };

/** Verifies one image digest under a rule (the default is `createPolicyVerifier`, cache-backed). */
export type RuleVerifier = (ref: ImageReference, rule: PolicyRule, options?: { throughIndex?: Digest }) => Promise<VerifyOutcome>;

/** Looks a tag up to find the index a platform digest belongs to (undefined: not an index). */
export type IndexResolver = (ref: ImageReference) => Promise<{ digest: Digest; children: ReadonlyArray<string> } | undefined>;

/** What happened to one container in a cycle. */
export type KillerAction = 'allowed' | 'verified' | 'killed' | 'killed-and-removed' | 'audit' | 'skipped-unavailable' | 'gone' | 'already-killed' | 'error';

/** One event of a cycle (logged to syslog and stdout). */
export interface KillerEvent {
  readonly containerId: string;
  readonly containerName: string;
  readonly image: string;
  readonly digest?: string;
  readonly rule?: string;
  readonly mode?: PolicyMode;
  readonly action: KillerAction;
  readonly code?: CosignErrorCode;
  readonly reason?: string;
  /** Which digest verified: `reference`, `repo-digest` or `index`. */
  readonly via?: 'reference' | 'repo-digest' | 'index';
}

/** The report of one cycle. */
export interface CycleReport {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly checked: number;
  readonly events: ReadonlyArray<KillerEvent>;
}

/** Options of the killer. */
export interface KillerOptions {
  /** Kill on registry unavailability too (default false: report and retry next cycle). */
  readonly failClosed?: boolean;
  /** Remove killed containers (default false). */
  readonly remove?: boolean;
  /** Report what would be killed, kill nothing. */
  readonly dryRun?: boolean;
  /** Containers checked at once. Default 8. */
  readonly concurrency?: number;
  /** Signal sent. Default SIGKILL. */
  readonly signal?: string;
}

/** Everything a cycle needs, injected (tests and the webhook plug in their own). */
export interface KillerDeps {
  readonly docker: Pick<DockerClient, 'listContainers' | 'inspectImage' | 'inspectContainer' | 'kill' | 'remove'>;
  readonly policy: Policy;
  readonly verify: RuleVerifier;
  readonly resolveIndex?: IndexResolver;
  readonly onEvent?: (e: KillerEvent) => void;
  readonly onVerification?: (seconds: number, outcome: VerifyOutcome) => void;
  readonly options?: KillerOptions;
  /** Ids killed in earlier cycles: never killed twice. Pass the same set to every cycle. */
  readonly killed?: Set<string>;
}

/**
 * The error codes that mean "the verification could not be carried out" (an outage): the registry
 * (or KMS) could not be reached, timed out, answered 5xx or 429 after retries, or refused our own
 * credentials. Every other failure is **definitive**: content the registry served that does not parse,
 * breaks a limit or does not match its digest is evidence against the image, not an outage, so
 * whoever can push a junk `.sig` cannot keep an unsigned container alive.
 */
export const OUTAGE_CODES: ReadonlySet<CosignErrorCode> = new Set<CosignErrorCode>(['REGISTRY_UNAVAILABLE', 'REGISTRY_THROTTLED', 'REGISTRY_UNAUTHORIZED', 'KMS_NETWORK', 'KMS_THROTTLED']);

/**
 * Classify a verification error: an outage (a code in {@link OUTAGE_CODES}: retried next cycle, or
 * killed with `failClosed`) or definitive (everything else, including errors that are not
 * {@link CosignError}s: an unexplained failure never lets an image pass).
 */
export function outcomeOf(e: unknown): VerifyOutcome {
  if (isCosignError(e)) return { ok: false, definitive: !OUTAGE_CODES.has(e.code), code: e.code, reason: e.message };
  return { ok: false, definitive: true, code: 'BAD_INPUT', reason: e instanceof Error ? e.message : String(e) };
}

function safeRef(s: string): ImageReference | undefined {
  try {
    return parseReference(s);
  } catch {
    return undefined;
  }
}

/** The candidate digests of a container's image, in the order of the module documentation. */
export function candidateDigests(imageRef: ImageReference | undefined, info: ImageInfo | undefined): Array<{ ref: ImageReference; via: 'reference' | 'repo-digest' }> {
  const out: Array<{ ref: ImageReference; via: 'reference' | 'repo-digest' }> = [];
  const seen = new Set<string>();
  const add = (ref: ImageReference, via: 'reference' | 'repo-digest'): void => {
    const key = `${ref.name}@${ref.digest}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ ref, via });
    }
  };
  if (imageRef?.digest !== undefined) add(withDigest(imageRef, imageRef.digest), 'reference');
  const repoDigests = (info?.repoDigests ?? []).map(safeRef).filter((r): r is ImageReference => r?.digest !== undefined);
  const same = imageRef === undefined ? [] : repoDigests.filter((r) => r.name === imageRef.name);
  for (const r of same.length > 0 ? same : repoDigests) add(r, 'repo-digest');
  return out;
}


/** Run one cycle over the running containers. Never throws for one container's problem. */
export async function runCycle(deps: KillerDeps): Promise<CycleReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const killed = deps.killed ?? new Set<string>();
  const opts = deps.options ?? {};
  const events: KillerEvent[] = [];
  const emit = (e: KillerEvent): void => {
    events.push(e);
    deps.onEvent?.(e);
  };
  const containers = await deps.docker.listContainers();
  await mapLimit(containers, opts.concurrency ?? 8, async (c) => {
    try {
      await checkContainer(c, deps, killed, opts, emit);
    } catch (e) {
      emit({ containerId: c.id, containerName: c.name, image: c.image, action: 'error', ...(isCosignError(e) ? { code: e.code } : {}), reason: (e as Error).message });
    }
  });
  return { startedAt, durationMs: performance.now() - t0, checked: containers.length, events };
}

async function checkContainer(c: ContainerSummary, deps: KillerDeps, killed: Set<string>, opts: KillerOptions, emit: (e: KillerEvent) => void): Promise<void> {
  const base = { containerId: c.id, containerName: c.name, image: c.image };
  if (killed.has(c.id)) return emit({ ...base, action: 'already-killed' });
  const imageRef = safeRef(c.image);
  const info = await deps.docker.inspectImage(c.imageId !== '' ? c.imageId : c.image);
  const candidates = candidateDigests(imageRef, info);
  // The policy is evaluated on the name the container was started with, else on its repo digest.
  const nameRef = imageRef ?? candidates[0]?.ref;
  if (nameRef === undefined) {
    return act(c, deps, killed, opts, emit, { ...base, mode: deps.policy.unmatchedMode, code: 'NO_SIGNATURES', reason: 'the image has no registry name or digest (built locally?)' });
  }
  const decision = evaluatePolicy(deps.policy, nameRef);
  if (decision.kind === 'allowed') return emit({ ...base, action: 'allowed', reason: `allow-list ${decision.pattern}` });
  if (decision.kind === 'unmatched') {
    if (decision.action === 'allow') return emit({ ...base, action: 'allowed', reason: 'no rule matches and unmatched images are allowed' });
    return act(c, deps, killed, opts, emit, { ...base, mode: decision.mode, code: 'NO_MATCHING_SIGNATURES', reason: 'no policy rule matches this image (unmatched images are denied)' });
  }
  const rule = decision.rule;
  if (candidates.length === 0) {
    return act(c, deps, killed, opts, emit, { ...base, rule: rule.name, mode: rule.mode, code: 'NO_SIGNATURES', reason: 'the image has no registry digest (RepoDigests is empty: built locally?)' });
  }
  let last: Extract<VerifyOutcome, { ok: false }> | undefined;
  let sawTransient = false;
  for (const cand of candidates) {
    const t = performance.now();
    const out = await deps.verify(cand.ref, rule);
    deps.onVerification?.((performance.now() - t) / 1000, out);
    if (out.ok) return emit({ ...base, digest: cand.ref.digest as string, rule: rule.name, mode: rule.mode, action: 'verified', via: cand.via });
    last = out;
    if (!out.definitive) sawTransient = true;
  }
  // Signed index of the tag the container was started with?
  if (!sawTransient && imageRef?.tag !== undefined && imageRef.digest === undefined && deps.resolveIndex !== undefined) {
    try {
      const index = await deps.resolveIndex(imageRef);
      const child = index === undefined ? undefined : candidates.find((cand) => index.children.includes(cand.ref.digest as string));
      if (index !== undefined && child !== undefined) {
        const out = await deps.verify(child.ref, rule, { throughIndex: index.digest });
        if (out.ok) return emit({ ...base, digest: index.digest, rule: rule.name, mode: rule.mode, action: 'verified', via: 'index' });
        last = out;
        if (!out.definitive) sawTransient = true;
      }
    } catch (e) {
      last = outcomeOf(e) as Extract<VerifyOutcome, { ok: false }>;
      sawTransient = !last.definitive;
    }
  }
  const failure = last ?? { ok: false as const, definitive: true, code: 'NO_SIGNATURES' as CosignErrorCode, reason: 'no signatures' };
  const digest = candidates[0]?.ref.digest as string;
  if (sawTransient || !failure.definitive) {
    if (opts.failClosed !== true) return emit({ ...base, digest, rule: rule.name, mode: rule.mode, action: 'skipped-unavailable', code: failure.code, reason: failure.reason });
  }
  return act(c, deps, killed, opts, emit, { ...base, digest, rule: rule.name, mode: rule.mode, code: failure.code, reason: failure.reason });
}

async function act(
  c: ContainerSummary,
  deps: KillerDeps,
  killed: Set<string>,
  opts: KillerOptions,
  emit: (e: KillerEvent) => void,
  e: Omit<KillerEvent, 'action'>,
): Promise<void> {
  if (e.mode === 'audit') return emit({ ...e, action: 'audit' });
  if (opts.dryRun === true) return emit({ ...e, action: 'audit', reason: `dry run: ${e.reason ?? ''}` });
  // It may have stopped or vanished while we checked.
  const still = await deps.docker.inspectContainer(c.id);
  if (still === undefined || !still.running) return emit({ ...e, action: 'gone' });
  const done = await deps.docker.kill(c.id, opts.signal ?? 'SIGKILL');
  if (!done) return emit({ ...e, action: 'gone' });
  killed.add(c.id);
  if (opts.remove === true) {
    await deps.docker.remove(c.id);
    return emit({ ...e, action: 'killed-and-removed' });
  }
  emit({ ...e, action: 'killed' });
}

/** Guard for callers: the report's kills. */
export function killedIn(report: CycleReport): KillerEvent[] {
  return report.events.filter((e) => e.action === 'killed' || e.action === 'killed-and-removed');
}
