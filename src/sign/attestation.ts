/**
 * Building attestations: the predicate-type names `cosign attest --type` accepts, the in-toto
 * Statement (v0.1) cosign writes around a predicate, and the DSSE envelope that carries it.
 *
 * `attestImage` pushes the envelope to the image's `.att` tag (legacy, cosign 2.5's bytes), or, with
 * `format: 'bundle'`, signs cosign 3.1's statement into a Sigstore bundle v0.3 pushed as an OCI 1.1
 * referrer of the image (as cosign 3 `attest`). Upstream: sigstore/cosign `cmd/cosign/cli/options/predicate.go` (type names),
 * `pkg/cosign/attestation/attestation.go` (`GenerateStatement`), sigstore/sigstore
 * `pkg/signature/dsse` (envelope), secure-systems-lab/dsse `protocol.md` (PAE).
 *
 * @module
 */
import { buildSignatureImage, parseSignatureManifest, type ImageLayer } from '../artifact/image.js';
import { sha256Digest } from '../artifact/layer.js';
import { DSSE_ENVELOPE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE, PREDICATE_TYPE_ANNOTATION, SIGNATURE_ANNOTATION } from '../artifact/media-types.js';
import { signatureTag } from '../artifact/tags.js';
import type { Digest } from '../digest.js';
import { fail, isCosignError } from '../errors.js';
import type { RegistryClient } from '../oci/client.js';
import { parseReference, repositoryOption, withDigest, withTag, type ImageReference } from '../reference.js';
import { compareUtf8, goFormatFloat, goMarshal, goQuote, type GoValue } from '../json/gojson.js';
import { parseJson } from '../json/strict.js';
import { sigstoreCore } from '../internal/deps.js';
import { typedPredicate } from '../blob/predicate.js';
import type { Signer } from '../keys/signer.js';
import { buildBundleReferrerFromStatement } from './bundle.js';

/** The predicate type of `--type custom`, and of any predicate cosign wraps as a string. */
export const COSIGN_CUSTOM_PREDICATE_TYPE = 'https://cosign.sigstore.dev/attestation/v1';
/** The predicate type of `--type vuln`. */
export const COSIGN_VULN_PREDICATE_TYPE = 'https://cosign.sigstore.dev/attestation/vuln/v1';
/** The in-toto Statement version cosign 2.5 writes in legacy attestations. */
export const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
/** Largest predicate file read (`--predicate`), as a bound on untrusted input. */
export const MAX_PREDICATE_BYTES = 32 * 1024 * 1024;

/** `cosign attest --type` short names and the predicate types they stand for. */
export const PREDICATE_TYPE_NAMES: Readonly<Record<string, string>> = Object.freeze({
  custom: COSIGN_CUSTOM_PREDICATE_TYPE,
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  link: 'https://in-toto.io/Link/v1',
  vuln: COSIGN_VULN_PREDICATE_TYPE,
  openvex: 'https://openvex.dev/ns',
});

/**
 * Map a `--type` value to a predicate type as cosign does: a short name from
 * {@link PREDICATE_TYPE_NAMES}, otherwise an absolute URI taken as it is.
 *
 * @example
 * ```ts
 * predicateType('slsaprovenance1'); // 'https://slsa.dev/provenance/v1'
 * predicateType('https://example.com/my-type/v1'); // unchanged
 * ```
 */
export function predicateType(name: string): string {
  const mapped = Object.hasOwn(PREDICATE_TYPE_NAMES, name) ? PREDICATE_TYPE_NAMES[name] : undefined;
  if (mapped !== undefined) return mapped;
  let url: URL | undefined;
  try {
    url = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(name) ? new URL(name) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || /\s/.test(name)) {
    throw fail(
      'USAGE',
      `invalid predicate type ${JSON.stringify(name.slice(0, 200))}: expected one of ${Object.keys(PREDICATE_TYPE_NAMES).join(', ')} or a URI`,
    );
  }
  return name;
}

