/**
 * `cosign-ts save --dir DIR IMAGE`: write an image, its signatures, attestations and referrers to an
 * OCI image layout on disk, like `cosign save` (cosign 2 and 3 load and verify it).
 *
 * @module
 */
import type { Command } from '../command.js';
import { REGISTRY_FLAGS } from '../command.js';
import { parseImage } from '../attachments.js';
import { CliError, EXIT } from '../errors.js';
import { registrySettings } from '../registry.js';

export const command: Command = {
  name: 'save',
  short: 'Save the container image and associated signatures to disk at the specified directory.',
  long: `Save the container image and associated signatures to disk at the specified directory.

The directory becomes an OCI image layout, as cosign writes it: index.json lists the image
(annotation kind=dev.cosignproject.cosign/image, or .../imageIndex for an index, with every child),
its .sig signatures (kind .../sigs) and its .att attestations (kind .../atts); OCI 1.1 referrers
(cosign 3's Sigstore bundles) are stored as blobs. Verify it with no network with
'cosign-ts verify --local-image DIR', or push it back with 'cosign-ts load'.`,
  usage: '[flags] <image>',
  examples: `  cosign-ts save --dir <path to directory> <IMAGE>`,
  flags: [{ name: 'dir', type: 'string', default: '', help: 'path to dir where the signed image should be stored on disk' }, ...REGISTRY_FLAGS],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    const dir = flags.str('dir');
    if (dir === '') throw new CliError('required flag(s) "dir" not set', EXIT.ERROR, 'USAGE');
    const ref = await parseImage(flags.args[0] as string);
    const reg = await registrySettings(ctx, flags);
    const { saveImage } = await import('../../oci/layout.js');
    await saveImage(reg.client, ref, dir, {
      ...(reg.signatureRepository === undefined ? {} : { signatureRepository: reg.signatureRepository }),
      signal: ctx.signal,
    });
    return 0;
  },
};
