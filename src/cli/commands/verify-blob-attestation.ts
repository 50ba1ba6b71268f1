/**
 * `cosign-ts verify-blob-attestation --key REF (--signature F | --bundle F) --insecure-ignore-tlog=true
 * [--type T] [--check-claims] FILE | --digest HEX --digestAlg ALG`: verify an attestation about a file like
 * `cosign verify-blob-attestation`: `Verified OK` on stderr, exit 1 on any failure, cosign's messages.
 *
 * The key given is the only one trusted: cosign's legacy bundle embeds the signer's public key, which
 * cosign itself trusts; cosign-ts ignores it.
 *
 * @module
 */
import { INSECURE_IGNORE_TLOG_FLAG, PREDICATE_TYPE_FLAG, type Command } from '../command.js';
import { info, warn } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { keyOptions } from '../keyref.js';
import { readInput } from './attest-blob.js';

const HELP_HINT = 'run `cosign verify-blob-attestation -h` for more help';

export const command: Command = {
  name: 'verify-blob-attestation',
  short: 'Verify an attestation on the supplied blob',
  long: `Verify an attestation on the supplied blob input using the specified key reference.

cosign-ts verifies with a public key (file, env://, KMS URI or Kubernetes secret) and does not check
transparency-log entries: pass --insecure-ignore-tlog=true, as for attestations made with
--tlog-upload=false. --signature takes the DSSE envelope file; --bundle takes cosign's legacy bundle
JSON or a Sigstore bundle (detected by its mediaType, as cosign 3 does). The public key embedded in a
legacy bundle is never trusted: only --key is. Certificate-based (keyless) bundles are not supported yet.`,
  usage: '[flags] [<blob>]',
  examples: `  cosign-ts verify-blob-attestation --key cosign.pub --signature app.att.json --type spdxjson --insecure-ignore-tlog=true app.tar.gz

  # verify a Sigstore bundle (cosign 3's default attest-blob output)
  cosign-ts verify-blob-attestation --key cosign.pub --bundle app.sigstore.json --type spdxjson --insecure-ignore-tlog=true app.tar.gz

  # verify against a digest instead of the file
  cosign-ts verify-blob-attestation --key cosign.pub --bundle app.sigstore.json --type spdxjson --insecure-ignore-tlog=true \\
    --digest <sha256 hex> --digestAlg sha256`,
  flags: [
    { name: 'key', type: 'string', default: '', help: 'path to the public key file, KMS URI or Kubernetes Secret' },
    { name: 'signature', type: 'string', default: '', help: 'path to base64-encoded signature over attestation in DSSE format' },
    { name: 'bundle', type: 'string', default: '', help: 'path to bundle FILE' },
    {
      name: 'new-bundle-format',
      type: 'boolean',
      default: false,
      help: 'expect the signature/attestation to be packaged in a Sigstore bundle (cosign-ts detects it either way)',
    },
    PREDICATE_TYPE_FLAG,
    {
      name: 'check-claims',
      type: 'boolean',
      default: true,
      help: "if true, verifies the provided blob's sha256 digest exists as an in-toto subject within the attestation. If false, only the DSSE envelope is verified.",
    },
    { name: 'digest', type: 'string', default: '', help: 'Digest to use for verifying in-toto subject (instead of providing a blob)' },
    { name: 'digestAlg', type: 'string', default: '', help: 'Digest algorithm to use for verifying in-toto subject (instead of providing a blob)' },
    INSECURE_IGNORE_TLOG_FLAG,
    { name: 'use-signing-config', type: 'boolean', default: false, help: 'accepted for compatibility with cosign 3 (ignored)' },
  ],
  args: { min: 0, max: 1 },
  async run(ctx, flags) {
    const file = flags.args[0];
    const digest = flags.str('digest');
    const digestAlg = flags.str('digestAlg');
    if (file === undefined) {
      if (digest === '' && digestAlg === '') throw new CliError(`no path to blob passed in, ${HELP_HINT}`, 1, 'USAGE');
      if (digest === '' || digestAlg === '') throw new CliError(`must provide path to blob or digest and digestAlg; ${HELP_HINT}`, 1, 'USAGE');
    } else if (digest !== '' || digestAlg !== '') {
      throw new UsageError('give either a blob or --digest and --digestAlg, not both');
    }
    const keyRef = flags.str('key');
    if (keyRef === '') throw new UsageError('--key is required: keyless verification is not supported by cosign-ts yet');
    const ignoreTlog = flags.bool('insecure-ignore-tlog');
    if (ignoreTlog) {
      warn(ctx, 'Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob attestation.');
    }
    const sigFile = flags.str('signature');
    const bundleFile = flags.str('bundle');
    if (sigFile === '' && bundleFile === '') throw new CliError('please specify path to the DSSE envelope signature via --signature or --bundle', 1, 'USAGE');
    if (sigFile !== '' && bundleFile !== '') throw new UsageError('give only one of --signature or --bundle');
    const { verifyBlobAttestation, MAX_BLOB_BUNDLE_BYTES, MAX_BLOB_BYTES } = await import('../../blob/index.js');
    const { resolvePublicKey } = await import('../../kms/registry.js');
    const publicKey = await resolvePublicKey(keyRef, keyOptions(ctx));
    let source: Parameters<typeof verifyBlobAttestation>[2];
    if (sigFile !== '') source = { envelope: await readInput(ctx, sigFile, MAX_BLOB_BUNDLE_BYTES, 'signature file') };
    else {
      const data = await readInput(ctx, bundleFile, MAX_BLOB_BUNDLE_BYTES, 'bundle file');
      source = /"mediaType"\s*:/.test(data.toString('utf8')) ? { bundle: data } : { legacyBundle: data };
    }
    const artifact = file === undefined ? { digest, algorithm: digestAlg } : await readInput(ctx, file, MAX_BLOB_BYTES, 'blob');
    await verifyBlobAttestation(artifact, publicKey, source, {
      type: flags.str('type'),
      checkClaims: flags.bool('check-claims'),
      insecureIgnoreTlog: ignoreTlog,
    });
    info(ctx, 'Verified OK');
    return 0;
  },
};
