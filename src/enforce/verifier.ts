/**
 * The killer's default verification: policy authorities → library authorities (key files, PEM, KMS
 * public keys, loaded once per rule), `verifyImage` through a digest-keyed cache shared across cycles.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import type { Digest } from '../digest.js';
import { fail, isCosignError } from '../errors.js';
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
import type { TlogOptions } from '../verify/layer.js';
import type { CosignError } from '../errors.js';
import { outcomeOf, type IndexResolver, type RuleVerifier, type VerifyOutcome } from './killer.js';

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
        if ('secretRef' in a) {
          const { namespace, name } = a.secretRef;
          return keyAuthority(await publicKeyFromSecret(namespace, name, kms), `secret ${namespace}/${name}`);
        }
        const { resolvePublicKey } = await import('../kms/registry.js');
        return keyAuthority(await resolvePublicKey(a.kms, kms ?? {}), a.kms);
      }),
  );
}

/**
 * The public key in a Kubernetes secret as policy-controller reads `key.secretRef`: the secret must hold exactly one
 * data entry, whatever its name, and that entry is a PEM public key (`PUBLIC KEY` or `RSA PUBLIC KEY`).
 * @throws CosignError `BAD_KEY` with policy-controller's wording (`secret "NAME" contains no data`, `… contains
 *   multiple data entries, only one is supported`, `… contains an invalid public key`), or the `KMS_*` errors of
 *   reading the secret (not found, access denied, throttled, network).
 */
export async function publicKeyFromSecret(namespace: string, name: string, kms?: KmsOptions): Promise<KeyObject> {
  const { readK8sSecretData } = await import('../kms/k8s.js');
  const entries = Object.entries(await readK8sSecretData(namespace, name, kms?.k8s ?? {}));
  const q = JSON.stringify(name);
  const [first] = entries;
  if (first === undefined) throw fail('BAD_KEY', `secret ${q} contains no data`);
  if (entries.length > 1) throw fail('BAD_KEY', `secret ${q} contains multiple data entries, only one is supported`);
  const invalid = (why: string): CosignError => fail('BAD_KEY', `secret ${q} contains an invalid public key: ${why}`);
  const label = /-----BEGIN ([A-Z0-9 ]{1,64})-----/.exec(first[1].toString('latin1'))?.[1];
  if (label === undefined) throw invalid('not PEM');
  if (label !== 'PUBLIC KEY' && label !== 'RSA PUBLIC KEY') throw invalid(`PEM block ${JSON.stringify(label)}, not a public key`);
  try {
    return parsePublicKey(first[1].toString('utf8'), `secret ${namespace}/${name}`);
  } catch (e) {
    throw invalid(isCosignError(e) ? e.message : 'does not parse');
  }
}

/**
 * The transparency-log settings of `verifyImage` for a rule (its {@link PolicyRule.tlog}) over the keyless options:
 * `require` checks key-made signatures' Rekor bundles against the trust material's Rekor keys (required), `ignore`
 * checks no log entry (keyless ones included), absent leaves key-made signatures offline. An `outcome` instead when
 * the rule requires the log and no Rekor key is configured (not the image's fault: an outage, never cached).
 */
export function tlogSettingsForRule(
  rule: PolicyRule,
  keyless: KeylessOptions | undefined,
): { readonly tlog?: TlogOptions; readonly keyless?: KeylessOptions } | { readonly outcome: VerifyOutcome } {
  if (rule.tlog === 'ignore') return keyless === undefined ? {} : { keyless: { ...keyless, ignoreTlog: true } };
  if (rule.tlog !== 'require') return keyless === undefined ? {} : { keyless };
  const rekorKeys = keyless?.trust.rekorKeys ?? [];
  if (rekorKeys.length === 0 && rule.authorities.some((a) => a.kind === 'key'))
    return {
      outcome: {
        ok: false,
        definitive: false,
        code: 'TRUST_ROOT_INVALID',
        reason: `rule ${rule.name} requires a transparency-log entry and no trusted Rekor key is configured (--trusted-root, TUF, SIGSTORE_REKOR_PUBLIC_KEY)`,
      },
    };
  return { tlog: { rekorKeys, required: true }, ...(keyless === undefined ? {} : { keyless }) };
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
    const tlog = tlogSettingsForRule(rule, options.keyless);
    if ('outcome' in tlog) return tlog.outcome;
    try {
      await verifyImage(ref, {
        client: options.client,
        authorities,
        cache,
        ...tlog,
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
 * The Sigstore trust a policy needs, loaded once at start (the killer's and the webhook's `--trusted-root` /
 * `--tuf-cache`): the given trusted root, else the public-good root through TUF when a rule has a keyless authority,
 * takes one from a workload's annotations, or requires Rekor entries on key-made signatures (`tlog: require`: its
 * Rekor keys); undefined when nothing needs it. With `env`, cosign's `SIGSTORE_*` variables (`SIGSTORE_REKOR_PUBLIC_KEY`,
 * `SIGSTORE_ROOT_FILE`, `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`, `SIGSTORE_TSA_CERTIFICATE_FILE`) replace those parts, and TUF
 * is not contacted when they cover everything the policy needs.
 * @throws CosignError when the trusted root cannot be read or TUF cannot be reached (a program that cannot verify
 * its keyless rules must not start).
 */
export async function keylessOptionsForPolicy(
  policy: Policy,
  options: {
    readonly trustedRoot?: string | undefined;
    readonly tufCache?: string | undefined;
    readonly env?: Readonly<Record<string, string | undefined>>;
  },
): Promise<KeylessOptions | undefined> {
  const keyless = policy.rules.some((r) => r.identityFromAnnotations !== undefined || r.authorities.some((a) => a.kind === 'keyless'));
  const rekor = policy.rules.some((r) => r.tlog === 'require' && r.authorities.some((a) => a.kind === 'key'));
  if (options.trustedRoot === undefined && !keyless && !rekor) return undefined;
  const trust = await import('../verify/trust.js');
  const env = options.env ?? {};
  const set = (name: string): boolean => (env[name] ?? '') !== '';
  const fromEnv = keyless
    ? set('SIGSTORE_ROOT_FILE') && set('SIGSTORE_REKOR_PUBLIC_KEY') && set('SIGSTORE_CT_LOG_PUBLIC_KEY_FILE')
    : set('SIGSTORE_REKOR_PUBLIC_KEY');
  const cache = options.tufCache ?? process.env.TUF_ROOT;
  const base =
    options.trustedRoot !== undefined
      ? await trust.trustFromTrustedRootFile(options.trustedRoot)
      : fromEnv
        ? undefined
        : await trust.publicGoodTrust(cache === undefined ? {} : { cachePath: cache });
  const loaded = await trust.applySigstoreEnv(env, base);
  return loaded === undefined ? undefined : { trust: loaded };
}
