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
import { keyOptions } from '../keyref.js';

export const command: Command = {
  name: 'verify-blob',
  short: 'Verify a signature on the supplied blob',
  long: `Verify a signature on the supplied blob input using the specified key reference.

cosign-ts verifies with a public key (file, env://, KMS URI or Kubernetes secret) and does not check
transparency-log entries: pass --insecure-ignore-tlog=true, as for blobs signed with
--tlog-upload=false. --signature takes a file or the base64 signature itself; --bundle takes cosign's
legacy bundle JSON or a Sigstore bundle (detected by its mediaType, as cosign 3 does).
Certificate-based (keyless) bundles are not supported yet.`,
  usage: '[flags] <blob>',
  examples: `  cosign-ts verify-blob --key cosign.pub --signature release.sig --insecure-ignore-tlog=true release.tar.gz

  # verify a Sigstore bundle (cosign 3's default sign-blob output)
  cosign-ts verify-blob --key cosign.pub --bundle release.sigstore.json --insecure-ignore-tlog=true release.tar.gz`,
  flags: [
    { name: 'key', type: 'string', default: '', help: 'path to the public key file, KMS URI or Kubernetes Secret' },
    { name: 'signature', type: 'string', default: '', help: 'signature content or path' },
    { name: 'bundle', type: 'string', default: '', help: 'path to bundle FILE' },
    { name: 'new-bundle-format', type: 'boolean', default: false, help: 'expect the bundle in the Sigstore bundle format (cosign-ts detects it either way)' },
    INSECURE_IGNORE_TLOG_FLAG,
    { name: 'use-signing-config', type: 'boolean', default: false, help: 'accepted for compatibility with cosign 3 (ignored)' },
  ],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    const keyRef = flags.str('key');
    if (keyRef === '') throw new UsageError('--key is required: keyless verification is not supported by cosign-ts yet');
    const sigArg = flags.str('signature');
    const bundleFile = flags.str('bundle');
    if ((sigArg === '') === (bundleFile === '')) throw new UsageError('exactly one of --signature or --bundle must be provided');
    const ignoreTlog = flags.bool('insecure-ignore-tlog');
    if (ignoreTlog) warn(ctx, 'Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob.');
    const file = flags.args[0] as string;
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

/** A Sigstore bundle has a top-level `mediaType`; cosign's legacy bundle never does. The full parse comes later. */
function isSigstoreBundle(data: Uint8Array): boolean {
  return /"mediaType"\s*:/.test(Buffer.from(data).toString('utf8'));
}
