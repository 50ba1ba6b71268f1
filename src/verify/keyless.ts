/**
 * Keyless verification: a Fulcio certificate instead of a key. The certificate must chain to a
 * certificate authority of the trusted root at the signing time, carry an SCT from a trusted CT log
 * (unless told otherwise), name an identity the policy accepts, and hold the key the signature
 * verifies with. The signing time is the Rekor entry's integrated time (its SET or inclusion proof
 * verified) and/or an RFC 3161 timestamp from a trusted TSA; with neither, it is now, as in cosign.
 *
 * - Legacy `.sig` layers ({@link verifyKeylessLayer}): certificate, chain, Rekor bundle and RFC 3161
 *   annotations. The SET and the entry body (signature, certificate, payload hash; hashedrekord or
 *   rekord) are checked by `../artifact/rekor.ts`; chain, SCT, timestamps, validity and signature by
 *   `@sigstore/verify`.
 * - Sigstore bundles ({@link verifySigstoreBundle}): everything by `@sigstore/verify` (inclusion proof
 *   and checkpoint or SET, entry body, TSA timestamps, chain, SCT, signature).
 * - Identity ({@link checkIdentity}): as cosign's `CheckCertificatePolicy`, done here on the leaf
 *   certificate (not by `@sigstore/verify`'s policy, which reads a string SAN as a regular expression).
 *
 * Upstream: sigstore/cosign `pkg/cosign/verify.go` (`ValidateAndUnpackCert`, `CheckCertificatePolicy`,
 * `VerifyBundle`, `VerifyRFC3161Timestamp`), `pkg/cosign/certextensions.go`,
 * `cmd/cosign/cli/verify/verify.go` (`PrintVerification`); sigstore/sigstore-js `packages/verify`.
 *
 * @module
 */
import { createHash, createPublicKey, timingSafeEqual } from 'node:crypto';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import type { X509Certificate } from '@sigstore/core';
import type { SignedEntity, Verifier } from '@sigstore/verify';
import type { SignatureLayer } from '../artifact/layer.js';
import { checkRekorBody, verifyRekorSET, type RekorBundle, type Rfc3161Timestamp } from '../artifact/rekor.js';
import { fail, isCosignError, type CosignErrorCode } from '../errors.js';
import { sigstoreBundle, sigstoreCore, sigstoreVerify } from '../internal/deps.js';
import { parseJson } from '../json/strict.js';
import { PublicKeyVerifier } from '../keys/verify.js';
import { compileIdentityRegExp, type IdentityAuthority } from './authority.js';
import { memoizeCertificate, type SigstoreTrust } from './trust.js';

/** How keyless signatures are verified. */
export interface KeylessOptions {
  /** The trust material (Fulcio roots, CT logs, Rekor logs, TSAs). */
  readonly trust: SigstoreTrust;
  /** Do not require an SCT (`--insecure-ignore-sct`). Default false. */
  readonly ignoreSct?: boolean;
  /**
   * Do not require a transparency-log entry (`--insecure-ignore-tlog`). An entry present is still
   * checked. Default false: a verified entry is required.
   */
  readonly ignoreTlog?: boolean;
  /** Require a verified RFC 3161 timestamp (`--use-signed-timestamps`). Default false. */
  readonly requireTimestamp?: boolean;
  /** The time used when the signature carries none (default: now). */
  readonly now?: Date;
  /**
   * The signing certificate, PEM, given by the verifier (cosign's `--certificate`, "bring your own
   * certificate"): used instead of the certificate the signature carries, and checked the same way
   * (chain to the trust, SCT, identity, validity at the signing time). Legacy `.sig` signatures and legacy
   * blob bundles; a Sigstore bundle must carry this very certificate.
   */
  readonly certificate?: string;
}

const OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  trigger: '1.3.6.1.4.1.57264.1.2',
  sha: '1.3.6.1.4.1.57264.1.3',
  name: '1.3.6.1.4.1.57264.1.4',
  repository: '1.3.6.1.4.1.57264.1.5',
  ref: '1.3.6.1.4.1.57264.1.6',
  otherNameSan: '1.3.6.1.4.1.57264.1.7',
  issuerV2: '1.3.6.1.4.1.57264.1.8',
  extKeyUsage: '2.5.29.37',
  codeSigning: '1.3.6.1.5.5.7.3.3',
} as const;

