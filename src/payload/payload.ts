/**
 * The cosign "simple signing" payload: build it byte-identical to cosign, parse it strictly from the
 * raw signed bytes, check its claims, and print verified payloads like `cosign verify` does.
 *
 * Upstream: sigstore/sigstore `pkg/signature/payload/payload.go` (layout), sigstore/cosign
 * `pkg/cosign/verifiers.go` (claim checks), containers/image `signature/internal/sigstore_payload.go`
 * and `signature/policy_reference_match.go` (strict parsing, reference match modes),
 * sigstore/cosign `cmd/cosign/cli/verify/verify.go` `PrintVerification` (verify output).
 *
 * @module
 */
import { schema } from '../internal/deps.js';
import { isDigest, isSha256DigestAt, parseDigest, type Digest } from '../digest.js';
import { decodeUtf8Strict, parseStrictJson } from '../json/strict.js';
import { plain, readPlainJson } from '../json/plain.js';
import { fail, isCosignError } from '../errors.js';
import { formatReference, parseReference, type ImageReference } from '../reference.js';
import { goMarshal, goStruct, type GoValue } from '../json/gojson.js';

/** The value of `critical.type` in every cosign image signature payload. */
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

/** Default size limit for {@link parsePayload} (1 MiB; real payloads are a few hundred bytes). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

const utf8 = new TextEncoder();

/** What {@link buildPayload} needs. */
export interface BuildPayloadInput {
  /**
   * The `docker-reference` claim, written verbatim. cosign writes the repository name only
   * (`registry/repository`, see {@link buildPayloadForImage}); skopeo writes the reference it pushed.
   */
  readonly dockerReference: string;
  /** The signed image's manifest digest. */
  readonly digest: Digest;
  /** `-a key=value` annotations, stored as `optional`. Empty or absent gives `"optional":null`. */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Build the payload bytes exactly as cosign does (compact Go JSON, keys in cosign's order,
 * `"optional":null` without annotations, annotations as a map with sorted keys).
 * @throws CosignError `BAD_DIGEST` for a malformed digest, `BAD_INPUT` for an empty reference or a non-string annotation.
 */
export function buildPayload(input: BuildPayloadInput): Uint8Array {
  const { dockerReference, digest, annotations } = input;
  if (typeof dockerReference !== 'string' || dockerReference.length === 0) {
    throw fail('BAD_INPUT', 'payload docker-reference must be a non-empty string');
  }
  parseDigest(digest);
  let optional: Record<string, string> | null = null;
  if (annotations !== undefined && annotations !== null) {
    const keys = Object.keys(annotations);
    for (const k of keys) {
      if (typeof annotations[k] !== 'string') throw fail('BAD_INPUT', `annotation ${JSON.stringify(k)} must be a string`);
    }
    if (keys.length > 0) optional = { ...annotations };
  }
  const doc = goStruct(
    [
      'critical',
      goStruct(
        ['identity', goStruct(['docker-reference', dockerReference])],
        ['image', goStruct(['docker-manifest-digest', digest])],
        ['type', COSIGN_SIGNATURE_TYPE],
      ),
    ],
    ['optional', optional],
  );
  return utf8.encode(goMarshal(doc));
}

/**
 * Build the payload cosign signs for `ref`: the `docker-reference` is `ref.name`
 * (go-containerregistry `Repository.Name()`), never a tag or digest.
 */
export function buildPayloadForImage(ref: ImageReference, digest: Digest, annotations?: Readonly<Record<string, string>>): Uint8Array {
  return buildPayload(annotations === undefined ? { dockerReference: ref.name, digest } : { dockerReference: ref.name, digest, annotations });
}

/** A parsed simple-signing payload. `raw` are the exact bytes that were signed. */
export interface SimpleSigningPayload {
  /** The exact bytes given to {@link parsePayload} (verify signatures over these, never a re-encoding). */
  readonly raw: Uint8Array;
  /** `critical.type`. */
  readonly type: string;
  /** `critical.identity.docker-reference`, verbatim. */
  readonly dockerReference: string;
  /** `critical.image.docker-manifest-digest`. */
  readonly manifestDigest: Digest;
  /** `optional` as parsed JSON (numbers are float64, as in Go), or `null` when absent or `null`. */
  readonly optional: Readonly<Record<string, unknown>> | null;
  /** `optional.creator` (containers/image writes it). */
  readonly creator?: string;
  /** `optional.timestamp`, Unix seconds (containers/image writes it). */
  readonly timestamp?: number;
}

/** Options for {@link parsePayload}. */
export interface ParsePayloadOptions {
  /** Size limit in bytes. Default {@link DEFAULT_MAX_PAYLOAD_BYTES}. */
  readonly maxBytes?: number;
}

const PayloadSchema = schema((z) =>
  z.strictObject({
    critical: z.strictObject({
      identity: z.strictObject({ 'docker-reference': z.string() }),
      image: z.strictObject({
        'docker-manifest-digest': z.string().refine((s) => isDigest(s), { message: 'not a valid digest' }),
      }),
      type: z.string(),
    }),
    // `optional` is checked by hand (see checkOptional): zod would rebuild the object and lose a `__proto__` key.
    optional: z.unknown().optional(),
  }),
);

/** Check `optional` on the object JSON.parse made (own keys only, `__proto__` is an ordinary key). */
function checkOptional(opt: unknown): Record<string, unknown> | null {
  if (opt === undefined || opt === null) return null;
  if (typeof opt !== 'object' || Array.isArray(opt)) {
    throw fail('BAD_PAYLOAD', 'payload: optional: must be null or an object', { details: { path: 'optional' } });
  }
  const o = opt as Record<string, unknown>;
  if (Object.hasOwn(o, 'creator') && typeof o.creator !== 'string') {
    throw fail('BAD_PAYLOAD', 'payload: optional.creator: must be a string', { details: { path: 'optional.creator' } });
  }
  if (Object.hasOwn(o, 'timestamp')) {
    const t = o.timestamp;
    if (typeof t !== 'number' || !Number.isInteger(t) || Math.abs(t) >= 2 ** 63) {
      throw fail('BAD_PAYLOAD', 'payload: optional.timestamp: must be an integer', { details: { path: 'optional.timestamp' } });
    }
  }
  return Object.freeze(o);
}

function issuePath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => String(p)).join('.') || '(root)';
}

