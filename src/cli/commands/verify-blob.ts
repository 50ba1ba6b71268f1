/**
 * `cosign-ts verify-blob --key REF (--signature S | --bundle F) --insecure-ignore-tlog=true FILE|-`:
 * verify a file's signature like `cosign verify-blob`: `Verified OK` on stderr, exit 1 on any failure.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { INSECURE_IGNORE_TLOG_FLAG, type Command } from '../command.js';
import { info, warn } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import type { CliContext } from '../context.js';
import type { Flags } from '../flags.js';
import { keyOptions } from '../keyref.js';

export const command: Command = {
  name: 'verify-blob',
  short: 'Verify a signature on the supplied blob',
  long: `Verify a signature on the supplied blob input using the specified key reference.

cosign-ts verifies with a public key (file, env://, KMS URI or Kubernetes secret) and does not check
transparency-log entries: pass --insecure-ignore-tlog=true, as for blobs signed with
--tlog-upload=false. --signature takes a file or the base64 signature itself; --bundle takes cosign's
legacy bundle JSON or a Sigstore bundle (detected by its mediaType, as cosign 3 does).
Without --key, keyless: the bundle's certificate (or --certificate) must chain to the trusted root
(--trusted-root, else the SIGSTORE_* files, else the public-good instance through TUF), carry an SCT,
be logged in Rekor (the legacy bundle's SET and entry, or the Sigstore bundle's inclusion proof) and
name the identity given by --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp].`,
  usage: '[flags] <blob>',
  examples: `  cosign-ts verify-blob --key cosign.pub --signature release.sig --insecure-ignore-tlog=true release.tar.gz

  # verify a Sigstore bundle (cosign 3's default sign-blob output)
  cosign-ts verify-blob --key cosign.pub --bundle release.sigstore.json --insecure-ignore-tlog=true release.tar.gz

  # verify a keyless bundle against an air-gapped trusted root
  cosign-ts verify-blob --bundle release.sigstore.json --trusted-root trusted_root.json --certificate-identity me@example.com --certificate-oidc-issuer https://accounts.google.com release.tar.gz`,
  flags: [
    { name: 'key', type: 'string', default: '', help: 'path to the public key file, KMS URI or Kubernetes Secret' },
    { name: 'signature', type: 'string', default: '', help: 'signature content or path' },
    { name: 'bundle', type: 'string', default: '', help: 'path to bundle FILE' },
    { name: 'new-bundle-format', type: 'boolean', default: false, help: 'expect the bundle in the Sigstore bundle format (cosign-ts detects it either way)' },
    INSECURE_IGNORE_TLOG_FLAG,
    { name: 'use-signing-config', type: 'boolean', default: false, help: 'accepted for compatibility with cosign 3 (ignored)' },
    {
      name: 'trusted-root',
      type: 'string',
      default: '',
      help: 'Path to a Sigstore TrustedRoot JSON file (keyless; default: the public-good instance through TUF)',
    },
    { name: 'offline', type: 'boolean', default: false, help: 'only allow offline verification (keyless: the cached or embedded trusted root)' },
    { name: 'certificate', type: 'string', default: '', help: 'path to the signing certificate (PEM), used instead of the one in the bundle (keyless)' },
    { name: 'certificate-chain', type: 'string', default: '', help: 'path to a list of CA certificates in PEM format, intermediates then root (keyless)' },
    { name: 'insecure-ignore-sct', type: 'boolean', default: false, help: 'when set, verification will not check that a certificate contains an embedded SCT' },
    { name: 'certificate-identity', type: 'string', default: '', help: 'The identity expected in a valid Fulcio certificate (exact match)' },
    { name: 'certificate-identity-regexp', type: 'string', default: '', help: 'A regular expression alternative to --certificate-identity (unanchored)' },
    { name: 'certificate-oidc-issuer', type: 'string', default: '', help: 'The OIDC issuer expected in a valid Fulcio certificate (exact match)' },
    { name: 'certificate-oidc-issuer-regexp', type: 'string', default: '', help: 'A regular expression alternative to --certificate-oidc-issuer (unanchored)' },
    ...['name', 'ref', 'repository', 'sha', 'trigger'].map((k) => ({
      name: `certificate-github-workflow-${k}`,
      type: 'string' as const,
      default: '',
      help: `the ${k} claim of the GitHub OIDC token the certificate was issued for (exact match)`,
    })),
  ],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    const keyRef = flags.str('key');
    const sigArg = flags.str('signature');
    const bundleFile = flags.str('bundle');
    if ((sigArg === '') === (bundleFile === '')) throw new UsageError('exactly one of --signature or --bundle must be provided');
    const ignoreTlog = flags.bool('insecure-ignore-tlog');
    if (ignoreTlog) warn(ctx, 'Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob.');
    const file = flags.args[0] as string;
    if (keyRef === '') return verifyKeyless(ctx, flags, file, sigArg, bundleFile);
    const keylessFlag = [
      'certificate',
      'certificate-chain',
      'certificate-identity',
      'certificate-identity-regexp',
      'certificate-oidc-issuer',
      'certificate-oidc-issuer-regexp',
    ].find((f) => flags.str(f) !== '');
    if (keylessFlag !== undefined) throw new UsageError(`--key and --${keylessFlag} cannot be used together`);
    const { readBlob, verifyBlob, MAX_BLOB_BUNDLE_BYTES } = await import('../../blob/index.js');
    const { resolvePublicKey } = await import('../../kms/registry.js');
    const publicKey = await resolvePublicKey(keyRef, keyOptions(ctx));
    let source: Parameters<typeof verifyBlob>[2];
    if (sigArg !== '') {
      source = { signature: existsSync(sigArg) ? await readBlob(sigArg, MAX_BLOB_BUNDLE_BYTES, 'signature file') : sigArg };
    } else {
      const data = await readBlob(bundleFile, MAX_BLOB_BUNDLE_BYTES, 'bundle file');
      source = isSigstoreBundle(data) ? { bundle: data } : { legacyBundle: data };
    }
    const blob = await readBlob(file === '-' ? ctx.stdin : file);
    try {
      await verifyBlob(blob, publicKey, source, { insecureIgnoreTlog: ignoreTlog });
    } catch (e) {
      if ((e as Error | null)?.name === 'CosignError' && (e as { code?: string }).code === 'SIGNATURE_INVALID') {
        throw new CliError(`failed to verify signature: ${(e as Error).message}`, 1, 'SIGNATURE_INVALID', { cause: e });
      }
      throw e;
    }
    info(ctx, 'Verified OK');
    return 0;
  },
};

/** Keyless `verify-blob`: a legacy or Sigstore bundle, or `--signature` with `--certificate`. */
async function verifyKeyless(ctx: CliContext, flags: Flags, file: string, sigArg: string, bundleFile: string): Promise<number> {
  const { readBlob, verifyBlobKeyless, MAX_BLOB_BUNDLE_BYTES } = await import('../../blob/index.js');
  const { keylessFromFlags } = await import('./verify.js');
  if (sigArg !== '' && flags.str('certificate') === '') throw new UsageError('keyless verification of --signature needs --certificate (or a --bundle)');
  const { identity, keyless } = await keylessFromFlags(ctx, flags);
  let source: Parameters<typeof verifyBlobKeyless>[1];
  if (sigArg !== '') {
    const sig = existsSync(sigArg)
      ? Buffer.from(await readBlob(sigArg, MAX_BLOB_BUNDLE_BYTES, 'signature file'))
          .toString('utf8')
          .trim()
      : sigArg.trim();
    source = { legacyBundle: JSON.stringify({ base64Signature: sig }) };
  } else {
    const data = await readBlob(bundleFile, MAX_BLOB_BUNDLE_BYTES, 'bundle file');
    source = isSigstoreBundle(data) ? { bundle: data } : { legacyBundle: data };
  }
  const blob = await readBlob(file === '-' ? ctx.stdin : file);
  try {
    await verifyBlobKeyless(blob, source, [identity], keyless);
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if ((e as Error | null)?.name === 'CosignError' && typeof code === 'string') {
      throw new CliError(`failed to verify signature: ${(e as Error).message}`, 1, code, { cause: e });
    }
    throw e;
  }
  info(ctx, 'Verified OK');
  return 0;
}

/** A Sigstore bundle has a top-level `mediaType`; cosign's legacy bundle never does. The full parse comes later. */
function isSigstoreBundle(data: Uint8Array): boolean {
  return /"mediaType"\s*:/.test(Buffer.from(data).toString('utf8'));
}
