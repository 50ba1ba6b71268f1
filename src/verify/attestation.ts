/**
 * `verifyAttestations`: verification of an image's attestations, with a key like
 * `cosign verify-attestation --key … --insecure-ignore-tlog=true` in cosign 3.1, or keyless like
 * `cosign verify-attestation --certificate-identity … --certificate-oidc-issuer …`: Sigstore bundles
 * attached as OCI 1.1 referrers first (cosign 3's format; referrers API, else the fallback tag index),
 * and only when there is none, the legacy DSSE envelopes under the `sha256-<hex>.att` tag.
 *
 * Each DSSE envelope's signature is checked over PAE(payloadType, payload) with the key; its in-toto
 * statement (v0.1 or v1) must name the image's digest as a subject; a predicate-type filter and a
 * caller hook (`checkPredicate`) decide the rest. Failures are typed verdicts
 * ({@link AttestationRejection}), not exceptions. With a key, transparency-log entries are not
 * checked (as with `--insecure-ignore-tlog`).
 *
 * Keyless (`identities` and `keyless`): a bundle with a certificate is verified completely by
 * `verifySigstoreBundleBytes` (tlog entry, timestamps, chain, SCT, DSSE signature, identity), as a
 * keyless cosign 3 signature is; a legacy `.att` layer by `verifyKeylessSignature` from its
 * annotations (certificate, Rekor bundle): the signature over PAE(payloadType, payload), the chain and
 * SCT at the integrated time, the identity, and the Rekor SET with a `dsse` v0.0.1 (cosign 2.5) or
 * `intoto` v0.0.2 entry whose certificate is the signer's and whose hash is the envelope's
 * (`checkDsseRekorBody`). RFC 3161
 * timestamps on `.att` layers are refused (`UNSUPPORTED`).
 *
 * Upstream: sigstore/cosign `pkg/cosign/verify.go` (`VerifyImageAttestations`, `GetBundles`),
 * `cmd/cosign/cli/verify/verify_attestation.go`.
 *
 * @module
 */
import { parseSignatureManifest } from '../artifact/image.js';
import { DSSE_ENVELOPE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE } from '../artifact/media-types.js';
import { signatureTag } from '../artifact/tags.js';
import type { Digest } from '../digest.js';
import { fail, isCosignError, type CosignErrorCode } from '../errors.js';
import { schema, sigstoreCore } from '../internal/deps.js';
import { parseJson } from '../json/strict.js';
import type { SignatureVerifier } from '../keys/signer.js';
import type { RegistryReader } from '../oci/client.js';
import { parseReference, repositoryOption, withDigest, withTag, type ImageReference } from '../reference.js';
import { predicateType as mapPredicateType } from '../sign/attestation.js';
import { checkDsseRekorBody } from '../artifact/rekor.js';
import { parseSignatureLayer } from '../artifact/layer.js';
import type { IdentityAuthority } from './authority.js';
import { parseCosignBundle, parseInTotoStatement } from './bundle.js';
import { verifyKeylessSignature, verifySigstoreBundleBytes, type CertificateSummary, type KeylessOptions } from './keyless.js';
import { referrerBundleSource } from './source.js';

/** Largest attestation (DSSE envelope or Sigstore bundle) read: SBOMs can be big. */
export const MAX_ATTESTATION_BYTES = 32 * 1024 * 1024;
/** Largest number of legacy `.att` layers looked at (cosign refuses more than 1000). */
const MAX_ATT_LAYERS = 1000;

/** in-toto Statement `_type`s accepted: v0.1 (what cosign `attest` writes) and v1. */
const STATEMENT_TYPES = ['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'] as const;

/** A decoded in-toto statement (only the fields checked are typed). */
export interface AttestationStatement {
  /** `https://in-toto.io/Statement/v0.1` or `…/v1`. */
  readonly _type: string;
  /** The predicate type (a URI). */
  readonly predicateType: string;
  /** The subjects: one names the image digest. */
  readonly subject: ReadonlyArray<{
    readonly name?: string;
    readonly digest: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, unknown>>;
  }>;
  /** The predicate, as parsed JSON. */
  readonly predicate: unknown;
}

/** Where an attestation was stored. */
export type AttestationFormat = 'bundle' | 'legacy';