/**
 * The payloads cosign and containers/image write, for {@link readPlainJson}: the members `PayloadSchema`
 * requires, a sha256 `docker-manifest-digest` (other algorithms take the checked path), and `optional`
 * absent, `null` or an object of strings, integers, booleans and nulls.
 */
export const PLAIN_PAYLOAD = plain.object({
  critical: plain.object({
    identity: plain.object({ 'docker-reference': plain.string }),
    image: plain.object({ 'docker-manifest-digest': plain.token(isSha256DigestAt) }),
    type: plain.string,
  }),
  optional: plain.optional(plain.scalarsOrNull),
});

/** The payload JSON as `parseStrictJson` gives it, once `PayloadSchema` accepted it. */
interface PayloadJson {
  readonly critical: {
    readonly identity: { readonly 'docker-reference': string };
    readonly image: { readonly 'docker-manifest-digest': string };
    readonly type: string;
  };
  /** Unchecked here: `checkOptional` decides. */
  readonly optional?: unknown;
}

/**
 * The payload JSON value: {@link PLAIN_PAYLOAD}'s fast path, else {@link readPayloadChecked}. Either way,
 * the value `parseStrictJson` gives, checked.
 */
function readPayloadJson(text: string): unknown {
  return readPlainJson(text, PLAIN_PAYLOAD) ?? readPayloadChecked(text);
}

/** The checked path: `parseStrictJson` then `PayloadSchema`; its errors are the reference behaviour. */
export function readPayloadChecked(text: string): unknown {
  const value = parseStrictJson(text, 'payload', 'BAD_PAYLOAD');
  const parsed = PayloadSchema().safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined ? '(root)' : issuePath(issue.path);
    const fullPath = issue !== undefined && issue.code === 'unrecognized_keys' ? `${path === '(root)' ? '' : `${path}.`}${issue.keys.join(',')}` : path;
    throw fail('BAD_PAYLOAD', `payload: ${fullPath}: ${issue?.message ?? 'invalid'}`, { details: { path: fullPath } });
  }
  return value;
}

/**
 * Parse a simple-signing payload from the raw signed bytes.
 *
 * Strict on purpose (a signature only counts when it is unambiguous): size limit, strict UTF-8, no
 * byte-order mark, no duplicate keys anywhere, `critical` has exactly `identity`, `image` and `type`
 * (containers/image), the top level has only `critical` and `optional`, `docker-manifest-digest` is a
 * valid digest, `optional` is absent, `null` or an object whose `creator` (if any) is a string and
 * `timestamp` (if any) an integer. `type` is not checked here: see {@link checkClaims}.
 *
 * @throws CosignError `TOO_LARGE` over the size limit, `BAD_PAYLOAD` otherwise (with `details.path`).
 */
