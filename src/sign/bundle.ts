/**
 * Sigstore bundles as cosign 3 writes them (`cosign sign --new-bundle-format`, key-based, no
 * transparency log): an in-toto Statement v1 signed in a DSSE envelope, wrapped in a Sigstore bundle
 * v0.3 whose verification material is the key hint, stored as an OCI 1.1 referrer manifest of the
 * image. The statement/bundle/manifest bytes have cosign 3.1's exact field order. Reusable for
 * attestations: {@link buildBundleReferrer} takes any predicate type and predicate.
 *
 * @module
 */
import { X509Certificate, createHash } from 'node:crypto';
import {
  BUNDLE_CONTENT_ANNOTATION,
  BUNDLE_PREDICATE_TYPE_ANNOTATION,
  COSIGN_SIGN_PREDICATE_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  OCI_EMPTY_DIGEST,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_CREATED_ANNOTATION,
  OCI_MANIFEST_MEDIA_TYPE,
  SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
} from '../artifact/media-types.js';
import type { Digest } from '../digest.js';
import { fail } from '../errors.js';
import { sigstoreBundle, sigstoreCore } from '../internal/deps.js';
import type { Signer } from '../keys/signer.js';
import type { Descriptor } from '../oci/manifest.js';
import { witnessSignature, type WitnessOptions } from './witness.js';

/** The in-toto Statement v1 `_type`. */
const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

/** Input of {@link buildBundleReferrer}. */
export interface BundleReferrerInput {
  /** The image manifest the bundle is about: the referrer's `subject` and the statement's subject digest. */
  readonly subject: Descriptor;
  /** Predicate type. Default `https://sigstore.dev/cosign/sign/v1` (a plain signature). */
  readonly predicateType?: string;
  /** The predicate (any JSON value). Default `{}`. */
  readonly predicate?: unknown;
  /** Subject annotations (`cosign sign -a k=v`); written sorted by key, `{}` when none, as cosign does. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** The signer (file key or KMS). */
  readonly signer: Signer;
  /** Creation time for `org.opencontainers.image.created`. Default now. */
  readonly created?: Date;
  /**
   * Rekor and/or timestamp authority to record the signature with (a `dsse` entry; the timestamp is over the
   * envelope signature), written into the bundle's verification material. Default: none.
   */
  readonly witness?: WitnessOptions;
}

/** What {@link buildBundleReferrer} produces. */
export interface BundleReferrer {
  /** The in-toto statement that was signed (the DSSE payload). */
  readonly statement: Uint8Array;
  /** The raw signature over the DSSE pre-authentication encoding. */
  readonly signature: Uint8Array;
  /** The Sigstore bundle JSON (the referrer's only layer). */
  readonly bundle: Uint8Array;
  /** Digest of {@link BundleReferrer.bundle}. */
  readonly bundleDigest: Digest;
  /** The referrer manifest bytes. */
  readonly manifest: Uint8Array;
  /** Its digest. */
  readonly manifestDigest: Digest;
  /** Its media type (OCI image manifest). */
  readonly manifestMediaType: string;
  /** Blobs to push before the manifest: the empty config `{}` and the bundle. */
  readonly blobs: ReadonlyMap<Digest, Uint8Array>;
  /** The Rekor log index, when the signature was recorded in a transparency log. */
  readonly tlogIndex?: number;
  /** The signing certificate (PEM), for keyless signatures. */
  readonly certificate?: string;
}

const sha256 = (b: Uint8Array): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

/** RFC 3339 in UTC with whole seconds, as Go's `time.RFC3339` prints a UTC time. */
export function formatCreated(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** `base64(sha256(SPKI DER))`: the `publicKey.hint` cosign writes in key-based bundles. */
export function publicKeyHint(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('base64');
}

/**
 * The in-toto Statement v1 cosign 3 signs for an image: one subject with only a `sha256` digest (no
 * `name`) and `annotations` (sorted keys, `{}` when none), then the predicate type and predicate.
 */
export function buildStatement(subject: Digest, predicateType: string, predicate: unknown, annotations: Readonly<Record<string, string>> = {}): Uint8Array {
  const [algorithm, hex] = subject.split(':');
  if (algorithm !== 'sha256' || hex === undefined) throw fail('BAD_DIGEST', `bundle subject ${subject}: only sha256 digests are signed in bundles`);
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(annotations).sort()) sorted[k] = annotations[k] as string;
  return Buffer.from(JSON.stringify({ _type: STATEMENT_TYPE, subject: [{ digest: { sha256: hex }, annotations: sorted }], predicateType, predicate }));
}

/**
 * Build the Sigstore bundle and its OCI 1.1 referrer manifest exactly as cosign 3.1 writes them for
 * `cosign sign --new-bundle-format --key …` (or `attest` with another predicate): DSSE envelope
 * (payload type `application/vnd.in-toto+json`, one signature, no `keyid`), bundle v0.3 with
 * `verificationMaterial.publicKey.hint` and no tlog entries, manifest with the empty config (which
 * carries the `artifactType` too, as go-containerregistry writes it), the bundle as the one layer,
 * the content / predicate type / created annotations and the image as `subject`.
 */
export async function buildBundleReferrer(input: BundleReferrerInput): Promise<BundleReferrer> {
  const predicateType = input.predicateType ?? COSIGN_SIGN_PREDICATE_TYPE;
  return buildBundleReferrerFromStatement({
    subject: input.subject,
    statement: buildStatement(input.subject.digest, predicateType, input.predicate ?? {}, input.annotations),
    predicateType,
    signer: input.signer,
    ...(input.created === undefined ? {} : { created: input.created }),
    ...(input.witness === undefined ? {} : { witness: input.witness }),
  });
}

