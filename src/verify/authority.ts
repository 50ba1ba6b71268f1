/**
 * Authorities: what a signature must chain to. Public keys today (from a PEM file, or the public half
 * of a KMS key), or certificate identities (keyless: Fulcio certificates checked against a trusted
 * root, see `./keyless.ts`).
 *
 * @module
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { HashAlgorithm } from '../keys/signer.js';
import { fail } from '../errors.js';
import { PublicKeyVerifier } from '../keys/verify.js';

/** A public key the signature must verify with. */
export interface KeyAuthority {
  readonly kind: 'key';
  /** Where the key came from, for messages and results: a file path or a KMS URI. Never secret. */
  readonly keyRef: string;
  /** The public key. */
  readonly publicKey: KeyObject;
  /**
   * Hash used to verify, like cosign's `--signature-digest-algorithm` (default `sha256`, which is what
   * `cosign verify --key` uses for every key type).
   */
  readonly hash?: HashAlgorithm;
  /**
   * Ed25519 keys only: check signatures as Ed25519ph (SHA-512 prehash) instead of pure Ed25519.
   * Default false, which is what `cosign verify --key` does (it accepts only pure Ed25519, what cosign
   * 2.5 and cosign-ts sign). Set it to accept Ed25519ph signatures (cosign 2.6+ image signatures,
   * earlier cosign-ts versions); to accept either scheme, pass the key twice, once with each setting.
   */
  readonly ed25519ph?: boolean;
}

/** Options of {@link keyAuthority}. */
export interface KeyAuthorityOptions {
  /** See {@link KeyAuthority.hash}. */
  readonly hash?: HashAlgorithm;
  /** See {@link KeyAuthority.ed25519ph}. */
  readonly ed25519ph?: boolean;
}

/**
 * The GitHub Actions workflow fields of a Fulcio certificate (the deprecated raw-string extensions
 * 1.3.6.1.4.1.57264.1.2 to .6 that cosign's `--certificate-github-workflow-*` flags compare exactly).
 */
export interface GithubWorkflowIdentity {
  /** `--certificate-github-workflow-trigger` (OID 1.3.6.1.4.1.57264.1.2), e.g. `push`. */
  readonly trigger?: string;
  /** `--certificate-github-workflow-sha` (OID 1.3.6.1.4.1.57264.1.3). */
  readonly sha?: string;
  /** `--certificate-github-workflow-name` (OID 1.3.6.1.4.1.57264.1.4). */
  readonly name?: string;
  /** `--certificate-github-workflow-repository` (OID 1.3.6.1.4.1.57264.1.5), `owner/repo`. */
  readonly repository?: string;
  /** `--certificate-github-workflow-ref` (OID 1.3.6.1.4.1.57264.1.6), e.g. `refs/heads/main`. */
  readonly ref?: string;
}

/**
 * A keyless (Fulcio certificate) identity, as cosign's `--certificate-identity[-regexp]` and
 * `--certificate-oidc-issuer[-regexp]` flags: exact values compare with string equality, regular
 * expressions are unanchored (like Go's `MatchString`). Build it with {@link identityAuthority}, which
 * checks that an issuer and a subject are both given and compiles the expressions.
 */
export interface IdentityAuthority {
  readonly kind: 'identity';
  /** Exact OIDC issuer (`--certificate-oidc-issuer`). */
  readonly issuer?: string;
  /** Unanchored regular expression on the issuer (`--certificate-oidc-issuer-regexp`). */
  readonly issuerRegExp?: string;
  /** Exact subject alternative name (`--certificate-identity`): any of the certificate's SANs. */
  readonly subject?: string;
  /** Unanchored regular expression on the SANs (`--certificate-identity-regexp`). */
  readonly subjectRegExp?: string;
  /** GitHub workflow extensions that must match exactly. */
  readonly githubWorkflow?: GithubWorkflowIdentity;
}

/** Inputs of {@link identityAuthority}. */
export type IdentityAuthorityOptions = Omit<IdentityAuthority, 'kind'>;

/**
 * Build an {@link IdentityAuthority}. Like cosign, it needs a subject (exact or regexp) and an issuer
 * (exact or regexp); when both the exact and the regexp form are given, both must match.
 * @throws CosignError `USAGE` when the subject or issuer is missing, `BAD_INPUT` for an invalid regular expression.
 */