export function parsePayload(bytes: Uint8Array, options: ParsePayloadOptions = {}): SimpleSigningPayload {
  if (!(bytes instanceof Uint8Array)) throw fail('BAD_PAYLOAD', 'payload: expected bytes');
  const max = options.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (bytes.byteLength > max) {
    throw fail('TOO_LARGE', `payload: ${bytes.byteLength} bytes is over the ${max}-byte limit`, { details: { size: bytes.byteLength, limit: max } });
  }
  const text = decodeUtf8Strict(bytes, 'payload', 'BAD_PAYLOAD');
  const p = readPayloadJson(text) as PayloadJson;
  const optional = checkOptional(p.optional);
  const result: {
    raw: Uint8Array;
    type: string;
    dockerReference: string;
    manifestDigest: Digest;
    optional: Record<string, unknown> | null;
    creator?: string;
    timestamp?: number;
  } = {
    raw: bytes,
    type: p.critical.type,
    dockerReference: p.critical.identity['docker-reference'],
    manifestDigest: p.critical.image['docker-manifest-digest'] as Digest,
    optional,
  };
  if (optional !== null && Object.hasOwn(optional, 'creator')) result.creator = optional.creator as string;
  if (optional !== null && Object.hasOwn(optional, 'timestamp')) result.timestamp = optional.timestamp as number;
  return Object.freeze(result);
}

/** How the payload's `docker-reference` must relate to the expected image (containers/image policy names). */
export type ReferenceMatch = 'repository' | 'exact' | 'repoDigest' | 'ignore';

/**
 * True when a payload's `docker-reference` matches `expected` under `mode`, with containers/image
 * semantics (`signature/policy_reference_match.go`); both sides are normalised (`docker.io` ≡
 * `index.docker.io`, `library/` added):
 * - `repository` (matchRepository): same repository name; tags and digests are ignored.
 * - `exact` (matchExact): neither side may be name-only; name, tag and digest must all be equal.
 * - `repoDigest` (matchRepoDigestOrExact): the payload must not be name-only; if `expected` has a tag,
 *   exact match; else if it has a digest, same repository name; else no match.
 * - `ignore`: always true (what `cosign verify` does).
 *
 * A string `expected` is parsed without adding a default tag. A payload reference that does not
 * parse never matches.
 * @throws CosignError `BAD_REFERENCE` when `expected` is a string that does not parse.
 */
export function matchDockerReference(signatureReference: string, expected: ImageReference | string, mode: ReferenceMatch): boolean {
  if (mode === 'ignore') return true;
  const intended = typeof expected === 'string' ? parseReference(expected, { defaultTag: null }) : expected;
  let sig: ImageReference;
  try {
    sig = parseReference(signatureReference, { defaultTag: null });
  } catch (e) {
    if (isCosignError(e)) return false;
    throw e;
  }
  const nameOnly = (r: ImageReference): boolean => r.tag === undefined && r.digest === undefined;
  switch (mode) {
    case 'repository':
      return sig.name === intended.name;
    case 'exact':
      if (nameOnly(sig) || nameOnly(intended)) return false;
      return formatReference(sig) === formatReference(intended);
    case 'repoDigest':
      if (nameOnly(sig)) return false;
      if (intended.tag !== undefined) return formatReference(sig) === formatReference(intended);
      if (intended.digest !== undefined) return sig.name === intended.name;
      return false;
    default:
      throw fail('BAD_INPUT', `unknown reference match mode ${JSON.stringify(String(mode))}`);
  }
}

/** The identity part of {@link ClaimExpectations}. */
export interface ReferenceExpectation {
  /** The expected image (a string is parsed without adding a default tag). */
  readonly ref: ImageReference | string;
  /** How the payload's `docker-reference` must relate to {@link ReferenceExpectation.ref}. */
  readonly match: ReferenceMatch;
}

/** What {@link checkClaims} checks. */
export interface ClaimExpectations {
  /** The digest of the image being verified; `docker-manifest-digest` must equal it. */
  readonly digest: Digest;
  /**
   * The identity check. Absent means `ignore`, which is what `cosign verify` does (it never checks
   * `docker-reference`); policies that follow containers/image pass a mode here.
   */
  readonly reference?: ReferenceExpectation;
  /** Each pair must be in `optional` with an equal string value (`cosign verify -a`). */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * Require `critical.type` to be exactly {@link COSIGN_SIGNATURE_TYPE} (case-sensitive, like
   * containers/image; cosign itself does not check it). Default true.
   */
  readonly requireCosignType?: boolean;
}

