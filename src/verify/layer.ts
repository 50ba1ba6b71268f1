/**
 * `verifyLayer`: the pure, synchronous heart of verification. No network: callers verify layers
 * fetched from a registry, read from files, or kept in a cache, with the same function.
 *
 * @module
 */
import type { SignatureLayer } from '../artifact/layer.js';
import { SIMPLE_SIGNING_MEDIA_TYPE } from '../artifact/media-types.js';
import { checkRekorBody, verifyRekorSET, type RekorKey } from '../artifact/rekor.js';
import { CosignError, fail, isCosignError, type CosignErrorCode } from '../errors.js';
import { checkClaims, parsePayload, type ClaimExpectations, type SimpleSigningPayload } from '../payload/payload.js';
import { authorityVerifier, type Authority, type IdentityAuthority, type KeyAuthority } from './authority.js';
import { isSigstoreBundleMediaType, verifyBundleLayer } from './bundle.js';
import { verifyKeylessLayer, type CertificateSummary, type KeylessOptions } from './keyless.js';

/** Transparency-log handling for key-based signatures (offline: the bundle annotation's SET). */
export interface TlogOptions {
  /** Trusted Rekor keys for SET verification. */
  readonly rekorKeys?: ReadonlyArray<RekorKey>;
  /**
   * Require a verified Rekor bundle on every signature. Default false, which matches
   * `cosign verify --insecure-ignore-tlog` (a bundle that *is* present is still checked when
   * `rekorKeys` are given).
   */
  readonly required?: boolean;
}

/** What a signature must satisfy besides a valid signature. */
export interface LayerExpectations extends ClaimExpectations {
  /** Transparency-log checks. */
  readonly tlog?: TlogOptions;
  /**
   * The `docker-reference` printed for a Sigstore bundle signature (cosign 3 prints the reference
   * as given on its command line; the bundle names none). Unused for legacy signatures.
   */
  readonly dockerReference?: string;
  /**
   * Keyless (certificate identity) verification: the trust material and options. Needed when an
   * authority is an {@link IdentityAuthority}; without it such signatures fail with `UNSUPPORTED`.
   */
  readonly keyless?: KeylessOptions;
}

/** A signature that verified, with what it verified against. */
export interface VerifiedSignature {
  /** The layer (descriptor, exact payload bytes, decoded annotations). */
  readonly layer: SignatureLayer;
  /** The parsed payload. */
  readonly payload: SimpleSigningPayload;
  /** `keyRef` of the authority that verified it. */
  readonly authority: string;
  /** True when a Rekor bundle was present and its SET verified offline. */
  readonly tlogVerified: boolean;
  /**
   * `bundle` for a cosign v3 Sigstore bundle (the layer's blob is the bundle, `payload` is what
   * cosign 3 prints for it); absent for a legacy simple-signing layer.
   */
  readonly format?: 'bundle';
  /** Keyless signatures: the identity fields of the signing certificate (what cosign prints). */
  readonly certificate?: CertificateSummary;
}

/** Why one layer did not verify. */
export interface LayerFailure {
  /** Layer digest. */
  readonly digest: string;
  /** Error code: `SIGNATURE_INVALID`, `DIGEST_MISMATCH`, `ANNOTATION_MISMATCH`, `BAD_PAYLOAD`, … */
  readonly code: CosignErrorCode;
  /** Human-readable reason. */
  readonly reason: string;
}

/** Outcome of {@link verifyLayer}. */
export type LayerResult = { readonly ok: true; readonly signature: VerifiedSignature } | ({ readonly ok: false } & LayerFailure);

/**
 * Verify one signature layer against a set of authorities (any one suffices) and the expectations.
 * Order of checks: layer media type, signature (cheapest rejection of foreign signatures first is
 * not possible without the key, so the signature comes before parsing), payload parse, claims,
 * transparency log. Never throws for a bad layer: the reason comes back in the result.
 * A layer whose media type is a Sigstore bundle's (cosign v3) is verified by `verifyBundleLayer`.
 */
export function verifyLayer(layer: SignatureLayer, authorities: ReadonlyArray<Authority>, expectations: LayerExpectations): LayerResult {
  if (isSigstoreBundleMediaType(layer.descriptor.mediaType)) return verifyBundleLayer(layer, authorities, expectations);
  const digest = layer.descriptor.digest;
  try {
    if (layer.descriptor.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) {
      throw fail('TYPE_MISMATCH', `layer media type is ${JSON.stringify(layer.descriptor.mediaType.slice(0, 200))}, not a cosign simple-signing signature`);
    }
    let matched: KeyAuthority | undefined;
    const identities: IdentityAuthority[] = [];
    for (const a of authorities) {
      if (a.kind === 'key') {
        if (authorityVerifier(a).verify(layer.payload, layer.signature)) {
          matched = a;
          break;
        }
      } else {
        identities.push(a);
      }
    }
    if (matched === undefined) {
      if (identities.length > 0 && (layer.certificate !== undefined || !authorities.some((a) => a.kind === 'key'))) {
        return verifyKeylessSimpleSigning(layer, identities, expectations);
      }
      throw fail('SIGNATURE_INVALID', `signature does not verify with ${authorities.length === 1 ? 'the key' : `any of the ${authorities.length} keys`}`);
    }
    const payload = parsePayload(layer.payload);
    checkClaims(payload, expectations);
    let tlogVerified = false;
    const tlog = expectations.tlog;
    if (layer.bundle !== undefined && tlog?.rekorKeys !== undefined) {
      verifyRekorSET(layer.bundle, tlog.rekorKeys);
      checkRekorBody(layer.bundle, { payload: layer.payload, signature: layer.signature, publicKeyOrCertPem: matched.publicKey });
      tlogVerified = true;
    } else if (tlog?.required === true) {
      throw fail(
        'SIGNATURE_INVALID',
        layer.bundle === undefined
          ? 'no transparency-log bundle on the signature (signed with --tlog-upload=false?)'
          : 'a transparency-log bundle is present but no Rekor key was given to check it',
      );
    }
    return { ok: true, signature: { layer, payload, authority: matched.keyRef, tlogVerified } };
  } catch (e) {
    if (isCosignError(e)) return { ok: false, digest, code: e.code, reason: e.message };
    const err = new CosignError('BAD_SIGNATURE_LAYER', `unexpected failure verifying layer: ${(e as Error).message}`, { cause: e });
    return { ok: false, digest, code: err.code, reason: err.message };
  }
}

/** A legacy simple-signing layer signed keyless: certificate, Rekor bundle, timestamp, identity. */
function verifyKeylessSimpleSigning(layer: SignatureLayer, identities: ReadonlyArray<IdentityAuthority>, expectations: LayerExpectations): LayerResult {
  if (expectations.keyless === undefined) {
    throw fail('UNSUPPORTED', 'keyless (certificate identity) verification needs trust material (a trusted root, TUF or SIGSTORE_* files)');
  }
  const r = verifyKeylessLayer(layer, identities, expectations.keyless);
  const payload = parsePayload(layer.payload);
  checkClaims(payload, expectations);
  return { ok: true, signature: { layer, payload, authority: r.authority, tlogVerified: r.tlogVerified, certificate: r.certificate } };
}
