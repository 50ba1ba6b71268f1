/**
 * A real container engine with a Docker-compatible API: Debian 12's podman 4.3 run as
 * `podman system service --time=0 unix://<tmp>/podman.sock`, with a private configuration so it
 * touches nothing of the machine's (all state in a temporary folder) and works in this sandbox:
 *
 * - storage: `vfs` driver, graphroot/runroot in the temporary folder;
 * - engine: `runtime = "runc"` (crun fails here), `cgroup_manager = "cgroupfs"` (no systemd),
 *   `events_logger = "file"`, `lock_type = "file"` (locks under tmp_dir, so several services don't
 *   share the machine-wide shm lock segment);
 * - containers: `netns = "none"` (no CNI/netavark plugins are installed), and
 *   `default_ulimits = nofile=1024:1024, nproc=1024:1024` — podman's default is to raise them to the
 *   hard limit, which runc may not set in this sandbox ("error setting rlimit type 7/6").
 * - registries.conf: the given test registries as `insecure = true` (plain HTTP).
 *
 * Containers are run with `podman run -d --network none …`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { httpRequest, waitFor, type HttpResponse } from './http.js';
import { describeFailure, onProcessExit, realTools, runCommand, runSyncQuiet, spawnDaemon, type RunOptions, type RunResult } from './proc.js';

/** Options of {@link startPodman}. */
export interface PodmanOptions {
  /** `host:port` of plain-HTTP registries podman may pull from (written as insecure registries). */
  insecureRegistries?: string[];
}

/** One entry of the Docker API's `GET /containers/json`. */
export interface DockerContainerSummary {
  Id: string;
  Names?: string[];
  Image: string;
  ImageID: string;
  State: string;
  Status?: string;
  Labels?: Record<string, string> | null;
  [k: string]: unknown;
}

/** Options of {@link PodmanService.run}. */
export interface RunContainerOptions {
  name?: string;
  labels?: Record<string, string>;
  /** Command and arguments (default: the image's, i.e. `/bin/sleep 3600` for the busybox image). */
  cmd?: string[];
  /** Pull policy (default `missing`). */
  pull?: 'always' | 'missing' | 'never' | 'newer';
  /** Extra `podman run` flags (placed before the image). */
  extraArgs?: string[];
}

