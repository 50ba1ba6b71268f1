/**
 * `cosign-ts clean [--type all|signature|attestation|referrer|sbom] [-f] IMAGE`: delete an image's
 * signature, attestation and SBOM artifacts (the manifests their legacy tags point to) and, for `all`
 * and `referrer`, the Sigstore bundles stored as OCI 1.1 referrers of the image and the fallback tag
 * index listing them (what cosign 3.1 does).
 *
 * @module
 */
import type { Digest } from '../../digest.js';
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
  referrer: 'this will remove all referrer attestations and/or signatures from the image',
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
  long: 'Remove all signatures (and/or attestations, SBOMs, referrers) from an image: the manifests their\nsha256-<digest>.sig/.att/.sbom tags point to are deleted from the registry, and with --type all or\n--type referrer the Sigstore bundles stored as OCI 1.1 referrers of the image (and, on a registry\nwithout the referrers API, its sha256-<digest> fallback index) are deleted too.',
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
    const { SIGSTORE_BUNDLE_V03_MEDIA_TYPE } = await import('../../artifact/media-types.js');
    const { isIndexMediaType, parseManifest, referrersFallbackTag, OCI_INDEX_MEDIA_TYPE } = await import('../../oci/manifest.js');
    const removed: string[] = [];
    const failed: Array<{ reference: string; error: string }> = [];
    const bar = progressBar(ctx, 'Cleaning');
    const report = (name: string, e: unknown): void => {
      bar.clear();
      // cosign 3.1's wording: the error on its own line
      ctx.stderr.write(`could not delete ${name} from ${input}:\n${(e as Error).message}\n`);
      failed.push({ reference: name, error: (e as Error).message });
    };
    const gone = (name: string): void => {
      bar.clear();
      info(ctx, `Removed ${name} from ${input}`);
      removed.push(name);
    };
    try {
      // Like cosign 3.1, for every type: the image's referrers (in the image's repository, also with
      // COSIGN_REPOSITORY), fetched before anything is deleted; a listing that fails fails the command.
      // Without the referrers API the listing is the fallback index (tag sha256-<hex>), deleted first;
      // of the referrers, the Sigstore bundles (config artifactType = the bundle v0.3 media type) only.
      const listed = await reg.client.referrers(ref, digest, { signal: ctx.signal });
      let fallbackIndex: ImageReference | undefined;
      if (reg.client.supportsReferrersApi(ref.registry) === false) {
        // An index only: after `cosign copy` the tag may name the image itself, which must stay.
        const head = await reg.client.headManifest(withTag(ref, referrersFallbackTag(digest)), { accept: OCI_INDEX_MEDIA_TYPE, signal: ctx.signal });
        if (head !== undefined && head.mediaType === OCI_INDEX_MEDIA_TYPE && head.digest !== digest) fallbackIndex = withDigest(ref, head.digest);
      }
      const bundles: ImageReference[] = [];
      for (const d of listed) {
        const target = withDigest(ref, d.digest);
        const m = await reg.client.getManifest(target, { signal: ctx.signal });
        if (isIndexMediaType(m.mediaType)) continue;
        if (parseManifest(m.bytes, m.mediaType, `manifest ${formatReference(target)}`).config.artifactType === SIGSTORE_BUNDLE_V03_MEDIA_TYPE)
          bundles.push(target);
      }
      if (type === 'signature' || type === 'attestation') {
        // cosign 3.1 always has a referrers index here (an empty one too), so it always warns.
        warn(ctx, 'image has referrers, consider using --referrer');
      }
      const kinds = KINDS[type] ?? [];
      let done = 0;
      const total = kinds.length + (REMOVES_REFERRERS.has(type) ? bundles.length + 1 : 0);
      for (const kind of kinds) {
        bar.update(done++, total);
        const tagRef = await attachmentRef(reg, ref, digest, kind);
        const name = formatReference(tagRef);
        try {
          const m = await reg.client.getManifest(tagRef, { signal: ctx.signal });
          await reg.client.deleteManifest(withDigest(tagRef, m.digest), { signal: ctx.signal });
          gone(name);
        } catch (e) {
          if (!isNotFound(e)) report(name, e); // a missing tag: nothing of this kind
        }
      }
      if (REMOVES_REFERRERS.has(type)) {
        const remove = async (target: ImageReference): Promise<boolean> => {
          bar.update(done++, total);
          const name = formatReference(target);
          try {
            await reg.client.deleteManifest(target, { signal: ctx.signal });
            gone(name);
            return true;
          } catch (e) {
            if (!isNotFound(e)) report(name, e);
            return false;
          }
        };
        // When the fallback index cannot be deleted, each removed bundle is taken out of it instead (a
        // conditional update), so that the index does not list what is gone.
        const indexGone = fallbackIndex === undefined || (await remove(fallbackIndex));
        for (const target of bundles) {
          const ok = await remove(target);
          if (ok && !indexGone) await reg.client.removeFallbackReferrer(ref, digest, target.digest as Digest, { signal: ctx.signal });
        }
      }
    } finally {
      bar.finish();
    }
    if (flags.str('output') === 'json') out(ctx, `${JSON.stringify({ image: input, digest, removed, failed })}\n`);
    return 0;
  },
};
