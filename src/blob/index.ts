/**
 * Signing and verifying files ("blobs") with a key, like `cosign sign-blob` / `cosign verify-blob`:
 * {@link signBlob} returns the base64 signature, cosign's legacy `--bundle` JSON and the Sigstore bundle v0.3
 * of `--new-bundle-format` (what cosign 3 writes by default); {@link verifyBlob} checks any of them.
 * {@link attestBlob} / {@link verifyBlobAttestation} do the same for in-toto attestations about a file
 * (`cosign attest-blob` / `cosign verify-blob-attestation`).
 *
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { loadSignerFromFile, parsePublicKey } from 'cosign-ts/keys';
 * import { signBlob, verifyBlob } from 'cosign-ts/blob';
 *
 * const blob = await readFile('release.tar.gz');
 * const { bundle } = await signBlob(blob, await loadSignerFromFile('cosign.key', process.env.COSIGN_PASSWORD));
 * await verifyBlob(blob, parsePublicKey(await readFile('cosign.pub')), { bundle }, { insecureIgnoreTlog: true });
 * ```
 *
 * @module cosign-ts/blob
 */
export { signBlob, type SignBlobResult } from './sign.js';
export {
  verifyBlob,
  verifyBlobKeyless,
  MAX_BLOB_BUNDLE_BYTES,
  type BlobSignatureSource,
  type VerifyBlobOptions,
  type VerifyBlobResult,
  type VerifyBlobKeylessResult,
} from './verify.js';
export {
  attestBlob,
  buildBlobStatement,
  verifyBlobAttestation,
  type AttestBlobOptions,
  type AttestBlobResult,
  type BlobAttestationArtifact,
  type BlobAttestationLayout,
  type BlobAttestationSource,
  type BlobStatement,
  type BlobSubject,
  type VerifyBlobAttestationOptions,
  type VerifyBlobAttestationResult,
} from './attest.js';
export type { Signer } from '../keys/signer.js';
export { readBlob, MAX_BLOB_BYTES } from './read.js';
