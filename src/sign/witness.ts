/**
 * The witnesses cosign asks for a signature: a transparency-log entry (Rekor) and an RFC 3161 timestamp, via
 * `@sigstore/sign`'s `RekorWitness` and `TSAWitness`. The results are turned into what cosign stores: the
 * `dev.sigstore.cosign/bundle` and `dev.sigstore.cosign/rfc3161timestamp` annotations of a `.sig` layer, or
 * the verification material of a Sigstore bundle.
 *
 * @module
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { RekorBundle } from '../artifact/rekor.js';
import { raceAbort, timerDelay } from '../concurrency.js';
import { fail } from '../errors.js';
import { sigstoreCore, sigstoreSign } from '../internal/deps.js';
import { DEFAULT_SIGSTORE_TIMEOUT_MS, sigstoreFailure } from './keyless.js';

/** The public-good Rekor, as cosign's `--rekor-url` default. */
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';

/** Where and how to record signatures (`--rekor-url`, `--timestamp-server-url`). */
export interface WitnessOptions {
  /** Upload each signature to this Rekor (`--tlog-upload`, the default in cosign). Omit for no upload. */
  readonly rekorURL?: string;
  /** Rekor API major version: 1 (default, hashedrekord / dsse v0.0.1 entries) or 2, as a signing config says. */
  readonly rekorVersion?: 1 | 2;
  /** Ask this RFC 3161 timestamp authority for a timestamp over each signature. Omit for none. */
  readonly tsaURL?: string;
  /** Time allowed per call, end to end. Default 30 s. */
  readonly timeoutMs?: number;
}

/** A transparency-log entry as `@sigstore/bundle` models it (the bundle's `tlogEntries[]` item). */
export type TransparencyLogEntry = import('@sigstore/bundle').TransparencyLogEntry;

/** What the witnesses returned for one signature. */
export interface Witnessed {
  /** The Rekor entry, when a Rekor URL was given. */
  readonly tlogEntry?: TransparencyLogEntry;
  /** DER `TimeStampResp`, when a timestamp authority was given. */
  readonly rfc3161Timestamp?: Uint8Array;
}

/** What was signed, as the witnesses see it. */
export type WitnessedContent =
  | { readonly kind: 'message'; readonly payload: Uint8Array; readonly signature: Uint8Array }
  | { readonly kind: 'dsse'; readonly payloadType: string; readonly payload: Uint8Array; readonly signature: Uint8Array };

const RETRY = { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2000 };

/** `p` within `ms` end to end (retries included), its failures as {@link sigstoreFailure}. */
async function bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  try {
    return await raceAbort(p, AbortSignal.timeout(timerDelay(ms)), () => fail('SIGSTORE_ERROR', `${what}: no answer within ${ms} ms`));
  } catch (e) {
    throw sigstoreFailure(what, e);
  }
}

function bundleContent(content: WitnessedContent): import('@sigstore/bundle').Bundle['content'] {
  if (content.kind === 'message') {
    return {
      $case: 'messageSignature',
      messageSignature: {
        messageDigest: { algorithm: 1 /* HashAlgorithm.SHA2_256 */, digest: createHash('sha256').update(content.payload).digest() },
        signature: Buffer.from(content.signature),
      },
    };
  }
  return {
    $case: 'dsseEnvelope',
    dsseEnvelope: { payload: Buffer.from(content.payload), payloadType: content.payloadType, signatures: [{ sig: Buffer.from(content.signature), keyid: '' }] },
  };
}

/**
 * `@sigstore/sign` describes the signer of a Rekor v2 request as an X.509 certificate with an ECDSA P-256 key,
 * whatever it is: anything else would be logged under a wrong verifier, so it is refused here.
 */
function requireRekorV2Certificate(publicKeyPem: string): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(publicKeyPem);
  } catch {
    throw fail('UNSUPPORTED', 'Rekor v2 upload of a signature made with a key (no certificate): use a Rekor v1 log, or sign keyless');
  }
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw fail('UNSUPPORTED', 'Rekor v2 upload: only certificates with an ECDSA P-256 key are supported');
  }
}

/**
 * What a Rekor v2 log records for `content`: a message signature as it is; a DSSE envelope as a hashedrekord
 * v0.0.2 entry over SHA-256 of its pre-authentication encoding, signed by the envelope's signature. Rekor v2
 * (rekor-tiles) logs DSSE envelopes that way, and sigstore-go (cosign 3) rebuilds that entry to check inclusion;
 * `@sigstore/sign` would send a `dsse` v0.0.2 request, whose entries cosign 3.1 cannot read.
 * @internal
 */
