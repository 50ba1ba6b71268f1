/**
 * Tag names under which cosign stores signatures, attestations and SBOMs (the OCI referrers fallback
 * tag is `referrersFallbackTag` in `cosign-ts/oci`).
 *
 * Upstream: sigstore/cosign `pkg/oci/remote/remote.go` (`suffixTag`); containers/image
 * `docker/docker_client.go` (`sigstoreAttachmentTag`).
 *
 * @module
 */
import { parseDigest } from '../digest.js';
import { fail } from '../errors.js';

/** Which attachment a tag names. */
export type AttachmentKind = 'sig' | 'att' | 'sbom';

/**
 * `<prefix><alg>-<hex>.<kind>`, e.g. `sha256-e3b0….sig`, for any digest algorithm.
 * `prefix` is cosign's deprecated `--attachment-tag-prefix` (empty by default).
 * Note: a sha512 digest gives a 139-character tag, over the 128 characters registries allow.
 * @throws CosignError `BAD_DIGEST` for a malformed digest, `BAD_INPUT` for an unknown kind.
 */
export function signatureTag(digest: string, kind: AttachmentKind = 'sig', prefix = ''): string {
  const { algorithm, hex } = parseDigest(digest);
  if (kind !== 'sig' && kind !== 'att' && kind !== 'sbom') throw fail('BAD_INPUT', `unknown attachment kind ${JSON.stringify(String(kind))}`);
  return `${prefix}${algorithm}-${hex}.${kind}`;
}
