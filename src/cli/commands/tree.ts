/**
 * `cosign-ts tree IMAGE`: list an image's signatures, attestations and SBOMs (the `.sig`, `.att`,
 * `.sbom` tags and their layers) and its OCI 1.1 referrers, in cosign's layout.
 *
 * @module
 */
import type { Command } from '../command.js';
import { OUTPUT_FLAG, REGISTRY_FLAGS } from '../command.js';
import { out } from '../context.js';
import { attachmentRef, isNotFound, parseImage, type Kind } from '../attachments.js';
import { CliError } from '../errors.js';
import { parseManifest } from '../../oci/manifest.js';
import { registrySettings } from '../registry.js';

const TITLES: Readonly<Record<Kind, string>> = {
  att: '💾 Attestations for an image tag',
  sig: '🔐 Signatures for an image tag',
  sbom: '📦 SBOMs for an image tag',
};
/** The annotation cosign 3 puts on a Sigstore bundle referrer: the statement's predicate type. */
const PREDICATE_TYPE = 'dev.sigstore.bundle.predicateType';
/** cosign 3.1's deprecation message of `--experimental-oci11`. */
const OCI11_DEPRECATION = 'OCI referrers will be the default behavior in future versions';
const JSON_KEYS: Readonly<Record<Kind, string>> = { sig: 'signatures', att: 'attestations', sbom: 'sboms' };

function layerLines(digests: readonly string[]): string {
  return digests.map((d, i) => `${i === digests.length - 1 ? '   └──' : '   ├──'} 🍒 ${d}\n`).join('');
}

export const command: Command = {
  name: 'tree',
  short: 'Display supply chain security related artifacts for an image such as signatures, SBOMs and attestations',
  usage: '[flags] <image>',
  examples: `  cosign-ts tree <IMAGE>

  # machine-readable
  cosign-ts tree --output json <IMAGE>`,
  flags: [
    ...REGISTRY_FLAGS,
    {
      name: 'registry-referrers-mode',
      type: 'string',
      default: '',
      values: ['legacy', 'oci-1-1'],
      help: 'mode for fetching references from the registry. allowed: legacy, oci-1-1',
    },
    {
      name: 'experimental-oci11',
      type: 'boolean',
      default: true,
      help: 'set to false to ignore OCI 1.1 behavior (deprecated: OCI referrers will be the default behavior in future versions)',
    },
    OUTPUT_FLAG,
  ],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    // cosign 3.1 refuses the oci-1-1 mode unless COSIGN_EXPERIMENTAL is true (Go's strconv.ParseBool)
    if (flags.str('registry-referrers-mode') === 'oci-1-1' && !['1', 't', 'T', 'TRUE', 'true', 'True'].includes(ctx.env.COSIGN_EXPERIMENTAL ?? ''))
      throw new CliError(
        'invalid argument "oci-1-1" for "--registry-referrers-mode" flag: in order to use  mode "oci-1-1", you must set COSIGN_EXPERIMENTAL=1',
        1,
        'USAGE',
      );
    // cobra's notice for a deprecated flag, whatever its value (cosign 3.1 deprecates --experimental-oci11)
    if (flags.has('experimental-oci11')) ctx.stderr.write(`Flag --experimental-oci11 has been deprecated, ${OCI11_DEPRECATION}\n`);
    // As cosign 3.1: referrers are listed unless --experimental-oci11=false (and no --registry-referrers-mode=oci-1-1).
    const listReferrers = flags.bool('experimental-oci11') || flags.str('registry-referrers-mode') === 'oci-1-1';
    const json = flags.str('output') === 'json';
    const ref = await parseImage(flags.args[0] as string);
    const { formatReference, withDigest } = await import('../../reference.js');
    const shown = formatReference(ref);
    if (!json) out(ctx, `📦 Supply Chain Security Related artifacts for an image: ${shown}\n`);
    const reg = await registrySettings(ctx, flags);
    let digest = ref.digest;
    if (digest === undefined) {
      try {
        digest = (await reg.client.getManifest(ref, { signal: ctx.signal })).digest;
      } catch (e) {
        if (isNotFound(e)) throw new CliError(`entity not found in registry, error: ${(e as Error).message}`, 1, 'NOT_FOUND');
        throw e;
      }
    }
    const sections: Array<{ kind: Kind; tag: string; layers: string[] }> = [];
    for (const kind of ['att', 'sig', 'sbom'] as const) {
      const tagRef = await attachmentRef(reg, ref, digest, kind);
      try {
        const m = await reg.client.getManifest(tagRef, { signal: ctx.signal });
        const layers = parseManifest(m.bytes, m.mediaType, `manifest ${formatReference(tagRef)}`).layers.map((l) => l.digest);
        if (layers.length > 0) sections.push({ kind, tag: formatReference(tagRef), layers });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    const referrers: Array<{ artifactType: string; reference: string; layers: string[] }> = [];
    // Listed where cosign 3.1 lists them (COSIGN_REPOSITORY when set), fetched from the image's repository.
    let referrerList: Awaited<ReturnType<typeof reg.client.referrers>> = [];
    if (listReferrers) {
      try {
        referrerList = await reg.client.referrers(reg.signatureRepository ?? ref, digest, { signal: ctx.signal });
      } catch (e) {
        throw new CliError(`getting referrers: ${(e as Error).message}`);
      }
    }
    for (const r of referrerList) {
      if ((r.artifactType ?? '') === '') continue;
      const artifactRef = withDigest(ref, r.digest);
      try {
        const m = await reg.client.getManifest(artifactRef, { signal: ctx.signal });
        const parsed = parseManifest(m.bytes, m.mediaType, `manifest ${formatReference(artifactRef)}`);
        // cosign 3 names a Sigstore bundle by the predicate type its manifest carries, also when the listing is
        // the fallback tag index (whose entries carry neither that annotation nor the bundle's artifact type).
        const type = parsed.annotations?.[PREDICATE_TYPE] ?? (r.artifactType as string);
        referrers.push({ artifactType: type, reference: formatReference(artifactRef), layers: parsed.layers.map((l) => l.digest) });
      } catch (e) {
        ctx.stderr.write(`Error fetching artifact ${formatReference(artifactRef)}: ${(e as Error).message}\n`);
      }
    }
    if (json) {
      const doc: Record<string, unknown> = { image: shown, digest };
      for (const k of ['sig', 'att', 'sbom'] as const) {
        const s = sections.find((x) => x.kind === k);
        doc[JSON_KEYS[k]] = s === undefined ? null : { tag: s.tag, layers: s.layers };
      }
      doc.referrers = referrers;
      out(ctx, `${JSON.stringify(doc)}\n`);
      return 0;
    }
    if (sections.length === 0 && referrers.length === 0) {
      // cosign 3.1's wording and line breaks, byte for byte (no final newline)
      out(ctx, `No Supply Chain Security Related Artifacts found for image ${shown},\n start creating one with simply running$ cosign sign <img>`);
      return 0;
    }
    for (const s of sections) out(ctx, `└── ${TITLES[s.kind]}: ${s.tag}\n${layerLines(s.layers)}`);
    for (const r of referrers) out(ctx, `└── 🔗 ${r.artifactType} artifacts via OCI referrer: ${r.reference}\n${layerLines(r.layers)}`);
    return 0;
  },
};