/** Options for {@link verifyAttestations}. */
export interface VerifyAttestationsOptions {
  /** The registry client. */
  readonly client: RegistryReader;
  /** The verification key (e.g. `new PublicKeyVerifier(key, 'cosign.pub')`); or `identities` and `keyless`. */
  readonly verifier?: SignatureVerifier;
  /** Keyless: the certificate identities accepted (any one), from `identityAuthority`. Needs `keyless`. */
  readonly identities?: ReadonlyArray<IdentityAuthority>;
  /** Keyless: the trust material and options (as for `verifyImage`). Needs `identities`. */
  readonly keyless?: KeylessOptions;
  /** Only attestations of this predicate type (short name or URI, as `--type`). Default: any. */
  readonly type?: string;
  /** Only attestations of one of these predicate types (short names or URIs). Combined with `type` (both must hold). */
  readonly types?: ReadonlyArray<string>;
  /** The caller's check of a statement; false (or a throw) rejects that attestation. */
  readonly checkPredicate?: (statement: AttestationStatement, attestation: { readonly format: AttestationFormat }) => boolean | Promise<boolean>;
  /**
   * Where to look. `auto` (default, as cosign 3): the referrer bundles, and the `.att` tag only when
   * the image has none; `bundle` or `legacy`: only that one.
   */
  readonly format?: 'auto' | AttestationFormat;
  /** Where attestations are stored, like `COSIGN_REPOSITORY`. */
  readonly signatureRepository?: string | ImageReference;
  /** Abort. */
  readonly signal?: AbortSignal;
}

/** One attestation that verified. */
export interface VerifiedAttestation {
  /**
   * The DSSE envelope JSON (what `cosign verify-attestation` prints, one per line): as stored for a
   * legacy layer; for a bundle, the bundle's envelope as cosign 3 prints it
   * (`{"payload","payloadType","signatures":[{"sig"}]}`).
   */
  readonly envelope: Uint8Array;
  /** The decoded statement. */
  readonly statement: AttestationStatement;
  /** Where it was stored. */
  readonly format: AttestationFormat;
  /** Digest of the layer (the `.att` layer, or the bundle blob). */
  readonly digest: Digest;
  /** Keyless: the signing certificate's identity fields. */
  readonly certificate?: CertificateSummary;
  /** Keyless: true when a transparency-log entry was verified. */
  readonly tlogVerified?: boolean;
}

/** Why one attestation was rejected. */
export interface AttestationRejection {
  /** Digest of the layer (the `.att` layer, or the bundle blob or referrer manifest). */
  readonly digest: Digest;
  /** Where it was stored. */
  readonly format: AttestationFormat;
  /**
   * `SIGNATURE_INVALID` (no signature verifies with the key), `DIGEST_MISMATCH` (no subject names the
   * image), `TYPE_MISMATCH` (predicate type filtered out, or a wrong media/payload type),
   * `POLICY_INVALID` (`checkPredicate` said no), `IDENTITY_MISMATCH`, `CERTIFICATE_INVALID`,
   * `TLOG_INVALID` (keyless), `UNSUPPORTED`, `BAD_BUNDLE` /
   * `BAD_PAYLOAD` (malformed), `TOO_LARGE`, `NOT_FOUND` (blob missing).
   */
  readonly code: CosignErrorCode;
  /** Human-readable reason. */
  readonly reason: string;
  /** The statement's predicate type, when the signature verified and it was filtered out by type. */
  readonly predicateType?: string;
}

/** Result of {@link verifyAttestations}: `ok` when at least one attestation verified. */
export interface VerifyAttestationsResult {
  /** True when at least one attestation verified and passed the filters. */
  readonly ok: boolean;
  /** The image digest. */
  readonly digest: Digest;
  /** Where the attestations looked at were found; undefined when the image has none. */
  readonly format?: AttestationFormat;
  /** The attestations that verified, in listing order. */
  readonly verified: ReadonlyArray<VerifiedAttestation>;
  /** Why each other attestation was rejected. */
  readonly rejected: ReadonlyArray<AttestationRejection>;
}

function parseStatement(bytes: Uint8Array): AttestationStatement {
  return parseInTotoStatement(bytes, 'in-toto statement', STATEMENT_TYPES) as AttestationStatement;
}

const EnvelopeSchema = schema((z) =>
  z.object({
    payloadType: z.string(),
    payload: z.string(),
    signatures: z.array(z.object({ sig: z.string(), keyid: z.string().optional() })).min(1),
  }),
);

function decodeEnvelope(bytes: Uint8Array): { payloadType: string; payload: Uint8Array; sigs: Uint8Array[] } {
  const parsed = EnvelopeSchema().safeParse(parseJson(bytes, 'DSSE envelope', 'BAD_BUNDLE'));
  if (!parsed.success) throw fail('BAD_BUNDLE', 'DSSE envelope: payloadType, payload and signatures (with sig) are required');
  const v = parsed.data;
  return {
    payloadType: v.payloadType,
    payload: new Uint8Array(Buffer.from(v.payload, 'base64')),
    sigs: v.signatures.map((s) => new Uint8Array(Buffer.from(s.sig, 'base64'))),
  };
}

