/**
 * `cosign attest-blob --key` / `cosign verify-blob-attestation --key`: an in-toto Statement about a
 * file, signed in a DSSE envelope, in cosign's three output shapes (the envelope itself, the legacy
 * `--bundle` JSON, the Sigstore bundle v0.3 of `--new-bundle-format`), and its key-based verification.
 *
 * Byte layouts observed on cosign 2.5.0 and 3.1.1 (`--tlog-upload=false`):
 * - statement (cosign 2.5): `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":…,"subject":[{"name":BASENAME,"digest":{"sha256":HEX}}],"predicate":…}`;
 *   cosign 3.1 writes the same members in the order `_type, subject, predicateType, predicate` (and, for
 *   a string predicate, sorted: `_type, predicate, predicateType, subject`);
 * - envelope (cosign 2.5): `{"payloadType":…,"payload":…,"signatures":[{"keyid":"","sig":…}]}`;
 *   cosign 3.1: `{"payload":…,"payloadType":…,"signatures":[{"sig":…}]}`;
 * - legacy bundle: `{"base64Signature":base64(envelope),"cert":base64(PEM public key)}`;
 * - Sigstore bundle: `mediaType`, `verificationMaterial.publicKey.hint` (base64 sha256 of the SPKI),
 *   `dsseEnvelope` (payload, payloadType, signatures without keyid).
 *
 * Upstream: sigstore/cosign `cmd/cosign/cli/attest/attest_blob.go`, `cmd/cosign/cli/verify/verify_blob_attestation.go`,
 * `pkg/cosign/attestation/attestation.go`; secure-systems-lab/dsse `protocol.md`.
 *
 * @module
 */
