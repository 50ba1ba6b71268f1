/**
 * `cosign-ts attest-blob --key REF --tlog-upload=false --predicate P [--type T] FILE|-`: attest a file like
 * `cosign attest-blob` (cosign 2.5's output: the DSSE envelope on stdout, or in `--output-signature`; the
 * statement in `--output-attestation`; cosign's legacy bundle, or with `--new-bundle-format` a Sigstore
 * bundle v0.3 in cosign 3.1's layout, in `--bundle`).
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PREDICATE_TYPE_FLAG, type Command } from '../command.js';
import type { CliContext } from '../context.js';
import { info, out } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { loadSigner } from '../keyref.js';

async function writeOutput(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFile(file, data, { mode: 0o600 });
  } catch (e) {
    throw new CliError(`open ${file}: ${goErrno((e as NodeJS.ErrnoException).code)}`, 1, 'IO_ERROR', { cause: e });
  }
}

function goErrno(code: string | undefined): string {
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return code ?? 'error';
}

/** Read a file (or stdin for `-`) with the library's bounds; a missing file reads as cosign's `open F: …`. */
export async function readInput(ctx: CliContext, file: string, maxBytes: number, what: string, prefix = ''): Promise<Buffer> {
  const { readBlob } = await import('../../blob/index.js');
  try {
    return await readBlob(file === '-' ? ctx.stdin : file, maxBytes, what);
  } catch (e) {
    const cause = (e as { cause?: NodeJS.ErrnoException } | null)?.cause;
    if ((e as { code?: string } | null)?.code === 'IO_ERROR' && typeof cause?.code === 'string') {
      throw new CliError(`${prefix}open ${file}: ${goErrno(cause.code)}`, 1, 'IO_ERROR', { cause: e });
    }
    throw e;
  }
}

export const command: Command = {
  name: 'attest-blob',
  short: 'Attest the supplied blob.',
  long: `Attest the supplied blob (a file, or - for standard input): sign an in-toto statement about it.

cosign-ts attests with a key (file, env://, KMS URI or Kubernetes secret) and does not upload to the
transparency log: --tlog-upload=false is required. The DSSE envelope is printed (or written to
--output-signature); --bundle writes cosign's legacy bundle JSON, or with --new-bundle-format a
Sigstore bundle v0.3 as cosign 3 writes it.`,
  usage: '[flags] <blob>',
  examples: `  cosign-ts attest-blob --key <key path>|<kms uri> --tlog-upload=false --predicate <path> --type <type> <blob>

  # attest a blob and write the statement and a Sigstore bundle (cosign 3's default format)
  cosign-ts attest-blob --key cosign.key --tlog-upload=false --predicate sbom.json --type spdxjson \\
    --new-bundle-format --bundle app.sigstore.json --output-attestation app.intoto.json app.tar.gz`,
  flags: [
    { name: 'key', type: 'string', default: '', help: 'path to the private key file, KMS URI or Kubernetes Secret' },
    { name: 'predicate', type: 'string', default: '', help: 'path to the predicate file.' },
    PREDICATE_TYPE_FLAG,
    { name: 'bundle', type: 'string', default: '', help: 'write everything required to verify the blob to a FILE' },
    { name: 'new-bundle-format', type: 'boolean', default: false, help: 'output bundle in new format that contains all verification material' },
    { name: 'output-signature', type: 'string', default: '', help: 'write the signature to FILE' },
    { name: 'output-attestation', type: 'string', default: '', help: 'write the attestation to FILE' },
    { name: 'output-certificate', type: 'string', default: '', help: 'write the certificate to FILE (key-based attestation has none)' },
    {
      name: 'hash',
      type: 'string',
      default: '',
      help: 'hash of blob in hexadecimal (base16). Used if you want to sign an artifact stored elsewhere and have the hash',
    },
    { name: 'tlog-upload', type: 'boolean', default: true, help: 'whether or not to upload to the tlog (cosign-ts: must be false for now)' },
    {
      name: 'use-signing-config',
      type: 'boolean',
      default: false,
      help: 'whether to use a TUF-provided signing config (cosign-ts: ignored, nothing is uploaded)',
    },
    { name: 'yes', short: 'y', type: 'boolean', default: false, help: 'skip confirmation prompts for non-destructive operations' },
  ],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    const keyRef = flags.str('key');
    if (keyRef === '') throw new UsageError('--key is required: keyless attestation is not supported by cosign-ts yet');
    const predicateFile = flags.str('predicate');
    if (predicateFile === '') throw new CliError('required flag(s) "predicate" not set', 1, 'USAGE');
    if (flags.bool('tlog-upload')) {
      throw new CliError(
        'uploading attestations to the transparency log (Rekor) is not supported by cosign-ts yet: pass --tlog-upload=false',
        1,
        'UNSUPPORTED',
      );
    }
    const hash = flags.str('hash').toLowerCase();
    if (hash !== '' && !/^[0-9a-f]{64}$/.test(hash)) throw new UsageError('--hash must be a SHA-256 in hexadecimal (64 characters)');
    const file = flags.args[0] as string;
    const newFormat = flags.bool('new-bundle-format');
    const { attestBlob, MAX_BLOB_BYTES } = await import('../../blob/index.js');
    const { MAX_PREDICATE_BYTES } = await import('../../sign/attestation.js');
    const signer = await loadSigner(ctx, keyRef);
    let subject: Uint8Array | { sha256: string };
    if (hash !== '') subject = { sha256: hash };
    else {
      if (file !== '-') info(ctx, `Using payload from: ${file}`);
      subject = await readInput(ctx, file, MAX_BLOB_BYTES, 'blob');
    }
    if (predicateFile !== '-') info(ctx, `Using payload from: ${predicateFile}`);
    const predicate = await readInput(ctx, predicateFile, MAX_PREDICATE_BYTES, 'predicate', 'getting predicate reader: ');
    const r = await attestBlob(subject, signer, {
      predicate,
      type: flags.str('type'),
      name: file === '-' ? '-' : path.basename(file),
      format: newFormat ? 'sigstore' : 'legacy',
    });
    const bundleFile = flags.str('bundle');
    const sigFile = flags.str('output-signature');
    const attFile = flags.str('output-attestation');
    if (bundleFile !== '') {
      await writeOutput(bundleFile, r.bundle);
      info(ctx, `Bundle wrote in the file  ${bundleFile}`);
    }
    if (sigFile !== '') {
      await writeOutput(sigFile, r.envelope);
      info(ctx, `Signature written in ${sigFile}`);
    } else {
      out(ctx, `${r.envelope}\n`);
    }
    if (attFile !== '') {
      await writeOutput(attFile, r.statement);
      info(ctx, `Attestation written in ${attFile}`);
    }
    return 0;
  },
};
