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
    const reg = await registrySettings(ctx, flags);
    const digest = await digestOf(reg, ref, ctx.signal);
    const { formatReference, withDigest } = await import('../../reference.js');
    const result = type === 'digest' ? formatReference(withDigest(ref, digest)) : formatReference(await attachmentRef(reg, ref, digest, KINDS[type] as Kind));
    out(ctx, flags.str('output') === 'json' ? `${JSON.stringify({ reference: result, digest, type })}\n` : `${result}\n`);
    return 0;
  },
};
