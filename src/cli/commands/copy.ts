/**
 * `cosign-ts copy SRC DST`: copy an image (every child of an index too), its signatures, attestations
 * and SBOMs (the `.sig`/`.att`/`.sbom` tags) and its OCI 1.1 referrers (cosign 3's Sigstore bundles and
 * any other referrer) to another repository or registry, like `cosign copy` (which, in cosign 3.1, leaves
 * the referrers behind).
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
import type { Descriptor, ImageManifest } from '../../oci/manifest.js';
import type { ImageReference } from '../../reference.js';

/** Largest blob copied (blobs are held in memory). */
const MAX_BLOB = 2 * 1024 * 1024 * 1024;
/** Most referrers copied per image (a registry listing more is refused, not truncated). */
const MAX_REFERRERS = 1000;
/** How deep referrers of referrers are followed (a signature on an attestation on the image is depth 1). */
const MAX_REFERRER_DEPTH = 3;

export const command: Command = {
  name: 'copy',
  short: 'Copy the supplied container image and signatures.',
  long: 'Copy the supplied container image and signatures (and attestations, SBOMs, OCI 1.1 referrers such as\ncosign 3 Sigstore bundles) to another repository or registry. For an image index, every child and\nits signatures are copied too.',
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
  /** `sig`/`att`/`sbom` (a legacy tag), `image` (an entity under its `sha256-<hex>` tag), `tag` (the named tag), `referrer`. */
  readonly label: Kind | 'image' | 'tag' | 'referrer';
  /** For `image` and `referrer`: the entity's digest. */
  readonly digest?: Digest;
}

interface State {
  readonly ctx: CliContext;
  readonly reg: RegistrySettings;
  readonly force: boolean;
  readonly copied: string[];
}

/** Copy the config and layers of an image manifest from `src` to `dst` (same digests). */
async function copyBlobs(s: State, src: ImageReference, dst: ImageReference, manifest: ImageManifest): Promise<void> {
  for (const { digest } of [manifest.config, ...manifest.layers]) {
    if (await s.reg.client.headBlob(dst, digest, { signal: s.ctx.signal })) continue;
    const bytes = await s.reg.client.getBlob(src, digest, { maxBytes: MAX_BLOB, signal: s.ctx.signal });
    await s.reg.client.uploadBlob(dst, digest, bytes, { signal: s.ctx.signal, mountFrom: src });
  }
}

/**
 * cosign's `remoteCopy`: a missing source is skipped; an existing destination is left alone when it is
 * the same manifest, refused (without `-f`) when it is another one; then the manifest (with its blobs;
 * an index's children were copied before it) is pushed to `op.dst`.
 */
async function copyManifest(s: State, op: Op): Promise<void> {
  const { client } = s.reg;
  const { formatReference, withDigest } = await import('../../reference.js');
  const { isIndexMediaType, parseImageIndex, parseManifest, OCI_INDEX_MEDIA_TYPE } = await import('../../oci/manifest.js');
  let m;
  try {
    m = await client.getManifest(op.src, { signal: s.ctx.signal });
  } catch (e) {
    if (isNotFound(e)) return; // most attachments do not exist; cosign skips 404s on the source
    throw e;
  }
  let dst = op.dst;
  const existing = await client.headManifest(op.dst, { signal: s.ctx.signal });
  if (existing?.digest === m.digest) return;
  if (existing !== undefined && op.label === 'image' && op.digest !== undefined) {
    // The entity's `sha256-<hex>` tag already names the destination's referrers fallback index (an OCI
    // index listing artifacts, written by a previous copy or by signing there): keep it, and copy the
    // entity by digest instead.
    const there = await client.getManifest(op.dst, { signal: s.ctx.signal });
    if (
      there.mediaType === OCI_INDEX_MEDIA_TYPE &&
      parseImageIndex(there.bytes, there.mediaType, `manifest ${formatReference(op.dst)}`).manifests.every((d) => d.artifactType !== undefined)
    ) {
      dst = withDigest(op.dst, m.digest);
      if ((await client.headManifest(dst, { signal: s.ctx.signal })) !== undefined) return;
    } else if (!s.force) {
      throw new CliError(`image ${JSON.stringify(formatReference(op.dst))} already exists. Use \`-f\` to overwrite`);
    }
  } else if (existing !== undefined && !s.force) {
    throw new CliError(`image ${JSON.stringify(formatReference(op.dst))} already exists. Use \`-f\` to overwrite`);
  }
  info(s.ctx, `Copying ${formatReference(op.src)} to ${formatReference(dst)}...`);
  if (!isIndexMediaType(m.mediaType))
    await copyBlobs(s, withDigest(op.src, m.digest), withDigest(dst, m.digest), parseManifest(m.bytes, m.mediaType, `manifest ${formatReference(op.src)}`));
  await client.putManifest(dst, m.bytes, m.mediaType, { signal: s.ctx.signal });
  s.copied.push(formatReference(dst));
}

