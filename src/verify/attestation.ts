/**
 * `verifyAttestations`: key-based verification of legacy (cosign 2) attestations stored under the
 * image's `sha256-<hex>.att` tag, like `cosign verify-attestation --key … --insecure-ignore-tlog=true`.
 * Each DSSE envelope's signature is checked over PAE(payloadType, payload) with the key; its
 * in-toto statement must name the image's digest as a subject; a predicate-type filter and a
 * caller hook (`checkPredicate`) decide the rest. Failures are verdicts, not exceptions. (The v3
 * referrer-bundle path is not done yet.)
 *
 * @module
 */
import { parseSignatureManifest } from '../artifact/image.js';
import { DSSE_ENVELOPE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE } from '../artifact/media-types.js';
import { signatureTag } from '../artifact/tags.js';
import type { Digest } from '../digest.js';
import { fail, isCosignError } from '../errors.js';
import { sigstoreCore } from '../internal/deps.js';
import { parseJson } from '../json/strict.js';
import type { SignatureVerifier } from '../keys/signer.js';
import type { RegistryReader } from '../oci/client.js';
import { parseReference, repositoryOption, withTag, type ImageReference } from '../reference.js';
import { predicateType as mapPredicateType } from '../sign/attestation.js';

const MAX_ENVELOPE_BYTES = 32 * 1024 * 1024;

/** A decoded in-toto statement (only the fields checked are typed). */
export interface AttestationStatement {
  readonly _type: string;
  readonly predicateType: string;
  readonly subject: ReadonlyArray<{ readonly name?: string; readonly digest: Readonly<Record<string, string>> }>;
  readonly predicate: unknown;
}

/** Options for {@link verifyAttestations}. */
export interface VerifyAttestationsOptions {
  /** The registry client. */
  readonly client: RegistryReader;
  /** The verification key (e.g. `new PublicKeyVerifier(key, 'cosign.pub')`). */
  readonly verifier: SignatureVerifier;
  /** Only attestations of this predicate type (short name or URI, as `--type`). Default: any. */
  readonly type?: string;
  /** The caller's check of a statement; false (or a throw) rejects that attestation. */
  readonly checkPredicate?: (statement: AttestationStatement) => boolean | Promise<boolean>;
  /** Where attestations are stored, like `COSIGN_REPOSITORY`. */
  readonly signatureRepository?: string | ImageReference;
  /** Abort. */
  readonly signal?: AbortSignal;
}

/** One attestation that verified. */
export interface VerifiedAttestation {
  /** The DSSE envelope bytes, as stored (what `cosign verify-attestation` prints). */
  readonly envelope: Uint8Array;
  /** The decoded statement. */
  readonly statement: AttestationStatement;
}

/** Result of {@link verifyAttestations}: `ok` when at least one attestation verified. */
export interface VerifyAttestationsResult {
  readonly ok: boolean;
  readonly digest: Digest;
  readonly verified: ReadonlyArray<VerifiedAttestation>;
  /** Why each rejected layer was rejected. */
  readonly rejected: ReadonlyArray<string>;
}

function decodeEnvelope(bytes: Uint8Array): { payloadType: string; payload: Uint8Array; sigs: Uint8Array[] } {
  const v = parseJson(bytes, 'DSSE envelope', 'BAD_BUNDLE') as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || typeof v.payloadType !== 'string' || typeof v.payload !== 'string' || !Array.isArray(v.signatures)) {
    throw fail('BAD_BUNDLE', 'DSSE envelope: payloadType, payload and signatures are required');
  }
  const sigs = v.signatures.map((s: unknown) => {
    const sig = (s as { sig?: unknown } | null)?.sig;
    if (typeof sig !== 'string') throw fail('BAD_BUNDLE', 'DSSE envelope: signature without sig');
    return new Uint8Array(Buffer.from(sig, 'base64'));
  });
  return { payloadType: v.payloadType, payload: new Uint8Array(Buffer.from(v.payload, 'base64')), sigs };
}

/**
 * Verify an image's legacy attestations with a key.
 *
 * @example
 * ```ts
 * const r = await verifyAttestations(ref, { client, verifier, type: 'openvex', checkPredicate: (s) => s.predicate !== null });
 * if (!r.ok) throw new Error(r.rejected.join('\n'));
 * ```
 */
export async function verifyAttestations(reference: string | ImageReference, options: VerifyAttestationsOptions): Promise<VerifyAttestationsResult> {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  const sig = options.signal === undefined ? {} : { signal: options.signal };
  const { client } = options;
  const digest = ref.digest ?? (await client.getManifest(ref, sig)).digest;
  const wantType = options.type === undefined ? undefined : mapPredicateType(options.type);
  const repo = repositoryOption(options.signatureRepository) ?? ref;
  let layers: ReturnType<typeof parseSignatureManifest>['layers'] = [];
  try {
    layers = parseSignatureManifest((await client.getManifest(withTag(repo, signatureTag(digest, 'att')), sig)).bytes).layers;
  } catch (e) {
    if (!isCosignError(e, 'NOT_FOUND')) throw e;
  }
  const verified: VerifiedAttestation[] = [];
  const rejected: string[] = [];
  for (const d of layers) {
    try {
      if (d.mediaType !== DSSE_ENVELOPE_MEDIA_TYPE) throw fail('TYPE_MISMATCH', `layer media type ${JSON.stringify(d.mediaType.slice(0, 200))}`);
      const envelope = await client.getBlob(repo, d.digest, { maxBytes: MAX_ENVELOPE_BYTES, ...sig });
      const env = decodeEnvelope(envelope);
      if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw fail('TYPE_MISMATCH', `payloadType ${JSON.stringify(env.payloadType.slice(0, 200))}`);
      const pae = new Uint8Array(sigstoreCore().dsse.preAuthEncoding(env.payloadType, Buffer.from(env.payload)));
      let good = false;
      for (const s of env.sigs) if ((await options.verifier.verify(pae, s)) === true) good = true;
      if (!good) throw fail('SIGNATURE_INVALID', 'no DSSE signature verifies with the key');
      const st = parseJson(env.payload, 'in-toto statement', 'BAD_PAYLOAD') as AttestationStatement;
      if (typeof st !== 'object' || st === null || typeof st.predicateType !== 'string' || !Array.isArray(st.subject)) {
        throw fail('BAD_PAYLOAD', 'in-toto statement: predicateType and subject are required');
      }
      const [alg, hex] = digest.split(':');
      if (!st.subject.some((s) => typeof s === 'object' && s !== null && s.digest?.[alg as string] === hex)) {
        throw fail('DIGEST_MISMATCH', `no subject names ${digest}`);
      }
      if (wantType !== undefined && st.predicateType !== wantType)
        throw fail('TYPE_MISMATCH', `predicate type ${JSON.stringify(st.predicateType.slice(0, 200))} is not ${wantType}`);
      if (options.checkPredicate !== undefined && (await options.checkPredicate(st)) !== true) throw fail('POLICY_INVALID', 'rejected by checkPredicate');
      verified.push({ envelope, statement: st });
    } catch (e) {
      rejected.push(`${d.digest}: ${(e as Error).message}`);
    }
  }
  return { ok: verified.length > 0, digest, verified, rejected };
}
