/**
 * `cosign-ts clean [--type all|signature|attestation|referrer|sbom] [-f] IMAGE`: delete an image's
 * signature, attestation and SBOM artifacts (the manifests their legacy tags point to) and, for `all`
 * and `referrer`, every OCI 1.1 referrer of the image (what cosign 3.1 does).
 *
 * @module
 */
import type { ImageReference } from '../../reference.js';
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
  referrer: 'this will remove all referrers from the image',
  all: 'this will remove all signatures, SBOMs and attestations from the image',
};

const KINDS: Readonly<Record<string, readonly Kind[]>> = {
  signature: ['sig'],
  attestation: ['att'],
  sbom: ['sbom'],
  referrer: [],
  all: ['sig', 'att', 'sbom'],
};

/** The types that also remove the image's OCI 1.1 referrers. */
const REMOVES_REFERRERS: ReadonlySet<string> = new Set(['referrer', 'all']);

export const command: Command = {
  name: 'clean',
  short: 'Remove all signatures from an image.',
  long: 'Remove all signatures (and/or attestations, SBOMs, referrers) from an image: the manifests their\nsha256-<digest>.sig/.att/.sbom tags point to are deleted from the registry, and with --type all or\n--type referrer every OCI 1.1 referrer of the image (and, on a registry without the referrers API,\nits sha256-<digest> fallback index) is deleted too.',
  usage: '[flags] <image>',
  examples: `  cosign-ts clean <IMAGE>

  # remove only the signatures, without a confirmation prompt
  cosign-ts clean --type signature -f <IMAGE>

  # remove only the OCI 1.1 referrers (cosign 3 bundles)
  cosign-ts clean --type referrer -f <IMAGE>`,
  flags: [
    {
      name: 'type',
      type: 'string',
      default: 'all',
      values: ['signature', 'attestation', 'referrer', 'sbom', 'all'],
      help: 'a type of clean: <signature|attestation|referrer|sbom|all> (sbom is deprecated)',
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
    const { formatReference, withDigest, withTag } = await import('../../reference.js');
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
      const wantReferrers = REMOVES_REFERRERS.has(type);
      // For the warning only, a registry that cannot list referrers is not an error.
      const referrers = await reg.client.referrers(ref, digest, { signal: ctx.signal }).catch((e: unknown) => {
        if (wantReferrers) throw e;
        return [];
      });
      if (!wantReferrers) {
        if (referrers.length > 0) {
          bar.clear();
          warn(ctx, 'image has referrers, consider using --referrer');
        }
      } else if (referrers.length > 0) {
        const remove = async (target: ImageReference): Promise<boolean> => {
          const name = formatReference(target);
          try {
            await reg.client.deleteManifest(target, { signal: ctx.signal });
            bar.clear();
            info(ctx, `Removed ${name} from ${input}`);
            removed.push(name);
            return true;
          } catch (e) {
            if (isNotFound(e)) return false;
            bar.clear();
            ctx.stderr.write(`could not delete ${name} from ${input}\n: ${(e as Error).message}\n`);
            failed.push({ reference: name, error: (e as Error).message });
            return false;
          }
        };
        // Without the referrers API the list came from the fallback index (tag sha256-<hex>): like
        // cosign 3.1, delete that index first, then each referrer. When the index cannot be deleted,
        // each removed referrer is taken out of it instead (a conditional update).
        let indexGone = true;
        if (reg.client.supportsReferrersApi(ref.registry) === false) {
          const { referrersFallbackTag } = await import('../../oci/manifest.js');
          const fallback = withTag(ref, referrersFallbackTag(digest));
          try {
            const index = await reg.client.getManifest(fallback, { signal: ctx.signal });
            indexGone = await remove(withDigest(ref, index.digest));
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
        }
        for (const [i, d] of referrers.entries()) {
          bar.update(i, referrers.length);
          await remove(withDigest(ref, d.digest));
          if (!indexGone) await reg.client.removeFallbackReferrer(ref, digest, d.digest, { signal: ctx.signal });
        }
      }
    } finally {
      bar.finish();
    }
    if (flags.str('output') === 'json') out(ctx, `${JSON.stringify({ image: input, digest, removed, failed })}\n`);
    return 0;
  },
};
