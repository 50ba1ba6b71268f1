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
 * with no registry digest at all (built locally) cannot be verified: the policy's `unverifiable` setting
 * decides (default `deny`: a definitive failure, nothing can vouch for it).
 *
 * ## Image ids are not names
 *
 * Docker shows a container's image as an id (`sha256:…` or a short id) once its tag has moved, or when
 * it was started by id. Such a string is never parsed as a name: the container's `Config.Image` is used
 * if it is a name, else the image's `RepoDigests` (each verified under the rule its name matches) and
 * `RepoTags` (for the allow-list, and to find the rule of an image that has no registry digest).
 *
 * @module
 */
import { fail, isCosignError, type CosignError, type CosignErrorCode } from '../errors.js';
import type { Digest } from '../digest.js';
import { evaluatePolicy, type Policy, type PolicyMode, type PolicyRule } from '../policy/index.js';
import { canonicalName, formatReference, parseReference, withDigest, type ImageReference } from '../reference.js';
import { isImageId, type ContainerSummary, type DockerClient, type ImageInfo } from './docker.js';
import { mapLimit, raceAbort, timerDelay } from '../concurrency.js';

/** Outcome of verifying one digest under a rule. */
export type VerifyOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly definitive: boolean; readonly code: CosignErrorCode; readonly reason: string };

/** Verifies one image digest under a rule (the default is `createPolicyVerifier`, cache-backed). `signal`: the cycle's deadline. */
export type RuleVerifier = (ref: ImageReference, rule: PolicyRule, options?: { throughIndex?: Digest; signal?: AbortSignal }) => Promise<VerifyOutcome>;

/** Looks a tag up to find the index a platform digest belongs to (undefined: not an index). */
export type IndexResolver = (
  ref: ImageReference,
  options?: { signal?: AbortSignal },
) => Promise<{ digest: Digest; children: ReadonlyArray<string> } | undefined>;

/** What happened to one container in a cycle. */
export type KillerAction = 'allowed' | 'verified' | 'killed' | 'killed-and-removed' | 'audit' | 'skipped-unavailable' | 'gone' | 'already-killed' | 'error';

/** One event of a cycle (logged to syslog and stdout). */
export interface KillerEvent {
  readonly containerId: string;
  readonly containerName: string;
  /** The container's image as the engine reports it (a name, or an image id). */
  readonly image: string;
  /** When `image` is an id: the name the policy was applied to (`Config.Image`, else from the image's RepoDigests / RepoTags). */
  readonly imageName?: string;
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
  /** True when the deadline cut something short (those containers are `skipped-unavailable`, or killed with `failClosed`). */
  readonly deadlineReached?: boolean;
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
  /**
   * The cycle's deadline in ms (keep it below the interval). Verifications still running then are
   * abandoned and count as outages (`skipped-unavailable`, or killed with `failClosed`); containers
   * not looked at yet are `skipped-unavailable`. Default: none (`runKiller` uses 80 % of its interval).
   */
  readonly deadlineMs?: number;
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
  /**
   * Kills of earlier cycles: container id → `State.StartedAt` of the run that was killed. Pass the
   * same map to every cycle. A container still running with that start time is `already-killed`; one
   * started again (same id, new start time) is checked, and killed, again. Entries of containers no
   * longer running are dropped each cycle, so the map is never larger than the container list.
   */
  readonly killed?: Map<string, string>;
  /** Aborts the cycle (like its deadline). */
  readonly signal?: AbortSignal;
}

/**
 * The error codes that mean "the verification could not be carried out" (an outage): the registry
 * (or KMS) could not be reached, timed out, answered 5xx or 429 after retries, or refused our own
 * credentials. Every other failure is **definitive**: content the registry served that does not parse,
 * breaks a limit or does not match its digest is evidence against the image, not an outage, so
 * whoever can push a junk `.sig` cannot keep an unsigned container alive.
 */
export const OUTAGE_CODES: ReadonlySet<CosignErrorCode> = new Set<CosignErrorCode>([
  'REGISTRY_UNAVAILABLE',
  'REGISTRY_THROTTLED',
  'REGISTRY_UNAUTHORIZED',
  'KMS_NETWORK',
  'KMS_THROTTLED',
]);

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
export function candidateDigests(
  imageRef: ImageReference | undefined,
  info: ImageInfo | undefined,
): Array<{ ref: ImageReference; via: 'reference' | 'repo-digest' }> {
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
  const same = imageRef === undefined ? [] : repoDigests.filter((r) => canonicalName(r) === canonicalName(imageRef));
  for (const r of same.length > 0 ? same : repoDigests) add(r, 'repo-digest');
  return out;
}