/** Input of {@link buildAttestationStatement}. */
export interface AttestationStatementInput {
  /** The predicate file's bytes (`--predicate`). */
  readonly predicate: Uint8Array;
  /** The predicate type, already mapped by {@link predicateType}. */
  readonly predicateType: string;
  /** The subject's name: the image repository (`registry/repo`). */
  readonly repository: string;
  /** The attested manifest digest. */
  readonly digest: Digest;
  /** The time written into a custom predicate's `Timestamp`. Default: now. */
  readonly time?: Date;
  /**
   * The `--type` value as given (a short name or a URI). It tells `spdx` (tag-value SPDX, written as
   * a JSON string) from `spdxjson`, which share a predicate type, and selects the predicates cosign
   * decodes into Go structures (`vuln`, the SLSA types). Default: `predicateType` itself.
   */
  readonly typeName?: string;
}

/** Go's `time.RFC3339` in UTC, without fractional seconds. */
export function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * The predicate file parsed as JSON, or a BAD_INPUT error in cosign's words.
 * @internal
 */
export function parsePredicateJson(predicate: Uint8Array, type: string): unknown {
  try {
    return parseJson(predicate, 'predicate', 'BAD_INPUT');
  } catch (e) {
    if (!isCosignError(e)) throw e;
    throw fail('BAD_INPUT', `invalid JSON payload for predicate type ${type}: ${e.message}`, { cause: e });
  }
}

/**
 * The predicate as cosign 2.5 writes it into a statement, for `attest` and `attest-blob` alike
 * (cosign's `attestation.GenerateStatement`): the custom type wraps the file's text with a timestamp,
 * `spdx` (tag-value) takes the text as a JSON string, `vuln` and the SLSA types go through cosign's Go
 * structures, everything else is the parsed JSON re-serialised with sorted keys.
 * @internal
 */
export function cosign2PredicateJson(predicate: Uint8Array, typeName: string, type: string, time: Date): string {
  const text = () => new TextDecoder('utf-8', { fatal: false }).decode(predicate);
  if (type === COSIGN_CUSTOM_PREDICATE_TYPE) return `{"Data":${goQuote(text())},"Timestamp":${goQuote(rfc3339(time))}}`;
  if (typeName === 'spdx') return goQuote(text());
  const value = parsePredicateJson(predicate, type);
  return goMarshal(typedPredicate(typeName, value) ?? (value as GoValue));
}

/**
 * The in-toto Statement (v0.1) cosign 2.5 writes for `cosign attest`, with the predicate written as
 * `attest-blob` writes it (see {@link AttestationStatementInput.typeName}): the custom type wraps the file's
 * text in `{"Data": …, "Timestamp": …}`, `spdx` takes it as a JSON string, `vuln` and SLSA go through
 * cosign's Go structures, other types are the parsed JSON re-serialised as Go does (sorted keys).
 *
 * @example
 * ```ts
 * const statement = buildAttestationStatement({ predicate, predicateType: predicateType('custom'), repository: 'registry.example.com/app', digest });
 * ```
 */
export function buildAttestationStatement(input: AttestationStatementInput): Uint8Array {
  if (input.predicate.length > MAX_PREDICATE_BYTES) throw fail('TOO_LARGE', `predicate: ${input.predicate.length} bytes exceeds ${MAX_PREDICATE_BYTES}`);
  const [alg, hex] = input.digest.split(':') as [string, string];
  const predicate = cosign2PredicateJson(input.predicate, input.typeName ?? input.predicateType, input.predicateType, input.time ?? new Date());
  const subject = `[{"name":${goQuote(input.repository)},"digest":{${goQuote(alg)}:${goQuote(hex)}}}]`;
  const text = `{"_type":${goQuote(IN_TOTO_STATEMENT_V01)},"predicateType":${goQuote(input.predicateType)},"subject":${subject},"predicate":${predicate}}`;
  return new TextEncoder().encode(text);
}

