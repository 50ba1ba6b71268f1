/**
 * The killer's default verification: policy authorities → library authorities (key files, PEM, KMS
 * public keys, loaded once per rule), `verifyImage` through a digest-keyed cache shared across cycles.
 *
 * @module
 */
import type { Digest } from '../digest.js';
import { isCosignError } from '../errors.js';
import { parsePublicKey } from '../keys/public.js';
import { readKeyFile } from '../keys/resolve.js';
import type { KmsOptions } from '../kms/index.js';
import type { RegistryClient } from '../oci/client.js';
import { parseImageIndexIfAny } from '../oci/manifest.js';
import type { Policy, PolicyRule } from '../policy/index.js';
import { formatReference, type ImageReference } from '../reference.js';
import { identityAuthority, keyAuthority, type Authority } from '../verify/authority.js';
import type { KeylessOptions } from '../verify/keyless.js';
import { VerificationCache } from '../verify/cache.js';
import { verifyImage, type VerifyImageResult } from '../verify/image.js';
import type { CosignError } from '../errors.js';
import { outcomeOf, type IndexResolver, type RuleVerifier } from './killer.js';

/** Options of {@link createPolicyVerifier}. */
export interface PolicyVerifierOptions {
  readonly client: RegistryClient;
  /** Shared across cycles so a steady state costs no registry requests. Default: a new cache (10 min / 30 s). */
  readonly cache?: VerificationCache<VerifyImageResult | CosignError>;
  /** Options for KMS authorities (`kms: awskms:///…`). */
  readonly kms?: KmsOptions;
  /**
   * Keyless verification (trust material, e.g. `await publicGoodTrust({ offline: true })`) for the
   * rules' `keyless` authorities. Without it those authorities fail closed (`UNSUPPORTED`).
   */
  readonly keyless?: KeylessOptions;
}

/**
 * The library authorities of a rule's `key` and `keyless` authorities (key files read, PEM parsed, KMS
 * public keys fetched); `static` authorities are not signatures and are left out.
 * @throws CosignError from reading or parsing a key, or from the KMS.
 */
export function loadRuleAuthorities(rule: PolicyRule, kms?: KmsOptions): Promise<Authority[]> {
  return Promise.all(
    rule.authorities
      .flatMap((a) => (a.kind === 'static' ? [] : [a]))
      .map(async (a): Promise<Authority> => {
        if (a.kind === 'keyless') {
          const { kind: _keyless, ...identity } = a;
          return identityAuthority(identity);
        }
        if ('path' in a) return keyAuthority(parsePublicKey(await readKeyFile(a.path), a.path), a.path);
        if ('pem' in a) return keyAuthority(parsePublicKey(a.pem, `rule ${rule.name} PEM key`), `rule ${rule.name} PEM key`);
        const { resolvePublicKey } = await import('../kms/registry.js');
        return keyAuthority(await resolvePublicKey(a.kms, kms ?? {}), a.kms);
      }),
  );
}

/** A cache-backed {@link RuleVerifier}, plus the cache (for metrics) and an {@link IndexResolver}. */
export function createPolicyVerifier(options: PolicyVerifierOptions): {
  verify: RuleVerifier;
  resolveIndex: IndexResolver;
  cache: VerificationCache<VerifyImageResult | CosignError>;
} {
  const cache = options.cache ?? new VerificationCache<VerifyImageResult | CosignError>();
  const authorities = new Map<PolicyRule, Promise<Authority[]>>();
  const load = (rule: PolicyRule): Promise<Authority[]> => {
    let p = authorities.get(rule);
    if (p === undefined) {
      p = loadRuleAuthorities(rule, options.kms);
      authorities.set(rule, p);
      p.catch(() => authorities.delete(rule)); // retry loading next cycle
    }
    return p;
  };
  const verify: RuleVerifier = async (ref: ImageReference, rule: PolicyRule, opts?: { throughIndex?: Digest; signal?: AbortSignal }) => {
    // `static` authorities (policy-controller): `pass` admits without a signature; `fail` never matches.
    if (rule.authorities.some((a) => a.kind === 'static' && a.action === 'pass')) return { ok: true };
    if (rule.authorities.length > 0 && rule.authorities.every((a) => a.kind === 'static')) {
      return { ok: false, definitive: true, code: 'NO_MATCHING_SIGNATURES', reason: `rule ${rule.name}: its static authority fails every image` };
    }
    let authorities: Authority[];
    try {
      authorities = await load(rule);
    } catch (e) {
      // The killer's own configuration (a key file, a KMS key), not the image: never evidence against it.
      return {
        ok: false,
        definitive: false,
        code: isCosignError(e) ? e.code : 'IO_ERROR',
        reason: `rule ${rule.name}: cannot load its authorities: ${(e as Error).message}`,
      };
    }
    try {
      await verifyImage(ref, {
        client: options.client,
        authorities,
        cache,
        ...(options.keyless === undefined ? {} : { keyless: options.keyless }),
        ...(Object.keys(rule.annotations).length === 0 ? {} : { annotations: rule.annotations }),
        ...(rule.signatureRepository === undefined ? {} : { signatureRepository: rule.signatureRepository }),
        ...(opts?.throughIndex === undefined ? {} : { throughIndex: opts.throughIndex }),
        ...(opts?.signal === undefined ? {} : { signal: opts.signal }),
      });
      return { ok: true };
    } catch (e) {
      return outcomeOf(e);
    }
  };
  const resolveIndex: IndexResolver = async (ref, opts) => {
    const m = await options.client.getManifest(ref, opts?.signal === undefined ? {} : { signal: opts.signal });
    const index = parseImageIndexIfAny(m.bytes, m.mediaType, `manifest ${formatReference(ref)}`);
    if (index === undefined) return undefined;
    return { digest: m.digest, children: index.manifests.map((c) => c.digest) };
  };
  return { verify, resolveIndex, cache };
}

/**
 * The keyless trust a policy needs, loaded once at start (the killer's and the webhook's `--trusted-root` /
 * `--tuf-cache`): the given trusted root, else the public-good root through TUF when a rule has a keyless authority
 * or takes one from a workload's annotations; undefined when nothing needs it.
 * @throws CosignError when the trusted root cannot be read or TUF cannot be reached (a program that cannot verify
 * its keyless rules must not start).
 */
export async function keylessOptionsForPolicy(
  policy: Policy,
  options: { readonly trustedRoot?: string | undefined; readonly tufCache?: string | undefined },
): Promise<KeylessOptions | undefined> {
  const needed = policy.rules.some((r) => r.identityFromAnnotations !== undefined || r.authorities.some((a) => a.kind === 'keyless'));
  if (options.trustedRoot === undefined && !needed) return undefined;
  const trust = await import('../verify/trust.js');
  const cache = options.tufCache ?? process.env.TUF_ROOT;
  return {
    trust:
      options.trustedRoot !== undefined
        ? await trust.trustFromTrustedRootFile(options.trustedRoot)
        : await trust.publicGoodTrust(cache === undefined ? {} : { cachePath: cache }),
  };
}
