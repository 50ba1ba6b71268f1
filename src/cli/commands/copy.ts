/**
 * `cosign-ts copy SRC DST`: copy an image (every child of an index too) and its signatures,
 * attestations and SBOMs to another repository or registry, like `cosign copy`.
 *
 * @module
 */
import type { Command } from '../command.js';
import { OUTPUT_FLAG, REGISTRY_FLAGS } from '../command.js';
import type { CliContext } from '../context.js';
import { info, out } from '../context.js';
import { attachmentRef, isNotFound, parseImage, type Kind } from '../attachments.js';
import { CliError, unsupported } from '../errors.js';
import { progressBar } from '../progress.js';
import type { RegistrySettings } from '../registry.js';
import { registrySettings } from '../registry.js';
import type { Digest } from '../../digest.js';
import { isIndexMediaType, parseImageIndexIfAny, parseManifest } from '../../oci/manifest.js';
import type { ImageReference } from '../../reference.js';

/** Largest blob copied (blobs are held in memory). */
const MAX_BLOB = 2 * 1024 * 1024 * 1024;

export const command: Command = {
  name: 'copy',
  short: 'Copy the supplied container image and signatures.',
  long: 'Copy the supplied container image and signatures (and attestations, SBOMs) to another\nrepository or registry. For an image index, every child and its signatures are copied too.',
  usage: '[flags] <source image> <destination image>',
  examples: `  cosign-ts copy <source image> <destination image>

  # copy a container image and its signatures
  cosign-ts copy example.com/src:latest example.com/dest:latest

  # copy the signatures only
  cosign-ts copy --only=sig example.com/src example.com/dest

  # copy the signatures, attestations, sbom only
  cosign-ts copy --only=sig,att,sbom example.com/src example.com/dest

  # overwrite destination image and signatures
  cosign-ts copy -f example.com/src example.com/dest`,
  flags: [
    { name: 'only', type: 'stringSlice', help: 'custom string array to only copy specific items, this flag is comma delimited. ex: --only=sig,att,sbom' },
    { name: 'sig-only', type: 'boolean', default: false, help: '[DEPRECATED] only copy the image signature' },
    { name: 'force', short: 'f', type: 'boolean', default: false, help: 'overwrite destination image(s), if necessary' },
    { name: 'platform', type: 'string', default: '', help: 'only copy container image and its signatures for a specific platform image (not supported yet)' },
    ...REGISTRY_FLAGS,
    OUTPUT_FLAG,
  ],
  args: { min: 2, max: 2 },
  run: runCopy,
};

interface Op {
  readonly src: ImageReference;
  readonly dst: ImageReference;
  /** Copy blobs and children as well (image content), or just the manifest with its blobs. */
  readonly label: string;
}

