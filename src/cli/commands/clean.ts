/**
 * `cosign-ts clean [--type all|signature|attestation|sbom] [-f] IMAGE`: delete an image's signature,
 * attestation and SBOM artifacts (the manifests their tags point to).
 *
 * @module
 */
import type { Command } from '../command.js';
import { OUTPUT_FLAG, REGISTRY_FLAGS } from '../command.js';
import { info, out, warn } from '../context.js';
import { attachmentRef, digestOf, isNotFound, parseImage, type Kind } from '../attachments.js';
import { confirmContinue } from '../password.js';
import { progressBar } from '../progress.js';
import { registrySettings } from '../registry.js';

const PROMPTS: Readonly<Record<string, string>> = {
  signature: 'this will remove all signatures from the image',
  sbom: 'this will remove all SBOMs from the image',
  attestation: 'this will remove all attestations from the image',
  all: 'this will remove all signatures, SBOMs and attestations from the image',
};

const KINDS: Readonly<Record<string, readonly Kind[]>> = { signature: ['sig'], attestation: ['att'], sbom: ['sbom'], all: ['sig', 'att', 'sbom'] };

export const command: Command = {
  name: 'clean',
  short: 'Remove all signatures from an image.',
  long: 'Remove all signatures (and/or attestations, SBOMs) from an image: the manifests their\nsha256-<digest>.sig/.att/.sbom tags point to are deleted from the registry.',
  usage: '[flags] <image>',
  examples: `  cosign-ts clean <IMAGE>

  # remove only the signatures, without a confirmation prompt
  cosign-ts clean --type signature -f <IMAGE>`,
  flags: [
    {
      name: 'type',
      type: 'string',
      default: 'all',
      values: ['signature', 'attestation', 'sbom', 'all'],
      help: 'a type of clean: <signature|attestation|sbom|all> (sbom is deprecated)',
    },
    { name: 'force', short: 'f', type: 'boolean', default: false, help: 'do not prompt for confirmation' },
    ...REGISTRY_FLAGS,
    OUTPUT_FLAG,
  ],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    const type = flags.str('type');
    if (!flags.bool('force')) {
      warn(ctx, PROMPTS[type] as string);
      await confirmContinue(ctx);
    }
    const input = flags.args[0] as string;
    const ref = await parseImage(input);
    const reg = await registrySettings(ctx, flags);
    const digest = await digestOf(reg, ref, ctx.signal);
    const { formatReference, withDigest } = await import('../../reference.js');
    const removed: string[] = [];
    const failed: Array<{ reference: string; error: string }> = [];
    const kinds = KINDS[type] ?? [];
    const bar = progressBar(ctx, 'Cleaning');
    let done = 0;
    try {
      for (const kind of kinds) {
        bar.update(done++, kinds.length);
        const tagRef = await attachmentRef(reg, ref, digest, kind);
        const name = formatReference(tagRef);
        try {
          const m = await reg.client.getManifest(tagRef, { signal: ctx.signal });
          await reg.client.deleteManifest(withDigest(tagRef, m.digest), { signal: ctx.signal });
          bar.clear();
          info(ctx, `Removed ${name} from ${input}`);
          removed.push(name);
        } catch (e) {
          if (isNotFound(e)) continue; // nothing of this kind
          bar.clear();
          ctx.stderr.write(`could not delete ${name} from ${input}\n: ${(e as Error).message}\n`);
          failed.push({ reference: name, error: (e as Error).message });
        }
      }
    } finally {
      bar.finish();
    }
    if (flags.str('output') === 'json') out(ctx, `${JSON.stringify({ image: input, digest, removed, failed })}\n`);
    return 0;
  },
};