/** A running podman API service. */
export interface PodmanService {
  /** Path of the unix socket serving the Docker-compatible (and libpod) API. */
  socketPath: string;
  /** `unix://…` form of {@link socketPath} (for DOCKER_HOST). */
  dockerHost: string;
  /** Temporary folder holding the configuration and all state. */
  dir: string;
  /** Environment that points a podman CLI at this service's private configuration. */
  env: Record<string, string>;
  /** Runs the podman CLI on the same storage and configuration. */
  podman(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Docker-API request over the socket; `body` objects are sent as JSON. */
  api(method: string, apiPath: string, body?: unknown): Promise<HttpResponse>;
  /** `podman pull` (plain HTTP registries need no flag when listed in `insecureRegistries`); returns the image ID. */
  pull(ref: string, opts?: { tlsVerify?: boolean; certDir?: string; creds?: string }): Promise<string>;
  /** `podman load -i ARCHIVE`; returns podman's output. */
  load(archive: string): Promise<string>;
  /** `podman run -d --network none …`; returns the container ID. */
  run(image: string, opts?: RunContainerOptions): Promise<string>;
  /** `GET /containers/json` (`all` includes stopped containers). */
  listContainers(all?: boolean): Promise<DockerContainerSummary[]>;
  /** The service's recent log output. */
  log(): string;
  /** Removes all containers, stops the service and deletes its folder. */
  stop(): Promise<void>;
}

function toml(s: string): string {
  return JSON.stringify(s);
}

/** Writes the private configuration and returns the environment that selects it. */
export async function writePodmanConfig(dir: string, opts: PodmanOptions = {}): Promise<Record<string, string>> {
  const root = path.join(dir, 'root');
  const run = path.join(dir, 'run');
  const tmp = path.join(dir, 'tmp');
  await Promise.all([root, run, tmp].map((d) => mkdir(d, { recursive: true })));
  await writeFile(path.join(dir, 'storage.conf'), ['[storage]', 'driver = "vfs"', `runroot = ${toml(run)}`, `graphroot = ${toml(root)}`, ''].join('\n'));
  await writeFile(
    path.join(dir, 'containers.conf'),
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      'netns = "none"',
      'log_driver = "k8s-file"',
      '',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = ${toml(path.join(dir, 'events.log'))}`,
      'runtime = "runc"',
      'lock_type = "file"',
      `tmp_dir = ${toml(tmp)}`,
      `static_dir = ${toml(path.join(root, 'libpod'))}`,
      `volume_path = ${toml(path.join(root, 'volumes'))}`,
      `image_copy_tmp_dir = ${toml(tmp)}`,
      '',
    ].join('\n'),
  );
  await writeFile(
    path.join(dir, 'registries.conf'),
    [
      'unqualified-search-registries = []',
      ...(opts.insecureRegistries ?? []).flatMap((h) => ['', '[[registry]]', `location = ${toml(h)}`, 'insecure = true']),
      '',
    ].join('\n'),
  );
  await writeFile(path.join(dir, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  return {
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(dir, 'registries.conf'),
    TMPDIR: tmp,
  };
}

/** Starts `podman system service` on a socket in a new temporary folder; waits for `/_ping`. */
export async function startPodman(opts: PodmanOptions = {}): Promise<PodmanService> {
  // Keep the socket path short (unix socket paths are limited to 107 bytes).
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-podman-'));
  const env = await writePodmanConfig(dir, opts);
  const socketPath = path.join(dir, 'podman.sock');
  const globalFlags = ['--signature-policy', path.join(dir, 'policy.json')];
  const podman = (args: readonly string[], o: RunOptions = {}) =>
    runCommand(realTools.podman, args, { timeoutMs: 120_000, ...o, env: { ...env, ...(o.env ?? {}) } });
  const podmanOk = async (args: readonly string[], o: RunOptions = {}) => {
    const r = await podman(args, o);
    if (r.code !== 0) throw new Error(describeFailure(r));
    return r;
  };

  const daemon = spawnDaemon(realTools.podman, ['system', 'service', '--time=0', `unix://${socketPath}`], { env });
  const cleanupSync = () => {
    // Exit hook (synchronous): containers run under conmon, outside our process tree.
    runSyncQuiet(realTools.podman, ['rm', '--all', '--force', '--time', '0'], { ...process.env, ...env }, 20_000);
    runSyncQuiet('/bin/rm', ['-rf', dir], process.env, 20_000);
  };
  const removeHook = onProcessExit(cleanupSync);

  const api = (method: string, apiPath: string, body?: unknown) =>
    httpRequest(`http://d${apiPath}`, {
      method,
      socketPath,
      timeoutMs: 60_000,
      ...(body !== undefined ? { body: Buffer.isBuffer(body) ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });

  try {
    await waitFor(
      'podman system service /_ping',
      async () => {
        if (daemon.exited()) throw new Error(`podman system service exited:\n${daemon.log()}`);
        const r = await api('GET', '/_ping');
        return r.status === 200;
      },
      30_000,
      100,
    );
  } catch (e) {
    await daemon.stop(2000);
    removeHook();
    cleanupSync();
    throw e;
  }

  let stopped = false;
  return {
    socketPath,
    dockerHost: `unix://${socketPath}`,
    dir,
    env,
    podman,
    api,
    async pull(ref, o = {}) {
      const r = await podmanOk([
        'pull',
        '--quiet',
        ...globalFlags,
        ...(o.tlsVerify !== undefined ? [`--tls-verify=${String(o.tlsVerify)}`] : []),
        ...(o.certDir !== undefined ? ['--cert-dir', o.certDir] : []),
        ...(o.creds !== undefined ? ['--creds', o.creds] : []),
        ref,
      ]);
      return r.stdout.trim().split('\n').pop() ?? '';
    },
    async load(archive) {
      const r = await podmanOk(['load', '--input', archive, ...globalFlags]);
      return r.stdout;
    },
    async run(image, o = {}) {
      const args = ['run', '--detach', '--network', 'none', `--pull=${o.pull ?? 'missing'}`];
      if (o.name !== undefined) args.push('--name', o.name);
      for (const [k, v] of Object.entries(o.labels ?? {})) args.push('--label', `${k}=${v}`);
      args.push(...(o.extraArgs ?? []), image, ...(o.cmd ?? []));
      const r = await podmanOk(args);
      return r.stdout.trim().split('\n').pop() ?? '';
    },
    async listContainers(all = false) {
      const r = await api('GET', `/containers/json${all ? '?all=true' : ''}`);
      if (r.status !== 200) throw new Error(`GET /containers/json: HTTP ${r.status} ${r.text()}`);
      return r.json<DockerContainerSummary[]>();
    },
    log: () => daemon.log(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await podman(['rm', '--all', '--force', '--time', '0'], { timeoutMs: 60_000 });
      await daemon.stop();
      removeHook();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