/**
 * Check a parsed payload's claims, in this order: type, digest, reference, annotations.
 * @throws CosignError `TYPE_MISMATCH`, `DIGEST_MISMATCH`, `REFERENCE_MISMATCH` or `ANNOTATION_MISMATCH`,
 *   with `details` saying what was expected and found.
 */
export function checkClaims(payload: SimpleSigningPayload, expectations: ClaimExpectations): void {
  if ((expectations.requireCosignType ?? true) && payload.type !== COSIGN_SIGNATURE_TYPE) {
    throw fail('TYPE_MISMATCH', `payload critical.type is ${JSON.stringify(payload.type.slice(0, 200))}, expected ${JSON.stringify(COSIGN_SIGNATURE_TYPE)}`, {
      details: { expected: COSIGN_SIGNATURE_TYPE, actual: payload.type.slice(0, 200) },
    });
  }
  if (payload.manifestDigest !== expectations.digest) {
    throw fail('DIGEST_MISMATCH', `payload signs ${payload.manifestDigest}, not the image digest ${expectations.digest}`, {
      details: { expected: expectations.digest, actual: payload.manifestDigest },
    });
  }
  const ref = expectations.reference;
  if (ref !== undefined && !matchDockerReference(payload.dockerReference, ref.ref, ref.match)) {
    const expected = typeof ref.ref === 'string' ? ref.ref : formatReference(ref.ref);
    throw fail(
      'REFERENCE_MISMATCH',
      `payload docker-reference ${JSON.stringify(payload.dockerReference.slice(0, 300))} does not match ${JSON.stringify(expected)} (${ref.match})`,
      {
        details: { expected, actual: payload.dockerReference.slice(0, 300), match: ref.match },
      },
    );
  }
  const annotations = expectations.annotations;
  for (const [k, v] of annotations === undefined ? [] : Object.entries(annotations)) {
    const have = payload.optional === null ? undefined : payload.optional[k];
    if (have !== v) {
      throw fail('ANNOTATION_MISMATCH', `payload annotation ${JSON.stringify(k)} is ${have === undefined ? 'missing' : 'different'}`, {
        details: { key: k, expected: v, actual: typeof have === 'string' ? have : have === undefined ? null : JSON.stringify(have)?.slice(0, 300) },
      });
    }
  }
}

/** One element of `cosign verify` output: a verified payload and what cosign adds to `optional`. */
export interface VerifyOutputItem {
  /** The verified payload. */
  readonly payload: SimpleSigningPayload;
  /**
   * Keys cosign adds to `optional` (`Subject`, `Issuer`, the certificate-extension OIDs, `Bundle`,
   * `RFC3161Timestamp`); see `rekorBundleOutputValue` in `cosign-ts/artifact`. When present, `optional` becomes a map
   * even if the payload had `null`; added keys replace payload keys of the same name.
   * @internal
   */
  readonly extraOptional?: Readonly<Record<string, GoValue>>;
}

/**
 * The exact stdout bytes of a successful `cosign verify -o json`: `\n`, a compact JSON array, `\n`.
 * Each payload is re-encoded through cosign's Go structs: only `critical` (`identity`, `image`,
 * `type`, in that order) and `optional` survive, `optional` keys are sorted at every level, Go string
 * escaping applies (`\u003c`, `\u2028`, …), numbers are float64 (`-0` stays `-0`), `null` stays `null`
 * and `{}` stays `{}`.
 */
export function verifyOutputJson(items: ReadonlyArray<SimpleSigningPayload | VerifyOutputItem>): Uint8Array {
  const elements = items.map((item) => {
    const { payload, extraOptional }: VerifyOutputItem = 'raw' in item ? { payload: item } : item;
    let optional: Record<string, GoValue> | null = payload.optional === null ? null : { ...(payload.optional as Record<string, GoValue>) };
    if (extraOptional !== undefined) {
      optional = { ...(optional ?? {}), ...extraOptional };
    }
    return goStruct(
      [
        'critical',
        goStruct(
          ['identity', goStruct(['docker-reference', payload.dockerReference])],
          ['image', goStruct(['docker-manifest-digest', payload.manifestDigest])],
          ['type', payload.type],
        ),
      ],
      ['optional', optional],
    );
  });
  return utf8.encode(`\n${goMarshal(elements.length === 0 ? null : elements)}\n`);
}

/** The `RFC3161Timestamp` value cosign puts into `optional`: `{"SignedRFC3161Timestamp":"<base64>"}`. */
export function rfc3161TimestampOutputValue(signedRfc3161Timestamp: Uint8Array): GoValue {
  return goStruct(['SignedRFC3161Timestamp', signedRfc3161Timestamp]);
}