/** Input of {@link buildBundleReferrerFromStatement}. */
export interface StatementBundleReferrerInput {
  /** The image manifest the bundle is about: the referrer's `subject`. */
  readonly subject: Descriptor;
  /** The exact statement bytes to sign (the DSSE payload), e.g. an attestation's in-toto statement. */
  readonly statement: Uint8Array;
  /** The statement's predicate type, written as the `dev.sigstore.bundle.predicateType` annotation. */
  readonly predicateType: string;
  /** The signer (file key, KMS, or keyless). */
  readonly signer: Signer;
  /** Creation time for `org.opencontainers.image.created`. Default now. */
  readonly created?: Date;
  /** Rekor and/or timestamp authority to record the signature with (see {@link BundleReferrerInput.witness}). */
  readonly witness?: WitnessOptions;
}

/**
 * Like {@link buildBundleReferrer}, for a statement built by the caller (byte for byte what is
 * signed): `cosign attest` in cosign 3 signs its in-toto Statement v0.1 this way. The bundle and
 * manifest are the same shape as a signature's, with the statement's predicate type in the
 * `dev.sigstore.bundle.predicateType` annotation.
 *
 * @example
 * ```ts
 * const built = await buildBundleReferrerFromStatement({ subject, statement, predicateType: 'https://openvex.dev/ns', signer });
 * ```
 */
export async function buildBundleReferrerFromStatement(input: StatementBundleReferrerInput): Promise<BundleReferrer> {
  const statement = input.statement;
  const pae = sigstoreCore().dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, Buffer.from(statement));
  const signature = await input.signer.sign(new Uint8Array(pae));
  const spki = (await input.signer.publicKey()).export({ type: 'spki', format: 'der' });
  const cert = await input.signer.certificate?.();
  let bundle: Buffer;
  let tlogIndex: number | undefined;
  if (cert === undefined && input.witness?.rekorURL === undefined && input.witness?.tsaURL === undefined) {
    // key-based, no transparency log: cosign 3.1's exact bytes
    bundle = Buffer.from(
      JSON.stringify({
        mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
        verificationMaterial: { publicKey: { hint: publicKeyHint(spki) } },
        dsseEnvelope: {
          payload: Buffer.from(statement).toString('base64'),
          payloadType: IN_TOTO_PAYLOAD_TYPE,
          signatures: [{ sig: Buffer.from(signature).toString('base64') }],
        },
      }),
    );
  } else {
    const certDer = cert === undefined ? undefined : new X509Certificate(cert.certificate).raw;
    const keyPem = cert?.certificate ?? (await input.signer.publicKey()).export({ type: 'spki', format: 'pem' }).toString();
    const w =
      input.witness === undefined
        ? {}
        : await witnessSignature({ kind: 'dsse', payloadType: IN_TOTO_PAYLOAD_TYPE, payload: statement, signature }, keyPem, input.witness);
    // the protobuf JSON form (field order of the protobuf messages, as sigstore-go and cosign 3 write it)
    const json = sigstoreBundle().bundleToJSON({
      mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: {
        content:
          certDer === undefined
            ? { $case: 'publicKey', publicKey: { hint: publicKeyHint(spki) } }
            : { $case: 'certificate', certificate: { rawBytes: Buffer.from(certDer) } },
        tlogEntries: w.tlogEntry === undefined ? [] : [w.tlogEntry],
        timestampVerificationData: { rfc3161Timestamps: w.rfc3161Timestamp === undefined ? [] : [{ signedTimestamp: Buffer.from(w.rfc3161Timestamp) }] },
      },
      content: {
        $case: 'dsseEnvelope',
        dsseEnvelope: { payload: Buffer.from(statement), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: Buffer.from(signature), keyid: '' }] },
      },
    } as Parameters<ReturnType<typeof sigstoreBundle>['bundleToJSON']>[0]);
    bundle = Buffer.from(JSON.stringify(json));
    if (w.tlogEntry !== undefined) tlogIndex = Number(w.tlogEntry.logIndex);
  }
  const bundleDigest = sha256(bundle);
  const config = Buffer.from('{}');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: OCI_EMPTY_MEDIA_TYPE, size: 2, digest: OCI_EMPTY_DIGEST, artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE },
      layers: [{ mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE, size: bundle.byteLength, digest: bundleDigest }],
      annotations: {
        [BUNDLE_CONTENT_ANNOTATION]: 'dsse-envelope',
        [BUNDLE_PREDICATE_TYPE_ANNOTATION]: input.predicateType,
        [OCI_CREATED_ANNOTATION]: formatCreated(input.created ?? new Date()),
      },
      subject: { mediaType: input.subject.mediaType, size: input.subject.size, digest: input.subject.digest },
      artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    }),
  );
  return {
    statement,
    signature,
    bundle,
    bundleDigest,
    manifest,
    manifestDigest: sha256(manifest),
    manifestMediaType: OCI_MANIFEST_MEDIA_TYPE,
    blobs: new Map<Digest, Uint8Array>([
      [OCI_EMPTY_DIGEST as Digest, config],
      [bundleDigest, bundle],
    ]),
    ...(tlogIndex === undefined ? {} : { tlogIndex }),
    ...(cert === undefined ? {} : { certificate: cert.certificate }),
  };
}