async function copyManifest(ctx: CliContext, reg: RegistrySettings, op: Op, force: boolean, copied: string[]): Promise<void> {
  const { client } = reg;
  const { formatReference, withDigest } = await import('../../reference.js');
  let m;
  try {
    m = await client.getManifest(op.src, { signal: ctx.signal });
  } catch (e) {
    if (isNotFound(e)) return; // most attachments do not exist; cosign skips 404s on the source
    throw e;
  }
  if (!force) {
    try {
      const existing = await client.getManifest(op.dst, { signal: ctx.signal });
      if (existing.digest === m.digest) return;
      throw new CliError(`image ${JSON.stringify(formatReference(op.dst))} already exists. Use \`-f\` to overwrite`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  info(ctx, `Copying ${formatReference(op.src)} to ${formatReference(op.dst)}...`);
  const srcRepo = withDigest(op.src, m.digest);
  const dstRepo = withDigest(op.dst, m.digest);
  if (!isIndexMediaType(m.mediaType)) {
    const { config, layers } = parseManifest(m.bytes, m.mediaType, `manifest ${formatReference(op.src)}`);
    for (const { digest } of [config, ...layers]) {
      const bytes = await client.getBlob(srcRepo, digest, { maxBytes: MAX_BLOB, signal: ctx.signal });
      await client.uploadBlob(dstRepo, digest, bytes, { signal: ctx.signal });
    }
  }
  await client.putManifest(op.dst, m.bytes, m.mediaType, { signal: ctx.signal });
  copied.push(formatReference(op.dst));
}

/** Every manifest digest under `root` (children first, the root last), like cosign's walk. */
async function walk(ctx: CliContext, reg: RegistrySettings, repo: ImageReference, root: Digest): Promise<Digest[]> {
  const { withDigest, formatReference } = await import('../../reference.js');
  const out: Digest[] = [];
  const seen = new Set<string>();
  const visit = async (d: Digest, depth: number): Promise<void> => {
    if (seen.has(d)) return;
    seen.add(d);
    if (depth > 8) throw new CliError(`image index nesting deeper than 8 levels at ${d}`);
    const ref = withDigest(repo, d);
    const m = await reg.client.getManifest(ref, { signal: ctx.signal });
    for (const c of parseImageIndexIfAny(m.bytes, m.mediaType, `manifest ${formatReference(ref)}`)?.manifests ?? []) await visit(c.digest, depth + 1);
    out.push(d);
  };
  await visit(root, 0);
  return out;
}

/** What cosign 3.1 prints (on stderr, before copying) for its deprecated `copy`; it does not copy referrers. */
export const COPY_DEPRECATION =
  'Command "copy" is deprecated, there are several options you can use instead:\n' +
  '  - "oras copy -r" will copy images and referring artifacts\n' +
  '  - "cosign save" to write to disk, followed by "cosign load" for a new registry\n' +
  '  - "cosign download" followed by "cosign attach" to just copy the bundle\n';

async function runCopy(ctx: CliContext, flags: Parameters<Command['run']>[1]): Promise<number> {
  ctx.stderr.write(COPY_DEPRECATION);
  if (flags.str('platform') !== '') throw unsupported('copying one platform (--platform)');
  const only = flags.bool('sig-only') ? ['sig'] : flags.list('only');
  for (const o of only)
    if (o !== 'sig' && o !== 'att' && o !== 'sbom') throw new CliError(`invalid value for --only: ${JSON.stringify(o)} (sig, att, sbom)`, 1, 'USAGE');
  const kinds: Kind[] = only.length > 0 ? (only as Kind[]) : ['sig', 'att', 'sbom'];
  const copyImage = only.length === 0;
  const force = flags.bool('force');
  const src = await parseImage(flags.args[0] as string);
  const dst = await parseImage(flags.args[1] as string);
  const reg = await registrySettings(ctx, flags);
  const { withDigest, withTag, parseRepository } = await import('../../reference.js');
  const root = src.digest ?? (await reg.client.getManifest(src, { signal: ctx.signal })).digest;
  const entities = await walk(ctx, reg, src, root);
  const dstRepo = parseRepository(dst.name);
  const ops: Op[] = [];
  for (const d of entities) {
    for (const kind of kinds) {
      const s = await attachmentRef(reg, src, d, kind);
      ops.push({ src: s, dst: withTag(dstRepo, s.tag as string), label: kind });
    }
    if (copyImage) ops.push({ src: withDigest(src, d), dst: withDigest(dstRepo, d), label: 'image' });
  }
  // Finally the tag (or digest) the user named.
  if (copyImage) ops.push({ src: withDigest(src, root), dst, label: 'tag' });
  const copied: string[] = [];
  const bar = progressBar(ctx, 'Copying');
  try {
    let done = 0;
    for (const op of ops) {
      bar.clear();
      await copyManifest(ctx, reg, op, force, copied);
      bar.update(++done, ops.length);
    }
  } finally {
    bar.finish();
  }
  if (flags.str('output') === 'json') out(ctx, `${JSON.stringify({ source: flags.args[0], destination: flags.args[1], digest: root, copied })}\n`);
  return 0;
}
