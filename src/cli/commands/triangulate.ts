/**
 * `cosign-ts triangulate [--type signature|attestation|sbom|digest] IMAGE`: where cosign stores an
 * image's signatures (or attestations, SBOMs), or the image's digest reference.
 *
 * @module
 */
import type { Command } from '../command.js';
import { OUTPUT_FLAG, REGISTRY_FLAGS } from '../command.js';
import { out } from '../context.js';
import { attachmentRef, digestOf, parseImage, type Kind } from '../attachments.js';
import { CliError } from '../errors.js';
import { registrySettings } from '../registry.js';

const KINDS: Readonly<Record<string, Kind>> = { signature: 'sig', attestation: 'att', sbom: 'sbom' };

/** What cosign 3.1 prints on stderr before it runs `triangulate` (cobra's deprecation notice). */
const DEPRECATION =
  'Command "triangulate" is deprecated, triangulate will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use `oras discover` or `cosign tree` to show referring artifacts\n';

/** What cosign 3.1 prints on stderr for `--type sbom`. */
const SBOM_DEPRECATION =
  'WARNING: SBOM attachments are deprecated and support will be removed in a Cosign release soon after 2024-02-22 (see https://github.com/sigstore/cosign/issues/2755). Instead, please use SBOM attestations.';

export const command: Command = {
  name: 'triangulate',
  short: 'Outputs the located cosign image reference. This is the location where cosign stores the specified artifact type.',
  usage: '[flags] <image>',
  examples: `  cosign-ts triangulate <IMAGE>

  # where the attestations of an image are stored
  cosign-ts triangulate --type attestation <IMAGE>

  # the image's digest reference
  cosign-ts triangulate --type digest <IMAGE>

  # with signatures stored in another repository
  COSIGN_REPOSITORY=registry.example.com/signatures cosign-ts triangulate <IMAGE>`,
  flags: [
    {
      name: 'type',
      type: 'string',
      default: 'signature',
      help: 'related attachment to triangulate (attestation|sbom|signature|digest), default signature (sbom is deprecated)',
    },
    ...REGISTRY_FLAGS,
    OUTPUT_FLAG,
  ],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    ctx.stderr.write(DEPRECATION);
    const type = flags.str('type');
    if (type !== 'digest' && KINDS[type] === undefined) throw new CliError(`unknown attachment type ${type}`);
    const ref = await parseImage(flags.args[0] as string);
    if (type === 'sbom') ctx.stderr.write(`${SBOM_DEPRECATION}\n`);
    const reg = await registrySettings(ctx, flags);
    const digest = await digestOf(reg, ref, ctx.signal);
    const { formatReference } = await import('../../reference.js');
    const { parseDigest } = await import('../../digest.js');
    // `digest`: as cosign 3.1, in COSIGN_REPOSITORY when set, with the attachment tag prefix before the digest.
    const { algorithm, hex } = parseDigest(digest);
    const result =
      type === 'digest'
        ? `${(reg.signatureRepository ?? ref).name}@${reg.tagPrefix}${algorithm}:${hex}`
        : formatReference(await attachmentRef(reg, ref, digest, KINDS[type] as Kind));
    out(ctx, flags.str('output') === 'json' ? `${JSON.stringify({ reference: result, digest, type })}\n` : `${result}\n`);
    return 0;
  },
};
