/**
 * OCI image layouts on disk (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), the format of
 * `cosign save` / `cosign load` / `cosign verify --local-image`.
 *
 * {@link OciLayout} reads and writes a layout and is a {@link RegistryReader}, so verification reads a
 * layout through the same code as a registry. {@link saveImage} writes an image (every child of an
 * index too) with its `.sig` and `.att` images and its OCI 1.1 referrers (cosign 3's Sigstore bundles)
 * the way cosign writes them: `index.json` lists the image (`kind: dev.cosignproject.cosign/image` or
 * `…/imageIndex`), the signatures (`…/sigs`) and the attestations (`…/atts`); referrer manifests are
 * blobs only, found through their `subject` (as cosign 3.1 does). {@link loadImage} pushes it back.
 *
 * A layout is untrusted input: every blob is read through `O_NOFOLLOW` (a symbolic link is refused),
 * must be a regular file within a size limit and must hash to its digest; digests are checked before
 * they become paths (no traversal); writes go to a temporary file renamed into place.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Digest } from '../digest.js';
import { fail, isCosignError } from '../errors.js';
import { parseJson } from '../json/strict.js';
import { mapLimit } from '../concurrency.js';
import { signatureTag } from '../artifact/tags.js';
import { formatReference, repositoryOption, withDigest, withTag, type ImageReference } from '../reference.js';
import type { CallOptions, ManifestResponse, RegistryClient, RegistryReader } from './client.js';
import {
  isIndexMediaType,
  manifestMediaType,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  parseImageIndex,
  parseImageIndexIfAny,
  parseManifest,
  type Descriptor,
} from './manifest.js';

/** The `.att` tag of a digest. */
const attestationTag = (digest: string): string => signatureTag(digest, 'att');

/** The annotation key cosign marks the entries of a saved layout's `index.json` with. */
export const LAYOUT_KIND_ANNOTATION = 'kind';

/** The values of {@link LAYOUT_KIND_ANNOTATION} cosign writes (and reads). */
export const LAYOUT_KINDS = {
  /** The saved image (a single-platform manifest). */
  image: 'dev.cosignproject.cosign/image',
  /** The saved image index. */
  imageIndex: 'dev.cosignproject.cosign/imageIndex',
  /** Its `.sig` image (legacy signatures). */
  sigs: 'dev.cosignproject.cosign/sigs',
  /** Its `.att` image (legacy attestations). */
  atts: 'dev.cosignproject.cosign/atts',
} as const;

/** The `imageLayoutVersion` written and accepted. */
export const OCI_LAYOUT_VERSION = '1.0.0';

/** Default largest blob read from or saved to a layout: 2 GiB (blobs are held in memory). */
export const DEFAULT_LAYOUT_MAX_BLOB_BYTES = 2 * 1024 * 1024 * 1024;
const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_INDEX_JSON_BYTES = 4 * 1024 * 1024;
const MAX_OCI_LAYOUT_BYTES = 64 * 1024;
/** Blobs larger than this are not looked at as possible referrer manifests. */
const MAX_REFERRER_SCAN_BYTES = 256 * 1024;
/** Most blob files looked at when scanning for referrers. */
const MAX_SCANNED_BLOBS = 100_000;
/** Most manifests of an index tree saved or loaded. */
const MAX_CHILDREN = 1000;
const MAX_DEPTH = 4;

