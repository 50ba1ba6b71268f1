/**
 * Real cosign 2.5 and skopeo 1.18 (Debian trixie builds, unpacked by `scripts/install-deps.sh` into
 * `.tools/` and run through the wrappers `.tools/bin/cosign` and `.tools/bin/skopeo`), cosign 3.1 and
 * kubectl 1.36 (Debian sid builds, `.tools/bin/cosign3` and `.tools/bin/kubectl`), as
 * subprocesses with captured output and a timeout, plus skopeo's sigstore configuration files.
 *
 * cosign is run key-based and offline: pass `--tlog-upload=false` when signing and
 * `--insecure-ignore-tlog=true` when verifying; `--allow-http-registry` for the plain registry,
 * `--registry-cacert` (or {@link cosignRegistryFlags}) for the TLS one.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { realTools, runCommand, runOk, type RunOptions, type RunResult } from './proc.js';
import type { RealRegistry } from './registry.js';

export { runCommand, runOk, describeFailure, type RunOptions, type RunResult } from './proc.js';

/**
 * Environment that keeps cosign away from the user's files and the network: its own HOME (so no
 * ~/.docker/config.json or ~/.sigstore cache is read), no TUF mirror lookups.
 */
export async function isolatedToolEnv(dir?: string): Promise<Record<string, string>> {
  const home = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-home-')));
  await mkdir(path.join(home, '.docker'), { recursive: true });
  return {
    HOME: home,
    DOCKER_CONFIG: path.join(home, '.docker'),
    TUF_ROOT: path.join(home, '.sigstore', 'root'),
    XDG_RUNTIME_DIR: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
  };
}

/** Runs `cosign ARGS`. Stdin is closed; set `COSIGN_PASSWORD` in `env` for encrypted keys. */
export function cosign(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand(realTools.cosign, args, { timeoutMs: 120_000, ...opts });
}

/**
 * Runs cosign 3 (`cosign3 ARGS`). Key-based and offline it needs `--tlog-upload=false
 * --use-signing-config=false` to sign and `--insecure-ignore-tlog=true` to verify.
 */
export function cosign3(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand(realTools.cosign3, args, { timeoutMs: 120_000, ...opts });
}

/** Runs `kubectl ARGS` (offline use only: there is no API server here). */
export function kubectl(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand(realTools.kubectl, args, { timeoutMs: 60_000, ...opts });
}

/** Runs `skopeo ARGS`. */
export function skopeo(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand(realTools.skopeo, args, { timeoutMs: 120_000, ...opts });
}

/** The registry connection flags cosign needs for a test registry (http, CA, credentials). */
export function cosignRegistryFlags(reg: Pick<RealRegistry, 'url' | 'caFile' | 'username' | 'password' | 'clientCertFile' | 'clientKeyFile'>): string[] {
  const f: string[] = [];
  if (reg.url.startsWith('http:')) f.push('--allow-http-registry=true');
  if (reg.caFile !== undefined) f.push(`--registry-cacert=${reg.caFile}`);
  if (reg.clientCertFile !== undefined) f.push(`--registry-client-cert=${reg.clientCertFile}`, `--registry-client-key=${reg.clientKeyFile ?? ''}`);
  if (reg.username !== undefined) f.push(`--registry-username=${reg.username}`, `--registry-password=${reg.password ?? ''}`);
  return f;
}

/**
 * skopeo's per-side connection flags for a test registry: `side` is `src` or `dest` (or `''` for
 * commands such as inspect that take `--tls-verify`/`--cert-dir`/`--creds`).
 */
export function skopeoRegistryFlags(reg: Pick<RealRegistry, 'url' | 'certDir' | 'username' | 'password'>, side: 'src' | 'dest' | ''): string[] {
  const p = side === '' ? '--' : `--${side}-`;
  const f: string[] = [];
  if (reg.url.startsWith('http:')) f.push(`${p}tls-verify=false`);
  else if (reg.certDir !== undefined) f.push(`${p}cert-dir=${reg.certDir}`);
  if (reg.username !== undefined) f.push(`${p}creds=${reg.username}:${reg.password ?? ''}`);
  else f.push(`${p}no-creds`);
  return f;
}

/** A cosign key pair on disk. */
export interface KeyPair {
  keyPath: string;
  pubPath: string;
  password: string;
}

/** `cosign generate-key-pair` in `dir` (password from COSIGN_PASSWORD; may be empty). */
export async function cosignGenerateKeyPair(dir: string, password = 'test-password'): Promise<KeyPair> {
  await mkdir(dir, { recursive: true });
  await runOk(realTools.cosign, ['generate-key-pair'], {
    cwd: dir,
    env: { COSIGN_PASSWORD: password, ...(await isolatedToolEnv(path.join(dir, '.home'))) },
    timeoutMs: 60_000,
  });
  return { keyPath: path.join(dir, 'cosign.key'), pubPath: path.join(dir, 'cosign.pub'), password };
}

