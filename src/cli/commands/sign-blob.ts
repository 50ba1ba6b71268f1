/**
 * `cosign-ts sign-blob --key REF --tlog-upload=false FILE|-`: sign a file like `cosign sign-blob`: the
 * base64 signature on stdout (or in `--output-signature`), cosign's legacy `--bundle` JSON, or with
 * `--new-bundle-format` a Sigstore bundle v0.3.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from '../command.js';
import type { CliContext } from '../context.js';
import { info, out } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { loadSigner } from '../keyref.js';

async function writeOutput(ctx: CliContext, file: string, data: string | Uint8Array, what: string): Promise<void> {
  try {
    await writeFile(file, data, { mode: 0o600 });
  } catch (e) {
    throw new CliError(`create ${what} file: open ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  info(ctx, `Wrote ${what} to file ${file}`);
}

export const command: Command = {
  name: 'sign-blob',
  short: 'Sign the supplied blob, outputting the base64-encoded signature to stdout.',
  long: `Sign the supplied blob (a file, or - for standard input), outputting the base64-encoded signature to stdout.

cosign-ts signs with a key (file, env://, KMS URI or Kubernetes secret) and does not upload to the
transparency log: --tlog-upload=false is required. --bundle writes cosign's legacy bundle JSON
({"base64Signature":…}); with --new-bundle-format it writes a Sigstore bundle v0.3 (what cosign 3
writes by default) instead.`,
  usage: '[flags] <blob>',
  examples: `  cosign-ts sign-blob --key <key path>|<kms uri> --tlog-upload=false <blob>

  # sign a blob and write the signature to a file
  cosign-ts sign-blob --key cosign.key --tlog-upload=false --output-signature release.sig release.tar.gz

  # sign a blob and write a Sigstore bundle (cosign 3's default format)
  cosign-ts sign-blob --key cosign.key --tlog-upload=false --new-bundle-format --bundle release.sigstore.json release.tar.gz`,
  flags: [
    { name: 'key', type: 'string', default: '', help: 'path to the private key file, KMS URI or Kubernetes Secret' },
    { name: 'output-signature', type: 'string', default: '', help: 'write the signature to FILE' },
    { name: 'output', type: 'string', default: '', help: 'write the signature to FILE (deprecated: use --output-signature)' },
    { name: 'output-certificate', type: 'string', default: '', help: 'write the certificate to FILE (key-based signing has none)' },
    { name: 'bundle', type: 'string', default: '', help: 'write everything required to verify the blob to a FILE' },
    { name: 'new-bundle-format', type: 'boolean', default: false, help: 'output bundle in new format that contains all verification material' },
    { name: 'tlog-upload', type: 'boolean', default: true, help: 'whether or not to upload to the tlog (cosign-ts: must be false for now)' },
    {
      name: 'use-signing-config',
      type: 'boolean',
      default: false,
      help: 'whether to use a TUF-provided signing config (cosign-ts: ignored, nothing is uploaded)',
    },
    { name: 'yes', short: 'y', type: 'boolean', default: false, help: 'skip confirmation prompts for non-destructive operations' },
    { name: 'b64', type: 'boolean', default: true, help: 'whether to base64 encode the output' },
  ],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    const keyRef = flags.str('key');
    if (keyRef === '') throw new UsageError('--key is required: keyless signing is not supported by cosign-ts yet');
    if (flags.bool('tlog-upload')) {
      throw new CliError('uploading signatures to the transparency log (Rekor) is not supported by cosign-ts yet: pass --tlog-upload=false', 1, 'UNSUPPORTED');
    }
    const bundleFile = flags.str('bundle');
    const newFormat = flags.bool('new-bundle-format');
    if (newFormat && bundleFile === '') throw new UsageError('must specify --bundle with --new-bundle-format');
    const file = flags.args[0] as string;
    const { readBlob, signBlob } = await import('../../blob/index.js');
    const signer = await loadSigner(ctx, keyRef);
    if (file !== '-') info(ctx, `Using payload from: ${file}`);
    const blob = await readBlob(file === '-' ? ctx.stdin : file);
    const result = await signBlob(blob, signer);
    const sig: string | Buffer = flags.bool('b64') ? result.signature : Buffer.from(result.signature, 'base64');
    const sigFile = flags.str('output-signature') !== '' ? flags.str('output-signature') : flags.str('output');
    if (bundleFile !== '') await writeOutput(ctx, bundleFile, newFormat ? result.bundle : result.legacyBundle, 'bundle');
    if (sigFile !== '') await writeOutput(ctx, sigFile, sig, 'signature');
    else out(ctx, typeof sig === 'string' ? `${sig}\n` : sig);
    return 0;
  },
};