import { createHash, type KeyObject } from 'node:crypto';
import { IN_TOTO_PAYLOAD_TYPE, SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from '../artifact/media-types.js';
import { decodeBase64Strict, encodeBase64 } from '../encoding.js';
import { fail } from '../errors.js';
import { schema, sigstoreBundle, sigstoreCore } from '../internal/deps.js';
import { goMarshal, goQuote, type GoValue } from '../json/gojson.js';
import { parseJson } from '../json/strict.js';
import { defaultHashFor, publicKeyToDer, publicKeyToPem } from '../keys/public.js';
import type { Signer } from '../keys/signer.js';
import { verifySignature } from '../keys/verify.js';
import {
  COSIGN_CUSTOM_PREDICATE_TYPE,
  cosign2PredicateJson,
  IN_TOTO_STATEMENT_V01,
  MAX_PREDICATE_BYTES,
  PREDICATE_TYPE_NAMES,
  parsePredicateJson,
  predicateType,
} from '../sign/attestation.js';
import { publicKeyHint } from '../sign/bundle.js';
import { typedPredicate } from './predicate.js';
import { boundedInput, legacyBundleSchema, parseKeyBundle, refuseUnverifiedRekor, requireInsecureIgnoreTlog } from './verify.js';

/** Which cosign's byte layout {@link attestBlob} writes (both verify everywhere; only key order and `keyid` differ). */
export type BlobAttestationLayout = 'cosign2' | 'cosign3';

/** The blob attested: its bytes, or only its SHA-256 (cosign's `--hash`, lowercase hex). */
export type BlobSubject = Uint8Array | { readonly sha256: string };

/** Options for {@link attestBlob}. */
export interface AttestBlobOptions {
  /** The predicate file's bytes (`--predicate`). */
  readonly predicate: Uint8Array;
  /** A `--type` short name (`custom`, `slsaprovenance`, `spdxjson`, …) or a predicate-type URI. Default `custom`. */
  readonly type?: string;
  /** The statement subject's `name`: cosign writes the blob path's base name (`-` for standard input). */
  readonly name: string;
  /**
   * Byte layout of the statement and envelope. Default: `cosign2` (what cosign 2.5 writes) for the envelope
   * and legacy bundle, and `cosign3` (what cosign 3.1 writes by default) for the Sigstore bundle.
   */
  readonly layout?: BlobAttestationLayout;
  /** Which shape {@link AttestBlobResult.bundle} has: `legacy` (cosign 2's `--bundle`) or `sigstore` (`--new-bundle-format`). Default `legacy`. */
  readonly format?: 'legacy' | 'sigstore';
  /** Time written into a custom predicate's `Timestamp`. Default now. */
  readonly time?: Date;
}

/** What {@link attestBlob} returns. */
export interface AttestBlobResult {
  /** The predicate type written (the `--type` short name mapped to its URI). */
  readonly predicateType: string;
  /** The in-toto statement signed (the DSSE payload): what `--output-attestation` writes. */
  readonly statement: Uint8Array;
  /** The raw signature over PAE(payloadType, statement). */
  readonly signature: Uint8Array;
  /** The DSSE envelope JSON: what `cosign attest-blob` prints and writes to `--output-signature`. */
  readonly envelope: string;
  /** The `--bundle` file: cosign's legacy bundle JSON, or a Sigstore bundle v0.3 (per `format`). */
  readonly bundle: string;
  /** The format of {@link AttestBlobResult.bundle}. */
  readonly format: 'legacy' | 'sigstore';
}

/**
 * The predicate JSON text cosign writes for a `--type`: `custom` wraps the file as a string with a
 * timestamp; `spdx` (tag-value SPDX) is the file as a JSON string; every other type is the file's JSON
 * re-serialised as Go's `encoding/json` does for a decoded map (sorted keys), except `vuln` and SLSA (v0.2, v1),
 * which cosign 2.5 decodes into Go structures (see `./predicate.ts`); cosign 3.1 sorts the `vuln` struct's keys.
 * `link`, and SLSA in cosign 3.1's layout (which it passes through its protobuf types), are written here as
 * maps, so their key order and members can differ from cosign's; the signature covers the bytes written, so
 * they verify everywhere.
 */
function predicateText(predicate: Uint8Array, typeName: string, type: string, time: Date, layout: BlobAttestationLayout): string {
  if (layout === 'cosign2' || type === COSIGN_CUSTOM_PREDICATE_TYPE || typeName === 'spdx') return cosign2PredicateJson(predicate, typeName, type, time);
  const value = parsePredicateJson(predicate, type);
  // cosign 3.1 re-reads the vuln struct's JSON as a map: the same members, every level's keys sorted
  if (typeName === 'vuln') return goMarshal(parseJson(goMarshal(typedPredicate(typeName, value) as GoValue), 'predicate', 'BAD_INPUT') as GoValue);
  return goMarshal(value as GoValue);
}

function subjectDigest(subject: BlobSubject): string {
  if (subject instanceof Uint8Array) return createHash('sha256').update(subject).digest('hex');
  if (!/^[0-9a-f]{64}$/.test(subject.sha256)) throw fail('BAD_DIGEST', 'blob hash: expected 64 lowercase hexadecimal characters (a SHA-256)');
  return subject.sha256;
}

/**
 * The in-toto Statement (v0.1) cosign writes for `attest-blob`, in cosign 2.5's (`cosign2`) or cosign 3.1's
 * (`cosign3`) member order. `typeName` is the `--type` value (a short name or a URI): `custom` wraps the
 * file as a string with a timestamp, `spdx` (tag-value SPDX) takes it as a JSON string, every other type
 * as JSON re-serialised like Go's `encoding/json` (sorted keys).
 */
export function buildBlobStatement(
  predicate: Uint8Array,
  typeName: string,
  name: string,
  sha256: string,
  layout: BlobAttestationLayout = 'cosign2',
  time: Date = new Date(),
): Uint8Array {
  if (predicate.byteLength > MAX_PREDICATE_BYTES)
    throw fail('TOO_LARGE', `predicate: ${predicate.byteLength} bytes, over the ${MAX_PREDICATE_BYTES}-byte limit`);
  const type = predicateType(typeName);
  const pred = predicateText(predicate, typeName, type, time, layout);
  const t = `"_type":${goQuote(IN_TOTO_STATEMENT_V01)}`;
  const pt = `"predicateType":${goQuote(type)}`;
  const s = `"subject":[{"name":${goQuote(name)},"digest":{"sha256":${goQuote(sha256)}}}]`;
  const p = `"predicate":${pred}`;
  let text: string;
  if (layout === 'cosign2') text = `{${t},${pt},${s},${p}}`;
  else if (pred.startsWith('"')) text = `{${t},${p},${pt},${s}}`;
  else text = `{${t},${s},${pt},${p}}`;
  return new TextEncoder().encode(text);
}

/**
 * Attest a blob like `cosign attest-blob --key K --tlog-upload=false --predicate P --type T`: build the
 * statement, sign PAE(`application/vnd.in-toto+json`, statement) and return every output shape. Neither
 * Rekor nor Fulcio is contacted.
 *
 * ```ts
 * import { readFile, writeFile } from 'node:fs/promises';
 * import { loadSignerFromFile } from 'cosign-ts/keys';
 * import { attestBlob } from 'cosign-ts/blob';
 *
 * const signer = await loadSignerFromFile('cosign.key', process.env.COSIGN_PASSWORD);
 * const r = await attestBlob(await readFile('app.tar.gz'), signer, {
 *   predicate: await readFile('sbom.spdx.json'), type: 'spdxjson', name: 'app.tar.gz', format: 'sigstore',
 * });
 * await writeFile('app.tar.gz.sigstore.json', r.bundle);
 * ```
 */
export async function attestBlob(subject: BlobSubject, signer: Signer, options: AttestBlobOptions): Promise<AttestBlobResult> {
  if (signer.ed25519ph === true) {
    throw fail('UNSUPPORTED', `attest-blob with an Ed25519ph signer (${signer.keyRef}) is not supported: cosign signs DSSE envelopes with pure Ed25519`);
  }
  const format = options.format ?? 'legacy';
  const layout = options.layout ?? (format === 'sigstore' ? 'cosign3' : 'cosign2');
  const typeName = options.type ?? 'custom';
  const type = predicateType(typeName);
  const statement = buildBlobStatement(options.predicate, typeName, options.name, subjectDigest(subject), layout, options.time ?? new Date());
  const pae = sigstoreCore().dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, Buffer.from(statement));
  const signature = await signer.sign(new Uint8Array(pae));
  const payloadB64 = encodeBase64(statement);
  const sigB64 = encodeBase64(signature);
  const envelope =
    layout === 'cosign2'
      ? `{"payloadType":${goQuote(IN_TOTO_PAYLOAD_TYPE)},"payload":"${payloadB64}","signatures":[{"keyid":"","sig":"${sigB64}"}]}`
      : `{"payload":"${payloadB64}","payloadType":${goQuote(IN_TOTO_PAYLOAD_TYPE)},"signatures":[{"sig":"${sigB64}"}]}`;
  const publicKey = await signer.publicKey();
  const bundle =
    format === 'legacy'
      ? JSON.stringify({ base64Signature: Buffer.from(envelope).toString('base64'), cert: Buffer.from(publicKeyToPem(publicKey)).toString('base64') })
      : JSON.stringify({
          mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
          verificationMaterial: { publicKey: { hint: publicKeyHint(publicKeyToDer(publicKey)) } },
          dsseEnvelope: { payload: payloadB64, payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sigB64 }] },
        });
  return { predicateType: type, statement, signature, envelope, bundle, format };
}