/** Per-cycle state shared by the checks of its containers. */
interface CycleContext {
  readonly deps: KillerDeps;
  readonly opts: KillerOptions;
  readonly killed: Map<string, string>;
  readonly signal: AbortSignal | undefined;
  readonly emit: (e: KillerEvent) => void;
  /** Why the signal aborted, for messages. */
  readonly why: () => string;
  /** Set when something was cut short by the deadline. */
  late: boolean;
}

/** The event fields that say which container. */
type EventBase = Pick<KillerEvent, 'containerId' | 'containerName' | 'image' | 'imageName'>;

/** A candidate digest and the rule it is verified under. */
interface Candidate {
  readonly ref: ImageReference;
  readonly via: 'reference' | 'repo-digest';
  readonly rule: PolicyRule;
}

/** `p`, unless `signal` aborts first: then a `REGISTRY_UNAVAILABLE` rejection (a verifier or resolver that ignores the signal cannot hold the cycle). */
function bounded<T>(p: Promise<T>, signal: AbortSignal | undefined, why: () => string, what = 'this verification'): Promise<T> {
  if (signal === undefined) return p;
  return raceAbort(p, signal, () => fail('REGISTRY_UNAVAILABLE', `${why()} before ${what} finished`));
}

/**
 * Run one cycle over the running containers. Never throws for one container's problem. With a
 * deadline (`options.deadlineMs`) or `signal`, it returns by then (plus any kill already decided):
 * what could not be verified in time is an outage.
 */
export async function runCycle(deps: KillerDeps): Promise<CycleReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const killed = deps.killed ?? new Map<string, string>();
  const opts = deps.options ?? {};
  const timeout = opts.deadlineMs === undefined ? undefined : AbortSignal.timeout(timerDelay(opts.deadlineMs));
  const signals = [deps.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length <= 1 ? signals[0] : AbortSignal.any(signals);
  const events: KillerEvent[] = [];
  const emit = (e: KillerEvent): void => {
    events.push(e);
    deps.onEvent?.(e);
  };
  const why = (): string => (timeout?.aborted === true ? `the cycle deadline (${opts.deadlineMs} ms) passed` : 'the cycle was aborted');
  const ctx: CycleContext = { deps, opts, killed, signal, emit, why, late: false };
  const containers = await bounded(deps.docker.listContainers(signal === undefined ? {} : { signal }), signal, why, 'listing the containers');
  // Forget kills of containers that no longer run: one started again is checked afresh.
  const running = new Set(containers.map((c) => c.id));
  for (const id of [...killed.keys()]) if (!running.has(id)) killed.delete(id);
  await mapLimit(containers, opts.concurrency ?? 8, async (c) => {
    const base = { containerId: c.id, containerName: c.name, image: c.image };
    if (signal?.aborted === true) {
      ctx.late = true;
      return emit({ ...base, action: 'skipped-unavailable', code: 'REGISTRY_UNAVAILABLE', reason: `${why()} before this container was checked` });
    }
    try {
      await checkContainer(c, ctx);
    } catch (e) {
      if ((signal as AbortSignal | undefined)?.aborted === true) {
        ctx.late = true;
        return emit({
          ...base,
          action: 'skipped-unavailable',
          code: 'REGISTRY_UNAVAILABLE',
          reason: `${why()} while checking this container: ${(e as Error).message}`,
        });
      }
      emit({ ...base, action: 'error', ...(isCosignError(e) ? { code: e.code } : {}), reason: (e as Error).message });
    }
  });
  return { startedAt, durationMs: performance.now() - t0, checked: containers.length, events, deadlineReached: ctx.late };
}

