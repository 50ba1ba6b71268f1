/**
 * A tiny runnable container image built by hand from Debian's static busybox (`/bin/busybox`, package
 * busybox-static): one gzip layer with `/bin/busybox` and applet symlinks (`/bin/sh`, `/bin/sleep`, …),
 * an OCI config whose command is `/bin/sleep 3600`, and an OCI (or Docker schema 2) manifest.
 * It is pushed to a registry with plain HTTP requests (monolithic blob upload: POST then PUT;
 * manifest PUT), independent of the library under test.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { httpRequest } from './http.js';
import { realTools } from './proc.js';

/** sha256 digest string of some bytes. */
export function sha256Digest(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** One entry of {@link makeTar}. */
export type TarEntry =
  | { type: 'dir'; name: string; mode?: number }
  | { type: 'file'; name: string; data: Buffer; mode?: number }
  | { type: 'symlink'; name: string; target: string };

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A deterministic ustar archive (uid/gid 0, mtime 0) of the given entries, in order. */
export function makeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const name = e.type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
    if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    const mode = e.type === 'symlink' ? 0o777 : (e.mode ?? (e.type === 'dir' ? 0o755 : 0o644));
    h.write(octal(mode, 8), 100, 8, 'ascii');
    h.write(octal(0, 8), 108, 8, 'ascii'); // uid
    h.write(octal(0, 8), 116, 8, 'ascii'); // gid
    const size = e.type === 'file' ? e.data.length : 0;
    h.write(octal(size, 12), 124, 12, 'ascii');
    h.write(octal(0, 12), 136, 12, 'ascii'); // mtime
    h.fill(0x20, 148, 156); // checksum placeholder: spaces
    h.write(e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', 156, 1, 'ascii');
    if (e.type === 'symlink') h.write(e.target, 157, 100, 'utf8');
    h.write('ustar\0', 257, 6, 'ascii');
    h.write('00', 263, 2, 'ascii');
    h.write('root', 265, 32, 'ascii');
    h.write('root', 297, 32, 'ascii');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
    parts.push(h);
    if (e.type === 'file') {
      parts.push(e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad > 0) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A built image: all blobs and the manifest, with their digests. */
export interface BuiltImage {
  manifest: Buffer;
  manifestMediaType: string;
  /** Digest of {@link manifest}. */
  digest: string;
  config: Buffer;
  configDigest: string;
  /** Compressed layer blobs, in order. */
  layers: Buffer[];
  layerDigests: string[];
}

/** The busybox applets linked into the image's /bin. */
export const busyboxApplets = ['sh', 'sleep', 'echo', 'cat', 'ls', 'true', 'false', 'id', 'ps', 'kill', 'env'] as const;

function goArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    default:
      return process.arch; // arm64, ppc64, s390x, riscv64 match
  }
}

/**
 * Builds the busybox image. `labels` end up in the config (use them to make distinct images, hence
 * distinct digests, from the same busybox binary).
 */
export function buildBusyboxImage(opts: { format?: 'oci' | 'docker'; labels?: Record<string, string>; cmd?: string[] } = {}): BuiltImage {
  const busybox = readFileSync(realTools.busybox);
  const entries: TarEntry[] = [
    { type: 'dir', name: 'bin' },
    { type: 'file', name: 'bin/busybox', data: busybox, mode: 0o755 },
    ...busyboxApplets.map((a): TarEntry => ({ type: 'symlink', name: `bin/${a}`, target: 'busybox' })),
    { type: 'dir', name: 'tmp', mode: 0o1777 },
    { type: 'dir', name: 'etc' },
    { type: 'file', name: 'etc/passwd', data: Buffer.from('root:x:0:0:root:/:/bin/sh\n') },
    { type: 'file', name: 'etc/group', data: Buffer.from('root:x:0:\n') },
  ];
  const tar = makeTar(entries);
  const layer = gzipSync(tar, { level: 6 });
  const oci = (opts.format ?? 'oci') === 'oci';
  const config = Buffer.from(
    JSON.stringify({
      architecture: goArch(),
      os: 'linux',
      config: {
        Env: ['PATH=/bin'],
        Cmd: opts.cmd ?? ['/bin/sleep', '3600'],
        ...(opts.labels !== undefined ? { Labels: opts.labels } : {}),
      },
      rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
      history: [{ created_by: 'cosign-ts test helper: busybox-static' }],
    }),
  );
  const configMediaType = oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json';
  const layerMediaType = oci ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.docker.image.rootfs.diff.tar.gzip';
  const manifestMediaType = oci ? 'application/vnd.oci.image.manifest.v1+json' : 'application/vnd.docker.distribution.manifest.v2+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestMediaType,
      config: { mediaType: configMediaType, digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: layerMediaType, digest: sha256Digest(layer), size: layer.length }],
    }),
  );
  return {
    manifest,
    manifestMediaType,
    digest: sha256Digest(manifest),
    config,
    configDigest: sha256Digest(config),
    layers: [layer],
    layerDigests: [sha256Digest(layer)],
  };
}