/** Every manifest digest under `root` (children first, the root last), like cosign's walk. */
async function walk(ctx: CliContext, reg: RegistrySettings, repo: ImageReference, root: Digest): Promise<Digest[]> {
  const { withDigest, formatReference } = await import('../../reference.js');
  const { parseImageIndexIfAny } = await import('../../oci/manifest.js');
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

/**
 * Which `--only` kind a referrer belongs to: a Sigstore bundle (one layer of a
 * `application/vnd.dev.sigstore.bundle…` type) is a signature when its predicate type is cosign's
 * signing one and an attestation otherwise; cosign's experimental OCI 1.1 signature artifact is a
 * signature; an SPDX or CycloneDX artifact is an SBOM; anything else has no kind (copied only without
 * `--only`).
 */
export async function referrerKind(manifest: ImageManifest): Promise<Kind | undefined> {
  const mt = await import('../../artifact/media-types.js');
  const artifactType = manifest.artifactType ?? manifest.config.artifactType ?? manifest.config.mediaType;
  const bundle = manifest.layers.length === 1 && (manifest.layers[0] as Descriptor).mediaType.startsWith('application/vnd.dev.sigstore.bundle');
  if (bundle) {
    const predicateType = manifest.annotations?.[mt.BUNDLE_PREDICATE_TYPE_ANNOTATION];
    if (predicateType === undefined) return undefined;
    return predicateType === mt.COSIGN_SIGN_PREDICATE_TYPE ? 'sig' : 'att';
  }
  if (artifactType === mt.COSIGN_SIGNATURE_ARTIFACT_TYPE) return 'sig';
  if (/spdx|cyclonedx/i.test(artifactType)) return 'sbom';
  return undefined;
}

/**
 * Copy the OCI 1.1 referrers of `digest` (listed in `listRepo`: the referrers API, else the
 * `sha256-<hex>` fallback tag) to `dstRepo`, each pushed by digest as a referrer (on a destination
 * without the referrers API, added to its fallback tag index with a conditional update), then their own
 * referrers (up to {@link MAX_REFERRER_DEPTH} levels, each manifest once). Referrers whose `subject` is
 * not `digest` are skipped with a warning (a fallback index is just a tag anyone can write).
 */
async function copyReferrers(
  s: State,
  listRepo: ImageReference,
  dstRepo: ImageReference,
  digest: Digest,
  kinds: readonly Kind[] | undefined,
  depth = 0,
  seen: Set<string> = new Set(),
): Promise<void> {
  if (depth > MAX_REFERRER_DEPTH || seen.has(digest)) return;
  seen.add(digest);
  const { client } = s.reg;
  const { formatReference, withDigest } = await import('../../reference.js');
  const { isIndexMediaType, parseManifest } = await import('../../oci/manifest.js');
  const list = await client.referrers(listRepo, digest, { signal: s.ctx.signal });
  if (list.length > MAX_REFERRERS)
    throw new CliError(`${formatReference(withDigest(listRepo, digest))} has ${list.length} referrers, more than the ${MAX_REFERRERS} copy handles`);
  for (const r of list) {
    const src = withDigest(listRepo, r.digest);
    const dst = withDigest(dstRepo, r.digest);
    let m;
    try {
      m = await client.getManifest(src, { signal: s.ctx.signal });
    } catch (e) {
      if (isNotFound(e)) continue; // listed but gone (a stale fallback index entry)
      throw e;
    }
    if (isIndexMediaType(m.mediaType)) {
      s.ctx.stderr.write(`WARNING: not copying referrer ${formatReference(src)}: it is an image index\n`);
      continue;
    }
    const parsed = parseManifest(m.bytes, m.mediaType, `manifest ${formatReference(src)}`);
    if (parsed.subject?.digest !== digest) {
      s.ctx.stderr.write(`WARNING: not copying referrer ${formatReference(src)}: its subject is not ${digest}\n`);
      continue;
    }
    if (kinds !== undefined) {
      const kind = await referrerKind(parsed);
      if (kind === undefined || !kinds.includes(kind)) continue;
    }
    const present = (await client.headManifest(dst, { signal: s.ctx.signal })) !== undefined;
    if (!present) {
      info(s.ctx, `Copying ${formatReference(src)} to ${formatReference(dst)}...`);
      await copyBlobs(s, src, dst, parsed);
    }
    // Also when present: the destination's fallback index may lack the entry (idempotent otherwise).
    await client.pushReferrer(dstRepo, m.bytes, m.mediaType, digest, { signal: s.ctx.signal });
    if (!present) s.copied.push(formatReference(dst));
    // Then what refers to this referrer (a signature on an SBOM, say), whatever its kind, as `oras copy -r`.
    await copyReferrers(s, listRepo, dstRepo, r.digest, undefined, depth + 1, seen);
  }
}

/** What cosign 3.1 prints (on stderr, before copying) for its deprecated `copy`. */
export const COPY_DEPRECATION =
  'Command "copy" is deprecated, there are several options you can use instead:\n' +
  '  - "oras copy -r" will copy images and referring artifacts\n' +
  '  - "cosign save" to write to disk, followed by "cosign load" for a new registry\n' +
  '  - "cosign download" followed by "cosign attach" to just copy the bundle\n';

async function runCopy(ctx: CliContext, flags: Parameters<Command['run']>[1]): Promise<number> {
  ctx.stderr.write(COPY_DEPRECATION);
  if (flags.str('platform') !== '') throw unsupported('copying one platform (--platform)');
  const only = new Set(flags.list('only'));
  if (flags.bool('sig-only')) {
    ctx.stderr.write('--sig-only is deprecated, use --only=sig instead'); // sic: cosign ends it with no newline
    only.add('sig');
  }
  for (const o of only)
    if (o !== 'sig' && o !== 'att' && o !== 'sbom')
      throw new CliError(`invalid value for --only: ${o}, only the following values are supported: [sig sbom att]`, 1, 'USAGE');
  const kinds = (['sig', 'sbom', 'att'] as const).filter((k) => only.size === 0 || only.has(k));
  const force = flags.bool('force');
  const src = await parseImage(flags.args[0] as string);
  const dst = await parseImage(flags.args[1] as string);
  const reg = await registrySettings(ctx, flags);
  const { withDigest, withTag, parseRepository } = await import('../../reference.js');
  const { parseDigest } = await import('../../digest.js');
  const root = src.digest ?? (await reg.client.getManifest(src, { signal: ctx.signal })).digest;
  const entities = await walk(ctx, reg, src, root);
  const dstRepo = parseRepository(dst.name);
  const ops: Op[] = [];
  for (const d of entities) {
    for (const kind of kinds) {
      const s = await attachmentRef(reg, src, d, kind);
      ops.push({ src: s, dst: withTag(dstRepo, s.tag as string), label: kind });
    }
    // cosign copies each entity (also with --only) to the tag `<prefix>sha256-<hex>`.
    const { algorithm, hex } = parseDigest(d);
    ops.push({ src: withDigest(src, d), dst: withTag(dstRepo, `${reg.tagPrefix}${algorithm}-${hex}`), label: 'image', digest: d });
    // Then its referrers (after the entity: on a registry without the referrers API, their fallback
    // index takes over that tag).
    ops.push({ src: withDigest(reg.signatureRepository ?? src, d), dst: withDigest(dstRepo, d), label: 'referrer', digest: d });
  }
  // Finally the tag (or digest) the user named.
  if (only.size === 0) ops.push({ src: withDigest(src, root), dst, label: 'tag' });
  const state: State = { ctx, reg, force, copied: [] };
  const bar = progressBar(ctx, 'Copying');
  try {
    let done = 0;
    for (const op of ops) {
      bar.clear();
      if (op.label === 'referrer') await copyReferrers(state, op.src, dstRepo, op.digest as Digest, only.size === 0 ? undefined : kinds);
      else await copyManifest(state, op);
      bar.update(++done, ops.length);
    }
  } finally {
    bar.finish();
  }
  if (flags.str('output') === 'json')
    out(ctx, `${JSON.stringify({ source: flags.args[0], destination: flags.args[1], digest: root, copied: state.copied })}\n`);
  return 0;
}