async function checkContainer(c: ContainerSummary, ctx: CycleContext): Promise<void> {
  const { deps, killed, signal } = ctx;
  const policy = deps.policy;
  const so = signal === undefined ? {} : { signal };
  let base: EventBase = { containerId: c.id, containerName: c.name, image: c.image };
  const emit = (e: Omit<KillerEvent, keyof EventBase>): void => ctx.emit({ ...base, ...e });
  let restarted = false;
  const killedRun = killed.get(c.id);
  if (killedRun !== undefined) {
    const now = await deps.docker.inspectContainer(c.id, so);
    if (now === undefined || !now.running) return emit({ action: 'gone' });
    if (now.startedAt === killedRun) return emit({ action: 'already-killed' });
    killed.delete(c.id); // started again since the kill: check it like a new container
    restarted = true;
  }
  const kill = (e: Omit<KillerEvent, keyof EventBase | 'action'>): Promise<void> =>
    act(c, ctx, { ...base, ...e, ...(restarted ? { reason: `started again after an earlier kill; ${e.reason ?? ''}` } : {}) });
  const unverifiable = (rule: PolicyRule | undefined, reason: string): Promise<void> | void => {
    if (policy.unverifiable === 'allow')
      return emit({
        ...(rule === undefined ? {} : { rule: rule.name }),
        action: 'allowed',
        reason: `${reason}; unverifiable images are allowed by the policy`,
      });
    return kill({ ...(rule === undefined ? {} : { rule: rule.name }), mode: rule?.mode ?? policy.unmatchedMode, code: 'NO_SIGNATURES', reason });
  };

  // Which name? Never an image id: Docker shows the id once the tag moved, or when started by id.
  let name = isImageId(c.image, c.imageId) ? undefined : c.image;
  if (name === undefined) {
    const d = await deps.docker.inspectContainer(c.id, so);
    if (d === undefined) return emit({ action: 'gone' });
    const configImage = d.configImage ?? '';
    if (configImage !== '' && !isImageId(configImage, c.imageId !== '' ? c.imageId : d.image)) name = configImage;
  }
  const imageRef = name === undefined ? undefined : safeRef(name);
  const info = await deps.docker.inspectImage(c.imageId !== '' ? c.imageId : c.image, so);

  if (imageRef !== undefined) {
    if (name !== c.image) base = { ...base, imageName: name };
    const decision = evaluatePolicy(policy, imageRef);
    if (decision.kind === 'allowed') return emit({ action: 'allowed', reason: `allow-list ${decision.pattern}` });
    if (decision.kind === 'unmatched') {
      if (decision.action === 'allow') return emit({ action: 'allowed', reason: 'no rule matches and unmatched images are allowed' });
      return kill({ mode: decision.mode, code: 'NO_MATCHING_SIGNATURES', reason: 'no policy rule matches this image (unmatched images are denied)' });
    }
    const rule = decision.rule;
    const candidates = candidateDigests(imageRef, info).map((x): Candidate => ({ ...x, rule }));
    if (candidates.length === 0) return unverifiable(rule, 'the image has no registry digest (RepoDigests is empty: built locally?)');
    return verifyAndAct(candidates, imageRef.tag !== undefined && imageRef.digest === undefined ? imageRef : undefined, ctx, emit, kill);
  }

  // Started by image id (or a name that does not parse): the names the image was pulled or tagged as.
  const digestRefs = (info?.repoDigests ?? []).map(safeRef).filter((r): r is ImageReference => r?.digest !== undefined);
  const tagRefs = (info?.repoTags ?? []).map(safeRef).filter((r): r is ImageReference => r !== undefined);
  const decisions = [...digestRefs, ...tagRefs].map((ref) => ({ ref, decision: evaluatePolicy(policy, ref) }));
  if (decisions.length === 0)
    return unverifiable(undefined, `the image ${c.imageId !== '' ? c.imageId : c.image} has no registry name or digest (built locally, or untagged)`);
  for (const { ref, decision } of decisions) {
    if (decision.kind === 'allowed') {
      base = { ...base, imageName: formatReference(ref) };
      return emit({ action: 'allowed', reason: `allow-list ${decision.pattern}` });
    }
  }
  // Prefer registry digests whose name a rule covers: each is verified under its own rule.
  const ruled: Candidate[] = [];
  for (const { ref, decision } of decisions)
    if (ref.digest !== undefined && decision.kind === 'rule') ruled.push({ ref: withDigest(ref, ref.digest), via: 'repo-digest', rule: decision.rule });
  if (ruled.length > 0) {
    base = { ...base, imageName: (ruled[0] as Candidate).ref.name };
    return verifyAndAct(ruled, undefined, ctx, emit, kill);
  }
  const tagged = decisions.find((x) => x.decision.kind === 'rule');
  if (tagged !== undefined && tagged.decision.kind === 'rule') {
    base = { ...base, imageName: formatReference(tagged.ref) };
    return unverifiable(tagged.decision.rule, 'the image has no registry digest for a name a rule covers (RepoDigests: built locally?)');
  }
  base = { ...base, imageName: formatReference((decisions[0] as { ref: ImageReference }).ref) };
  if (policy.unmatched === 'allow') return emit({ action: 'allowed', reason: 'no rule matches and unmatched images are allowed' });
  return kill({
    mode: policy.unmatchedMode,
    code: 'NO_MATCHING_SIGNATURES',
    reason: 'no policy rule matches any name of this image (unmatched images are denied)',
  });
}

