/**
 * Every key-based legacy `.sig` vector of fixtures/vectors.json that describes an image signature, put
 * into the in-process registry (`src/testing`) and verified by the installed `cosign-ts` bin (package.json
 * `bin`, the esbuild bundle) and by the library's `verifyImage`: same verdict, same exit status, same
 * stdout. The other covered vectors (standalone Rekor SETs, key configuration, a format-only manifest)
 * are not image signatures and are listed with the reason.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSigstoreJsonSignature, rekorKey, type ImageLayer } from '../../src/artifact/index.js';
import { digestOf, type Digest } from '../../src/digest.js';
import { isCosignError } from '../../src/errors.js';
import { parsePublicKey } from '../../src/keys/index.js';
import { anonymousKeychain, RegistryClient } from '../../src/oci/index.js';
import { formatReference, parseReference, withDigest, withTag } from '../../src/reference.js';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { keyAuthority, verifyImage } from '../../src/verify/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { fixture, sharedFixtures, vectors, type Vector } from '../helpers/fixtures.js';
import { pushSignatureLayers } from '../helpers/signed-images.js';
import { COVERED_LEGACY_VECTOR_IDS } from './covered-legacy.js';

/** Covered vectors that are not an image signature, so there is nothing to put in a registry. */
const NOT_IMAGE_SIGNATURES: Readonly<Record<string, string>> = {
  'ci-rekor-set-standalone': 'a standalone Rekor SET over a blob, no image',
  'rs-rekord-set-key': 'a standalone Rekor bundle, no image',
  'rs-rekord-set-wrong-key': 'a standalone Rekor bundle, no image',
  'ci-rsa-rekor-key-config': 'a key-configuration vector (an RSA key refused as Rekor key)',
  'harbor-oci11-sig-manifest': 'format + SET only: its payload blob is not in the vector',
};

/** How each image vector is laid out in the registry, and the exit status cosign gives it. */
interface Case {
  readonly id: string;
  /** The image manifest (absent: the image does not exist). */
  readonly manifest?: string;
  /** Verify by tag (the bin resolves it), or by the digest the payload claims. */
  readonly by: 'tag' | 'claimed-digest';
  readonly exit: 0 | 11 | 12;
}

const CASES: readonly Case[] = [
  { id: 'ci-key-valid', by: 'tag', exit: 0 },
  { id: 'ci-key-valid-wrong-key', by: 'tag', exit: 12 },
  { id: 'ci-key-valid-2', by: 'tag', exit: 0 },
  { id: 'ci-key-mixed', by: 'tag', exit: 0 },
  // Only a signature file: the image is ci-key-valid's (as in legacy-sig.test.ts).
  { id: 'ci-unknown-key', manifest: 'containers-image/dir-img-cosign-valid/manifest.json', by: 'tag', exit: 12 },
  { id: 'ci-modified-manifest', by: 'tag', exit: 12 },
  { id: 'ci-manifest-digest-error', by: 'tag', exit: 12 },
  // No manifest: the tag does not exist (cosign exit 11, image tag not found).
  { id: 'ci-no-manifest', by: 'tag', exit: 11 },
  { id: 'ci-other-attachment', by: 'tag', exit: 12 },
  { id: 'ci-key-valid-with-tag', by: 'tag', exit: 0 },
  { id: 'ci-key-rekor-valid', by: 'tag', exit: 0 },
  { id: 'ci-key-rekor-wrong-rekor-key', manifest: 'containers-image/dir-img-cosign-key-rekor-valid/manifest.json', by: 'tag', exit: 12 },
  // payload + signature only: verified by the digest the payload names (cosign does not look it up).
  { id: 'rs-key-busybox', by: 'claimed-digest', exit: 0 },
  { id: 'rs-key-busybox-wrong-key', by: 'claimed-digest', exit: 12 },
];

const byId = new Map(vectors().map((v) => [v.id, v]));
const abs = (rel: string): string => path.join(sharedFixtures, rel);

/** The signature layers of a vector, exactly as its files give them. */
function layersOf(v: Vector): ImageLayer[] {
  if (v.kind === 'legacy-sig/payload+sig') {
    const payload = fixture(v.files.find((f) => f.endsWith('payload.json')) as string);
    const sigB64 = readFileSync(abs(v.files.find((f) => f.endsWith('.b64')) as string), 'utf8').trim();
    return [
      {
        descriptor: {
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          size: payload.byteLength,
          digest: digestOf(payload),
          annotations: { 'dev.cosignproject.cosign/signature': sigB64 },
        },
        payload,
      },
    ];
  }
  return v.files
    .filter((f) => !f.endsWith('/manifest.json'))
    .map((f) => {
      const s = parseSigstoreJsonSignature(fixture(f));
      return {
        descriptor: { mediaType: s.mediaType, size: s.payload.byteLength, digest: digestOf(s.payload), annotations: s.annotations },
        payload: s.payload,
      };
    });
}

