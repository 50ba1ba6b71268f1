/**
 * `cosign verify-blob --key`: check a blob against a base64 signature, cosign's legacy `--bundle` file,
 * or a Sigstore bundle (`--new-bundle-format`). Key-based only; fails closed on anything it cannot check.
 *
 * @module
 */
import { createHash, type KeyObject } from 'node:crypto';
import { decodeBase64Strict } from '../encoding.js';
import { fail, isCosignError } from '../errors.js';
import { schema, sigstoreBundle } from '../internal/deps.js';
import { parseJson } from '../json/strict.js';
import { defaultHashFor, publicKeyToDer } from '../keys/public.js';
import { verifySignature } from '../keys/verify.js';
import { publicKeyHint } from '../sign/bundle.js';
import { parseRekorBundle } from '../artifact/rekor.js';
import type { IdentityAuthority } from '../verify/authority.js';
import { verifyKeylessSignature, verifySigstoreBundleBytes, type CertificateSummary, type KeylessOptions } from '../verify/keyless.js';

/** Largest signature or bundle file {@link verifyBlob} parses (bytes). */
export const MAX_BLOB_BUNDLE_BYTES = 4 * 1024 * 1024;

/** Where the signature to check comes from: exactly one of these. */
export type BlobSignatureSource =
  | { readonly signature: string | Uint8Array }
  | { readonly legacyBundle: string | Uint8Array }
  | { readonly bundle: string | Uint8Array };

/** Options for {@link verifyBlob}. */
export interface VerifyBlobOptions {
  /**
   * Accept a signature without a transparency-log entry (cosign's `--insecure-ignore-tlog=true`).
   * cosign-ts does not verify Rekor entries, so without this every check fails with `UNSUPPORTED`.
   */
  readonly insecureIgnoreTlog?: boolean;
}

/** What {@link verifyBlob} checked. */
export interface VerifyBlobResult {
  /** The shape of the signature input. */
  readonly format: 'signature' | 'legacy-bundle' | 'bundle';
  /** The signature that verified, base64. */
  readonly signature: string;
}

/** cosign's legacy blob `--bundle` document (`base64Signature`, `cert`, `rekorBundle`): the one schema for it, shared by `verify-blob` and `verify-blob-attestation`. */
export const legacyBundleSchema = schema((z) =>
  z
    .object({
      base64Signature: z.string().min(1),
      cert: z.string().optional(),
      rekorBundle: z.unknown().optional(),
    })
    .strict(),
);

/** `data` (a signature, envelope or bundle), refused with `TOO_LARGE` over {@link MAX_BLOB_BUNDLE_BYTES}. */
export function boundedInput(data: string | Uint8Array, what: string): string | Uint8Array {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  if (size > MAX_BLOB_BUNDLE_BYTES) throw fail('TOO_LARGE', `${what} is ${size} bytes, over the ${MAX_BLOB_BUNDLE_BYTES}-byte limit`);
  return data;
}

/** A bundle that carries a Rekor entry is refused unless the caller said `insecureIgnoreTlog`: cosign-ts does not check it. */
export function refuseUnverifiedRekor(hasEntry: boolean, options: { readonly insecureIgnoreTlog?: boolean }): void {
  if (hasEntry && options.insecureIgnoreTlog !== true) {
    throw fail('UNSUPPORTED', 'bundle: Rekor entries are not verified by cosign-ts; pass --insecure-ignore-tlog=true');
  }
}

type SigstoreBundleDoc = ReturnType<ReturnType<typeof sigstoreBundle>['bundleFromJSON']>;

/**
 * A key-based Sigstore bundle (`--new-bundle-format` with `--key`): parsed with `@sigstore/bundle`, size-bounded, and
 * refused with `UNSUPPORTED` when its verification material is not a public key (keyless bundles).
 * @throws CosignError `TOO_LARGE`, `BAD_BUNDLE`, `UNSUPPORTED`.
 */
