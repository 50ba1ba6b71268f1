/**
 * `cosign-ts load --dir DIR IMAGE`: push an image saved with `save` (or `cosign save`) to a registry,
 * with its signatures, attestations and referrers, like `cosign load`.
 *
 * @module
 */
import type { Command } from '../command.js';
import { REGISTRY_FLAGS } from '../command.js';
import { parseImage } from '../attachments.js';
import { CliError, EXIT } from '../errors.js';
import { registrySettings } from '../registry.js';

export const command: Command = {
  name: 'load',
  short: 'Load a signed image on disk to a remote registry',
  long: `Load a signed image on disk to a remote registry.

The directory is an OCI image layout written by 'cosign-ts save' or 'cosign save': the image (every
child of an index too) is pushed to <IMAGE>, its signatures and attestations to their
sha256-<digest>.sig / .att tags, and its OCI 1.1 referrers (cosign 3's Sigstore bundles) through the
referrers API or the fallback tag index. Every blob read from the directory is checked against its digest.`,
  usage: '[flags] <image>',
  examples: `  cosign-ts load --dir <path to directory> <IMAGE>`,
  flags: [{ name: 'dir', type: 'string', default: '', help: 'path to directory where the signed image is stored on disk' }, ...REGISTRY_FLAGS],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    const dir = flags.str('dir');
    if (dir === '') throw new CliError('required flag(s) "dir" not set', EXIT.ERROR, 'USAGE');
    const ref = await parseImage(flags.args[0] as string);
    const reg = await registrySettings(ctx, flags);
    const { loadImage } = await import('../../oci/layout.js');
    await loadImage(reg.client, dir, ref, {
      ...(reg.signatureRepository === undefined ? {} : { signatureRepository: reg.signatureRepository }),
      signal: ctx.signal,
    });
    return 0;
  },
};