/** The identity fields of a Fulcio certificate, as cosign prints and checks them. */
export interface CertificateSummary {
  /** OIDC issuer: extension 1.3.6.1.4.1.57264.1.1 (raw), else 1.3.6.1.4.1.57264.1.8 (UTF8String). */
  readonly issuer?: string;
  /** cosign's `Subject`: the first SAN in Go's order (DNS names, emails, IP addresses, URIs, Fulcio otherName). */
  readonly subject?: string;
  /** Every SAN (emails, URIs, DNS names, IP addresses, Fulcio otherName), matched by the identity flags. */
  readonly sans: ReadonlyArray<string>;
  /** GitHub workflow extensions present (1.3.6.1.4.1.57264.1.2–.6, raw strings). */
  readonly githubWorkflow: Readonly<Partial<Record<'trigger' | 'sha' | 'name' | 'repository' | 'ref', string>>>;
}

function rawExt(cert: X509Certificate, oid: string): string | undefined {
  const e = cert.extension(oid);
  return e === undefined ? undefined : e.value.toString('utf8');
}

/** Summarise a certificate's identity fields (see {@link CertificateSummary}). */
export function certificateSummary(cert: X509Certificate): CertificateSummary {
  const emails: string[] = [];
  const uris: string[] = [];
  const others: string[] = [];
  const dns: string[] = [];
  const ips: string[] = [];
  for (const gn of cert.extSubjectAltName?.valueObj.subs[0]?.subs ?? []) {
    if (!gn.tag.isContextSpecific()) continue;
    switch (gn.tag.number) {
      case 0: {
        // otherName: OID, [0] EXPLICIT value (Fulcio: UTF8String)
        try {
          if (gn.subs[0]?.toOID() === OID.otherNameSan) {
            const v = gn.subs[1]?.subs[0]?.value.toString('utf8');
            if (v !== undefined) others.push(v);
          }
        } catch {
          // a malformed otherName names nobody
        }
        break;
      }
      case 1:
        emails.push(gn.value.toString('utf8'));
        break;
      case 2:
        dns.push(gn.value.toString('utf8'));
        break;
      case 6:
        uris.push(gn.value.toString('utf8'));
        break;
      case 7: {
        const b = gn.value;
        if (b.length === 4) ips.push([...b].join('.'));
        else if (b.length === 16) ips.push((b.toString('hex').match(/.{4}/g) ?? []).join(':'));
        break;
      }
      default:
        break;
    }
  }
  // cryptoutils.GetSubjectAlternateNames order: DNS names, emails, IP addresses, URIs, otherName.
  const sans = [...dns, ...emails, ...ips, ...uris, ...others];
  let issuer = rawExt(cert, OID.issuerV1);
  if (issuer === undefined) {
    const v2 = cert.extension(OID.issuerV2);
    issuer = v2?.valueObj.subs[0]?.value.toString('utf8');
  }
  const githubWorkflow: Partial<Record<'trigger' | 'sha' | 'name' | 'repository' | 'ref', string>> = {};
  for (const k of ['trigger', 'sha', 'name', 'repository', 'ref'] as const) {
    const v = rawExt(cert, OID[k]);
    if (v !== undefined) githubWorkflow[k] = v;
  }
  const subject = sans[0];
  return Object.freeze({
    ...(issuer === undefined ? {} : { issuer }),
    ...(subject === undefined ? {} : { subject }),
    sans: Object.freeze(sans),
    githubWorkflow: Object.freeze(githubWorkflow),
  });
}

/**
 * The `optional` fields `cosign verify` adds for a certificate (`PrintVerification`): `Subject`
 * (always, `""` without a SAN), `Issuer` and `1.3.6.1.4.1.57264.1.1`, and for each GitHub workflow
 * extension present both its name (`githubWorkflowTrigger`, …) and its OID (`1.3.6.1.4.1.57264.1.2`, …).
 */