export function parseKeyBundle(data: string | Uint8Array): { bundle: SigstoreBundleDoc; material: { publicKey: { hint: string } } } {
  const json = parseJson(boundedInput(data, 'bundle'), 'bundle', 'BAD_BUNDLE');
  let bundle: SigstoreBundleDoc;
  try {
    bundle = sigstoreBundle().bundleFromJSON(json);
  } catch (cause) {
    throw fail('BAD_BUNDLE', `bundle: not a valid Sigstore bundle: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'publicKey') {
    throw fail('UNSUPPORTED', `bundle: verification material is ${material.$case}; only public-key bundles are supported (verify with --key)`);
  }
  return { bundle, material };
}

/** True when a legacy bundle's `cert` is base64 of a PEM `PUBLIC KEY` (key-based signing), not a certificate. */
function isEmbeddedPublicKey(cert: string): boolean {
  return /^-----BEGIN PUBLIC KEY-----\r?\n/.test(Buffer.from(cert, 'base64').toString('latin1'));
}

/** Refuse to verify without a transparency log unless the caller said `insecureIgnoreTlog` (cosign-ts checks no Rekor entry of a blob). */
export function requireInsecureIgnoreTlog(options: { readonly insecureIgnoreTlog?: boolean }): void {
  if (options.insecureIgnoreTlog !== true) {
    throw fail(
      'UNSUPPORTED',
      'transparency-log verification is not supported by cosign-ts: pass insecureIgnoreTlog (--insecure-ignore-tlog=true) to verify with the key alone',
    );
  }
}

/**
 * Verify `blob` against a signature made by `publicKey`, like `cosign verify-blob --key K --insecure-ignore-tlog=true`.
 * Only `publicKey` is trusted: the public key cosign 3.1 embeds in a legacy bundle (`cert`) is ignored.
 * Throws `SIGNATURE_INVALID` for a signature that does not verify, `DIGEST_MISMATCH` when a bundle's digest is not
 * the blob's, `BAD_BUNDLE`/`BAD_INPUT` for malformed input and `UNSUPPORTED` for certificates, Rekor entries or a
 * missing `insecureIgnoreTlog`.
 *
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { parsePublicKey } from 'cosign-ts/keys';
 * import { verifyBlob } from 'cosign-ts/blob';
 *
 * const key = parsePublicKey(await readFile('cosign.pub'));
 * await verifyBlob(await readFile('release.tar.gz'), key, { bundle: await readFile('release.tar.gz.sigstore.json') }, { insecureIgnoreTlog: true });
 * ```
 */
export async function verifyBlob(
  blob: Uint8Array,
  publicKey: KeyObject,
  source: BlobSignatureSource,
  options: VerifyBlobOptions = {},
): Promise<VerifyBlobResult> {
  const hash = defaultHashFor(publicKey);
  let format: VerifyBlobResult['format'];
  let signatureB64: string;
  if ('signature' in source) {
    requireInsecureIgnoreTlog(options);
    format = 'signature';
    const raw = boundedInput(source.signature, 'signature');
    signatureB64 = (typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8')).trim();
  } else if ('legacyBundle' in source) {
    format = 'legacy-bundle';
    const json = parseJson(boundedInput(source.legacyBundle, 'bundle'), 'bundle', 'BAD_BUNDLE');
    const parsed = legacyBundleSchema().safeParse(json);
    if (!parsed.success) {
      throw fail('BAD_BUNDLE', `bundle: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    // cosign 3.1 puts the signer's public key (base64 of its PEM) in `cert` of key-based legacy bundles. It is
    // ignored: only the caller's key is trusted (cosign itself would verify with the embedded key).
    if (parsed.data.cert !== undefined && parsed.data.cert !== '' && !isEmbeddedPublicKey(parsed.data.cert)) {
      throw fail('UNSUPPORTED', 'bundle: certificate-based (keyless) bundles are not supported; verify with --key');
    }
    refuseUnverifiedRekor(parsed.data.rekorBundle !== undefined && parsed.data.rekorBundle !== null, options);
    requireInsecureIgnoreTlog(options);
    signatureB64 = parsed.data.base64Signature;
  } else {
    format = 'bundle';
    const { bundle, material } = parseKeyBundle(source.bundle);
    const hint = material.publicKey.hint;
    if (hint !== '' && hint !== publicKeyHint(publicKeyToDer(publicKey))) {
      throw fail('SIGNATURE_INVALID', 'bundle: the public-key hint does not match the given key');
    }
    refuseUnverifiedRekor(bundle.verificationMaterial.tlogEntries.length > 0, options);
    requireInsecureIgnoreTlog(options);
    if (bundle.content.$case !== 'messageSignature') {
      throw fail('BAD_BUNDLE', 'bundle: holds a DSSE envelope (an attestation), not a blob signature: use verify-blob-attestation');
    }
    const { messageDigest, signature } = bundle.content.messageSignature;
    if (messageDigest !== undefined) {
      const algo = messageDigest.algorithm;
      const name = algo === 1 ? 'sha256' : algo === 2 ? 'sha384' : algo === 3 ? 'sha512' : undefined;
      if (name === undefined) throw fail('UNSUPPORTED', `bundle: messageDigest.algorithm ${algo} is not supported`);
      const actual = createHash(name).update(blob).digest();
      if (!actual.equals(messageDigest.digest)) {
        throw fail('DIGEST_MISMATCH', `bundle: messageDigest (${name}) does not match the blob`);
      }
    }
    signatureB64 = signature.toString('base64');
  }
  let sig: Buffer;
  try {
    sig = decodeBase64Strict(signatureB64, 'signature', 'BAD_INPUT');
  } catch (e) {
    if (isCosignError(e)) throw e;
    throw fail('BAD_INPUT', 'signature: not base64', { cause: e });
  }
  if (!verifySignature(publicKey, blob, sig, { hash })) {
    throw fail('SIGNATURE_INVALID', 'invalid signature when validating the blob with the given key');
  }
  return { format, signature: signatureB64 };
}

/** What {@link verifyBlobKeyless} checked. */
export interface VerifyBlobKeylessResult {
  /** The shape of the signature input. */
  readonly format: 'legacy-bundle' | 'bundle';
  /** The signing certificate's identity fields. */
  readonly certificate: CertificateSummary;
  /** The identity that matched. */
  readonly authority: string;
  /** True when a transparency-log entry was verified (SET and body, or inclusion proof). */
  readonly tlogVerified: boolean;
}

/**
 * Verify `blob` against a keyless (Fulcio certificate) signature, like `cosign verify-blob --bundle F
 * --certificate-identity … --certificate-oidc-issuer …`: cosign's legacy `--bundle` file
 * (`base64Signature`, `cert` = base64 of the PEM certificate, `rekorBundle`), read with the same schema
 * as the key-based {@link verifyBlob}, or a Sigstore bundle. The signature over the blob, the Rekor SET
 * and entry body (hashedrekord: sha256 of the blob, the signature, the certificate), the chain to the
 * trust at the integrated time, the SCT and the identity are checked by the keyless verifier
 * (`../verify/keyless.ts`). {@link KeylessOptions.certificate} replaces the bundle's certificate.
 * @throws CosignError `TOO_LARGE`, `BAD_BUNDLE`, `BAD_INPUT`, `CERTIFICATE_INVALID`, `TLOG_INVALID`,
 * `SIGNATURE_INVALID`, `IDENTITY_MISMATCH`.
 */
export async function verifyBlobKeyless(
  blob: Uint8Array,
  source: { readonly legacyBundle: string | Uint8Array } | { readonly bundle: string | Uint8Array },
  identities: ReadonlyArray<IdentityAuthority>,
  options: KeylessOptions,
): Promise<VerifyBlobKeylessResult> {
  if ('bundle' in source) {
    const raw = boundedInput(source.bundle, 'bundle');
    const r = verifySigstoreBundleBytes(typeof raw === 'string' ? Buffer.from(raw) : raw, identities, { ...options, artifact: blob });
    if (r.certificate === undefined) throw fail('SIGNATURE_INVALID', 'bundle: signed with a key, not a certificate: verify with --key');
    return { format: 'bundle', certificate: r.certificate, authority: r.authority, tlogVerified: r.tlogEntries > 0 };
  }
  const json = parseJson(boundedInput(source.legacyBundle, 'bundle'), 'bundle', 'BAD_BUNDLE');
  const parsed = legacyBundleSchema().safeParse(json);
  if (!parsed.success) {
    throw fail('BAD_BUNDLE', `bundle: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const { base64Signature, cert, rekorBundle } = parsed.data;
  let certificate: string | undefined;
  if (cert !== undefined && cert !== '') {
    certificate = decodeBase64Strict(cert, 'bundle: cert', 'BAD_BUNDLE').toString('utf8');
    if (isEmbeddedPublicKey(cert)) throw fail('SIGNATURE_INVALID', 'bundle: signed with a key, not a certificate: verify with --key');
  }
  const bundle = rekorBundle === undefined || rekorBundle === null ? undefined : parseRekorBundle(JSON.stringify(rekorBundle));
  const signature = decodeBase64Strict(base64Signature, 'bundle: base64Signature', 'BAD_BUNDLE');
  const r = verifyKeylessSignature(
    { payload: blob, signature, ...(certificate === undefined ? {} : { certificate }), ...(bundle === undefined ? {} : { bundle }) },
    identities,
    options,
  );
  return { format: 'legacy-bundle', certificate: r.certificate, authority: r.authority, tlogVerified: r.tlogVerified };
}