/** Where the attestation to check comes from: exactly one of these. */
export type BlobAttestationSource =
  /** The DSSE envelope JSON (cosign's `--signature` file; the output of `attest-blob`). */
  | { readonly envelope: string | Uint8Array }
  /** cosign's legacy `--bundle` JSON (`base64Signature` = base64 of the envelope). */
  | { readonly legacyBundle: string | Uint8Array }
  /** A Sigstore bundle (v0.1–v0.3) holding a DSSE envelope. */
  | { readonly bundle: string | Uint8Array };

/** The artifact the attestation must name: its bytes, or a digest (cosign 3's `--digest` / `--digestAlg`). */
export type BlobAttestationArtifact = Uint8Array | { readonly digest: string; readonly algorithm: string };

/** Options for {@link verifyBlobAttestation}. */
export interface VerifyBlobAttestationOptions {
  /**
   * The expected predicate type: a `--type` short name or a URI; default `custom`, as cosign's
   * `--type` default. Any other value must equal the statement's `predicateType` exactly.
   */
  readonly type?: string;
  /** Check that the artifact's digest is a subject of the statement (cosign's `--check-claims`). Default true. */
  readonly checkClaims?: boolean;
  /**
   * Accept an attestation without a transparency-log entry (cosign's `--insecure-ignore-tlog=true`).
   * cosign-ts does not verify Rekor entries, so without this every check fails with `UNSUPPORTED`.
   */
  readonly insecureIgnoreTlog?: boolean;
  /** The caller's check of the verified statement; false (or a throw) rejects it with `POLICY_INVALID`. */
  readonly checkStatement?: (statement: BlobStatement) => boolean | Promise<boolean>;
}