interface Filters {
  readonly digest: Digest;
  readonly verifier: SignatureVerifier | undefined;
  readonly keyless: { readonly identities: ReadonlyArray<IdentityAuthority>; readonly options: KeylessOptions } | undefined;
  readonly wantTypes: ReadonlyArray<ReadonlySet<string>>;
  readonly checkPredicate: VerifyAttestationsOptions['checkPredicate'];
}

function paeOf(env: { payloadType: string; payload: Uint8Array }): Uint8Array {
  return new Uint8Array(sigstoreCore().dsse.preAuthEncoding(env.payloadType, Buffer.from(env.payload)));
}

/**
 * The checks shared by both formats, after decoding: signature (with the key, unless `signatureVerified`:
 * the keyless paths verify it themselves), subject, type, caller hook.
 */
async function checkEnvelope(
  format: AttestationFormat,
  env: { payloadType: string; payload: Uint8Array; sigs: ReadonlyArray<Uint8Array> },
  f: Filters,
  signatureVerified = false,
): Promise<AttestationStatement> {
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw fail('TYPE_MISMATCH', `DSSE payloadType ${JSON.stringify(env.payloadType.slice(0, 200))}`);
  if (!signatureVerified) {
    const verifier = f.verifier;
    if (verifier === undefined) throw fail('SIGNATURE_INVALID', 'the attestation is signed with a key and no key was given');
    const pae = paeOf(env);
    let good = false;
    for (const s of env.sigs) {
      if ((await verifier.verify(pae, s)) === true) {
        good = true;
        break;
      }
    }
    if (!good) throw fail('SIGNATURE_INVALID', 'no DSSE signature verifies with the key');
  }
  const st = parseStatement(env.payload);
  const [alg, hex] = f.digest.split(':') as [string, string];
  if (!st.subject.some((s) => s.digest[alg] === hex)) throw fail('DIGEST_MISMATCH', `no statement subject names ${f.digest}`);
  for (const want of f.wantTypes) {
    if (!want.has(st.predicateType)) {
      throw fail('TYPE_MISMATCH', `predicate type ${JSON.stringify(st.predicateType.slice(0, 200))} is not ${[...want].join(' or ')}`, {
        details: { predicateType: st.predicateType },
      });
    }
  }
  if (f.checkPredicate !== undefined) {
    let accepted: boolean;
    try {
      accepted = (await f.checkPredicate(st, { format })) === true;
    } catch (e) {
      throw fail('POLICY_INVALID', `rejected by checkPredicate: ${(e as Error).message}`, { cause: e });
    }
    if (!accepted) throw fail('POLICY_INVALID', 'rejected by checkPredicate');
  }
  return st;
}

function rejection(format: AttestationFormat, digest: Digest, e: unknown): AttestationRejection {
  if (!isCosignError(e)) throw e;
  const type = (e.details as { predicateType?: unknown } | undefined)?.predicateType;
  return { digest, format, code: e.code, reason: e.message, ...(e.code === 'TYPE_MISMATCH' && typeof type === 'string' ? { predicateType: type } : {}) };
}

/** The envelope of a bundle as cosign 3 prints it (protojson field order, empty key ids left out). */
function bundleEnvelopeJson(payloadType: string, payload: Uint8Array, sigs: ReadonlyArray<Uint8Array>): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      payload: Buffer.from(payload).toString('base64'),
      payloadType,
      signatures: sigs.map((s) => ({ sig: Buffer.from(s).toString('base64') })),
    }),
  );
}

