/**
 * cosign v3 signatures: a Sigstore bundle (v0.3) holding a DSSE envelope whose payload is an in-toto
 * Statement v1 with predicate type `https://sigstore.dev/cosign/sign/v1`, the image digest as its
 * subject and the `cosign sign -a` annotations as the subject's annotations. Stored as an OCI 1.1
 * referrer of the image (see `referrerBundleSource` in `./source.ts`).
 *
 * Key-signed bundles: the key given verifies the DSSE signature over PAE(payloadType, payload);
 * transparency-log checks of key-signed bundles fail closed with `UNSUPPORTED` (like
 * `cosign verify --insecure-ignore-tlog`, the entries are otherwise not checked). Keyless bundles (a
 * certificate) are verified completely by `verifySigstoreBundle` (`./keyless.ts`): tlog inclusion
 * proof and checkpoint, TSA timestamps, chain, SCT, identity.
 *
 * `@sigstore/bundle` (validation, typed bundle) and `@sigstore/core` (PAE) are loaded by the first
 * bundle verified.
 *
 * Upstream: sigstore/cosign `pkg/cosign/verify.go` (`VerifyImageAttestation` with new bundles),
 * `cmd/cosign/cli/verify/verify.go`; sigstore/protobuf-specs `sigstore_bundle.proto`;
 * in-toto/attestation `spec/v1/statement.md`; secure-systems-lab/dsse `protocol.md`.
 *
 * @module
 */
import type { SignatureLayer } from '../artifact/layer.js';
import { COSIGN_SIGN_PREDICATE_TYPE, IN_TOTO_PAYLOAD_TYPE, SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from '../artifact/media-types.js';
import { parseDigest, type Digest } from '../digest.js';
import { fail, isCosignError } from '../errors.js';
import { schema, sigstoreBundle, sigstoreCore } from '../internal/deps.js';
import { parseJson } from '../json/strict.js';
import type { SimpleSigningPayload } from '../payload/payload.js';
import { authorityVerifier, type Authority, type IdentityAuthority } from './authority.js';
import { verifySigstoreBundleBytes, type CertificateSummary } from './keyless.js';
import type { LayerExpectations, LayerResult } from './layer.js';

/** Prefix of every Sigstore bundle media type (`application/vnd.dev.sigstore.bundle.v0.3+json`, …). */
export const SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.bundle';
// The format constants live in ../artifact/media-types.ts; re-exported here for `cosign-ts/verify` users.
export { COSIGN_SIGN_PREDICATE_TYPE, IN_TOTO_PAYLOAD_TYPE, SIGSTORE_BUNDLE_V03_MEDIA_TYPE };
/** in-toto Statement v1 `_type`. */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/** True for a layer media type cosign 3 verifies as a Sigstore bundle (any version prefix match, like cosign). */
export function isSigstoreBundleMediaType(mediaType: string): boolean {
  return mediaType.startsWith(SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX);
}

/** The parts of a cosign 3 bundle that key-based verification uses. */
export interface CosignBundle {
  /** The bundle's `mediaType`. */
  readonly mediaType: string;
  /** DSSE `payloadType`. */
  readonly payloadType: string;
  /** DSSE payload, decoded: the exact bytes signed (through PAE). */
  readonly payload: Uint8Array;
  /** DSSE signatures, decoded (cosign writes one). */
  readonly signatures: ReadonlyArray<Uint8Array>;
  /** `verificationMaterial.publicKey.hint`, when the bundle names a key. */
  readonly publicKeyHint?: string;
  /** True when the bundle carries a certificate or chain (keyless signing). */
  readonly hasCertificate: boolean;
  /** Number of transparency-log entries (not checked here). */
  readonly tlogEntries: number;
}

/**
 * Parse a Sigstore bundle (strict JSON, then `@sigstore/bundle`'s validation) that holds a DSSE
 * envelope.
 * @throws CosignError `BAD_BUNDLE` naming the field when the bytes are not a valid bundle;
 *   `UNSUPPORTED` for a bundle with a message signature instead of a DSSE envelope.
 */
export function parseCosignBundle(bytes: Uint8Array, what = 'Sigstore bundle'): CosignBundle {
  const json = parseJson(bytes, what, 'BAD_BUNDLE');
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw fail('BAD_BUNDLE', `${what}: not a JSON object`);
  const lib = sigstoreBundle();
  let bundle: ReturnType<typeof lib.bundleFromJSON>;
  try {
    bundle = lib.bundleFromJSON(json);
  } catch (e) {
    const fields = e instanceof lib.ValidationError ? e.fields : [];
    throw fail('BAD_BUNDLE', `${what}: ${fields.length > 0 ? `${fields.join(', ')}: ` : ''}${(e as Error).message}`, {
      cause: e,
      details: { fields },
    });
  }
  if (!lib.isBundleWithDsseEnvelope(bundle)) {
    throw fail('UNSUPPORTED', `${what}: holds a message signature, not a DSSE envelope (only cosign 3 image signatures are supported)`);
  }
  const env = bundle.content.dsseEnvelope;
  const vm = bundle.verificationMaterial.content;
  return {
    mediaType: bundle.mediaType,
    payloadType: env.payloadType,
    payload: new Uint8Array(env.payload),
    signatures: env.signatures.map((s) => new Uint8Array(s.sig)),
    ...(vm.$case === 'publicKey' ? { publicKeyHint: vm.publicKey.hint } : {}),
    hasCertificate: vm.$case === 'x509CertificateChain' || vm.$case === 'certificate',
    tlogEntries: bundle.verificationMaterial.tlogEntries.length,
  };
}

/** An in-toto Statement v1, the members cosign uses. */
export interface InTotoStatement {
  /** The statement type (`https://in-toto.io/Statement/v1`, or v0.1 where allowed). */
  readonly _type: string;
  readonly subject: ReadonlyArray<{
    readonly name?: string;
    readonly digest: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, unknown>>;
  }>;
  readonly predicateType: string;
  /** The predicate, as parsed JSON (absent when the statement has none). */
  readonly predicate?: unknown;
}

const StatementSchema = schema((z) =>
  z.object({
    _type: z.string(),
    subject: z
      .array(
        z.object({
          name: z.string().optional(),
          digest: z.record(z.string(), z.string()),
          annotations: z.record(z.string(), z.unknown()).optional(),
        }),
      )
      .min(1),
    predicateType: z.string(),
    predicate: z.unknown().optional(),
  }),
);

/**
 * Parse an in-toto Statement (strict JSON, then a schema): the one statement parser, for bundles (v1 only, the
 * default) and legacy `.att` envelopes (v0.1 or v1).
 * @throws CosignError `BAD_PAYLOAD` naming the path.
 */
export function parseInTotoStatement(bytes: Uint8Array, what = 'in-toto statement', types: readonly string[] = [IN_TOTO_STATEMENT_V1]): InTotoStatement {
  const json = parseJson(bytes, what, 'BAD_PAYLOAD');
  const parsed = StatementSchema().safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    throw fail('BAD_PAYLOAD', `${what}: ${path}: ${issue?.message ?? 'invalid'}`, { details: { path } });
  }
  if (!types.includes(parsed.data._type)) {
    const want = types.length === 1 ? JSON.stringify(types[0]) : `one of ${types.join(', ')}`;
    throw fail('BAD_PAYLOAD', `${what}: _type: must be ${want}`, { details: { path: '_type' } });
  }
  return parsed.data as InTotoStatement;
}