export function certificateOutputFields(summary: CertificateSummary): Record<string, string> {
  const out: Record<string, string> = { Subject: summary.subject ?? '' };
  if (summary.issuer !== undefined && summary.issuer !== '') {
    out.Issuer = summary.issuer;
    out[OID.issuerV1] = summary.issuer;
  }
  const names = {
    trigger: 'githubWorkflowTrigger',
    sha: 'githubWorkflowSha',
    name: 'githubWorkflowName',
    repository: 'githubWorkflowRepository',
    ref: 'githubWorkflowRef',
  };
  for (const k of ['trigger', 'sha', 'name', 'repository', 'ref'] as const) {
    const v = summary.githubWorkflow[k];
    if (v !== undefined && v !== '') {
      out[names[k]] = v;
      out[OID[k]] = v;
    }
  }
  return out;
}

/**
 * Why `summary` does not satisfy `identity`, or undefined when it does. Exact values are compared
 * with string equality (never as regular expressions); the `-regexp` forms are unanchored searches;
 * the subject matches when any SAN does.
 */
export function identityMismatch(summary: CertificateSummary, identity: IdentityAuthority): string | undefined {
  if (identity.issuer !== undefined && summary.issuer !== identity.issuer) {
    return `expected oidc issuer not found in certificate: ${JSON.stringify(identity.issuer)} (certificate: ${JSON.stringify(summary.issuer ?? '')})`;
  }
  if (identity.issuerRegExp !== undefined && !compileIdentityRegExp(identity.issuerRegExp).test(summary.issuer ?? '')) {
    return `expected oidc issuer not found in certificate: /${identity.issuerRegExp}/ (certificate: ${JSON.stringify(summary.issuer ?? '')})`;
  }
  const gw = identity.githubWorkflow ?? {};
  for (const k of ['trigger', 'sha', 'name', 'repository', 'ref'] as const) {
    const want = gw[k];
    if (want !== undefined && summary.githubWorkflow[k] !== want) {
      return `expected GitHub workflow ${k} not found in certificate: ${JSON.stringify(want)} (certificate: ${JSON.stringify(summary.githubWorkflow[k] ?? '')})`;
    }
  }
  if (identity.subject !== undefined && !summary.sans.includes(identity.subject)) {
    return `none of the expected identities matched what was in the certificate: ${JSON.stringify(identity.subject)} (certificate: ${JSON.stringify(summary.sans.slice(0, 5))})`;
  }
  if (identity.subjectRegExp !== undefined) {
    const re = compileIdentityRegExp(identity.subjectRegExp);
    if (!summary.sans.some((s) => re.test(s))) {
      return `none of the expected identities matched what was in the certificate: /${identity.subjectRegExp}/ (certificate: ${JSON.stringify(summary.sans.slice(0, 5))})`;
    }
  }
  return undefined;
}

/**
 * Check a certificate against identities (any one suffices).
 * @returns the summary of the certificate.
 * @throws CosignError `IDENTITY_MISMATCH` with the reason of the first identity.
 */
export function checkIdentity(cert: X509Certificate, identities: ReadonlyArray<IdentityAuthority>): CertificateSummary {
  const summary = certificateSummary(cert);
  if (identities.length === 0)
    throw fail('IDENTITY_MISMATCH', 'no certificate identity to verify against (--certificate-identity and --certificate-oidc-issuer)');
  let first: string | undefined;
  for (const id of identities) {
    const why = identityMismatch(summary, id);
    if (why === undefined) return summary;
    first ??= why;
  }
  throw fail('IDENTITY_MISMATCH', first ?? 'certificate identity does not match');
}

/** A short description of an identity authority, for results. */
export function describeIdentity(a: IdentityAuthority): string {
  const subject = a.subject ?? `/${a.subjectRegExp ?? ''}/`;
  const issuer = a.issuer ?? `/${a.issuerRegExp ?? ''}/`;
  return `${subject} from ${issuer}`;
}

const verifiers = new WeakMap<SigstoreTrust, Map<string, Verifier>>();