/** A DSSE envelope as cosign writes it (one signature, empty `keyid`). */
export interface DsseEnvelope {
  /** The serialised envelope: the attestation layer's bytes. */
  readonly bytes: Uint8Array;
  /** The payload signed (the statement). */
  readonly payload: Uint8Array;
  /** The raw signature over PAE(payloadType, payload). */
  readonly signature: Uint8Array;
}

/**
 * Sign a statement into a DSSE envelope, serialised like cosign 2.5
 * (`{"payloadType":…,"payload":…,"signatures":[{"keyid":"","sig":…}]}`).
 *
 * @example
 * ```ts
 * const envelope = await signDsse(statement, signer);
 * ```
 */
export async function signDsse(payload: Uint8Array, signer: Signer, payloadType: string = IN_TOTO_PAYLOAD_TYPE): Promise<DsseEnvelope> {
  const signature = await signer.sign(new Uint8Array(sigstoreCore().dsse.preAuthEncoding(payloadType, Buffer.from(payload))));
  const text = `{"payloadType":${goQuote(payloadType)},"payload":"${Buffer.from(payload).toString('base64')}","signatures":[{"keyid":"","sig":"${Buffer.from(signature).toString('base64')}"}]}`;
  return { bytes: new TextEncoder().encode(text), payload, signature };
}

/** Largest existing `.att` layer read when appending. */
const MAX_ATTESTATION_LAYER_BYTES = 32 * 1024 * 1024;

/** Options for {@link attestImage}. */
export interface AttestImageOptions {
  /** The registry client. */
  readonly client: RegistryClient;
  /** The predicate file's bytes. */
  readonly predicate: Uint8Array;
  /** A `--type` short name or URI (see {@link predicateType}). Default `custom`. */
  readonly type?: string;
  /** Remove existing attestations of the same predicate type first (`cosign attest --replace`). */
  readonly replace?: boolean;
  /**
   * Storage format. `legacy` (default): the `.att` tag, cosign 2's default. `bundle`: a Sigstore
   * bundle v0.3 as an OCI 1.1 referrer of the image, as cosign 3 `attest` writes it (referrers API,
   * else the fallback tag index `sha256-<hex>`).
   */
  readonly format?: 'legacy' | 'bundle';
  /** Creation time written in a bundle referrer (`org.opencontainers.image.created`). Default now. */
  readonly created?: Date;
  /** Where to store attestations, like `COSIGN_REPOSITORY`. Default: the image's repository. */
  readonly signatureRepository?: string | ImageReference;
  /** Time for a custom predicate's `Timestamp`. Default: now. */
  readonly time?: Date;
  /** Abort. */
  readonly signal?: AbortSignal;
}

/** Result of {@link attestImage}. */
export interface AttestImageResult {
  /** The attested manifest digest. */
  readonly digest: Digest;
  /** The predicate type written. */
  readonly predicateType: string;
  /** Where the attestation artifact lives (`registry/repo:sha256-….att`; `registry/repo@<referrer digest>` for a bundle). */
  readonly attestationReference: ImageReference;
  /** Digest of the `.att` manifest (or of the bundle's referrer manifest) written or already there. */
  readonly manifestDigest: Digest;
  /** The storage format written. */
  readonly format: 'legacy' | 'bundle';
  /** The Sigstore bundle written (bundle format only). */
  readonly bundle?: Uint8Array;
  /** False when an identical envelope was already present and nothing was written. */
  readonly appended: boolean;
  /** The envelope written. */
  readonly envelope: DsseEnvelope;
}