/**
 * Verify one cosign 3 bundle layer (its blob is the bundle) like `cosign verify --key` does:
 * bundle and envelope well-formed, a DSSE signature verifying with one of the keys over
 * PAE(payloadType, payload), the statement's predicate type cosign's, a subject with the image
 * digest, and every expected annotation among that subject's annotations. The result's `payload` is
 * what cosign 3 prints: `critical.type` the predicate type, `docker-reference`
 * `expectations.dockerReference`, `optional` the subject's annotations (`{}` when none); its `raw`
 * is the statement. Never throws for a bad bundle: the reason comes back in the result.
 */
export function verifyBundleLayer(layer: SignatureLayer, authorities: ReadonlyArray<Authority>, expectations: LayerExpectations): LayerResult {
  const digest = layer.descriptor.digest;
  try {
    const bundle = parseCosignBundle(layer.payload, `Sigstore bundle ${digest}`);
    let authority: string;
    let certificate: CertificateSummary | undefined;
    let tlogVerified = false;
    if (bundle.hasCertificate) {
      const identities = authorities.filter((a): a is IdentityAuthority => a.kind === 'identity');
      if (identities.length === 0)
        throw fail('SIGNATURE_INVALID', 'the Sigstore bundle is signed keyless (a certificate) and no certificate identity was given');
      if (expectations.keyless === undefined) {
        throw fail('UNSUPPORTED', 'keyless (certificate identity) verification needs trust material (a trusted root, TUF or SIGSTORE_* files)');
      }
      if (bundle.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
        throw fail(
          'TYPE_MISMATCH',
          `DSSE payloadType is ${JSON.stringify(bundle.payloadType.slice(0, 200))}, expected ${JSON.stringify(IN_TOTO_PAYLOAD_TYPE)}`,
        );
      }
      const r = verifySigstoreBundleBytes(layer.payload, identities, expectations.keyless);
      authority = r.authority;
      certificate = r.certificate;
      tlogVerified = r.tlogEntries > 0;
    } else {
      authority = verifyKeyBundle(bundle, authorities, expectations);
    }
    const statement = parseInTotoStatement(bundle.payload, `in-toto statement of ${digest}`);
    if (statement.predicateType !== COSIGN_SIGN_PREDICATE_TYPE) {
      throw fail(
        'TYPE_MISMATCH',
        `statement predicateType is ${JSON.stringify(statement.predicateType.slice(0, 200))}, expected ${JSON.stringify(COSIGN_SIGN_PREDICATE_TYPE)}`,
      );
    }
    const { algorithm, hex } = parseDigest(expectations.digest);
    const subject = statement.subject.find((s) => s.digest[algorithm] === hex);
    if (subject === undefined) {
      throw fail('DIGEST_MISMATCH', `statement subject does not name the image digest ${expectations.digest}`, {
        details: { expected: expectations.digest, actual: JSON.stringify(statement.subject.map((s) => s.digest)).slice(0, 300) },
      });
    }
    if (expectations.reference !== undefined) {
      throw fail('UNSUPPORTED', 'a docker-reference check cannot be made on a Sigstore bundle: its statement names no reference');
    }
    const optional = subject.annotations ?? {};
    for (const [k, v] of Object.entries(expectations.annotations ?? {})) {
      const have = optional[k];
      if (have !== v) {
        throw fail('ANNOTATION_MISMATCH', `statement subject annotation ${JSON.stringify(k)} is ${have === undefined ? 'missing' : 'different'}`, {
          details: { key: k, expected: v },
        });
      }
    }
    const payload: SimpleSigningPayload = {
      raw: bundle.payload,
      type: statement.predicateType,
      dockerReference: expectations.dockerReference ?? '',
      manifestDigest: expectations.digest as Digest,
      optional,
    };
    return {
      ok: true,
      signature: { layer, payload, authority, tlogVerified, format: 'bundle', ...(certificate === undefined ? {} : { certificate }) },
    };
  } catch (e) {
    if (isCosignError(e)) return { ok: false, digest, code: e.code, reason: e.message };
    const reason = `unexpected failure verifying Sigstore bundle: ${(e as Error).message}`;
    return { ok: false, digest, code: 'BAD_BUNDLE', reason };
  }
}

