/**
 * `cosign-ts attest --key REF --predicate FILE --type TYPE --tlog-upload=false IMAGE`: attest an
 * image like `cosign attest`: the legacy `.att` tag (cosign 2.5's default and bytes), or with
 * `--new-bundle-format` a Sigstore bundle stored as an OCI 1.1 referrer (cosign 3.1's default and
 * bytes), with the same stderr as the cosign that writes that format.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import { isCosignError } from '../../errors.js';
import { readFileLimited } from '../../internal/read-file.js';
import type { Command } from '../command.js';
import { REGISTRY_FLAGS } from '../command.js';
import type { CliContext } from '../context.js';
import { info, warn } from '../context.js';
import { CliError, EXIT, unsupported } from '../errors.js';
import type { Flags } from '../flags.js';
import { loadSigner } from '../keyref.js';
import { registrySettings } from '../registry.js';

/** Largest predicate read (file or stdin). */
const MAX_PREDICATE_BYTES = 32 * 1024 * 1024;

/** String flags of cosign attest that select features cosign-ts does not have. */
const UNSUPPORTED_STRINGS: ReadonlyArray<[string, string]> = [
  ['certificate', 'attaching a certificate (--certificate)'],
  ['certificate-chain', 'attaching a certificate chain (--certificate-chain)'],
  ['identity-token', 'keyless signing (--identity-token)'],
  ['timestamp-server-url', 'RFC 3161 timestamps (--timestamp-server-url)'],
  ['statement', 'attesting a given in-toto statement (--statement)'],
  ['bundle', 'writing the Sigstore bundle to a file (--bundle)'],
  ['signing-config', 'signing configs (--signing-config)'],
  ['trusted-root', '--trusted-root with attest'],
  ['slot', 'security key slots (--slot)'],
];