/** The `@sigstore/verify` Verifier of a trust and thresholds, made once. */
function verifierFor(trust: SigstoreTrust, tlog: number, ctlog: number, timestamps: number): Verifier {
  let m = verifiers.get(trust);
  if (m === undefined) {
    m = new Map();
    verifiers.set(trust, m);
  }
  const k = `${tlog}/${ctlog}/${timestamps}`;
  let v = m.get(k);
  if (v === undefined) {
    const { Verifier } = sigstoreVerify();
    v = new Verifier(trust.material, { tlogThreshold: tlog, ctlogThreshold: ctlog, timestampThreshold: timestamps });
    m.set(k, v);
  }
  return v;
}

/** Map a `@sigstore/verify` error to a CosignError code. */
function mapVerifyError(e: unknown, what: string): never {
  if (isCosignError(e)) throw e;
  const code = (e as { code?: unknown }).code;
  const message = (e as Error).message ?? String(e);
  const cause = (e as { cause?: unknown }).cause;
  const detail = cause instanceof Error && cause.message !== '' ? `: ${cause.message}` : '';
  let c: CosignErrorCode = 'SIGNATURE_INVALID';
  if (code === 'CERTIFICATE_ERROR') c = 'CERTIFICATE_INVALID';
  else if (code === 'TLOG_ERROR' || code === 'TLOG_INCLUSION_PROOF_ERROR' || code === 'TLOG_INCLUSION_PROMISE_ERROR' || code === 'TLOG_BODY_ERROR')
    c = 'TLOG_INVALID';
  else if (code === 'TIMESTAMP_ERROR') c = 'SIGNATURE_INVALID';
  else if (code === 'PUBLIC_KEY_ERROR') c = 'SIGNATURE_INVALID';
  throw fail(c, `${what}: ${message}${detail}`, { cause: e, details: { sigstoreCode: typeof code === 'string' ? code : '' } });
}

function parseCert(pem: string, what: string): X509Certificate {
  try {
    return memoizeCertificate(sigstoreCore().X509Certificate.parse(pem));
  } catch (cause) {
    throw fail('CERTIFICATE_INVALID', `${what}: not a PEM X.509 certificate`, { cause });
  }
}

function checkCodeSigning(cert: X509Certificate): void {
  // Go's x509 (cosign's TrustedCert): a certificate without the extension may be used for anything.
  const eku = cert.extension(OID.extKeyUsage);
  if (eku === undefined) return;
  const ok = eku?.valueObj.subs[0]?.subs.some((s) => {
    try {
      return s.toOID() === OID.codeSigning || s.toOID() === '2.5.29.37.0';
    } catch {
      return false;
    }
  });
  if (ok !== true) throw fail('CERTIFICATE_INVALID', 'certificate: no CodeSigning extended key usage');
}

/**
 * `--insecure-ignore-sct`: `@sigstore/verify` checks every embedded SCT against the trusted CT logs
 * (and fails on one it cannot check) even with a threshold of 0. Its SCT check reads the
 * certificate's extensions from `clone()`, so a view whose clone has none makes it see no SCT; the
 * chain and signature checks use the certificate itself.
 */
function withoutSctCheck(cert: X509Certificate): X509Certificate {
  return Object.create(cert, { clone: { value: () => ({ extensions: [] }) } }) as X509Certificate;
}

/** Drop RFC 3161 timestamps when no TSA is trusted (sigstore-go skips timestamps it cannot verify; `@sigstore/verify` would fail). */
function dropUnverifiableTimestamps(entity: SignedEntity, trust: SigstoreTrust): SignedEntity {
  if (trust.material.timestampAuthorities.length > 0) return entity;
  return { ...entity, timestamps: entity.timestamps.filter((t) => t.$case !== 'timestamp-authority') };
}

/** What {@link verifyKeylessLayer} and {@link verifyKeylessSignature} found. */
export interface KeylessLayerResult {
  /** The leaf certificate's identity fields. */
  readonly certificate: CertificateSummary;
  /** The identity that matched. */
  readonly authority: string;
  /** True when a Rekor bundle was present and verified. */
  readonly tlogVerified: boolean;
  /** True when an RFC 3161 timestamp was present and verified. */
  readonly timestampVerified: boolean;
}

/**
 * The parts of one keyless signature, wherever they were read from: a legacy `.sig` layer (a
 * {@link SignatureLayer} is one), or cosign's legacy blob `--bundle` file (`../blob/verify.ts`).
 */