/**
 * Attest an image as `cosign attest --key … --tlog-upload=false` does (legacy format): the
 * statement is signed into a DSSE envelope, stored as a layer (media type
 * `application/vnd.dsse.envelope.v1+json`, annotation `predicateType`) of the `sha256-<hex>.att`
 * image, appended to what is there. An identical envelope is not written twice; `replace` drops
 * layers whose `predicateType` annotation equals the new one.
 *
 * @example
 * ```ts
 * const r = await attestImage('registry.example.com/app@sha256:…', signer, { client, predicate, type: 'slsaprovenance1' });
 * ```
 */
export async function attestImage(reference: string | ImageReference, signer: Signer, options: AttestImageOptions): Promise<AttestImageResult> {
  const format = options.format ?? 'legacy';
  if (format !== 'legacy' && format !== 'bundle') throw fail('USAGE', `attestation format ${JSON.stringify(String(format))}: expected legacy or bundle`);
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  if (format === 'bundle') return attestImageBundle(ref, signer, options);
  const { client, signal } = options;
  const sig = signal === undefined ? {} : { signal };
  const digest = ref.digest ?? (await client.getManifest(ref, sig)).digest;
  const type = predicateType(options.type ?? 'custom');
  const statement = buildAttestationStatement({
    predicate: options.predicate,
    predicateType: type,
    typeName: options.type ?? 'custom',
    repository: ref.name,
    digest,
    ...(options.time === undefined ? {} : { time: options.time }),
  });
  const envelope = await signDsse(statement, signer);
  const descriptor = Object.freeze({
    mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
    size: envelope.bytes.byteLength,
    digest: sha256Digest(envelope.bytes),
    annotations: Object.freeze({ [SIGNATURE_ANNOTATION]: '', [PREDICATE_TYPE_ANNOTATION]: type }),
  });
  const layer: ImageLayer = { descriptor, payload: envelope.bytes };
  const attRepo = repositoryOption(options.signatureRepository) ?? ref;
  const attRef = withTag(attRepo, signatureTag(digest, 'att'));
  let existing: ImageLayer[] = [];
  try {
    const m = await client.getManifest(attRef, sig);
    const parsed = parseSignatureManifest(m.bytes);
    existing = await Promise.all(
      parsed.layers.map(async (d) => ({ descriptor: d, payload: await client.getBlob(attRepo, d.digest, { maxBytes: MAX_ATTESTATION_LAYER_BYTES, ...sig }) })),
    );
  } catch (e) {
    if (!isCosignError(e, 'NOT_FOUND')) throw e;
  }
  if (options.replace === true) existing = existing.filter((l) => l.descriptor.annotations[PREDICATE_TYPE_ANNOTATION] !== type);
  const duplicate = existing.some((l) => l.descriptor.digest === descriptor.digest);
  const image = buildSignatureImage(duplicate ? existing : [...existing, layer]);
  if (!duplicate) {
    for (const [d, bytes] of image.blobs) await client.uploadBlob(attRepo, d, bytes, sig);
    await client.putManifest(attRef, image.manifest, image.manifestMediaType, sig);
  }
  return { digest, predicateType: type, attestationReference: attRef, manifestDigest: image.manifestDigest, appended: !duplicate, envelope, format: 'legacy' };
}

/** A JSON string as protojson writes it: only `"`, `\\` and control characters escaped (no HTML escaping, U+2028/U+2029 literal). */
function protoQuote(s: string): string {
  return `"${s
    .split(/([\u2028\u2029])/)
    .map((part) => (part === '\u2028' || part === '\u2029' ? part : goQuote(part, false).slice(1, -1)))
    .join('')}"`;
}

/**
 * A parsed JSON value serialised as protojson serialises a `google.protobuf.Value` (what cosign 3
 * signs): compact, object keys sorted, numbers as float64 in Go's format, protojson's string escaping.
 */