/** Verify the candidates (any one passing suffices), then the tag's signed index; kill, skip or pass. */
async function verifyAndAct(
  candidates: ReadonlyArray<Candidate>,
  tagRef: ImageReference | undefined,
  ctx: CycleContext,
  emit: (e: Omit<KillerEvent, keyof EventBase>) => void,
  kill: (e: Omit<KillerEvent, keyof EventBase | 'action'>) => Promise<void>,
): Promise<void> {
  const { deps, signal } = ctx;
  const so = signal === undefined ? {} : { signal };
  const verifyOne = async (cand: Candidate, throughIndex?: Digest): Promise<VerifyOutcome> => {
    const t = performance.now();
    let out: VerifyOutcome;
    try {
      out = await bounded(deps.verify(cand.ref, cand.rule, { ...so, ...(throughIndex === undefined ? {} : { throughIndex }) }), signal, ctx.why);
    } catch (e) {
      out = outcomeOf(e);
    }
    // Whatever a verification cut short by the deadline says, it is an outage, never evidence.
    if (!out.ok && signal?.aborted === true) {
      ctx.late = true;
      out = { ok: false, definitive: false, code: 'REGISTRY_UNAVAILABLE', reason: `${ctx.why()} before this verification finished` };
    }
    deps.onVerification?.((performance.now() - t) / 1000, out);
    return out;
  };
  const first = candidates[0] as Candidate;
  let last: Extract<VerifyOutcome, { ok: false }> | undefined;
  let lastRule = first.rule;
  let sawOutage = false;
  for (const cand of candidates) {
    const out = await verifyOne(cand);
    if (out.ok) return emit({ digest: cand.ref.digest as string, rule: cand.rule.name, mode: cand.rule.mode, action: 'verified', via: cand.via });
    last = out;
    lastRule = cand.rule;
    if (!out.definitive) sawOutage = true;
  }
  // Signed index of the tag the container was started with?
  if (!sawOutage && tagRef !== undefined && deps.resolveIndex !== undefined) {
    try {
      const index = await bounded(deps.resolveIndex(tagRef, so), signal, ctx.why, "the tag's index lookup");
      const child = index === undefined ? undefined : candidates.find((cand) => index.children.includes(cand.ref.digest as string));
      if (index !== undefined && child !== undefined) {
        const out = await verifyOne(child, index.digest);
        if (out.ok) return emit({ digest: index.digest, rule: child.rule.name, mode: child.rule.mode, action: 'verified', via: 'index' });
        last = out;
        lastRule = child.rule;
        if (!out.definitive) sawOutage = true;
      }
    } catch (e) {
      last = outcomeOf(e) as Extract<VerifyOutcome, { ok: false }>;
      if (signal?.aborted === true) {
        ctx.late = true;
        last = { ok: false, definitive: false, code: 'REGISTRY_UNAVAILABLE', reason: `${ctx.why()} before the tag's index was looked up` };
      }
      sawOutage = !last.definitive;
    }
  }
  const failure = last ?? { ok: false as const, definitive: true, code: 'NO_SIGNATURES' as CosignErrorCode, reason: 'no signatures' };
  const digest = first.ref.digest as string;
  if ((sawOutage || !failure.definitive) && ctx.opts.failClosed !== true) {
    return emit({ digest, rule: lastRule.name, mode: lastRule.mode, action: 'skipped-unavailable', code: failure.code, reason: failure.reason });
  }
  return kill({ digest, rule: lastRule.name, mode: lastRule.mode, code: failure.code, reason: failure.reason });
}

async function act(c: ContainerSummary, ctx: CycleContext, e: Omit<KillerEvent, 'action'>): Promise<void> {
  const { deps, opts, killed, emit } = ctx;
  if (e.mode === 'audit') return emit({ ...e, action: 'audit' });
  if (opts.dryRun === true) return emit({ ...e, action: 'audit', reason: `dry run: ${e.reason ?? ''}` });
  // It may have stopped or vanished while we checked. (A decided kill is carried out even past the deadline.)
  const still = await deps.docker.inspectContainer(c.id);
  if (still === undefined || !still.running) return emit({ ...e, action: 'gone' });
  const done = await deps.docker.kill(c.id, opts.signal ?? 'SIGKILL');
  if (!done) return emit({ ...e, action: 'gone' });
  // Remembered with the run's start time: if it is started again (same id), it is checked again.
  if (still.startedAt !== undefined && still.startedAt !== '') killed.set(c.id, still.startedAt);
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
