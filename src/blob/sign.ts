/**
 * `cosign sign-blob --key`: one signature over a file's bytes, in the three shapes cosign writes.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { encodeBase64 } from '../encoding.js';
import { fail } from '../errors.js';
import { defaultHashFor, publicKeyToDer } from '../keys/public.js';
import type { Signer } from '../keys/signer.js';
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from '../artifact/media-types.js';
import { publicKeyHint } from '../sign/bundle.js';

/** What {@link signBlob} returns: one signature, in each of cosign's output shapes. */
export interface SignBlobResult {
  /** The signature, base64: what `cosign sign-blob` prints and writes to `--output-signature`. */
  readonly signature: string;
  /** cosign's legacy `--bundle` file (`{"base64Signature":…}`, no certificate, no Rekor entry), as JSON text. */
  readonly legacyBundle: string;
  /** The Sigstore bundle v0.3 (`messageSignature`, public-key hint) of `--new-bundle-format`, as JSON text. */
  readonly bundle: string;
}

/**
 * Sign `blob` (the whole file's bytes) with `signer` (a key file or a KMS key), like
 * `cosign sign-blob --key K --tlog-upload=false`. Neither Rekor nor Fulcio is contacted.
 *
 * ```ts
 * import { readFile, writeFile } from 'node:fs/promises';
 * import { loadSignerFromFile } from 'cosign-ts/keys';
 * import { signBlob } from 'cosign-ts/blob';
 *
 * const signer = await loadSignerFromFile('cosign.key', process.env.COSIGN_PASSWORD);
 * const { signature, bundle } = await signBlob(await readFile('release.tar.gz'), signer);
 * await writeFile('release.tar.gz.sigstore.json', bundle);
 * ```
 */
export async function signBlob(blob: Uint8Array, signer: Signer): Promise<SignBlobResult> {
  const publicKey = await signer.publicKey();
  if (signer.ed25519ph === true) {
    throw fail('UNSUPPORTED', `sign-blob with an Ed25519ph signer (${signer.keyRef}) is not supported: cosign signs blobs with pure Ed25519`);
  }
  const signature = encodeBase64(await signer.sign(blob));
  const hash = defaultHashFor(publicKey);
  const algorithm = hash === 'sha256' ? 'SHA2_256' : hash === 'sha384' ? 'SHA2_384' : 'SHA2_512';
  const legacyBundle = JSON.stringify({ base64Signature: signature });
  const bundle = JSON.stringify({
    mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: publicKeyHint(publicKeyToDer(publicKey)) } },
    messageSignature: {
      messageDigest: { algorithm, digest: createHash(hash).update(blob).digest('base64') },
      signature,
    },
  });
  return { signature, legacyBundle, bundle };
}