export interface KeylessSignatureParts {
  /** The signed bytes (the layer blob, or the blob itself). */
  readonly payload: Uint8Array;
  /** The raw signature over `payload`. */
  readonly signature: Uint8Array;
  /** The PEM leaf certificate the signature carries (replaced by {@link KeylessOptions.certificate}). */
  readonly certificate?: string;
  /** The Rekor bundle (SET and entry), when there is one. */
  readonly bundle?: RekorBundle;
  /** The RFC 3161 timestamp over the signature, when there is one. */
  readonly rfc3161Timestamp?: Rfc3161Timestamp;
  /**
   * The check of the Rekor entry body against this signature, replacing the hashedrekord/rekord check
   * (a legacy `.att` layer's entry is a `dsse` or `intoto` one: `checkDsseRekorBody`). Throws on a mismatch.
   */
  readonly checkTlogBody?: (bundle: RekorBundle, certificatePem: string) => void;
}

/**
 * Verify a legacy `.sig` layer signed keyless: certificate annotation, SET and entry body of the
 * Rekor bundle annotation (required unless `ignoreTlog`), RFC 3161 timestamp annotation (over the raw
 * signature), chain to a trusted Fulcio root at each verified time (integrated time, TSA time, else
 * now), CodeSigning usage, SCT, the signature over the payload (SHA-256) with the certificate's key,
 * and the identity. The chain annotation is not trusted: the trusted root's authorities carry the
 * intermediates (give `--certificate-chain` to trust a private chain).
 * @throws CosignError `CERTIFICATE_INVALID`, `TLOG_INVALID`, `SIGNATURE_INVALID`, `IDENTITY_MISMATCH`.
 */
export function verifyKeylessLayer(layer: SignatureLayer, identities: ReadonlyArray<IdentityAuthority>, o: KeylessOptions): KeylessLayerResult {
  return verifyKeylessSignature(layer, identities, o);
}

/**
 * Verify one keyless signature from its parts (see {@link verifyKeylessLayer}, which is this for a
 * `.sig` layer). The certificate is {@link KeylessOptions.certificate} when given, else the one the
 * signature carries. A certificate that is itself one of the trusted certificates (cosign
 * `--certificate cert.pem --certificate-chain cert.pem`: Go's x509 accepts a certificate found in the
 * root pool as a chain of one) is trusted as it is: its validity at each verified time, CodeSigning
 * usage, the signature and the identity are checked; it carries no SCT a log could vouch for, so
 * `ignoreSct` is required, and RFC 3161 timestamps are not supported with it.
 * @throws CosignError `CERTIFICATE_INVALID`, `TLOG_INVALID`, `SIGNATURE_INVALID`, `IDENTITY_MISMATCH`, `UNSUPPORTED`.
 */
