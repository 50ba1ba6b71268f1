/**
 * Media types and annotation keys of cosign signature artifacts.
 *
 * Upstream: sigstore/cosign `pkg/types/media.go`, `pkg/oci/static/signature.go`,
 * `pkg/oci/remote/write.go`; opencontainers/image-spec; sigstore/protobuf-specs.
 *
 * @module
 */

/** Layer media type of a legacy signature (the layer blob is the simple-signing payload). */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** Layer media type of a legacy attestation (the blob is a DSSE envelope). */
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
/** Config media type / artifactType of a signature pushed as an OCI 1.1 referrer (experimental cosign mode). */
export const COSIGN_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

/** Layer annotation: standard base64 of the raw signature (`""` on attestations). */
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** Layer annotation: PEM of the signing certificate. */
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
/** Layer annotation: concatenated PEM of the certificate chain (set whenever the certificate is). */
export const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
/** Layer annotation: the Rekor bundle JSON (`SignedEntryTimestamp` + `Payload`). */
export const BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
/** Layer annotation: `{"SignedRFC3161Timestamp":"<base64 DER>"}`. */
export const RFC3161_TIMESTAMP_ANNOTATION = 'dev.sigstore.cosign/rfc3161timestamp';
/** Layer annotation on attestations: the in-toto predicate type. */
export const PREDICATE_TYPE_ANNOTATION = 'predicateType';

/** OCI image manifest. */
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
/** OCI image index. */
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
/** OCI image config. */
export const OCI_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
/** OCI empty descriptor (the 2-byte blob `{}`). */
export const OCI_EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
/** Digest of the OCI empty blob `{}`. */
export const OCI_EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
/** Docker image manifest v2 schema 2. */
export const DOCKER_MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker manifest list. */
export const DOCKER_MANIFEST_LIST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** Docker image config. */
export const DOCKER_CONFIG_MEDIA_TYPE = 'application/vnd.docker.container.image.v1+json';

/** Sigstore bundle v0.3 media type (current spelling; cosign v3 writes it). */
export const SIGSTORE_BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Sigstore bundle v0.3 media type (older spelling, still valid). */
export const SIGSTORE_BUNDLE_V03_LEGACY_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.3';
/** DSSE payload type of in-toto statements. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** predicateType of cosign v3 image signatures. */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';
/** Referrer manifest annotation: what the bundle holds (`dsse-envelope`). */
export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
/** Referrer manifest annotation: the bundle's predicate type. */
export const BUNDLE_PREDICATE_TYPE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
/** OCI annotation: creation time (RFC 3339). */
export const OCI_CREATED_ANNOTATION = 'org.opencontainers.image.created';

/** Manifest media types a signature image may have (OCI is what cosign writes; Docker with `COSIGN_DOCKER_MEDIA_TYPES`). */
export const SIGNATURE_MANIFEST_MEDIA_TYPES: readonly string[] = [OCI_MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE];
