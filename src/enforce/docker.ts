/**
 * A small Docker Engine API client over the unix socket (or `tcp://`), enough for the image killer:
 * list running containers, inspect containers and images, kill, remove. `DOCKER_HOST` is honoured;
 * Podman's Docker-compatible API works too. Calls use API version 1.41 (served by Docker ≥ 20.10 and
 * Podman ≥ 3).
 *
 * @module
 */
import type { z } from 'zod';
import { parseJson } from '../json/strict.js';
import { timerDelay } from '../concurrency.js';
import { fail } from '../errors.js';
import type * as httpT from 'node:http';
import { http } from '../internal/node-http.js';
import { schema } from '../internal/deps.js';

/** A running container as the killer sees it. */
export interface ContainerSummary {
  readonly id: string;
  readonly name: string;
  /** The image as the container was started with (`Config.Image`: a name, `name@digest`, or an id). */
  readonly image: string;
  /** The local image id. */
  readonly imageId: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** What an image inspect tells about where it came from. */
export interface ImageInfo {
  readonly id: string;
  /** `repo@sha256:…` entries: the digests the image was pulled as. */
  readonly repoDigests: ReadonlyArray<string>;
  readonly repoTags: ReadonlyArray<string>;
}

/** What a container inspect tells the killer. */
export interface ContainerDetails {
  readonly id: string;
  /** The local image id (`sha256:…`). */
  readonly image: string;
  /** `Config.Image`: the image as the container was started (a name, `name@digest`, or an id). */
  readonly configImage: string | undefined;
  readonly running: boolean;
  /** `State.StartedAt`: tells a restarted container (same id) from the run that was killed. */
  readonly startedAt: string | undefined;
}

/**
 * True when `image` (a container's `Image` / `Config.Image`) is an image **id**, not a name: `sha256:<64 hex>`,
 * 64 hex digits, or a shorter hex prefix (12+) of the container's image id (`imageId`; when it is
 * unknown, any such prefix counts as an id). Docker shows the id once the tag has moved to another
 * image, or when the container was started by id.
 */
export function isImageId(image: string, imageId = ''): boolean {
  if (/^sha256:[0-9a-f]{64}$/.test(image) || /^[0-9a-f]{64}$/.test(image)) return true;
  if (!/^(?:sha256:)?[0-9a-f]{12,63}$/.test(image)) return false;
  const hex = image.replace(/^sha256:/, '');
  return imageId === '' || imageId.replace(/^sha256:/, '').startsWith(hex);
}

/** Where the engine listens. */
export interface DockerEndpoint {
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
}

const API = '/v1.41';

/** Parse `DOCKER_HOST` (`unix:///path`, `tcp://host:port`); default `/var/run/docker.sock`. */
export function parseDockerHost(value: string | undefined): DockerEndpoint {
  if (value === undefined || value === '') return { socketPath: '/var/run/docker.sock' };
  if (value.startsWith('unix://')) return { socketPath: value.slice('unix://'.length) };
  if (value.startsWith('tcp://') || value.startsWith('http://')) {
    const u = new URL(value.replace(/^tcp:/, 'http:'));
    return { host: u.hostname, port: Number(u.port || 2375) };
  }
  if (value.startsWith('/')) return { socketPath: value };
  throw fail('USAGE', `unsupported DOCKER_HOST ${JSON.stringify(value.slice(0, 200))} (use unix:///path or tcp://host:port)`);
}

const ContainerListSchema = schema((z) =>
  z.array(
    z.looseObject({
      Id: z.string(),
      Names: z.array(z.string()).nullable().optional(),
      Image: z.string(),
      ImageID: z.string().optional(),
      Labels: z.record(z.string(), z.string()).nullable().optional(),
    }),
  ),
);
const ImageSchema = schema((z) =>
  z.looseObject({ Id: z.string(), RepoDigests: z.array(z.string()).nullable().optional(), RepoTags: z.array(z.string()).nullable().optional() }),
);
const ContainerSchema = schema((z) =>
  z.looseObject({
    Id: z.string(),
    Image: z.string(),
    Name: z.string().optional(),
    Config: z.looseObject({ Image: z.string().optional() }).nullable().optional(),
    State: z.looseObject({ Running: z.boolean().optional(), StartedAt: z.string().optional() }).optional(),
  }),
);

/** The Docker Engine API client. */
export class DockerClient {
  readonly #endpoint: DockerEndpoint;
  readonly #agent: httpT.Agent;
  readonly #timeout: number;
  /** Requests made (for tests). */
  requests = 0;

  constructor(endpoint: DockerEndpoint = parseDockerHost(process.env.DOCKER_HOST), options: { timeoutMs?: number } = {}) {
    this.#endpoint = endpoint;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.#timeout = options.timeoutMs ?? 15_000;
  }