export function verifyKeylessSignature(parts: KeylessSignatureParts, identities: ReadonlyArray<IdentityAuthority>, o: KeylessOptions): KeylessLayerResult {
  const certPem = o.certificate ?? parts.certificate;
  if (certPem === undefined) throw fail('SIGNATURE_INVALID', 'keyless verification: the signature has no certificate');
  const leaf = parseCert(certPem, o.certificate === undefined ? 'certificate annotation' : 'certificate');
  const timestamps: SignedEntity['timestamps'] = [];
  let tlogVerified = false;
  let integratedTime: number | undefined;
  if (parts.bundle !== undefined) {
    try {
      verifyRekorSET(parts.bundle, o.trust.rekorKeys);
      if (parts.checkTlogBody === undefined) {
        checkRekorBody(parts.bundle, { payload: parts.payload, signature: parts.signature, publicKeyOrCertPem: certPem });
      } else {
        parts.checkTlogBody(parts.bundle, certPem);
      }
    } catch (e) {
      if (isCosignError(e)) throw fail('TLOG_INVALID', e.message, { cause: e });
      throw e;
    }
    tlogVerified = true;
    integratedTime = parts.bundle.payload.integratedTime;
    const entry = {
      integratedTime: String(parts.bundle.payload.integratedTime),
      inclusionPromise: { signedEntryTimestamp: Buffer.from(parts.bundle.signedEntryTimestamp) },
      logId: { keyId: Buffer.from(parts.bundle.payload.logID, 'hex') },
    } as unknown as TransparencyLogEntry;
    timestamps.push({ $case: 'transparency-log', tlogEntry: entry });
  } else if (o.ignoreTlog !== true) {
    throw fail('TLOG_INVALID', 'no transparency-log bundle on the signature (signed with --tlog-upload=false? verify with --insecure-ignore-tlog=true)');
  }
  const pinned = isTrustedAsIs(leaf, o.trust);
  let timestampVerified = false;
  if (parts.rfc3161Timestamp !== undefined) {
    if (pinned) throw fail('UNSUPPORTED', 'RFC 3161 timestamps with a certificate trusted as it is (no chain to a root)');
    try {
      timestamps.push({
        $case: 'timestamp-authority',
        timestamp: sigstoreCore().RFC3161Timestamp.parse(Buffer.from(parts.rfc3161Timestamp.signedRfc3161Timestamp)),
      });
    } catch (cause) {
      throw fail('SIGNATURE_INVALID', 'RFC 3161 timestamp annotation: does not parse', { cause });
    }
    timestampVerified = true;
  } else if (o.requireTimestamp === true) {
    throw fail('SIGNATURE_INVALID', 'no RFC 3161 timestamp on the signature');
  }
  checkCodeSigning(leaf);
  const sig = Buffer.from(parts.signature);
  const payload = parts.payload;
  const verifySig = (key: import('node:crypto').KeyObject): boolean => new PublicKeyVerifier(key, 'certificate key', { hash: 'sha256' }).verify(payload, sig);
  if (pinned) {
    // cosign: with neither an integrated time nor a signed timestamp, the certificate must be valid now.
    const at = integratedTime === undefined ? (o.now ?? new Date()) : new Date(integratedTime * 1000);
    checkPinned(leaf, at, o, verifySig);
  } else {
    if (timestamps.length === 0) timestamps.push(timeAt(o.now ?? new Date()));
    const entity: SignedEntity = {
      signature: {
        signature: sig,
        compareSignature: (s: Buffer) => s.byteLength === sig.byteLength && timingSafeEqual(s, sig),
        compareDigest: (d: Buffer) => {
          const h = createHash('sha256').update(payload).digest();
          return d.byteLength === h.byteLength && timingSafeEqual(d, h);
        },
        compareSignedDigest: () => false,
        verifySignature: verifySig,
      },
      key: { $case: 'certificate', certificate: o.ignoreSct === true ? withoutSctCheck(leaf) : leaf },
      tlogEntries: [],
      timestamps,
    };
    try {
      verifierFor(o.trust, 0, o.ignoreSct === true ? 0 : 1, 0).verify(entity);
    } catch (e) {
      mapVerifyError(e, 'keyless signature');
    }
  }
  const summary = checkIdentity(leaf, identities);
  const matched = identities.find((id) => identityMismatch(summary, id) === undefined);
  return { certificate: summary, authority: matched === undefined ? 'certificate' : describeIdentity(matched), tlogVerified, timestampVerified };
}

/** A transparency-log "timestamp" at `at` that `@sigstore/verify` takes as given (no SET is checked with a tlog threshold of 0). */
function timeAt(at: Date): SignedEntity['timestamps'][number] {
  const entry = {
    integratedTime: String(Math.floor(at.getTime() / 1000)),
    inclusionPromise: { signedEntryTimestamp: Buffer.alloc(0) },
    logId: { keyId: Buffer.alloc(0) },
  } as unknown as TransparencyLogEntry;
  return { $case: 'transparency-log', tlogEntry: entry };
}

/** True when `leaf` is, byte for byte, one of the certificates of a trusted certificate authority. */
function isTrustedAsIs(leaf: X509Certificate, trust: SigstoreTrust): boolean {
  return trust.material.certificateAuthorities.some((ca) => ca.certChain.some((c) => c.equals(leaf)));
}