/** Verify the referrer bundles; `undefined` when the image has none. */
async function verifyBundles(
  client: RegistryReader,
  ref: ImageReference,
  digest: Digest,
  f: Filters,
  options: VerifyAttestationsOptions,
): Promise<{ verified: VerifiedAttestation[]; rejected: AttestationRejection[] } | undefined> {
  const source = referrerBundleSource(client, options.signatureRepository === undefined ? {} : { signatureRepository: options.signatureRepository });
  const verified: Array<VerifiedAttestation | undefined> = [];
  const rejected: Array<AttestationRejection | undefined> = [];
  try {
    await source.read(
      ref,
      digest,
      async (entry, i) => {
        if (!entry.ok) {
          rejected[i] = { digest: entry.digest as Digest, format: 'bundle', code: entry.code, reason: entry.reason };
          return;
        }
        const layerDigest = entry.layer.descriptor.digest;
        try {
          const bundle = parseCosignBundle(entry.layer.payload, `Sigstore bundle ${layerDigest}`);
          let keyless: { certificate?: CertificateSummary; tlogVerified: boolean } | undefined;
          if (bundle.hasCertificate) {
            if (f.keyless === undefined) throw fail('UNSUPPORTED', 'keyless (certificate) Sigstore bundle: verify with certificate identities, not a key');
            if (bundle.payloadType !== IN_TOTO_PAYLOAD_TYPE)
              throw fail('TYPE_MISMATCH', `DSSE payloadType ${JSON.stringify(bundle.payloadType.slice(0, 200))}`);
            const r = verifySigstoreBundleBytes(entry.layer.payload, f.keyless.identities, f.keyless.options);
            keyless = { ...(r.certificate === undefined ? {} : { certificate: r.certificate }), tlogVerified: r.tlogEntries > 0 };
          }
          const env = { payloadType: bundle.payloadType, payload: bundle.payload, sigs: bundle.signatures };
          const statement = await checkEnvelope('bundle', env, f, keyless !== undefined);
          verified[i] = {
            envelope: bundleEnvelopeJson(bundle.payloadType, bundle.payload, bundle.signatures),
            statement,
            format: 'bundle',
            digest: layerDigest,
            ...(keyless ?? {}),
          };
        } catch (e) {
          rejected[i] = rejection('bundle', layerDigest, e);
        }
      },
      { maxPayloadBytes: MAX_ATTESTATION_BYTES, concurrency: 4, ...(options.signal === undefined ? {} : { signal: options.signal }) },
    );
  } catch (e) {
    if (isCosignError(e, 'NO_SIGNATURES')) return undefined;
    throw e;
  }
  return {
    verified: verified.filter((v): v is VerifiedAttestation => v !== undefined),
    rejected: rejected.filter((r): r is AttestationRejection => r !== undefined),
  };
}

/**
 * Keyless checks of a legacy `.att` layer that carries a certificate annotation; `undefined` for a
 * layer without one (left to the key, if any).
 */
function verifyLegacyKeyless(
  descriptor: ReturnType<typeof parseSignatureManifest>['layers'][number],
  envelope: Uint8Array,
  env: { payloadType: string; payload: Uint8Array; sigs: ReadonlyArray<Uint8Array> },
  k: NonNullable<Filters['keyless']>,
): { certificate: CertificateSummary; tlogVerified: boolean } | undefined {
  const layer = parseSignatureLayer(descriptor, envelope, { mediaTypes: [DSSE_ENVELOPE_MEDIA_TYPE], maxBytes: MAX_ATTESTATION_BYTES });
  if (layer.certificate === undefined && k.options.certificate === undefined) return undefined;
  if (layer.rfc3161Timestamp !== undefined) throw fail('UNSUPPORTED', 'RFC 3161 timestamps on keyless .att layers are not verified by cosign-ts');
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw fail('TYPE_MISMATCH', `DSSE payloadType ${JSON.stringify(env.payloadType.slice(0, 200))}`);
  if (env.sigs.length !== 1) throw fail('SIGNATURE_INVALID', 'keyless attestation: exactly one DSSE signature expected');
  const r = verifyKeylessSignature(
    {
      payload: paeOf(env),
      signature: env.sigs[0] as Uint8Array,
      ...(layer.certificate === undefined ? {} : { certificate: layer.certificate }),
      ...(layer.bundle === undefined ? {} : { bundle: layer.bundle }),
      checkTlogBody: (bundle, certificatePem) =>
        checkDsseRekorBody(bundle, { envelope, payload: env.payload, signature: env.sigs[0] as Uint8Array, certificatePem }),
    },
    k.identities,
    k.options,
  );
  return { certificate: r.certificate, tlogVerified: r.tlogVerified };
}