/** The key-based checks of a bundle: the DSSE signature with one of the keys. @returns the matching key's `keyRef`. */
function verifyKeyBundle(bundle: CosignBundle, authorities: ReadonlyArray<Authority>, expectations: LayerExpectations): string {
  if (expectations.tlog?.required === true) {
    throw fail(
      'UNSUPPORTED',
      'transparency-log verification of Sigstore bundles signed with a key (cosign v3 signatures) is not supported: verify without a tlog requirement (cosign verify --insecure-ignore-tlog=true)',
    );
  }
  if (bundle.tlogEntries > 0 && expectations.tlog?.rekorKeys !== undefined) {
    throw fail(
      'UNSUPPORTED',
      'checking the transparency-log entries of key-signed Sigstore bundles is not supported: verify without Rekor keys to check the signature only',
    );
  }
  if (bundle.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw fail('TYPE_MISMATCH', `DSSE payloadType is ${JSON.stringify(bundle.payloadType.slice(0, 200))}, expected ${JSON.stringify(IN_TOTO_PAYLOAD_TYPE)}`);
  }
  const pae = new Uint8Array(sigstoreCore().dsse.preAuthEncoding(bundle.payloadType, Buffer.from(bundle.payload)));
  for (const a of authorities) {
    if (a.kind !== 'key') continue;
    if (bundle.signatures.some((sig) => authorityVerifier(a).verify(pae, sig))) return a.keyRef;
  }
  if (!authorities.some((a) => a.kind === 'key')) throw fail('SIGNATURE_INVALID', 'the Sigstore bundle is signed with a key and no key was given');
  throw fail('SIGNATURE_INVALID', `DSSE signature does not verify with ${authorities.length === 1 ? 'the key' : `any of the ${authorities.length} keys`}`);
}