/** A verified in-toto statement (the members checked are typed; `predicate` is as written). */
export interface BlobStatement {
  readonly _type: string;
  readonly predicateType: string;
  readonly subject: ReadonlyArray<{ readonly name?: string; readonly digest: Readonly<Record<string, string>> }>;
  readonly predicate?: unknown;
}

/** What {@link verifyBlobAttestation} checked. */
export interface VerifyBlobAttestationResult {
  /** The shape of the input. */
  readonly format: 'envelope' | 'legacy-bundle' | 'bundle';
  /** The statement bytes (the DSSE payload) that verified. */
  readonly payload: Uint8Array;
  /** The decoded statement. */
  readonly statement: BlobStatement;
}

const envelopeSchema = schema((z) =>
  z.object({
    payloadType: z.string(),
    payload: z.string(),
    signatures: z.array(z.object({ keyid: z.string().optional(), sig: z.string() })).min(1),
  }),
);

const statementSchema = schema((z) =>
  z.object({
    _type: z.string(),
    predicateType: z.string(),
    subject: z.array(z.object({ name: z.string().optional(), digest: z.record(z.string(), z.string()) })),
    predicate: z.unknown().optional(),
  }),
);

function issues(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}

interface Envelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  readonly signatures: ReadonlyArray<Uint8Array>;
}

function parseEnvelope(data: string | Uint8Array, what: string): Envelope {
  const parsed = envelopeSchema().safeParse(parseJson(data, what, 'BAD_BUNDLE'));
  if (!parsed.success) throw fail('BAD_BUNDLE', `${what}: ${issues(parsed.error)}`);
  return {
    payloadType: parsed.data.payloadType,
    payload: decodeBase64Strict(parsed.data.payload, `${what} payload`, 'BAD_BUNDLE'),
    signatures: parsed.data.signatures.map((s, i) => decodeBase64Strict(s.sig, `${what} signature ${i}`, 'BAD_BUNDLE')),
  };
}

/** Map a `--type` value for comparison: a short name to its URI, anything else as given (cosign does not reject it). */
function expectedType(type: string): string {
  return Object.hasOwn(PREDICATE_TYPE_NAMES, type) ? (PREDICATE_TYPE_NAMES[type] as string) : type;
}

/**
 * Verify a blob attestation made by `publicKey`, like `cosign verify-blob-attestation --key K
 * --insecure-ignore-tlog=true [--type T] [--check-claims]`. Checks, in cosign's order: the DSSE signature over
 * PAE(payloadType, payload) with the given key; the artifact's digest among the statement's subjects (unless
 * `checkClaims` is false); the predicate type; then `checkStatement`.
 *
 * Only the caller's key is trusted. cosign's legacy bundle embeds the signer's public key (`cert`) and cosign
 * 2.5/3.1 verify with that embedded key even when `--key` names another one; cosign-ts ignores the embedded
 * key, so a legacy bundle signed by any other key fails here.
 *
 * Errors (`CosignError`): `SIGNATURE_INVALID`, `DIGEST_MISMATCH`, `TYPE_MISMATCH`, `POLICY_INVALID`,
 * `BAD_BUNDLE` / `BAD_PAYLOAD` for malformed input, `UNSUPPORTED` for certificates, Rekor entries or a
 * missing `insecureIgnoreTlog`. Messages are cosign's wording where cosign has one.
 *
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { parsePublicKey } from 'cosign-ts/keys';
 * import { verifyBlobAttestation } from 'cosign-ts/blob';
 *
 * const { statement } = await verifyBlobAttestation(
 *   await readFile('app.tar.gz'),
 *   parsePublicKey(await readFile('cosign.pub')),
 *   { bundle: await readFile('app.tar.gz.sigstore.json') },
 *   { type: 'spdxjson', insecureIgnoreTlog: true },
 * );
 * ```
 */