/** Verify the legacy `.att` layers; `undefined` when there is no `.att` tag. */
async function verifyLegacy(
  client: RegistryReader,
  ref: ImageReference,
  digest: Digest,
  f: Filters,
  options: VerifyAttestationsOptions,
): Promise<{ verified: VerifiedAttestation[]; rejected: AttestationRejection[] } | undefined> {
  const sig = options.signal === undefined ? {} : { signal: options.signal };
  const repo = repositoryOption(options.signatureRepository) ?? ref;
  let layers: ReturnType<typeof parseSignatureManifest>['layers'];
  try {
    layers = parseSignatureManifest((await client.getManifest(withTag(repo, signatureTag(digest, 'att')), sig)).bytes).layers;
  } catch (e) {
    if (isCosignError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
  if (layers.length > MAX_ATT_LAYERS) throw fail('TOO_LARGE', `${signatureTag(digest, 'att')} has ${layers.length} layers, more than ${MAX_ATT_LAYERS}`);
  const verified: VerifiedAttestation[] = [];
  const rejected: AttestationRejection[] = [];
  for (const d of layers) {
    if (d.mediaType !== DSSE_ENVELOPE_MEDIA_TYPE) {
      rejected.push({ digest: d.digest, format: 'legacy', code: 'TYPE_MISMATCH', reason: `layer media type ${JSON.stringify(d.mediaType.slice(0, 200))}` });
      continue;
    }
    let envelope: Uint8Array;
    try {
      envelope = await client.getBlob(repo, d.digest, { maxBytes: MAX_ATTESTATION_BYTES, ...sig });
    } catch (e) {
      // a missing, oversized or corrupt blob disqualifies its layer; a transport failure stops the verification
      if (isCosignError(e) && (e.code === 'NOT_FOUND' || e.code === 'TOO_LARGE' || e.code === 'DIGEST_MISMATCH')) {
        rejected.push(rejection('legacy', d.digest, e));
        continue;
      }
      throw e;
    }
    try {
      const env = decodeEnvelope(envelope);
      const keyless = f.keyless === undefined ? undefined : verifyLegacyKeyless(d, envelope, env, f.keyless);
      const statement = await checkEnvelope('legacy', env, f, keyless !== undefined);
      verified.push({ envelope, statement, format: 'legacy', digest: d.digest, ...(keyless ?? {}) });
    } catch (e) {
      rejected.push(rejection('legacy', d.digest, e));
    }
  }
  return { verified, rejected };
}

/**
 * Verify an image's attestations with a key: the Sigstore bundles attached as referrers (cosign 3),
 * else the legacy `.att` envelopes (cosign 2), as cosign 3.1 `verify-attestation` does. A bundle of
 * any predicate type counts as an attestation (a cosign 3 signature is one with predicate type
 * `https://sigstore.dev/cosign/sign/v1`), so an image with v3 signatures but legacy attestations
 * needs `format: 'legacy'` to see them. Registry failures throw; an attestation that does not verify
 * is a rejection.
 *
 * @example
 * ```ts
 * const r = await verifyAttestations(ref, { client, verifier, type: 'openvex', checkPredicate: (s) => s.predicate !== null });
 * if (!r.ok) throw new Error(r.rejected.map((x) => x.reason).join('\n'));
 * ```
 */
export async function verifyAttestations(reference: string | ImageReference, options: VerifyAttestationsOptions): Promise<VerifyAttestationsResult> {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  const sig = options.signal === undefined ? {} : { signal: options.signal };
  const { client } = options;
  const format = options.format ?? 'auto';
  if (format !== 'auto' && format !== 'bundle' && format !== 'legacy')
    throw fail('USAGE', `format ${JSON.stringify(String(format))}: expected auto, bundle or legacy`);
  const digest = ref.digest ?? (await client.getManifest(ref, sig)).digest;
  const wantTypes: Array<ReadonlySet<string>> = [];
  if (options.type !== undefined) wantTypes.push(new Set([mapPredicateType(options.type)]));
  if (options.types !== undefined) wantTypes.push(new Set(options.types.map((t) => mapPredicateType(t))));
  if ((options.identities === undefined) !== (options.keyless === undefined))
    throw fail('USAGE', 'keyless verification needs both identities and keyless (the trust material)');
  if (options.verifier === undefined && options.keyless === undefined)
    throw fail('USAGE', 'verifyAttestations needs a verifier (key) or identities and keyless');
  const keyless = options.keyless === undefined ? undefined : { identities: options.identities ?? [], options: options.keyless };
  const f: Filters = { digest, verifier: options.verifier, keyless, wantTypes, checkPredicate: options.checkPredicate };
  const image = withDigest(ref, digest);
  if (format !== 'legacy') {
    const bundles = await verifyBundles(client, image, digest, f, options);
    if (bundles !== undefined) return { ok: bundles.verified.length > 0, digest, format: 'bundle', ...bundles };
    if (format === 'bundle') return { ok: false, digest, verified: [], rejected: [] };
  }
  const legacy = await verifyLegacy(client, image, digest, f, options);
  if (legacy === undefined) return { ok: false, digest, verified: [], rejected: [] };
  return { ok: legacy.verified.length > 0, digest, format: 'legacy', ...legacy };
}
