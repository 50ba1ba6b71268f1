/**
 * The Rekor bundle annotation (`dev.sigstore.cosign/bundle`) and the RFC 3161 annotation: parse,
 * encode, offline verification of the signed entry timestamp (SET) and of the entry body.
 *
 * Upstream: sigstore/cosign `pkg/cosign/bundle/rekor.go`, `pkg/cosign/bundle/tsa.go`,
 * `pkg/cosign/verify.go` (`VerifyBundle`, `VerifySET`, `compareSigs`, `comparePublicKey`,
 * `bundleHash`), `pkg/cosign/tlog.go` (`GetTransparencyLogID`).
 *
 * @module
 */
import { createHash, createPublicKey, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { schema } from '../internal/deps.js';
import { decodeBase64Strict } from '../encoding.js';
import { fail, isCosignError } from '../errors.js';
import { canonicalJson } from '../json/jcs.js';
import { decodeUtf8Strict, parseStrictJson } from '../json/strict.js';
import { goMarshal, goStruct, type GoValue } from '../json/gojson.js';

/** Size limit for a bundle annotation or a Rekor entry body (1 MiB). */
export const MAX_REKOR_BUNDLE_BYTES = 1024 * 1024;

/** A parsed `dev.sigstore.cosign/bundle` annotation. */
export interface RekorBundle {
  /** Decoded `SignedEntryTimestamp` (ASN.1 DER ECDSA signature by the log). */
  readonly signedEntryTimestamp: Uint8Array;
  /** `Payload`: what the SET signs. */
  readonly payload: {
    /** Base64 of the canonicalised Rekor entry. */
    readonly body: string;
    /** Unix seconds when the entry was integrated. */
    readonly integratedTime: number;
    /** Index of the entry in the log. */
    readonly logIndex: number;
    /** Hex SHA-256 of the log's public key (PKIX DER). */
    readonly logID: string;
  };
}

const BundleSchema = schema((z) => {
  const Int64 = z.number().refine((n) => Number.isSafeInteger(n), { message: 'must be an integer' });
  return z.strictObject({
    SignedEntryTimestamp: z.string(),
    Payload: z.strictObject({
      body: z.string(),
      integratedTime: Int64,
      logIndex: Int64,
      logID: z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lower-case hex characters' }),
    }),
  });
});

function zodFail(what: string, error: z.ZodError, code: 'BAD_INPUT'): never {
  const issue = error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
  const extra = issue !== undefined && issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(',')}` : '';
  throw fail(code, `${what}: ${path}: ${issue?.message ?? 'invalid'}${extra}`, { details: { path } });
}

/**
 * Parse the Rekor bundle annotation value:
 * `{"SignedEntryTimestamp":"<b64>","Payload":{"body":"<b64>","integratedTime":N,"logIndex":N,"logID":"<hex>"}}`.
 * Strict: exact key names (Go would also accept other cases), no duplicate or extra keys, strict base64,
 * integers within ±2^53.
 * @throws CosignError `TOO_LARGE` or `BAD_INPUT` (with `details.path`).
 */
export function parseRekorBundle(json: string | Uint8Array): RekorBundle {
  const size = typeof json === 'string' ? json.length : json instanceof Uint8Array ? json.byteLength : -1;
  if (size < 0) throw fail('BAD_INPUT', 'Rekor bundle: expected JSON text');
  if (size > MAX_REKOR_BUNDLE_BYTES) throw fail('TOO_LARGE', `Rekor bundle: over ${MAX_REKOR_BUNDLE_BYTES} bytes`);
  const text = typeof json === 'string' ? json : decodeUtf8Strict(json, 'Rekor bundle', 'BAD_INPUT');
  const parsed = BundleSchema().safeParse(parseStrictJson(text, 'Rekor bundle', 'BAD_INPUT'));
  if (!parsed.success) zodFail('Rekor bundle', parsed.error, 'BAD_INPUT');
  const { SignedEntryTimestamp, Payload } = parsed.data;
  decodeBase64Strict(Payload.body, 'Rekor bundle: Payload.body');
  return Object.freeze({
    signedEntryTimestamp: new Uint8Array(decodeBase64Strict(SignedEntryTimestamp, 'Rekor bundle: SignedEntryTimestamp')),
    payload: Object.freeze({ ...Payload }),
  });
}

/** Encode a bundle as cosign writes the annotation (Go `json.Marshal` of `bundle.RekorBundle`). */
export function encodeRekorBundle(bundle: RekorBundle): string {
  return goMarshal(rekorBundleOutputValue(bundle));
}

const TimestampSchema = schema((z) => z.strictObject({ SignedRFC3161Timestamp: z.string() }));

/** A parsed `dev.sigstore.cosign/rfc3161timestamp` annotation. */
export interface Rfc3161Timestamp {
  /** DER `TimeStampResp` bytes. */
  readonly signedRfc3161Timestamp: Uint8Array;
}

/**
 * Parse `{"SignedRFC3161Timestamp":"<b64 DER>"}`.
 * @throws CosignError `TOO_LARGE` or `BAD_INPUT`.
 */
export function parseRfc3161Timestamp(json: string): Rfc3161Timestamp {
  if (typeof json !== 'string') throw fail('BAD_INPUT', 'RFC 3161 timestamp: expected JSON text');
  if (json.length > MAX_REKOR_BUNDLE_BYTES) throw fail('TOO_LARGE', `RFC 3161 timestamp: over ${MAX_REKOR_BUNDLE_BYTES} bytes`);
  const parsed = TimestampSchema().safeParse(parseStrictJson(json, 'RFC 3161 timestamp', 'BAD_INPUT'));
  if (!parsed.success) zodFail('RFC 3161 timestamp', parsed.error, 'BAD_INPUT');
  return Object.freeze({
    signedRfc3161Timestamp: new Uint8Array(decodeBase64Strict(parsed.data.SignedRFC3161Timestamp, 'RFC 3161 timestamp: SignedRFC3161Timestamp')),
  });
}

/** Encode as cosign writes the annotation: `{"SignedRFC3161Timestamp":"<b64>"}`. */
export function encodeRfc3161Timestamp(ts: Rfc3161Timestamp): string {
  return goMarshal(goStruct(['SignedRFC3161Timestamp', ts.signedRfc3161Timestamp]));
}

/** A trusted Rekor log key. */
export interface RekorKey {
  /** Hex SHA-256 of the key's PKIX DER: the log ID bundles name. */
  readonly logId: string;
  /** The ECDSA public key. */
  readonly key: KeyObject;
}

/**
 * Make a {@link RekorKey} from a PEM `PUBLIC KEY` or a `KeyObject`; the log ID is computed.
 * Rekor keys must be ECDSA (cosign and containers/image refuse others).
 * @throws CosignError `BAD_KEY` if it does not parse, `UNSUPPORTED_KEY` if it is not ECDSA.
 */
export function rekorKey(key: string | Uint8Array | KeyObject): RekorKey {
  let k: KeyObject;
  if (typeof key === 'string' || key instanceof Uint8Array) {
    try {
      k = createPublicKey({ key: typeof key === 'string' ? key : Buffer.from(key), format: 'pem' });
    } catch (cause) {
      throw fail('BAD_KEY', 'Rekor public key: not a PEM public key', { cause });
    }
  } else {
    k = key;
  }
  if (k.type !== 'public') throw fail('BAD_KEY', 'Rekor public key: expected a public key');
  if (k.asymmetricKeyType !== 'ec') {
    throw fail('UNSUPPORTED_KEY', `Rekor public key must be ECDSA, not ${k.asymmetricKeyType ?? 'unknown'}`);
  }
  const der = k.export({ type: 'spki', format: 'der' });
  return Object.freeze({ logId: createHash('sha256').update(der).digest('hex'), key: k });
}

/** The bytes the SET signs: RFC 8785 JSON of `{body, integratedTime, logID, logIndex}`. */
export function rekorSetMessage(bundle: RekorBundle): Uint8Array {
  const { body, integratedTime, logIndex, logID } = bundle.payload;
  return new TextEncoder().encode(canonicalJson({ body, integratedTime, logIndex, logID }));
}

/**
 * Verify the bundle's signed entry timestamp offline: the log named by `logID` must be one of
 * `rekorKeys`, and the SET must be its ECDSA (ASN.1) signature over SHA-256 of the RFC 8785 JSON of
 * `{body, integratedTime, logID, logIndex}`.
 * @throws CosignError `SIGNATURE_INVALID` for an unknown log or a bad SET, `UNSUPPORTED_KEY` for a non-ECDSA key.
 */
export function verifyRekorSET(bundle: RekorBundle, rekorKeys: ReadonlyArray<RekorKey>): void {
  for (const k of rekorKeys) {
    if (k.key.asymmetricKeyType !== 'ec') throw fail('UNSUPPORTED_KEY', `Rekor public key for log ${k.logId} is not ECDSA`);
  }
  const trusted = rekorKeys.find((k) => k.logId === bundle.payload.logID);
  if (trusted === undefined) {
    throw fail('SIGNATURE_INVALID', `Rekor bundle: log ${bundle.payload.logID} is not a trusted Rekor log`, { details: { logID: bundle.payload.logID } });
  }
  let ok = false;
  try {
    ok = cryptoVerify('sha256', rekorSetMessage(bundle), { key: trusted.key, dsaEncoding: 'der' }, bundle.signedEntryTimestamp);
  } catch {
    ok = false;
  }
  if (!ok) throw fail('SIGNATURE_INVALID', 'Rekor bundle: signed entry timestamp does not verify', { details: { logID: bundle.payload.logID } });
}

/** The fields of a Rekor entry body that matter offline. */
export interface RekorEntry {
  /** `hashedrekord` or `rekord`. */
  readonly kind: 'hashedrekord' | 'rekord';
  /** `apiVersion` (always `0.0.1` here). */
  readonly apiVersion: string;
  /** `spec.data.hash.algorithm`. */
  readonly hashAlgorithm: string;
  /** `spec.data.hash.value` (hex). */
  readonly hashValue: string;
  /** Decoded `spec.signature.content`. */
  readonly signature: Uint8Array;
  /** Decoded `spec.signature.publicKey.content`: a PEM public key or certificate. */
  readonly publicKeyPem: string;
}

const EntrySchema = schema((z) =>
  z.object({
    apiVersion: z.literal('0.0.1'),
    kind: z.enum(['hashedrekord', 'rekord']),
    spec: z.object({
      data: z.object({ hash: z.object({ algorithm: z.string(), value: z.string() }) }),
      signature: z.object({
        content: z.string(),
        format: z.string().optional(),
        publicKey: z.object({ content: z.string() }),
      }),
    }),
  }),
);

/**
 * Decode and parse a bundle's entry body (hashedrekord v0.0.1 or rekord v0.0.1).
 * @throws CosignError `BAD_INPUT` for anything else.
 */
export function parseRekorEntry(bundle: RekorBundle): RekorEntry {
  const raw = decodeBase64Strict(bundle.payload.body, 'Rekor entry body');
  if (raw.byteLength > MAX_REKOR_BUNDLE_BYTES) throw fail('TOO_LARGE', 'Rekor entry body: too large');
  const parsed = EntrySchema().safeParse(parseStrictJson(decodeUtf8Strict(raw, 'Rekor entry body', 'BAD_INPUT'), 'Rekor entry body', 'BAD_INPUT'));
  if (!parsed.success) zodFail('Rekor entry body (hashedrekord or rekord v0.0.1 expected)', parsed.error, 'BAD_INPUT');
  const e = parsed.data;
  const pem = decodeBase64Strict(e.spec.signature.publicKey.content, 'Rekor entry body: spec.signature.publicKey.content');
  return Object.freeze({
    kind: e.kind,
    apiVersion: e.apiVersion,
    hashAlgorithm: e.spec.data.hash.algorithm,
    hashValue: e.spec.data.hash.value,
    signature: new Uint8Array(decodeBase64Strict(e.spec.signature.content, 'Rekor entry body: spec.signature.content')),
    publicKeyPem: pem.toString('utf8'),
  });
}

/** DER bytes of the first PEM block in `pem` (key or certificate), or undefined. */
function firstPemDer(pem: string): Buffer | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
  if (m === null || m[2] === undefined) return undefined;
  try {
    return decodeBase64Strict(m[2].replace(/[ \t]/g, ''), 'PEM body');
  } catch (e) {
    if (isCosignError(e)) return undefined;
    throw e;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** What the entry must agree with. */
export interface RekorBodyExpectations {
  /** The signed payload bytes (the layer blob). */
  readonly payload: Uint8Array;
  /** The raw signature from the layer annotation. */
  readonly signature: Uint8Array;
  /** The verifier's public key (PEM or KeyObject) or the signing certificate (PEM). */
  readonly publicKeyOrCertPem: string | KeyObject;
}

/**
 * Check that a bundle's entry is about this signature, as cosign's `VerifyBundle` does:
 * the entry's signature equals the layer's, the DER inside the entry's PEM equals the verifier's key
 * (or certificate), and the hash is `sha256` of the payload.
 * @throws CosignError `BAD_INPUT` for an unreadable body, `SIGNATURE_INVALID` for a mismatch.
 */
export function checkRekorBody(bundle: RekorBundle, expected: RekorBodyExpectations): RekorEntry {
  const entry = parseRekorEntry(bundle);
  if (expected.signature.byteLength > 0 && !sameBytes(entry.signature, expected.signature)) {
    throw fail('SIGNATURE_INVALID', 'Rekor entry: signature in the bundle does not match the layer signature');
  }
  const entryDer = firstPemDer(entry.publicKeyPem);
  let wantDer: Buffer | undefined;
  if (typeof expected.publicKeyOrCertPem === 'string') {
    wantDer = firstPemDer(expected.publicKeyOrCertPem);
  } else {
    wantDer = expected.publicKeyOrCertPem.export({ type: 'spki', format: 'der' });
  }
  if (entryDer === undefined || wantDer === undefined || !sameBytes(entryDer, wantDer)) {
    throw fail('SIGNATURE_INVALID', 'Rekor entry: public key or certificate in the bundle does not match the verifier');
  }
  const payloadHash = createHash('sha256').update(expected.payload).digest('hex');
  if (entry.hashAlgorithm !== 'sha256' || entry.hashValue !== payloadHash) {
    throw fail('SIGNATURE_INVALID', 'Rekor entry: hash does not match sha256 of the payload', {
      details: { algorithm: entry.hashAlgorithm, expected: payloadHash, actual: entry.hashValue.slice(0, 200) },
    });
  }
  return entry;
}

/**
 * The Go value of a bundle (Go struct `bundle.RekorBundle`): what the annotation marshals, and the `Bundle`
 * value cosign puts into `optional` in verify output:
 * `{"SignedEntryTimestamp":"<base64>","Payload":{"body":…,"integratedTime":…,"logIndex":…,"logID":…}}`.
 */
export function rekorBundleOutputValue(bundle: RekorBundle): GoValue {
  return goStruct(
    ['SignedEntryTimestamp', bundle.signedEntryTimestamp],
    [
      'Payload',
      goStruct(
        ['body', bundle.payload.body],
        ['integratedTime', BigInt(bundle.payload.integratedTime)],
        ['logIndex', BigInt(bundle.payload.logIndex)],
        ['logID', bundle.payload.logID],
      ),
    ],
  );
}

const DsseBodySchema = schema((z) =>
  z.union([
    z.object({
      apiVersion: z.literal('0.0.2'),
      kind: z.literal('intoto'),
      spec: z.object({
        content: z.object({
          envelope: z.object({
            payloadType: z.string(),
            signatures: z.array(z.object({ sig: z.string().optional(), publicKey: z.string() })).min(1),
          }),
          hash: z.object({ algorithm: z.string(), value: z.string() }),
          payloadHash: z.object({ algorithm: z.string(), value: z.string() }).optional(),
        }),
      }),
    }),
    z.object({
      apiVersion: z.literal('0.0.1'),
      kind: z.literal('dsse'),
      spec: z.object({
        envelopeHash: z.object({ algorithm: z.string(), value: z.string() }),
        payloadHash: z.object({ algorithm: z.string(), value: z.string() }),
        signatures: z.array(z.object({ signature: z.string(), verifier: z.string() })).min(1),
      }),
    }),
  ]),
);

/** What the entry of a DSSE envelope must agree with. */
export interface DsseBodyExpectations {
  /** The DSSE envelope bytes as stored (the `.att` layer blob). */
  readonly envelope: Uint8Array;
  /** The decoded DSSE payload. */
  readonly payload: Uint8Array;
  /** The envelope's one signature (raw bytes). */
  readonly signature: Uint8Array;
  /** The signing certificate (PEM). */
  readonly certificatePem: string;
}

function checkSha256(h: { algorithm: string; value: string }, data: Uint8Array, what: string): void {
  const want = createHash('sha256').update(data).digest('hex');
  if (h.algorithm !== 'sha256' || h.value !== want) {
    throw fail('SIGNATURE_INVALID', `Rekor entry: ${what} does not match`, {
      details: { algorithm: h.algorithm.slice(0, 50), expected: want, actual: h.value.slice(0, 200) },
    });
  }
}

/**
 * Check that a bundle's entry is about this DSSE envelope, as cosign's `VerifyBundle` does for a
 * legacy `.att` layer: a `dsse` v0.0.1 entry (what cosign 2.5 `attest` uploads) or an `intoto` v0.0.2
 * one (older cosign 2); one signature in the entry; its key (base64 of a PEM) the signing
 * certificate; the envelope hash (`envelopeHash`, intoto `content.hash`) the sha256 of the envelope
 * bytes as stored, which binds payload and signatures. Beyond cosign, the payload hash (when the
 * entry has one) is checked against the payload, and a dsse entry's signature against the envelope's.
 * @throws CosignError `BAD_INPUT` for an unreadable body or another kind, `SIGNATURE_INVALID` for a mismatch.
 */
export function checkDsseRekorBody(bundle: RekorBundle, expected: DsseBodyExpectations): void {
  const raw = decodeBase64Strict(bundle.payload.body, 'Rekor entry body');
  if (raw.byteLength > MAX_REKOR_BUNDLE_BYTES) throw fail('TOO_LARGE', 'Rekor entry body: too large');
  const parsed = DsseBodySchema().safeParse(parseStrictJson(decodeUtf8Strict(raw, 'Rekor entry body', 'BAD_INPUT'), 'Rekor entry body', 'BAD_INPUT'));
  if (!parsed.success) zodFail('Rekor entry body (dsse v0.0.1 or intoto v0.0.2 expected)', parsed.error, 'BAD_INPUT');
  const e = parsed.data;
  let keyB64: string;
  let envelopeHash: { algorithm: string; value: string };
  let payloadHash: { algorithm: string; value: string } | undefined;
  if (e.kind === 'dsse') {
    // cosign: "multiple signatures on DSSE envelopes are not currently supported"
    if (e.spec.signatures.length !== 1) throw fail('SIGNATURE_INVALID', 'Rekor entry: multiple DSSE signatures are not supported');
    const s = e.spec.signatures[0] as { signature: string; verifier: string };
    if (!sameBytes(decodeBase64Strict(s.signature, 'Rekor entry body: signature'), expected.signature)) {
      throw fail('SIGNATURE_INVALID', 'Rekor entry: signature in the bundle does not match the envelope signature');
    }
    keyB64 = s.verifier;
    envelopeHash = e.spec.envelopeHash;
    payloadHash = e.spec.payloadHash;
  } else {
    const c = e.spec.content;
    if (c.envelope.signatures.length !== 1) throw fail('SIGNATURE_INVALID', 'Rekor entry: multiple DSSE signatures are not supported');
    keyB64 = (c.envelope.signatures[0] as { publicKey: string }).publicKey;
    envelopeHash = c.hash;
    payloadHash = c.payloadHash;
  }
  const entryDer = firstPemDer(decodeBase64Strict(keyB64, 'Rekor entry body: public key').toString('utf8'));
  const wantDer = firstPemDer(expected.certificatePem);
  if (entryDer === undefined || wantDer === undefined || !sameBytes(entryDer, wantDer)) {
    throw fail('SIGNATURE_INVALID', 'Rekor entry: certificate in the bundle does not match the signing certificate');
  }
  checkSha256(envelopeHash, expected.envelope, 'envelope hash (sha256 of the DSSE envelope)');
  if (payloadHash !== undefined) checkSha256(payloadHash, expected.payload, 'payload hash (sha256 of the DSSE payload)');
}