/** The checks of a certificate trusted as it is: SCT waived by the caller, validity at `at`, signature. */
function checkPinned(leaf: X509Certificate, at: Date, o: KeylessOptions, verifySig: ((key: import('node:crypto').KeyObject) => boolean) | undefined): void {
  if (o.ignoreSct !== true) {
    throw fail(
      'CERTIFICATE_INVALID',
      'certificate trusted as it is (it is in the trusted certificates): no SCT can be checked; verify with --insecure-ignore-sct=true',
    );
  }
  if (!leaf.validForDate(at))
    throw fail(
      'CERTIFICATE_INVALID',
      `certificate: not valid at ${at.toISOString()} (valid ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()})`,
    );
  if (verifySig !== undefined) {
    let key: import('node:crypto').KeyObject;
    try {
      key = createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' });
    } catch (cause) {
      throw fail('CERTIFICATE_INVALID', 'certificate: its public key does not parse', { cause });
    }
    if (!verifySig(key)) throw fail('SIGNATURE_INVALID', 'keyless signature: signature verification failed');
  }
}

/**
 * Check a certificate alone, without a signature, as the verifier checks a signing certificate: chain
 * to a certificate authority of the trust at `o.now` (default now), CodeSigning usage, SCT (unless
 * `ignoreSct`), then the identity. A certificate that is itself trusted is checked as in
 * {@link verifyKeylessSignature}.
 * @returns the summary of the certificate.
 * @throws CosignError `CERTIFICATE_INVALID`, `IDENTITY_MISMATCH`.
 */
export function verifyCertificate(certPem: string, identities: ReadonlyArray<IdentityAuthority>, o: KeylessOptions): CertificateSummary {
  const leaf = parseCert(certPem, 'certificate');
  const at = o.now ?? new Date();
  checkCodeSigning(leaf);
  if (isTrustedAsIs(leaf, o.trust)) {
    checkPinned(leaf, at, o, undefined);
  } else {
    const entity: SignedEntity = {
      // No signature: only the certificate is examined (the Verifier's signature step has nothing to check).
      signature: {
        signature: Buffer.alloc(0),
        compareSignature: () => false,
        compareDigest: () => false,
        compareSignedDigest: () => false,
        verifySignature: () => true,
      },
      key: { $case: 'certificate', certificate: o.ignoreSct === true ? withoutSctCheck(leaf) : leaf },
      tlogEntries: [],
      timestamps: [timeAt(at)],
    };
    try {
      verifierFor(o.trust, 0, o.ignoreSct === true ? 0 : 1, 0).verify(entity);
    } catch (e) {
      mapVerifyError(e, 'certificate');
    }
  }
  return checkIdentity(leaf, identities);
}

/** Options of {@link verifySigstoreBundle}. */
export interface BundleVerifyOptions extends KeylessOptions {
  /** The artifact bytes, for a message-signature bundle (a DSSE bundle signs its own payload). */
  readonly artifact?: Uint8Array;
  /** For a bundle signed with a key (`publicKey` hint): the keys it may verify with. */
  readonly keys?: ReadonlyArray<import('node:crypto').KeyObject>;
}

/** What {@link verifySigstoreBundle} found. */
export interface BundleVerification {
  /** The certificate's identity fields (absent for a key-signed bundle). */
  readonly certificate?: CertificateSummary;
  /** The identity (or `key`) that matched. */
  readonly authority: string;
  /** Number of transparency-log entries verified. */
  readonly tlogEntries: number;
}

/**
 * Verify a Sigstore bundle (v0.1 to v0.3, message signature or DSSE) with `@sigstore/verify`:
 * transparency-log entries (inclusion proof and checkpoint, or SET; the body against the signature
 * and key), RFC 3161 timestamps, the certificate chain and SCT at those times, and the signature;
 * then the certificate identity. At least one verified time is required (an integrated time or a
 * TSA timestamp), and a tlog entry unless `ignoreTlog`.
 * @param bundleJson the parsed bundle JSON.
 * @throws CosignError `BAD_BUNDLE`, `CERTIFICATE_INVALID`, `TLOG_INVALID`, `SIGNATURE_INVALID`, `IDENTITY_MISMATCH`.
 */