export const command: Command = {
  name: 'attest',
  short: 'Attest the supplied container image.',
  long: `Attest the supplied container image.

cosign-ts attests with a key (file, env://, KMS URI or Kubernetes secret), without the
transparency log (--tlog-upload=false is required). By default the attestation is stored
as cosign 2 does (a sha256-<digest>.att tag, one DSSE envelope layer per attestation);
with --new-bundle-format as cosign 3 does (a Sigstore bundle stored as an OCI 1.1
referrer of the image; on registries without the referrers API, listed in the
sha256-<digest> fallback tag index). cosign 2.x and 3.x verify both.`,
  usage: '[flags] <image uri>',
  examples: `  cosign-ts attest --key <key path>|<kms uri> --tlog-upload=false [--predicate <path>] [--type <type>] [--replace] <image uri>

  # attach an attestation to a container image with a local key pair file
  cosign-ts attest --predicate <FILE> --type <TYPE> --key cosign.key --tlog-upload=false <IMAGE>

  # store the attestation as cosign 3 does (Sigstore bundle, OCI 1.1 referrer)
  cosign-ts attest --predicate <FILE> --type <TYPE> --key cosign.key --tlog-upload=false --new-bundle-format <IMAGE>

  # replace the attestations of the same predicate type (legacy format)
  cosign-ts attest --predicate <FILE> --type <TYPE> --key cosign.key --tlog-upload=false --replace <IMAGE>

  # attach an attestation with a key pair stored in a KMS
  cosign-ts attest --predicate <FILE> --type <TYPE> --key awskms://[ENDPOINT]/[ID/ALIAS/ARN] --tlog-upload=false <IMAGE>

  # supply the predicate on stdin
  echo <PAYLOAD> | cosign-ts attest --predicate - --key cosign.key --tlog-upload=false <IMAGE>`,
  notes: `--type: custom (default), slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson,
cyclonedx, vuln, openvex, link, or a predicate type URI.

Environment:
  COSIGN_PASSWORD            password of an encrypted key file (else prompt on a terminal, else stdin)
  COSIGN_REPOSITORY          store attestations in this repository (registry/repo)`,
  flags: [
    { name: 'key', type: 'string', default: '', help: 'path to the private key file, KMS URI or Kubernetes Secret' },
    { name: 'predicate', type: 'string', default: '', help: "path to the predicate file ('-' for stdin)" },
    {
      name: 'type',
      type: 'string',
      default: 'custom',
      help: 'specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI',
    },
    { name: 'replace', type: 'boolean', default: false, help: 'replace the existing attestations of the same predicate type (legacy format)' },
    { name: 'tlog-upload', type: 'boolean', default: true, help: 'whether or not to upload to the tlog (cosign-ts: must be false)' },
    {
      name: 'new-bundle-format',
      type: 'boolean',
      default: false,
      help: 'store the attestation as a Sigstore bundle in an OCI 1.1 referrer, as cosign 3 (default: the legacy .att tag)',
    },
    { name: 'use-signing-config', type: 'boolean', default: false, help: 'use a signing config file (cosign-ts: accepted as false only)' },
    { name: 'yes', short: 'y', type: 'boolean', default: false, help: 'skip confirmation prompts for non-destructive operations' },
    { name: 'recursive', short: 'r', type: 'boolean', default: false, help: 'attest each image of a multi-arch image too (not supported yet)' },
    { name: 'no-upload', type: 'boolean', default: false, help: 'do not upload the generated attestation (not supported yet)' },
    { name: 'record-creation-timestamp', type: 'boolean', default: false, help: 'set the createdAt timestamp in the attestation artifact (not supported yet)' },
    { name: 'certificate', type: 'string', default: '', help: 'path to the X.509 certificate to include (not supported yet)' },
    { name: 'certificate-chain', type: 'string', default: '', help: 'path to a list of CA X.509 certificates (not supported yet)' },
    { name: 'statement', type: 'string', default: '', help: 'path to an in-toto statement to sign (not supported yet)' },
    { name: 'bundle', type: 'string', default: '', help: 'write the Sigstore bundle to FILE (not supported yet)' },
    { name: 'signing-config', type: 'string', default: '', help: 'path to a signing config file (not supported yet)' },
    { name: 'trusted-root', type: 'string', default: '', help: 'path to a trusted root file (not supported yet)' },
    { name: 'rekor-entry-type', type: 'string', default: 'dsse', help: 'rekor entry type (unused: no transparency-log upload)' },
    { name: 'rekor-url', type: 'string', default: 'https://rekor.sigstore.dev', help: 'address of rekor STL server (unused: no transparency-log upload)' },
    { name: 'fulcio-url', type: 'string', default: 'https://fulcio.sigstore.dev', help: 'address of sigstore PKI server (keyless; not supported yet)' },
    { name: 'identity-token', type: 'string', default: '', help: 'identity token for keyless signing (not supported yet)' },
    { name: 'oidc-issuer', type: 'string', default: 'https://oauth2.sigstore.dev/auth', help: 'OIDC provider (keyless; not supported yet)' },
    { name: 'oidc-client-id', type: 'string', default: 'sigstore', help: 'OIDC client ID (keyless; not supported yet)' },
    { name: 'oidc-client-secret-file', type: 'string', default: '', help: 'OIDC client secret file (keyless; not supported yet)' },
    { name: 'oidc-redirect-url', type: 'string', default: '', help: 'OIDC redirect URL (keyless; not supported yet)' },
    { name: 'oidc-provider', type: 'string', default: '', help: 'OIDC provider (keyless; not supported yet)' },
    { name: 'oidc-disable-ambient-providers', type: 'boolean', default: false, help: 'keyless only (not supported yet)' },
    { name: 'fulcio-auth-flow', type: 'string', default: '', help: 'keyless only (not supported yet)' },
    { name: 'insecure-skip-verify', type: 'boolean', default: false, help: 'skip verifying fulcio published to the SCT (keyless; not supported yet)' },
    { name: 'timestamp-server-url', type: 'string', default: '', help: 'RFC3161 timestamp server (not supported yet)' },
    { name: 'sk', type: 'boolean', default: false, help: 'whether to use a hardware security key (not supported yet)' },
    { name: 'slot', type: 'string', default: '', help: 'security key slot (not supported yet)' },
    ...REGISTRY_FLAGS,
  ],
  args: { min: 1, max: 1 },
  run: runAttest,
};