export async function verifyBlobAttestation(
  artifact: BlobAttestationArtifact,
  publicKey: KeyObject,
  source: BlobAttestationSource,
  options: VerifyBlobAttestationOptions = {},
): Promise<VerifyBlobAttestationResult> {
  let format: VerifyBlobAttestationResult['format'];
  let envelope: Envelope;
  if ('envelope' in source) {
    format = 'envelope';
    requireInsecureIgnoreTlog(options);
    envelope = parseEnvelope(boundedInput(source.envelope, 'signature'), 'DSSE envelope');
  } else if ('legacyBundle' in source) {
    format = 'legacy-bundle';
    const parsed = legacyBundleSchema().safeParse(parseJson(boundedInput(source.legacyBundle, 'bundle'), 'bundle', 'BAD_BUNDLE'));
    if (!parsed.success) throw fail('BAD_BUNDLE', `bundle: ${issues(parsed.error)}`);
    refuseUnverifiedRekor(parsed.data.rekorBundle !== undefined && parsed.data.rekorBundle !== null, options);
    requireInsecureIgnoreTlog(options);
    // `cert` (the signer's key or certificate, as the signer wrote it) is deliberately not used: only the caller's key is trusted.
    envelope = parseEnvelope(decodeBase64Strict(parsed.data.base64Signature, 'bundle base64Signature', 'BAD_BUNDLE'), 'bundle envelope');
  } else {
    format = 'bundle';
    const lib = sigstoreBundle();
    const { bundle } = parseKeyBundle(source.bundle);
    refuseUnverifiedRekor(bundle.verificationMaterial.tlogEntries.length > 0, options);
    requireInsecureIgnoreTlog(options);
    if (!lib.isBundleWithDsseEnvelope(bundle)) {
      throw fail('BAD_BUNDLE', 'bundle: holds a message signature (a blob signature), not a DSSE envelope: use verify-blob');
    }
    const env = bundle.content.dsseEnvelope;
    envelope = { payloadType: env.payloadType, payload: new Uint8Array(env.payload), signatures: env.signatures.map((s) => new Uint8Array(s.sig)) };
  }

  const threshold = 'accepted signatures do not match threshold, Found: 0, Expected 1';
  const sigFailure = format === 'bundle' ? `failed to verify signature: could not verify envelope: ${threshold}` : threshold;
  // The hint is only a hint (cosign 3 does not require it to match): the signature check below decides.
  const hash = defaultHashFor(publicKey);
  const pae = new Uint8Array(sigstoreCore().dsse.preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload)));
  if (!envelope.signatures.some((sig) => verifySignature(publicKey, pae, sig, { hash }))) throw fail('SIGNATURE_INVALID', sigFailure);
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw fail('TYPE_MISMATCH', `DSSE payloadType is ${JSON.stringify(envelope.payloadType.slice(0, 200))}, expected ${JSON.stringify(IN_TOTO_PAYLOAD_TYPE)}`);
  }
  const parsed = statementSchema().safeParse(parseJson(envelope.payload, 'in-toto statement', 'BAD_PAYLOAD'));
  if (!parsed.success) throw fail('BAD_PAYLOAD', `in-toto statement: ${issues(parsed.error)}`);
  const statement = parsed.data as BlobStatement;

  if (options.checkClaims !== false) {
    const given = !(artifact instanceof Uint8Array);
    const algorithm = given ? artifact.algorithm : 'sha256';
    if (!['sha256', 'sha384', 'sha512'].includes(algorithm))
      throw fail('UNSUPPORTED', `digest algorithm ${JSON.stringify(algorithm.slice(0, 50))} is not supported`);
    const hex = given ? artifact.digest.toLowerCase() : createHash('sha256').update(artifact).digest('hex');
    if (!statement.subject.some((s) => s.digest[algorithm] === hex)) {
      throw fail(
        'DIGEST_MISMATCH',
        format !== 'bundle'
          ? 'no matching subject digest found'
          : given
            ? 'failed to verify signature: provided artifact digest does not match any digest in statement'
            : 'failed to verify signature: provided artifact digests do not match digests in statement',
      );
    }
  }
  const type = options.type ?? 'custom';
  if (statement.predicateType !== expectedType(type)) {
    throw fail('TYPE_MISMATCH', `invalid predicate type, expected ${type} got ${statement.predicateType}`);
  }
  if (options.checkStatement !== undefined) {
    let ok: boolean;
    try {
      ok = (await options.checkStatement(statement)) === true;
    } catch (cause) {
      throw fail('POLICY_INVALID', `statement rejected by checkStatement: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    if (!ok) throw fail('POLICY_INVALID', 'statement rejected by checkStatement');
  }
  return { format, payload: envelope.payload, statement };
}