export function verifySigstoreBundle(bundleJson: unknown, identities: ReadonlyArray<IdentityAuthority>, o: BundleVerifyOptions): BundleVerification {
  const lib = sigstoreBundle();
  let bundle: ReturnType<typeof lib.bundleFromJSON>;
  try {
    bundle = lib.bundleFromJSON(bundleJson);
  } catch (e) {
    const fields = e instanceof lib.ValidationError ? e.fields : [];
    throw fail('BAD_BUNDLE', `Sigstore bundle: ${fields.length > 0 ? `${fields.join(', ')}: ` : ''}${(e as Error).message}`, { cause: e });
  }
  const v = sigstoreVerify();
  let entity: SignedEntity;
  try {
    entity = v.toSignedEntity(bundle, o.artifact === undefined ? undefined : Buffer.from(o.artifact));
  } catch (e) {
    throw fail('BAD_BUNDLE', `Sigstore bundle: ${(e as Error).message}`, { cause: e });
  }
  let trust = o.trust;
  entity = dropUnverifiableTimestamps(entity, trust);
  if (entity.key.$case === 'certificate') entity = { ...entity, key: { $case: 'certificate', certificate: memoizeCertificate(entity.key.certificate) } };
  if (o.certificate !== undefined && (entity.key.$case !== 'certificate' || !entity.key.certificate.equals(parseCert(o.certificate, 'certificate')))) {
    throw fail('CERTIFICATE_INVALID', 'Sigstore bundle: not signed with the given certificate');
  }
  if (entity.key.$case === 'certificate' && o.ignoreSct === true)
    entity = { ...entity, key: { $case: 'certificate', certificate: withoutSctCheck(entity.key.certificate) } };
  if (entity.key.$case === 'public-key') {
    const keys = o.keys ?? [];
    if (keys.length === 0) throw fail('SIGNATURE_INVALID', 'Sigstore bundle: signed with a key, and no key was given to verify it');
    const material = { ...trust.material, publicKey: () => ({ publicKey: keys[0] as import('node:crypto').KeyObject, validFor: () => true }) };
    trust = { ...trust, material };
    if (keys.length > 1) {
      let lastErr: unknown;
      for (const k of keys) {
        try {
          return verifySigstoreBundle(bundleJson, identities, { ...o, keys: [k] });
        } catch (e) {
          lastErr = e;
        }
      }
      throw lastErr;
    }
  }
  const tlogThreshold = o.ignoreTlog === true ? 0 : 1;
  const verifier = verifierFor(trust, tlogThreshold, entity.key.$case === 'certificate' && o.ignoreSct !== true ? 1 : 0, 1);
  try {
    verifier.verify(entity);
  } catch (e) {
    // Like sigstore-go, an RFC 3161 timestamp that does not verify is not counted (nor fatal): retry
    // without them; the threshold of one verified time still applies.
    const tsa = entity.timestamps.some((t) => t.$case === 'timestamp-authority');
    if (!tsa || (e as { code?: unknown }).code !== 'TIMESTAMP_ERROR' || o.requireTimestamp === true) mapVerifyError(e, 'Sigstore bundle');
    try {
      verifier.verify({ ...entity, timestamps: entity.timestamps.filter((t) => t.$case !== 'timestamp-authority') });
    } catch (e2) {
      mapVerifyError(e2, 'Sigstore bundle');
    }
  }
  if (entity.key.$case !== 'certificate') return { authority: 'key', tlogEntries: entity.tlogEntries.length };
  checkCodeSigning(entity.key.certificate);
  const summary = checkIdentity(entity.key.certificate, identities);
  const matched = identities.find((id) => identityMismatch(summary, id) === undefined);
  return { certificate: summary, authority: matched === undefined ? 'certificate' : describeIdentity(matched), tlogEntries: entity.tlogEntries.length };
}

/** {@link verifySigstoreBundle} from the bundle's bytes (strict JSON). */
export function verifySigstoreBundleBytes(bytes: Uint8Array, identities: ReadonlyArray<IdentityAuthority>, o: BundleVerifyOptions): BundleVerification {
  if (bytes.byteLength > 16 * 1024 * 1024) throw fail('TOO_LARGE', 'Sigstore bundle: over 16 MiB');
  return verifySigstoreBundle(parseJson(bytes, 'Sigstore bundle', 'BAD_BUNDLE'), identities, o);
}