function protoJsonValue(v: unknown, depth = 0): string {
  if (depth > 10_000) throw fail('BAD_INPUT', 'predicate: nested too deeply');
  if (v === null) return 'null';
  if (typeof v === 'string') return protoQuote(v);
  if (typeof v === 'number') return goFormatFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map((x) => protoJsonValue(x, depth + 1)).join(',')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort((a, b) => compareUtf8(a[0], b[0]));
    return `{${entries.map(([k, x]) => `${protoQuote(k)}:${protoJsonValue(x, depth + 1)}`).join(',')}}`;
  }
  throw fail('BAD_INPUT', `predicate: cannot encode a ${typeof v} as JSON`);
}

/** A JSON object member as Go's `encoding/json` finds a struct field: exact or case-insensitive name, the last match winning. */
function goField(obj: Readonly<Record<string, unknown>>, name: string): unknown {
  let v: unknown;
  for (const k of Object.keys(obj)) if (k === name || k.toLowerCase() === name.toLowerCase()) v = obj[k];
  return v;
}

/** A Go struct field: `undefined`/`null` leave the zero value, anything else must be an object. */
function goObject(v: unknown, where: string): Readonly<Record<string, unknown>> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw fail('BAD_INPUT', `predicate: ${where} must be a JSON object`);
  return v as Record<string, unknown>;
}

function goString(v: unknown, where: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw fail('BAD_INPUT', `predicate: ${where} must be a string`);
  return v;
}

/** A `time.Time` decoded from RFC 3339 and re-encoded as Go does (RFC 3339 with nanoseconds trimmed, `Z` for UTC). */
function goTime(v: unknown, where: string): string {
  if (v === undefined || v === null) return '0001-01-01T00:00:00Z';
  const m = typeof v === 'string' ? /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(v) : null;
  if (m === null) throw fail('BAD_INPUT', `predicate: ${where} must be an RFC 3339 time`);
  const frac = (m[2] ?? '').replace(/0+$/, '');
  const zone = m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : m[3];
  return `${m[1]}${frac === '' ? '' : `.${frac}`}${zone}`;
}

/**
 * The `--type vuln` predicate as cosign decodes it into its Go structure before signing: only the
 * known fields, the missing ones at their zero values (`""`, `null`, `0001-01-01T00:00:00Z`).
 */
function cosignVulnPredicate(parsed: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const inv = goObject(goField(parsed, 'invocation'), 'invocation');
  const scanner = goObject(goField(parsed, 'scanner'), 'scanner');
  const db = goObject(goField(scanner, 'db'), 'scanner.db');
  const meta = goObject(goField(parsed, 'metadata'), 'metadata');
  return {
    invocation: {
      parameters: goField(inv, 'parameters') ?? null,
      uri: goString(goField(inv, 'uri'), 'invocation.uri'),
      event_id: goString(goField(inv, 'event_id'), 'invocation.event_id'),
      'builder.id': goString(goField(inv, 'builder.id'), 'invocation.builder.id'),
    },
    scanner: {
      uri: goString(goField(scanner, 'uri'), 'scanner.uri'),
      version: goString(goField(scanner, 'version'), 'scanner.version'),
      db: { uri: goString(goField(db, 'uri'), 'scanner.db.uri'), version: goString(goField(db, 'version'), 'scanner.db.version') },
      result: goField(scanner, 'result') ?? null,
    },
    metadata: {
      scanStartedOn: goTime(goField(meta, 'scanStartedOn'), 'metadata.scanStartedOn'),
      scanFinishedOn: goTime(goField(meta, 'scanFinishedOn'), 'metadata.scanFinishedOn'),
    },
  };
}

/**
 * The in-toto Statement (v0.1) cosign 3.1 signs for `cosign attest` (bundle format): the same fields
 * as {@link buildAttestationStatement} in protojson's order (`_type`, `subject`, `predicateType`,
 * `predicate`) and escaping (no `\u003c` for `<`). The predicate file must hold a JSON object (cosign
 * stores it as a `google.protobuf.Struct`), re-serialised with sorted keys; the custom type wraps the
 * file's text in `{"Data": …, "Timestamp": …}`; a `vuln` predicate is reduced to cosign's structure
 * (known fields only, zero values filled in). Checked byte for byte against cosign 3.1.1 for custom,
 * openvex, slsaprovenance, slsaprovenance1, spdxjson, cyclonedx, vuln and URI types (not `link`).
 *
 * @example
 * ```ts
 * const statement = buildBundleAttestationStatement({ predicate, predicateType: predicateType('openvex'), repository: 'registry.example.com/app', digest });
 * ```
 */