const DIGEST_RE = /^(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$/;

/** Options of {@link OciLayout.open} and {@link OciLayout.create}. */
export interface OciLayoutOptions {
  /** Largest blob read ({@link OciLayout.getBlob} default). Default {@link DEFAULT_LAYOUT_MAX_BLOB_BYTES}. */
  readonly maxBlobBytes?: number;
  /** Largest manifest read. Default 4 MiB. */
  readonly maxManifestBytes?: number;
}

/** An `index.json` entry. */
export type LayoutEntry = Descriptor;

/** Go's `json.MarshalIndent` of plain data: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
function goIndent(value: unknown, indent: string): string {
  return JSON.stringify(value, null, indent).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** go-containerregistry's descriptor field order: mediaType, size, digest, annotations, artifactType. */
function descriptorJson(d: Descriptor): Record<string, unknown> {
  return {
    mediaType: d.mediaType,
    size: d.size,
    digest: d.digest,
    ...(d.annotations === undefined ? {} : { annotations: d.annotations }),
    ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
  };
}

function checkDigest(digest: string, where: string): Digest {
  if (!DIGEST_RE.test(digest)) throw fail('BAD_DIGEST', `${where}: ${JSON.stringify(digest.slice(0, 140))} is not a sha256/sha384/sha512 digest`);
  return digest as Digest;
}

function hashOf(bytes: Uint8Array, algorithm: string): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` as Digest;
}

function ioError(e: unknown, what: string): never {
  if (isCosignError(e)) throw e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') throw fail('NOT_FOUND', `${what}: no such file`, { cause: e });
  if (code === 'ELOOP') throw fail('BAD_INPUT', `${what}: is a symbolic link (refused)`, { cause: e });
  throw fail('IO_ERROR', `${what}: ${code ?? 'error'}`, { cause: e });
}

/**
 * Read a regular file (never through a symbolic link, never a FIFO or device), at most `maxBytes`.
 * @throws CosignError `NOT_FOUND`, `BAD_INPUT` (symbolic link, not a regular file), `TOO_LARGE`, `IO_ERROR`.
 */
async function readRegular(file: string, maxBytes: number, what: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    return ioError(e, what);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw fail('BAD_INPUT', `${what}: not a regular file`);
    if (st.size > maxBytes) throw fail('TOO_LARGE', `${what} is larger than ${maxBytes} bytes (${st.size})`, { details: { size: st.size, limit: maxBytes } });
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, total, buf.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes || total > st.size) throw fail('TOO_LARGE', `${what} grew while it was read (more than ${Math.min(st.size, maxBytes)} bytes)`);
    }
    return buf.subarray(0, total);
  } catch (e) {
    return ioError(e, what);
  } finally {
    await fh.close();
  }
}

/** Write `bytes` to `file` atomically: a temporary file in the same folder, renamed over it. */
async function writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    ioError(e, `writing ${file}`);
  }
}

/** `dir` must be a real folder (not a symbolic link); created when `create`. */
async function ensureDir(dir: string, create: boolean, what: string): Promise<void> {
  if (create) await mkdir(dir, { recursive: true }).catch((e: unknown) => ioError(e, what));
  let st;
  try {
    st = await lstat(dir);
  } catch (e) {
    return ioError(e, what);
  }
  if (st.isSymbolicLink()) throw fail('BAD_INPUT', `${what}: is a symbolic link (refused)`);
  if (!st.isDirectory()) throw fail('BAD_INPUT', `${what}: not a directory`);
}

/**
 * An OCI image layout on disk. Open one with {@link OciLayout.open} (it must exist) or start one with
 * {@link OciLayout.create}. As a {@link RegistryReader} it ignores the registry and repository of the
 * references it is given: manifests are found by digest, by the cosign tags `sha256-<hex>.sig` and
 * `.att` of the saved image (the `kind` entries of `index.json`), or by an
 * `org.opencontainers.image.ref.name` annotation; referrers by the `subject` of the manifests stored.
 */
export class OciLayout implements RegistryReader {
  readonly #dir: string;
  readonly #maxBlob: number;
  readonly #maxManifest: number;
  #entries: LayoutEntry[];
  #referrers: Promise<Map<string, Descriptor[]>> | undefined;

  private constructor(dir: string, entries: LayoutEntry[], options: OciLayoutOptions) {
    this.#dir = dir;
    this.#entries = entries;
    this.#maxBlob = options.maxBlobBytes ?? DEFAULT_LAYOUT_MAX_BLOB_BYTES;
    this.#maxManifest = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  }

  /**
   * Open an existing layout: `oci-layout` (version {@link OCI_LAYOUT_VERSION}) and `index.json` are read
   * and checked.
   * @throws CosignError `NOT_FOUND` (no layout there), `BAD_INPUT` (symbolic links, wrong version),
   *   `BAD_MANIFEST` (`index.json` malformed), `TOO_LARGE`.
   */
  static async open(dir: string, options: OciLayoutOptions = {}): Promise<OciLayout> {
    await ensureDir(dir, false, `OCI layout ${dir}`);
    const marker = await readRegular(path.join(dir, 'oci-layout'), MAX_OCI_LAYOUT_BYTES, `OCI layout ${dir}: oci-layout`);
    const version = (parseJson(marker, `${dir}/oci-layout`, 'BAD_INPUT') as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
    if (version !== OCI_LAYOUT_VERSION)
      throw fail('BAD_INPUT', `OCI layout ${dir}: oci-layout: imageLayoutVersion ${JSON.stringify(version ?? null)} is not ${OCI_LAYOUT_VERSION}`);
    const indexBytes = await readRegular(path.join(dir, 'index.json'), MAX_INDEX_JSON_BYTES, `OCI layout ${dir}: index.json`);
    const index = parseImageIndex(indexBytes, OCI_INDEX_MEDIA_TYPE, `OCI layout ${dir}: index.json`);
    for (const d of index.manifests) checkDigest(d.digest, `OCI layout ${dir}: index.json`);
    return new OciLayout(dir, [...index.manifests], options);
  }

  /**
   * Start a layout in `dir` (created if needed): `oci-layout` and an empty `index.json` are written,
   * replacing any `index.json` there (blobs already there are kept and reused), as cosign's `save`.
   */
  static async create(dir: string, options: OciLayoutOptions = {}): Promise<OciLayout> {
    await ensureDir(dir, true, `OCI layout ${dir}`);
    const layout = new OciLayout(dir, [], options);
    await writeAtomic(path.join(dir, 'oci-layout'), Buffer.from(goIndent({ imageLayoutVersion: OCI_LAYOUT_VERSION }, '    ')));
    await layout.#writeIndex();
    return layout;
  }

  /** The layout's folder. */
  get dir(): string {
    return this.#dir;
  }

  /** The entries of `index.json`, in order. */
  get entries(): readonly LayoutEntry[] {
    return this.#entries;
  }

  /** The first `index.json` entry whose `kind` annotation is `kind` (one of {@link LAYOUT_KINDS}). */
  entry(kind: string): LayoutEntry | undefined {
    return this.#entries.find((d) => d.annotations?.[LAYOUT_KIND_ANNOTATION] === kind);
  }

  /**
   * The saved image: the entry of kind `image` or `imageIndex` (cosign's), else the only entry of a
   * layout with one (a layout written by another tool).
   * @throws CosignError `NOT_FOUND` when there is none.
   */
  subject(): LayoutEntry {
    const found = this.entry(LAYOUT_KINDS.imageIndex) ?? this.entry(LAYOUT_KINDS.image) ?? (this.#entries.length === 1 ? this.#entries[0] : undefined);
    if (found === undefined)
      throw fail(
        'NOT_FOUND',
        `OCI layout ${this.#dir}: no saved image (no index.json entry with annotation kind=${LAYOUT_KINDS.image} or ${LAYOUT_KINDS.imageIndex})`,
      );
    return found;
  }

  /**
   * Append entries to `index.json` (written once, atomically), each replacing an entry of the same digest
   * and kind.
   */
  async addEntries(...entries: LayoutEntry[]): Promise<void> {
    for (const entry of entries) {
      const kind = entry.annotations?.[LAYOUT_KIND_ANNOTATION];
      this.#entries = [...this.#entries.filter((d) => !(d.digest === entry.digest && d.annotations?.[LAYOUT_KIND_ANNOTATION] === kind)), entry];
    }
    await this.#writeIndex();
  }

  /** Append one entry to `index.json` ({@link OciLayout.addEntries}). */
  async addEntry(entry: LayoutEntry): Promise<void> {
    await this.addEntries(entry);
  }

  async #writeIndex(): Promise<void> {
    const doc = { schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests: this.#entries.map(descriptorJson) };
    await writeAtomic(path.join(this.#dir, 'index.json'), Buffer.from(goIndent(doc, '   ')));
  }

  #blobPath(digest: Digest): string {
    const [alg, hex] = checkDigest(digest, `OCI layout ${this.#dir}`).split(':') as [string, string];
    return path.join(this.#dir, 'blobs', alg, hex);
  }

  /**
   * Read a blob; its bytes must hash to `digest`.
   * @throws CosignError `BAD_DIGEST` (not a digest: never a path), `NOT_FOUND`, `DIGEST_MISMATCH`,
   *   `TOO_LARGE`, `BAD_INPUT` (a symbolic link or not a regular file), `IO_ERROR`.
   */
  async readBlob(digest: Digest, maxBytes = this.#maxBlob): Promise<Uint8Array> {
    const file = this.#blobPath(digest);
    const alg = digest.slice(0, digest.indexOf(':'));
    await ensureDir(path.join(this.#dir, 'blobs'), false, `OCI layout ${this.#dir}: blobs`);
    await ensureDir(path.dirname(file), false, `OCI layout ${this.#dir}: blobs/${alg}`);
    const bytes = await readRegular(file, maxBytes, `OCI layout ${this.#dir}: blob ${digest}`);
    const actual = hashOf(bytes, alg);
    if (actual !== digest)
      throw fail('DIGEST_MISMATCH', `OCI layout ${this.#dir}: blob ${digest} has content with digest ${actual}`, { details: { expected: digest, actual } });
    return bytes;
  }

  /** Whether the blob is there (a regular file of that name; its content is checked when read). */
  async hasBlob(digest: Digest): Promise<boolean> {
    try {
      const st = await lstat(this.#blobPath(digest));
      return st.isFile();
    } catch {
      return false;
    }
  }

  /**
   * Whether the blob is there with the right content: a regular file (not a symbolic link) of at most
   * the layout's blob limit whose bytes, streamed through the hash, match `digest`.
   */
  async hasValidBlob(digest: Digest): Promise<boolean> {
    let fh;
    try {
      fh = await open(this.#blobPath(digest), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return false;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.size > this.#maxBlob) return false;
      const alg = digest.slice(0, digest.indexOf(':'));
      const hash = createHash(alg);
      const buf = Buffer.alloc(1024 * 1024);
      let total = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        total += bytesRead;
        if (total > this.#maxBlob) return false;
        hash.update(buf.subarray(0, bytesRead));
      }
      return `${alg}:${hash.digest('hex')}` === digest;
    } catch {
      return false;
    } finally {
      await fh.close();
    }
  }

  /**
   * Store a blob (atomically: a temporary file renamed over any file of that name, so a damaged copy is
   * replaced). With `expected`, the bytes must hash to it. Returns the digest.
   * @throws CosignError `DIGEST_MISMATCH`, `IO_ERROR`.
   */
  async writeBlob(bytes: Uint8Array, expected?: Digest): Promise<Digest> {
    const alg = expected === undefined ? 'sha256' : checkDigest(expected, `OCI layout ${this.#dir}`).slice(0, expected.indexOf(':'));
    const digest = hashOf(bytes, alg);
    if (expected !== undefined && digest !== expected)
      throw fail('DIGEST_MISMATCH', `OCI layout ${this.#dir}: blob to write has digest ${digest}, expected ${expected}`);
    const dir = path.join(this.#dir, 'blobs', alg);
    await ensureDir(path.join(this.#dir, 'blobs'), true, `OCI layout ${this.#dir}: blobs`);
    await ensureDir(dir, true, `OCI layout ${this.#dir}: blobs/${alg}`);
    await writeAtomic(this.#blobPath(digest), bytes);
    this.#referrers = undefined;
    return digest;
  }

  // --- RegistryReader --------------------------------------------------------------------------

  /**
   * A manifest: by digest (any manifest blob), by the tag `sha256-<hex>.sig` / `.att` of the saved image
   * (its `kind` `sigs` / `atts` entry), or by a tag named in an entry's `org.opencontainers.image.ref.name`.
   * @throws CosignError `NOT_FOUND`, `DIGEST_MISMATCH`, `TOO_LARGE`, `BAD_MANIFEST`, …
   */
  async getManifest(ref: ImageReference, options: CallOptions = {}): Promise<ManifestResponse> {
    options.signal?.throwIfAborted();
    let entry: Descriptor | undefined;
    let digest = ref.digest;
    if (digest === undefined) {
      entry = this.#entryForTag(ref.tag ?? 'latest');
      if (entry === undefined) throw fail('NOT_FOUND', `manifest ${formatReference(ref)}: tag ${ref.tag ?? 'latest'} not found in OCI layout ${this.#dir}`);
      digest = entry.digest;
    } else {
      entry = this.#entries.find((d) => d.digest === digest);
    }
    const bytes = await this.readBlob(digest, options.maxBytes ?? this.#maxManifest);
    if (entry !== undefined && entry.size !== bytes.byteLength)
      throw fail('BAD_MANIFEST', `OCI layout ${this.#dir}: manifest ${digest} has ${bytes.byteLength} bytes, index.json says ${entry.size}`);
    const mediaType = manifestMediaType(bytes, entry?.mediaType ?? '', `manifest ${digest} in OCI layout ${this.#dir}`);
    return { bytes, digest, mediaType, size: bytes.byteLength };
  }

  #entryForTag(tag: string): Descriptor | undefined {
    const named = this.#entries.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
    if (named !== undefined) return named;
    let subject: Descriptor;
    try {
      subject = this.subject();
    } catch {
      return undefined;
    }
    if (tag === signatureTag(subject.digest)) return this.entry(LAYOUT_KINDS.sigs);
    if (tag === attestationTag(subject.digest)) return this.entry(LAYOUT_KINDS.atts);
    return undefined;
  }

  /** A blob by digest (the repository is ignored). */
  async getBlob(_repo: ImageReference, digest: Digest, options: CallOptions = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted();
    return this.readBlob(digest, options.maxBytes ?? this.#maxBlob);
  }

  /**
   * The manifests stored in the layout whose `subject` is `digest` (listed in `index.json` or not: cosign
   * 3.1 stores referrers as blobs only), sorted by digest. `artifactType` is the manifest's, else its
   * config's media type, as a registry's referrers API reports it.
   */
  async referrers(_repo: ImageReference, digest: Digest, options: CallOptions & { artifactType?: string } = {}): Promise<Descriptor[]> {
    options.signal?.throwIfAborted();
    this.#referrers ??= this.#scanReferrers();
    const list = (await this.#referrers).get(digest) ?? [];
    return list.filter((d) => options.artifactType === undefined || d.artifactType === options.artifactType);
  }

  async #scanReferrers(): Promise<Map<string, Descriptor[]>> {
    const found = new Map<string, Descriptor[]>();
    const algs = ['sha256', 'sha384', 'sha512'];
    let scanned = 0;
    for (const alg of algs) {
      const dir = path.join(this.#dir, 'blobs', alg);
      let names: string[];
      try {
        await ensureDir(dir, false, `OCI layout ${this.#dir}: blobs/${alg}`);
        names = await readdir(dir);
      } catch (e) {
        if (isCosignError(e, 'NOT_FOUND')) continue;
        throw e;
      }
      for (const name of names) {
        if (++scanned > MAX_SCANNED_BLOBS) throw fail('TOO_LARGE', `OCI layout ${this.#dir}: more than ${MAX_SCANNED_BLOBS} blobs`);
        const digest = `${alg}:${name}`;
        if (!DIGEST_RE.test(digest)) continue;
        const st = await lstat(path.join(dir, name)).catch(() => undefined);
        if (st === undefined || !st.isFile() || st.size > MAX_REFERRER_SCAN_BYTES || st.size < 2) continue;
        let bytes: Uint8Array;
        try {
          bytes = await this.readBlob(digest as Digest, MAX_REFERRER_SCAN_BYTES);
        } catch (e) {
          if (isCosignError(e)) continue; // a bad blob is reported when it is used, not here
          throw e;
        }
        if (bytes[0] !== 0x7b) continue; // not a JSON object
        let manifest;
        try {
          manifest = parseManifest(bytes, OCI_MANIFEST_MEDIA_TYPE, `blob ${digest}`);
        } catch {
          continue;
        }
        if (manifest.subject === undefined) continue;
        const artifactType = manifest.artifactType ?? manifest.config.mediaType;
        const d: Descriptor = {
          mediaType: manifest.mediaType,
          digest: digest as Digest,
          size: bytes.byteLength,
          ...(artifactType === '' ? {} : { artifactType }),
          ...(manifest.annotations === undefined ? {} : { annotations: manifest.annotations }),
        };
        const at = found.get(manifest.subject.digest);
        if (at === undefined) found.set(manifest.subject.digest, [d]);
        else at.push(d);
      }
    }
    for (const list of found.values()) list.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
    return found;
  }
}

// --- save and load -----------------------------------------------------------------------------

/** Options of {@link saveImage}. */
export interface SaveImageOptions {
  /** Where the signatures are stored, like `COSIGN_REPOSITORY`. Default: the image's repository. */
  readonly signatureRepository?: string | ImageReference;
  /** Largest blob saved (blobs are held in memory one at a time per concurrent fetch). Default 2 GiB. */
  readonly maxBlobBytes?: number;
  /** Blobs fetched at once. Default 4. */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

/** What {@link saveImage} and {@link loadImage} wrote. */
export interface SaveLoadResult {
  /** The image's (or index's) digest. */
  readonly digest: Digest;
  /** Whether a `.sig` image was saved / loaded. */
  readonly signatures: boolean;
  /** Whether a `.att` image was saved / loaded. */
  readonly attestations: boolean;
  /** Referrer manifests (cosign 3 bundles, SBOMs, …) saved / loaded. */
  readonly referrers: number;
}

const FOREIGN_LAYER = /\.foreign\.|nondistributable/;

/** Copy a manifest (and, recursively, its children and blobs) from `client` into `layout`. */
async function saveTree(
  client: RegistryClient,
  layout: OciLayout,
  repo: ImageReference,
  manifest: ManifestResponse,
  options: SaveImageOptions,
  depth: number,
  budget: { manifests: number },
): Promise<void> {
  if (--budget.manifests < 0) throw fail('TOO_LARGE', `${formatReference(repo)}: more than ${MAX_CHILDREN} manifests to save`);
  const sig = options.signal === undefined ? {} : { signal: options.signal };
  const what = `manifest ${manifest.digest} of ${formatReference(repo)}`;
  const index = parseImageIndexIfAny(manifest.bytes, manifest.mediaType, what);
  if (index !== undefined) {
    if (depth >= MAX_DEPTH) throw fail('TOO_LARGE', `${what}: indexes nested more than ${MAX_DEPTH} deep`);
    for (const child of index.manifests) {
      const m = await client.getManifest(withDigest(repo, child.digest), { ...sig, accept: child.mediaType });
      await saveTree(client, layout, repo, m, options, depth + 1, budget);
    }
  } else {
    const m = parseManifest(manifest.bytes, manifest.mediaType, what);
    const blobs = [m.config, ...m.layers].filter((d) => !FOREIGN_LAYER.test(d.mediaType));
    await mapLimit(blobs, options.concurrency ?? 4, async (d) => {
      if (await layout.hasValidBlob(d.digest)) return; // kept from an earlier save, and intact
      const bytes = await client.getBlob(repo, d.digest, { ...sig, maxBytes: options.maxBlobBytes ?? DEFAULT_LAYOUT_MAX_BLOB_BYTES });
      await layout.writeBlob(bytes, d.digest);
    });
  }
  await layout.writeBlob(manifest.bytes, manifest.digest);
}

async function getIfAny(client: RegistryClient, ref: ImageReference, signal: AbortSignal | undefined): Promise<ManifestResponse | undefined> {
  try {
    return await client.getManifest(ref, signal === undefined ? {} : { signal });
  } catch (e) {
    if (isCosignError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}

/**
 * Save an image (every child of an index too), its `.sig` and `.att` images and its referrers (cosign 3's
 * Sigstore bundles, …) from a registry into an OCI image layout in `dir`, as `cosign save --dir` does:
 * `index.json` lists the image (`kind` `dev.cosignproject.cosign/image`, or `…/imageIndex`), then the
 * signatures (`…/sigs`) and attestations (`…/atts`) when there are any; referrer manifests and their
 * blobs are stored as blobs. The layout verifies with `verify --local-image` (cosign-ts, cosign 2 and 3).
 * @throws CosignError `NOT_FOUND` (no such image), `REGISTRY_*`, `DIGEST_MISMATCH`, `TOO_LARGE`, `IO_ERROR`.
 */
export async function saveImage(client: RegistryClient, reference: ImageReference, dir: string, options: SaveImageOptions = {}): Promise<SaveLoadResult> {
  const signal = options.signal;
  const sig = signal === undefined ? {} : { signal };
  const image = await client.getManifest(reference, sig);
  const repo = withDigest(reference, image.digest);
  const sigRepo = repositoryOption(options.signatureRepository) ?? reference;
  const layout = await OciLayout.create(dir, options.maxBlobBytes === undefined ? {} : { maxBlobBytes: options.maxBlobBytes });
  const budget = { manifests: MAX_CHILDREN };
  await saveTree(client, layout, repo, image, options, 0, budget);
  const kind = isIndexMediaType(image.mediaType) ? LAYOUT_KINDS.imageIndex : LAYOUT_KINDS.image;
  const entry = (m: ManifestResponse, k: string): Descriptor => ({
    mediaType: m.mediaType,
    size: m.size,
    digest: m.digest,
    annotations: { [LAYOUT_KIND_ANNOTATION]: k },
  });
  // Referrers first (cosign 3 does the same): blobs only, not listed in index.json.
  const referrers = await client.referrers(sigRepo, image.digest, sig);
  for (const d of referrers) {
    const m = await client.getManifest(withDigest(sigRepo, d.digest), { ...sig, accept: d.mediaType });
    await saveTree(client, layout, sigRepo, m, options, MAX_DEPTH - 1, budget);
  }
  const sigs = await getIfAny(client, withTag(sigRepo, signatureTag(image.digest)), signal);
  if (sigs !== undefined) await saveTree(client, layout, sigRepo, sigs, options, MAX_DEPTH, budget);
  const atts = await getIfAny(client, withTag(sigRepo, attestationTag(image.digest)), signal);
  if (atts !== undefined) await saveTree(client, layout, sigRepo, atts, options, MAX_DEPTH, budget);
  await layout.addEntries(
    entry(image, kind),
    ...(sigs === undefined ? [] : [entry(sigs, LAYOUT_KINDS.sigs)]),
    ...(atts === undefined ? [] : [entry(atts, LAYOUT_KINDS.atts)]),
  );
  return { digest: image.digest, signatures: sigs !== undefined, attestations: atts !== undefined, referrers: referrers.length };
}

/** Options of {@link loadImage}. */
export interface LoadImageOptions {
  /** Where to push the signatures, like `COSIGN_REPOSITORY`. Default: the image's repository. */
  readonly signatureRepository?: string | ImageReference;
  /** Largest blob read from the layout. Default 2 GiB. */
  readonly maxBlobBytes?: number;
  readonly signal?: AbortSignal;
}

/** Push a manifest of the layout (children and blobs first), by digest or at `at`. */
async function loadTree(
  client: RegistryClient,
  layout: OciLayout,
  repo: ImageReference,
  digest: Digest,
  at: ImageReference | undefined,
  options: LoadImageOptions,
  depth: number,
  budget: { manifests: number },
): Promise<ManifestResponse> {
  if (--budget.manifests < 0) throw fail('TOO_LARGE', `OCI layout ${layout.dir}: more than ${MAX_CHILDREN} manifests to load`);
  const sig = options.signal === undefined ? {} : { signal: options.signal };
  const m = await layout.getManifest(withDigest(repo, digest), sig);
  const what = `manifest ${digest} in OCI layout ${layout.dir}`;
  const index = parseImageIndexIfAny(m.bytes, m.mediaType, what);
  if (index !== undefined) {
    if (depth >= MAX_DEPTH) throw fail('TOO_LARGE', `${what}: indexes nested more than ${MAX_DEPTH} deep`);
    for (const child of index.manifests) await loadTree(client, layout, repo, child.digest, undefined, options, depth + 1, budget);
  } else {
    const parsed = parseManifest(m.bytes, m.mediaType, what);
    for (const d of [parsed.config, ...parsed.layers]) {
      if (FOREIGN_LAYER.test(d.mediaType)) continue;
      if (await client.headBlob(repo, d.digest, sig)) continue;
      const bytes = await layout.readBlob(d.digest, options.maxBlobBytes ?? DEFAULT_LAYOUT_MAX_BLOB_BYTES);
      await client.uploadBlob(repo, d.digest, bytes, sig);
    }
  }
  await client.putManifest(at ?? withDigest(repo, digest), m.bytes, m.mediaType, sig);
  return m;
}

/**
 * Push what {@link saveImage} (or `cosign save`) wrote in `dir` to `reference` (a tag, or a digest that
 * must be the saved image's): the image with its blobs (every child of an index too), its `.sig` and
 * `.att` images at their tags, and its referrers (through the referrers API, or the fallback tag index),
 * as `cosign load --dir` does.
 * @throws CosignError `NOT_FOUND` (no layout or no saved image), `DIGEST_MISMATCH`, `BAD_INPUT`,
 *   `BAD_MANIFEST`, `TOO_LARGE`, `REGISTRY_*`, `USAGE` (a digest reference that is not the saved image's).
 */
export async function loadImage(client: RegistryClient, dir: string, reference: ImageReference, options: LoadImageOptions = {}): Promise<SaveLoadResult> {
  const layout = await OciLayout.open(dir, options.maxBlobBytes === undefined ? {} : { maxBlobBytes: options.maxBlobBytes });
  const subject = layout.subject();
  if (reference.digest !== undefined && reference.digest !== subject.digest)
    throw fail('USAGE', `${formatReference(reference)}: the layout ${dir} holds ${subject.digest}, not this digest`);
  const sig = options.signal === undefined ? {} : { signal: options.signal };
  const budget = { manifests: MAX_CHILDREN };
  await loadTree(client, layout, reference, subject.digest, reference.digest === undefined ? reference : undefined, options, 0, budget);
  const sigRepo = repositoryOption(options.signatureRepository) ?? reference;
  const sigs = layout.entry(LAYOUT_KINDS.sigs);
  if (sigs !== undefined) await loadTree(client, layout, sigRepo, sigs.digest, withTag(sigRepo, signatureTag(subject.digest)), options, MAX_DEPTH, budget);
  const atts = layout.entry(LAYOUT_KINDS.atts);
  if (atts !== undefined) await loadTree(client, layout, sigRepo, atts.digest, withTag(sigRepo, attestationTag(subject.digest)), options, MAX_DEPTH, budget);
  const referrers = await layout.referrers(sigRepo, subject.digest, sig);
  for (const d of referrers) {
    const m = await layout.getManifest(withDigest(sigRepo, d.digest), sig);
    const parsed = parseManifest(m.bytes, m.mediaType, `referrer ${d.digest} in OCI layout ${dir}`);
    for (const b of [parsed.config, ...parsed.layers]) {
      if (await client.headBlob(sigRepo, b.digest, sig)) continue;
      await client.uploadBlob(sigRepo, b.digest, await layout.readBlob(b.digest, options.maxBlobBytes ?? DEFAULT_LAYOUT_MAX_BLOB_BYTES), sig);
    }
    await client.pushReferrer(sigRepo, m.bytes, m.mediaType, subject.digest, sig);
  }
  return { digest: subject.digest, signatures: sigs !== undefined, attestations: atts !== undefined, referrers: referrers.length };
}