function checkFlags(flags: Flags): void {
  for (const [name, what] of UNSUPPORTED_STRINGS) if (flags.str(name) !== '') throw unsupported(what);
  if (flags.bool('record-creation-timestamp')) throw unsupported('--record-creation-timestamp');
  if (flags.bool('recursive')) throw unsupported('attesting every image of a multi-arch image (--recursive)');
  if (flags.bool('no-upload')) throw unsupported('--no-upload');
  if (flags.bool('sk')) throw unsupported('hardware security keys (--sk)');
  if (flags.str('attachment-tag-prefix') !== '') throw unsupported('--attachment-tag-prefix with attest');
  if (flags.str('key') === '') {
    throw new CliError(
      'keyless signing (Fulcio certificate and OIDC) is not supported by cosign-ts yet: pass --key <key file or KMS URI>',
      EXIT.ERROR,
      'UNSUPPORTED',
    );
  }
  if (flags.bool('tlog-upload')) {
    throw new CliError(
      'uploading attestations to the transparency log (Rekor) is not supported by cosign-ts yet: pass --tlog-upload=false (the attestation is then stored in the registry only, like `cosign attest --tlog-upload=false`)',
      EXIT.ERROR,
      'UNSUPPORTED',
    );
  }
  if (flags.bool('use-signing-config')) throw unsupported('--use-signing-config (pass --use-signing-config=false)');
  if (flags.bool('new-bundle-format') && flags.bool('replace')) throw unsupported('--replace with --new-bundle-format');
}

async function readStdin(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += b.byteLength;
    if (total > max) throw new CliError(`reading the predicate from stdin: more than ${max} bytes`, EXIT.ERROR, 'TOO_LARGE');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

async function readPredicate(ctx: CliContext, file: string): Promise<Buffer> {
  if (file === '-') return readStdin(ctx.stdin, MAX_PREDICATE_BYTES);
  try {
    return await readFileLimited(file, MAX_PREDICATE_BYTES, 'predicate file');
  } catch (e) {
    if (isCosignError(e, 'TOO_LARGE')) throw new CliError(`reading predicate: ${e.message}`, EXIT.ERROR, 'TOO_LARGE', { cause: e });
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : (code ?? 'error')}`, EXIT.ERROR, 'ERROR', { cause: e });
  }
}

async function runAttest(ctx: CliContext, flags: Flags): Promise<number> {
  checkFlags(flags);
  const bundleFormat = flags.bool('new-bundle-format');
  const { predicateType } = await import('../../sign/attestation.js');
  const typeName = flags.str('type');
  try {
    predicateType(typeName);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.ERROR, 'USAGE', { cause: e });
  }
  const predicateFile = flags.str('predicate');
  if (predicateFile === '') throw new CliError('predicate is required (--predicate FILE)', EXIT.ERROR, 'USAGE');
  const { parseReference, formatReference } = await import('../../reference.js');
  let ref;
  try {
    ref = parseReference(flags.args[0] as string);
  } catch (e) {
    throw new CliError(`parsing reference: ${(e as Error).message}`, EXIT.ERROR, 'BAD_REFERENCE', { cause: e });
  }
  if (bundleFormat) {
    // cosign 3.1 prints Cobra's deprecation notices for these flags (--tlog-upload=false is always given here).
    info(ctx, 'Flag --tlog-upload has been deprecated, prefer using a --signing-config file with no transparency log services');
    info(ctx, 'Flag --new-bundle-format has been deprecated, this will be the only supported format in future versions');
  }
  if (ref.digest === undefined) {
    // cosign 2.5 and 3.1 print this (the words of `sign`) for a tag, then resolve it
    warn(
      ctx,
      `Image reference ${formatReference(ref)} uses a tag, not a digest, to identify the image to sign.
    This can lead you to sign a different image than the intended one. Please use a
    digest (example.com/ubuntu@sha256:abc123...) rather than tag
    (example.com/ubuntu:latest) for the input to cosign. The ability to refer to
    images by tag will be removed in a future release.
`,
    );
  }
  const predicate = await readPredicate(ctx, predicateFile);
  info(ctx, `Using payload from: ${predicateFile}`);
  const signer = await loadSigner(ctx, flags.str('key'));
  const reg = await registrySettings(ctx, flags);
  const { attestImage } = await import('../../sign/attestation.js');
  await attestImage(ref, signer, {
    client: reg.client,
    predicate,
    type: typeName,
    replace: flags.bool('replace'),
    format: bundleFormat ? 'bundle' : 'legacy',
    ...(reg.signatureRepository === undefined ? {} : { signatureRepository: reg.signatureRepository }),
    signal: ctx.signal,
  });
  if (bundleFormat) info(ctx, 'Signing artifact...');
  return 0;
}
