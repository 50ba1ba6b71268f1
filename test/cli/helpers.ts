/**
 * Helpers for the CLI tests: build `dist/` when it is older than `src/`, run the built CLI (what the
 * package `bin` points at: the esbuild bundle `dist/cli/bundle/cosign-ts.cjs`) as a subprocess
 * (optionally under a pseudo-terminal), push tiny images.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/fixtures.js';
import { pushBlob, pushManifest, sha256Digest } from '../helpers/real/image.js';
import { realTools, runCommand, type RunOptions, type RunResult } from '../helpers/real/proc.js';

/** The `cosign-ts` binary, as installed: package.json's `bin`. */
export const cliPath = path.join(
  repoRoot,
  (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['cosign-ts'] as string,
);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Build `dist/` (`tsc -p tsconfig.build.json`, then the CLI bundle with `scripts/build-cli.mjs`, as
 * `npm run build`) when the CLI binary is missing or older than a file under `src/` (set
 * COSIGN_TS_SKIP_BUILD=1 to never build). tsc emits even when other folders have type errors; fails
 * only when the CLI was not built.
 */
export function ensureBuilt(): void {
  if (process.env.COSIGN_TS_SKIP_BUILD === '1') return;
  const fresh = existsSync(cliPath) && statSync(cliPath).mtimeMs >= newestMtime(path.join(repoRoot, 'src'));
  if (fresh) return;
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8' });
  const b = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'build-cli.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (!existsSync(cliPath)) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}\n${b.stdout}\n${b.stderr}`);
}

/** Environment without the caller's cosign/docker settings. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    COSIGN_PASSWORD: undefined,
    COSIGN_REPOSITORY: undefined,
    COSIGN_DOCKER_MEDIA_TYPES: undefined,
    SIGSTORE_REKOR_PUBLIC_KEY: undefined,
    DOCKER_CONFIG: path.join(os.tmpdir(), 'cosign-ts-cli-no-docker-config'),
    ...extra,
  };
}

/** Run `node <bin> ARGS`. */
export function cli(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand(process.execPath, [cliPath, ...args], { timeoutMs: 60_000, ...opts, env: cleanEnv(opts.env) });
}

/**
 * Run the CLI under a pseudo-terminal (util-linux `script`), answering each prompt (a string the
 * output must contain) with the given line, typed only once the prompt is shown.
 */
export function cliInPty(
  args: readonly string[],
  answers: ReadonlyArray<readonly [prompt: string, line: string]>,
  opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, cliPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'dumb' };
  for (const [k, v] of Object.entries(cleanEnv(opts.env))) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(realTools.script, ['--quiet', '--return', '--flush', '--command', command, '/dev/null'], {
      cwd: opts.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let next = 0;
    let searchFrom = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const onData = (d: Buffer): void => {
      output += d.toString('utf8');
      while (next < answers.length) {
        const [prompt, line] = answers[next] as readonly [string, string];
        const at = output.indexOf(prompt, searchFrom);
        if (at < 0) break;
        searchFrom = at + prompt.length;
        next++;
        child.stdin.write(`${line}\r`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'cosign-ts-cli-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** Push a tiny distinct single-layer image as `repo:tag`; returns its digest. */
export async function pushTinyImage(registryUrl: string, repo: string, tag: string): Promise<string> {
  const layer = randomBytes(64);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] }, config: {} }));
  await pushBlob(registryUrl, repo, layer);
  await pushBlob(registryUrl, repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha256Digest(config) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', size: layer.length, digest: sha256Digest(layer) }],
    }),
  );
  return pushManifest(registryUrl, repo, tag, manifest, OCI_MANIFEST);
}

/** Push a two-platform index of tiny images as `repo:tag`; returns the index and child digests. */
export async function pushTinyIndex(registryUrl: string, repo: string, tag: string): Promise<{ index: string; children: string[] }> {
  const children: string[] = [];
  const entries: unknown[] = [];
  for (const arch of ['amd64', 'arm64']) {
    const d = await pushTinyImage(registryUrl, repo, `child-${arch}-${randomBytes(4).toString('hex')}`);
    children.push(d);
    entries.push({ mediaType: OCI_MANIFEST, digest: d, size: 0, platform: { os: 'linux', architecture: arch } });
  }
  // sizes must be right: fetch each child manifest size
  const fixed = await Promise.all(
    entries.map(async (e) => {
      const ent = e as { digest: string };
      const r = await fetch(`${registryUrl}/v2/${repo}/manifests/${ent.digest}`, { headers: { accept: OCI_MANIFEST } });
      const size = (await r.arrayBuffer()).byteLength;
      return { ...ent, size };
    }),
  );
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: fixed }));
  return { index: await pushManifest(registryUrl, repo, tag, index, OCI_INDEX), children };
}

export type { RunResult };