/** How to reach a registry from {@link pushImage}. */
export interface RegistryAccess {
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  username?: string;
  password?: string;
}

function access(a: RegistryAccess): RegistryAccess {
  return {
    ...(a.caFile !== undefined ? { caFile: a.caFile } : {}),
    ...(a.clientCertFile !== undefined ? { clientCertFile: a.clientCertFile } : {}),
    ...(a.clientKeyFile !== undefined ? { clientKeyFile: a.clientKeyFile } : {}),
    ...(a.username !== undefined ? { username: a.username, password: a.password ?? '' } : {}),
  };
}

/** Uploads one blob (skipped when the registry already has it): POST, then a monolithic PUT. */
export async function pushBlob(registryUrl: string, repo: string, blob: Buffer, a: RegistryAccess = {}): Promise<string> {
  const digest = sha256Digest(blob);
  const base = registryUrl.replace(/\/+$/, '');
  const head = await httpRequest(`${base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD', ...access(a) });
  if (head.status === 200) return digest;
  const start = await httpRequest(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', ...access(a) });
  if (start.status !== 202) throw new Error(`blob upload start ${repo}: HTTP ${start.status} ${start.text()}`);
  const location = start.headers.location;
  if (location === undefined) throw new Error(`blob upload start ${repo}: no Location`);
  const put = new URL(location, `${base}/`);
  put.searchParams.set('digest', digest);
  const done = await httpRequest(put, {
    method: 'PUT',
    body: blob,
    headers: { 'content-type': 'application/octet-stream' },
    ...access(a),
    timeoutMs: 120_000,
  });
  if (done.status !== 201) throw new Error(`blob upload ${repo}@${digest}: HTTP ${done.status} ${done.text()}`);
  return digest;
}

/** Puts a manifest under a tag (or digest) reference; returns the digest the registry reports. */
export async function pushManifest(
  registryUrl: string,
  repo: string,
  reference: string,
  manifest: Buffer,
  mediaType: string,
  a: RegistryAccess = {},
): Promise<string> {
  const base = registryUrl.replace(/\/+$/, '');
  const r = await httpRequest(`${base}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': mediaType },
    ...access(a),
  });
  if (r.status !== 201) throw new Error(`manifest PUT ${repo}:${reference}: HTTP ${r.status} ${r.text()}`);
  const d = r.headers['docker-content-digest'];
  return typeof d === 'string' ? d : sha256Digest(manifest);
}

/** Pushes all blobs of a built image and its manifest under `tag`; returns the manifest digest. */
export async function pushImage(registryUrl: string, repo: string, tag: string, img: BuiltImage, a: RegistryAccess = {}): Promise<string> {
  for (const layer of img.layers) await pushBlob(registryUrl, repo, layer, a);
  await pushBlob(registryUrl, repo, img.config, a);
  const d = await pushManifest(registryUrl, repo, tag, img.manifest, img.manifestMediaType, a);
  if (d !== img.digest) throw new Error(`registry reports digest ${d}, expected ${img.digest}`);
  return d;
}

/**
 * Builds the busybox image and pushes it as `repo:tag`; returns the manifest digest.
 * Pass `labels` to get a distinct digest per call.
 */
export async function pushBusyboxImage(
  registryUrl: string,
  repo: string,
  tag: string,
  opts: RegistryAccess & { format?: 'oci' | 'docker'; labels?: Record<string, string>; cmd?: string[] } = {},
): Promise<string> {
  const img = buildBusyboxImage({
    ...(opts.format !== undefined ? { format: opts.format } : {}),
    ...(opts.labels !== undefined ? { labels: opts.labels } : {}),
    ...(opts.cmd !== undefined ? { cmd: opts.cmd } : {}),
  });
  return pushImage(registryUrl, repo, tag, img, opts);
}

/**
 * Writes the image as an OCI image layout in `dir` with `tag` as its
 * `org.opencontainers.image.ref.name` (usable as skopeo's `oci:DIR:TAG`).
 */
export async function writeOciLayout(dir: string, tag: string, img: BuiltImage): Promise<void> {
  const blobs = path.join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  for (const b of [...img.layers, img.config, img.manifest]) {
    await writeFile(path.join(blobs, sha256Digest(b).slice('sha256:'.length)), b);
  }
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: img.manifestMediaType,
          digest: img.digest,
          size: img.manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
}