export function rekorV2Content(content: WitnessedContent): import('@sigstore/bundle').Bundle['content'] {
  if (content.kind === 'message') return bundleContent(content);
  const pae = sigstoreCore().dsse.preAuthEncoding(content.payloadType, Buffer.from(content.payload));
  return {
    $case: 'messageSignature',
    messageSignature: {
      messageDigest: { algorithm: 1 /* HashAlgorithm.SHA2_256 */, digest: createHash('sha256').update(pae).digest() },
      signature: Buffer.from(content.signature),
    },
  };
}

/**
 * Record one signature: a Rekor entry (hashedrekord for a message signature, dsse for an envelope with Rekor v1,
 * hashedrekord over its PAE with Rekor v2, see `rekorV2Content`; the entry names `publicKeyPem`, the signing
 * certificate for keyless signatures or the public key) and/or an RFC 3161
 * timestamp over the signature bytes, as cosign asks for them.
 * @throws CosignError `SIGSTORE_ERROR` when a service fails or answers something unusable.
 */
export async function witnessSignature(content: WitnessedContent, publicKeyPem: string, options: WitnessOptions): Promise<Witnessed> {
  const lib = sigstoreSign();
  const ms = options.timeoutMs ?? DEFAULT_SIGSTORE_TIMEOUT_MS;
  const sigContent = bundleContent(content);
  const out: { tlogEntry?: TransparencyLogEntry; rfc3161Timestamp?: Uint8Array } = {};
  const tasks: Promise<void>[] = [];
  if (options.rekorURL !== undefined) {
    if (options.rekorVersion === 2) requireRekorV2Certificate(publicKeyPem);
    const rekorURL = options.rekorURL;
    const witness = new lib.RekorWitness({
      rekorBaseURL: rekorURL,
      majorApiVersion: options.rekorVersion ?? 1,
      timeout: ms,
      retry: RETRY,
      fetchOnConflict: true,
    });
    tasks.push(
      bounded(
        `Rekor upload to ${new URL(rekorURL).host}`,
        ms,
        witness.testify(options.rekorVersion === 2 ? rekorV2Content(content) : sigContent, publicKeyPem),
      ).then((r) => {
        const entry = r.tlogEntries[0];
        if (entry === undefined) throw fail('SIGSTORE_ERROR', `Rekor ${new URL(rekorURL).host} returned no entry`);
        out.tlogEntry = entry;
      }),
    );
  }
  if (options.tsaURL !== undefined) {
    const tsaURL = options.tsaURL;
    const witness = new lib.TSAWitness({ tsaBaseURL: tsaURL, timeout: ms, retry: RETRY });
    tasks.push(
      bounded(`timestamp request to ${new URL(tsaURL).host}`, ms, witness.testify(sigContent)).then((r) => {
        const ts = r.rfc3161Timestamps[0];
        if (ts === undefined) throw fail('SIGSTORE_ERROR', `timestamp authority ${new URL(tsaURL).host} returned no timestamp`);
        out.rfc3161Timestamp = new Uint8Array(ts.signedTimestamp);
      }),
    );
  }
  await Promise.all(tasks);
  return out;
}

/**
 * The `dev.sigstore.cosign/bundle` annotation value of a `.sig` layer from a Rekor v1 entry: the signed entry
 * timestamp, and the body, integrated time, log index and log ID it signs.
 * @throws CosignError `SIGSTORE_ERROR` when the entry has no inclusion promise (a Rekor v2 entry has none:
 * the legacy `.sig` format cannot carry it).
 */
export function rekorBundleFromEntry(entry: TransparencyLogEntry): RekorBundle {
  const set = entry.inclusionPromise?.signedEntryTimestamp;
  if (set === undefined || set.length === 0)
    throw fail('SIGSTORE_ERROR', 'the Rekor entry has no signed entry timestamp (the .sig format needs one: use Rekor v1)');
  const integratedTime = Number(entry.integratedTime);
  const logIndex = Number(entry.logIndex);
  if (!Number.isSafeInteger(integratedTime) || !Number.isSafeInteger(logIndex))
    throw fail('SIGSTORE_ERROR', 'the Rekor entry has an out-of-range time or index');
  return {
    signedEntryTimestamp: new Uint8Array(set),
    payload: {
      body: Buffer.from(entry.canonicalizedBody).toString('base64'),
      integratedTime,
      logIndex,
      logID: Buffer.from(entry.logId.keyId).toString('hex'),
    },
  };
}