export function buildBundleAttestationStatement(input: AttestationStatementInput): Uint8Array {
  if (input.predicate.length > MAX_PREDICATE_BYTES) throw fail('TOO_LARGE', `predicate: ${input.predicate.length} bytes exceeds ${MAX_PREDICATE_BYTES}`);
  const [alg, hex] = input.digest.split(':') as [string, string];
  let predicate: string;
  if (input.predicateType === COSIGN_CUSTOM_PREDICATE_TYPE) {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(input.predicate);
    predicate = `{"Data":${protoQuote(text)},"Timestamp":${protoQuote(rfc3339(input.time ?? new Date()))}}`;
  } else {
    const parsed = parseJson(input.predicate, 'predicate', 'BAD_INPUT');
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw fail('BAD_INPUT', 'predicate: must be a JSON object');
    predicate = protoJsonValue(input.predicateType === COSIGN_VULN_PREDICATE_TYPE ? cosignVulnPredicate(parsed as Record<string, unknown>) : parsed);
  }
  const subject = `[{"name":${protoQuote(input.repository)},"digest":{${protoQuote(alg)}:${protoQuote(hex)}}}]`;
  const text = `{"_type":${protoQuote(IN_TOTO_STATEMENT_V01)},"subject":${subject},"predicateType":${protoQuote(input.predicateType)},"predicate":${predicate}}`;
  return new TextEncoder().encode(text);
}

/** `attestImage` in the bundle format: sign the statement into a bundle and push it as a referrer. */
async function attestImageBundle(ref: ImageReference, signer: Signer, options: AttestImageOptions): Promise<AttestImageResult> {
  if (options.replace === true) {
    throw fail('UNSUPPORTED', 'replacing attestations (replace) is not supported with the bundle format: remove the old referrer first (cosign-ts clean)');
  }
  const { client, signal } = options;
  const sig = signal === undefined ? {} : { signal };
  const m = await client.getManifest(ref.digest === undefined ? ref : withDigest(ref, ref.digest), sig);
  const digest = ref.digest ?? m.digest;
  const type = predicateType(options.type ?? 'custom');
  const statement = buildBundleAttestationStatement({
    predicate: options.predicate,
    predicateType: type,
    repository: ref.name,
    digest,
    ...(options.time === undefined ? {} : { time: options.time }),
  });
  const built = await buildBundleReferrerFromStatement({
    subject: { mediaType: m.mediaType, digest, size: m.size },
    statement,
    predicateType: type,
    signer,
    ...(options.created === undefined ? {} : { created: options.created }),
  });
  const repo = repositoryOption(options.signatureRepository) ?? ref;
  for (const [d, bytes] of built.blobs) await client.uploadBlob(repo, d, bytes, sig);
  await client.pushReferrer(repo, built.manifest, built.manifestMediaType, digest, sig);
  const sigB64 = Buffer.from(built.signature).toString('base64');
  const envelope: DsseEnvelope = {
    bytes: new TextEncoder().encode(
      `{"payload":"${Buffer.from(statement).toString('base64')}","payloadType":${goQuote(IN_TOTO_PAYLOAD_TYPE)},"signatures":[{"sig":"${sigB64}"}]}`,
    ),
    payload: statement,
    signature: built.signature,
  };
  return {
    digest,
    predicateType: type,
    attestationReference: withDigest(repo, built.manifestDigest),
    manifestDigest: built.manifestDigest,
    appended: true,
    envelope,
    format: 'bundle',
    bundle: built.bundle,
  };
}