export function identityAuthority(o: IdentityAuthorityOptions): IdentityAuthority {
  const str = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
  const issuer = str(o.issuer);
  const issuerRegExp = str(o.issuerRegExp);
  const subject = str(o.subject);
  const subjectRegExp = str(o.subjectRegExp);
  if (subject === undefined && subjectRegExp === undefined) {
    throw fail('USAGE', '--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode');
  }
  if (issuer === undefined && issuerRegExp === undefined) {
    throw fail('USAGE', '--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode');
  }
  for (const [flag, re] of [
    ['--certificate-identity-regexp', subjectRegExp],
    ['--certificate-oidc-issuer-regexp', issuerRegExp],
  ] as const) {
    if (re !== undefined) compileIdentityRegExp(re, flag);
  }
  const gw: Record<string, string> = {};
  for (const k of ['trigger', 'sha', 'name', 'repository', 'ref'] as const) {
    const v = str(o.githubWorkflow?.[k]);
    if (v !== undefined) gw[k] = v;
  }
  return Object.freeze({
    kind: 'identity',
    ...(issuer === undefined ? {} : { issuer }),
    ...(issuerRegExp === undefined ? {} : { issuerRegExp }),
    ...(subject === undefined ? {} : { subject }),
    ...(subjectRegExp === undefined ? {} : { subjectRegExp }),
    ...(Object.keys(gw).length === 0 ? {} : { githubWorkflow: Object.freeze(gw) as GithubWorkflowIdentity }),
  });
}

const compiled = new Map<string, RegExp>();

/**
 * Compile an identity regular expression (unanchored, Unicode). Go RE2 and JavaScript syntax agree on
 * what these expressions use; RE2-only syntax is rejected here instead of being misread.
 * @internal
 */
export function compileIdentityRegExp(source: string, what = 'regular expression'): RegExp {
  let re = compiled.get(source);
  if (re === undefined) {
    if (source.length > 4096) throw fail('BAD_INPUT', `${what}: longer than 4096 characters`);
    try {
      re = new RegExp(source, 'u');
    } catch (cause) {
      throw fail('BAD_INPUT', `${what}: invalid regular expression ${JSON.stringify(source.slice(0, 200))}`, { cause });
    }
    if (compiled.size > 1024) compiled.clear();
    compiled.set(source, re);
  }
  return re;
}

/** Anything a signature can be checked against. */
export type Authority = KeyAuthority | IdentityAuthority;

/**
 * Build a {@link KeyAuthority}.
 * @param hashOrOptions the hash (like `--signature-digest-algorithm`), or {@link KeyAuthorityOptions}.
 */
export function keyAuthority(publicKey: KeyObject, keyRef: string, hashOrOptions?: HashAlgorithm | KeyAuthorityOptions): KeyAuthority {
  const o: KeyAuthorityOptions = typeof hashOrOptions === 'string' ? { hash: hashOrOptions } : (hashOrOptions ?? {});
  return {
    kind: 'key',
    keyRef,
    publicKey,
    ...(o.hash === undefined ? {} : { hash: o.hash }),
    ...(o.ed25519ph === true ? { ed25519ph: true } : {}),
  };
}

const fingerprints = new WeakMap<KeyObject, string>();

/** A stable fingerprint of an authority (sha256 of the SPKI DER for keys), used in cache keys. */
export function authorityFingerprint(a: Authority): string {
  if (a.kind === 'key') {
    let fp = fingerprints.get(a.publicKey);
    if (fp === undefined) {
      fp = createHash('sha256')
        .update(a.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex');
      fingerprints.set(a.publicKey, fp);
    }
    return `key:${fp}:${a.hash ?? 'sha256'}${a.ed25519ph === true ? ':ed25519ph' : ''}`;
  }
  return `identity:${JSON.stringify([a.issuer, a.issuerRegExp, a.subject, a.subjectRegExp, a.githubWorkflow ?? null])}`;
}

const verifiers = new WeakMap<KeyAuthority, PublicKeyVerifier>();

/** The verifier of a key authority (its hash and Ed25519 settings), made once per authority. @internal */
export function authorityVerifier(a: KeyAuthority): PublicKeyVerifier {
  let v = verifiers.get(a);
  if (v === undefined) {
    v = new PublicKeyVerifier(a.publicKey, a.keyRef, {
      ...(a.hash === undefined ? {} : { hash: a.hash }),
      ...(a.ed25519ph === true ? { ed25519ph: true } : {}),
    });
    verifiers.set(a, v);
  }
  return v;
}