  /** Which engine was asked, and how to point at another one (for connection errors). */
  #where(code: string | undefined): string {
    const e = this.#endpoint;
    const at = e.socketPath !== undefined ? `socket ${e.socketPath}` : `${e.host ?? '?'}:${e.port ?? '?'}`;
    const hint =
      code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES'
        ? code === 'EACCES'
          ? ' (permission denied: run as root or a member of the docker group)'
          : ' (is the Docker or Podman service running?)'
        : '';
    return `connecting to the Docker API at ${at}${hint}; set --docker-host or DOCKER_HOST (unix:///path or tcp://host:port; Podman: unix:///run/podman/podman.sock)`;
  }

  /** Close idle connections. */
  close(): void {
    this.#agent.destroy();
  }

  #request(method: string, path: string, signal?: AbortSignal): Promise<{ status: number; body: Buffer }> {
    this.requests++;
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) return reject(fail('IO_ERROR', `docker ${method} ${path}: aborted`));
      const req = http.request({ ...this.#endpoint, path: `${API}${path}`, method, agent: this.#agent, headers: { host: 'docker' } }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.byteLength;
          if (size > 64 * 1024 * 1024) {
            res.destroy();
            reject(fail('TOO_LARGE', `docker ${method} ${path}: response over 64 MiB`));
          } else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', (e) => reject(fail('IO_ERROR', `docker ${method} ${path}: ${e.message}`, { cause: e })));
      });
      req.setTimeout(timerDelay(this.#timeout), () => req.destroy(new Error(`no answer within ${this.#timeout} ms`)));
      const onAbort = (): void => void req.destroy(new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal?.removeEventListener('abort', onAbort));
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(fail('IO_ERROR', `docker ${method} ${path}: ${e.code ?? e.message} ${this.#where(e.code)}`, { cause: e })),
      );
      req.end();
    });
  }

  async #json<T>(method: string, path: string, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T | undefined> {
    const r = await this.#request(method, path, signal);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw fail('IO_ERROR', `docker ${method} ${path}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 200)}`);
    const parsed = schema.safeParse(parseJson(r.body, `docker ${path}`));
    if (!parsed.success) throw fail('BAD_INPUT', `docker ${path}: unexpected response shape (${parsed.error.issues[0]?.path.join('.') ?? ''})`);
    return parsed.data;
  }

  /** `GET /_ping`: true when the engine answers. */
  async ping(): Promise<boolean> {
    const r = await this.#request('GET', '/_ping');
    return r.status === 200;
  }

  /** Running containers. */
  async listContainers(options: { signal?: AbortSignal } = {}): Promise<ContainerSummary[]> {
    const list = (await this.#json('GET', '/containers/json', ContainerListSchema(), options.signal)) ?? [];
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''),
      image: c.Image,
      imageId: c.ImageID ?? '',
      labels: c.Labels ?? {},
    }));
  }

  /** A container's image (`image`: its id; `configImage`: as it was started), running state and start time; undefined when it no longer exists. */
  async inspectContainer(id: string, options: { signal?: AbortSignal } = {}): Promise<ContainerDetails | undefined> {
    const c = await this.#json('GET', `/containers/${encodeURIComponent(id)}/json`, ContainerSchema(), options.signal);
    if (c === undefined) return undefined;
    return { id: c.Id, image: c.Image, configImage: c.Config?.Image, running: c.State?.Running !== false, startedAt: c.State?.StartedAt };
  }

  /** An image's repo digests and tags; undefined when it no longer exists. */
  async inspectImage(id: string, options: { signal?: AbortSignal } = {}): Promise<ImageInfo | undefined> {
    const i = await this.#json('GET', `/images/${encodeURIComponent(id)}/json`, ImageSchema(), options.signal);
    if (i === undefined) return undefined;
    return { id: i.Id, repoDigests: i.RepoDigests ?? [], repoTags: i.RepoTags ?? [] };
  }

  /** Kill a container; false when it was already gone (or not running). */
  async kill(id: string, signal = 'SIGKILL'): Promise<boolean> {
    const r = await this.#request('POST', `/containers/${encodeURIComponent(id)}/kill?signal=${encodeURIComponent(signal)}`);
    if (r.status === 204 || r.status === 200) return true;
    if (r.status === 404 || r.status === 409) return false;
    throw fail('IO_ERROR', `docker kill ${id.slice(0, 12)}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 200)}`);
  }

  /** Remove a container (forced); false when it was already gone. */
  async remove(id: string): Promise<boolean> {
    const r = await this.#request('DELETE', `/containers/${encodeURIComponent(id)}?force=true`);
    if (r.status === 204 || r.status === 200) return true;
    if (r.status === 404) return false;
    throw fail('IO_ERROR', `docker rm ${id.slice(0, 12)}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 200)}`);
  }
}