/** The digest the (first readable) payload claims. */
function claimedDigest(layers: readonly ImageLayer[]): Digest {
  for (const l of layers) {
    const m = /"docker-manifest-digest":"(sha256:[0-9a-f]{64})"/.exec(Buffer.from(l.payload).toString('utf8'));
    if (m !== null) return m[1] as Digest;
  }
  throw new Error('no payload names a digest');
}

function manifestMediaType(bytes: Buffer): string {
  const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; schemaVersion?: number };
  return (
    doc.mediaType ?? (doc.schemaVersion === 1 ? 'application/vnd.docker.distribution.manifest.v1+prettyjws' : 'application/vnd.oci.image.manifest.v1+json')
  );
}

let reg: TestRegistry;
let client: RegistryClient;

beforeAll(async () => {
  ensureBuilt();
  reg = await startTestRegistry();
  client = new RegistryClient({ keychain: anonymousKeychain });
}, 120_000);
afterAll(async () => {
  client?.close();
  await reg?.close();
});

describe('fixture vectors through the installed bin and the library', () => {
  it('every covered legacy vector is run here or is not an image signature', () => {
    const run = new Set(CASES.map((c) => c.id));
    for (const id of COVERED_LEGACY_VECTOR_IDS) expect(run.has(id) || id in NOT_IMAGE_SIGNATURES, id).toBe(true);
    for (const id of [...run, ...Object.keys(NOT_IMAGE_SIGNATURES)]) expect(COVERED_LEGACY_VECTOR_IDS).toContain(id);
  });

  it.each(CASES)('$id: bin exit $exit, same verdict and stdout as the library', async (c) => {
    const v = byId.get(c.id) as Vector;
    expect(v).toBeDefined();
    const repo = parseReference(`${reg.host}/vectors/${c.id}`, { defaultTag: null });
    const layers = layersOf(v);
    const manifestFile = c.manifest ?? v.files.find((f) => f.endsWith('/manifest.json'));
    let sigDigest: Digest;
    if (manifestFile !== undefined) {
      const bytes = fixture(manifestFile);
      await client.putManifest(withTag(repo, 'v1'), bytes, manifestMediaType(bytes));
      sigDigest = digestOf(bytes);
    } else sigDigest = claimedDigest(layers);
    await pushSignatureLayers(client, repo, sigDigest, layers);
    const image = c.by === 'tag' ? withTag(repo, 'v1') : withDigest(repo, claimedDigest(layers));

    const keyFile = v.trust.key as string;
    const rekorFile = v.trust.rekor as string | undefined;
    const args = ['verify', '--key', abs(keyFile), ...(rekorFile === undefined ? ['--insecure-ignore-tlog=true'] : []), formatReference(image)];
    const bin = await cli(args, { env: rekorFile === undefined ? {} : { SIGSTORE_REKOR_PUBLIC_KEY: abs(rekorFile) } });
    expect(bin.stderr).not.toMatch(/\n\s+at |Unhandled/);
    expect(bin.code, bin.stderr).toBe(c.exit);

    const lib = await verifyImage(image, {
      client,
      authorities: [keyAuthority(parsePublicKey(fixture(keyFile), keyFile), keyFile)],
      ...(rekorFile === undefined ? {} : { tlog: { rekorKeys: [rekorKey(fixture(rekorFile).toString('utf8'))], required: true } }),
    }).then(
      (r) => ({ ok: true as const, output: Buffer.from(r.output).toString('utf8') }),
      (e: unknown) => ({ ok: false as const, code: isCosignError(e) ? e.code : String(e) }),
    );
    if (c.exit === 0) {
      expect(lib.ok).toBe(true);
      expect(bin.stdout).toBe(lib.ok ? lib.output : '');
      expect(bin.stderr).toContain(`Verification for ${formatReference(image)} --`);
    } else {
      expect(lib).toEqual({ ok: false, code: c.exit === 11 ? 'NOT_FOUND' : 'NO_MATCHING_SIGNATURES' });
      expect(bin.stdout).toBe('');
    }
  });
});