/** Options of {@link writeSkopeoConfig}. */
export interface SkopeoConfigOptions {
  /** Public key (PEM) that signatures must verify with. */
  keyPath: string;
  /**
   * Policy scope the requirement applies to: `host:port`, `host:port/repo`, …; default `''`
   * (every docker reference). Everything else in the docker transport is rejected.
   */
  scope?: string;
  /**
   * signedIdentity of the requirement; default `{ type: 'matchRepository' }`, which accepts
   * cosign's repository-only docker-reference.
   */
  signedIdentity?: Record<string, unknown>;
}

/** Paths of skopeo's trust policy and registries.d folder. */
export interface SkopeoConfig {
  policyPath: string;
  registriesDir: string;
  /** `--policy P --registries.d D`, to put before the skopeo sub-command. */
  globalFlags: string[];
}

/**
 * Writes a `policy.json` with a `sigstoreSigned` requirement for the docker transport (local
 * transports — oci, dir, archives — are accepted as they are, so images can be copied from them) and a
 * `registries.d/default.yaml` with `use-sigstore-attachments: true`.
 */
export async function writeSkopeoConfig(dir: string, o: SkopeoConfigOptions): Promise<SkopeoConfig> {
  await mkdir(path.join(dir, 'registries.d'), { recursive: true });
  const accept = { '': [{ type: 'insecureAcceptAnything' }] };
  const policy = {
    default: [{ type: 'reject' }],
    transports: {
      docker: {
        [o.scope ?? '']: [
          {
            type: 'sigstoreSigned',
            keyPath: o.keyPath,
            signedIdentity: o.signedIdentity ?? { type: 'matchRepository' },
          },
        ],
      },
      oci: accept,
      'oci-archive': accept,
      dir: accept,
      'docker-archive': accept,
    },
  };
  const policyPath = path.join(dir, 'policy.json');
  await writeFile(policyPath, JSON.stringify(policy, null, 2) + '\n');
  const registriesDir = path.join(dir, 'registries.d');
  await writeFile(path.join(registriesDir, 'default.yaml'), 'default-docker:\n  use-sigstore-attachments: true\n');
  return { policyPath, registriesDir, globalFlags: ['--policy', policyPath, '--registries.d', registriesDir] };
}

/** An accept-anything policy plus sigstore attachments enabled (for signing-only copies). */
export async function writeSkopeoSigningConfig(dir: string): Promise<SkopeoConfig> {
  await mkdir(path.join(dir, 'registries.d'), { recursive: true });
  const policyPath = path.join(dir, 'policy-accept.json');
  await writeFile(policyPath, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }) + '\n');
  const registriesDir = path.join(dir, 'registries.d');
  await writeFile(path.join(registriesDir, 'default.yaml'), 'default-docker:\n  use-sigstore-attachments: true\n');
  return { policyPath, registriesDir, globalFlags: ['--policy', policyPath, '--registries.d', registriesDir] };
}

/** Options of {@link skopeoCopyAndSign}. */
export interface SkopeoCopyAndSignOptions {
  /** Source, with transport: `docker://…`, `oci:DIR:TAG`, … */
  src: string;
  /** Destination registry and reference (without `docker://`), e.g. `127.0.0.1:5000/repo:tag`. */
  dest: string;
  /** cosign-format encrypted private key (from `cosign generate-key-pair`). */
  keyPath: string;
  passphrase: string;
  /** Registry the destination is on (for TLS/credential flags). */
  destRegistry: Pick<RealRegistry, 'url' | 'certDir' | 'username' | 'password'>;
  /** Registry the source is on, when the source is `docker://…`. */
  srcRegistry?: Pick<RealRegistry, 'url' | 'certDir' | 'username' | 'password'>;
  /** Folder for the passphrase file and config (default: a new temporary folder). */
  workDir?: string;
  /** Extra `skopeo copy` flags (e.g. `--format oci`, `--sign-identity REF`). */
  extraArgs?: string[];
  env?: Record<string, string | undefined>;
}

/**
 * `skopeo copy --sign-by-sigstore-private-key KEY --sign-passphrase-file F SRC docker://DEST`, with
 * sigstore attachments enabled; throws with the output unless skopeo exits 0.
 */
export async function skopeoCopyAndSign(o: SkopeoCopyAndSignOptions): Promise<RunResult> {
  const dir = o.workDir ?? (await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-skopeo-')));
  await mkdir(dir, { recursive: true });
  const cfg = await writeSkopeoSigningConfig(dir);
  const passFile = path.join(dir, 'passphrase');
  await writeFile(passFile, o.passphrase, { mode: 0o600 });
  const args = [
    ...cfg.globalFlags,
    '--tmpdir',
    dir,
    'copy',
    '--quiet',
    '--sign-by-sigstore-private-key',
    o.keyPath,
    '--sign-passphrase-file',
    passFile,
    ...skopeoRegistryFlags(o.destRegistry, 'dest'),
    ...(o.srcRegistry !== undefined ? skopeoRegistryFlags(o.srcRegistry, 'src') : []),
    ...(o.extraArgs ?? []),
    o.src,
    `docker://${o.dest}`,
  ];
  return runOk(realTools.skopeo, args, { env: { ...(await isolatedToolEnv(path.join(dir, 'home'))), ...(o.env ?? {}) }, timeoutMs: 120_000 });
}
