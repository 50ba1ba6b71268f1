/**
 * A Docker Engine API test server on a unix socket: the endpoints the killer uses, with the shapes
 * Docker and Podman return (`/_ping`, containers list/inspect/kill/delete, image inspect), 404s with
 * Docker's error body, and controllable state (containers that vanish mid-check).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export interface FakeContainer {
  id: string;
  name: string;
  image: string;
  imageId: string;
  running: boolean;
  /** `Config.Image` when it differs from `image` (the list shows the id once the tag moved). */
  configImage?: string;
  /** `State.StartedAt` of the current run. */
  startedAt: string;
  /** Vanish right after the list call (race with the killer). */
  vanishAfterList?: boolean;
}

export interface FakeImage {
  id: string;
  repoDigests: string[];
  repoTags: string[];
}

export class DockerApiServer {
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Map<string, FakeImage>();
  readonly requests: string[] = [];
  kills = 0;
  #server: http.Server;
  readonly socketPath: string;
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.socketPath = path.join(dir, 'docker.sock');
    this.#server = http.createServer((req, res) => this.#handle(req, res));
  }

  static async start(): Promise<DockerApiServer> {
    const s = new DockerApiServer(await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-dockerapi-')));
    await new Promise<void>((resolve) => s.#server.listen(s.socketPath, resolve));
    return s;
  }

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  addImage(repoDigests: string[], repoTags: string[] = []): FakeImage {
    const img = { id: `sha256:${randomBytes(32).toString('hex')}`, repoDigests, repoTags };
    this.images.set(img.id, img);
    return img;
  }

  run(image: string, img: FakeImage, name = `c-${randomBytes(3).toString('hex')}`): FakeContainer {
    const c: FakeContainer = { id: randomBytes(32).toString('hex'), name, image, imageId: img.id, running: true, startedAt: new Date().toISOString() };
    this.containers.set(c.id, c);
    return c;
  }

  /** `docker start` again (same id, a new `State.StartedAt`), as a restart policy does. */
  restart(c: FakeContainer): void {
    c.running = true;
    const previous = Date.parse(c.startedAt);
    c.startedAt = new Date(Math.max(Date.now(), previous + 1000)).toISOString();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await rm(this.#dir, { recursive: true, force: true });
  }

  #json(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'api-version': '1.41' });
    res.end(text);
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://docker');
    this.requests.push(`${req.method} ${url.pathname}`);
    const p = url.pathname.replace(/^\/v1\.\d+/, '');
    if (p === '/_ping') {
      res.writeHead(200, { 'content-type': 'text/plain', 'api-version': '1.41' });
      res.end('OK');
      return;
    }
    if (p === '/containers/json' && req.method === 'GET') {
      const list = [...this.containers.values()].filter((c) => c.running);
      for (const c of list) if (c.vanishAfterList === true) this.containers.delete(c.id);
      return this.#json(
        res,
        200,
        list.map((c) => ({ Id: c.id, Names: [`/${c.name}`], Image: c.image, ImageID: c.imageId, Labels: {}, State: 'running' })),
      );
    }
    let m = /^\/containers\/([^/]+)\/json$/.exec(p);
    if (m !== null) {
      const c = this.containers.get(decodeURIComponent(m[1] as string));
      if (c === undefined) return this.#json(res, 404, { message: `No such container: ${m[1]}` });
      return this.#json(res, 200, {
        Id: c.id,
        Name: `/${c.name}`,
        Image: c.imageId,
        Config: { Image: c.configImage ?? c.image },
        State: { Running: c.running, Status: c.running ? 'running' : 'exited', StartedAt: c.startedAt },
      });
    }
    m = /^\/images\/(.+)\/json$/.exec(p);
    if (m !== null) {
      const img = this.images.get(decodeURIComponent(m[1] as string));
      if (img === undefined) return this.#json(res, 404, { message: `No such image: ${m[1]}` });
      return this.#json(res, 200, { Id: img.id, RepoDigests: img.repoDigests, RepoTags: img.repoTags });
    }
    m = /^\/containers\/([^/]+)\/kill$/.exec(p);
    if (m !== null && req.method === 'POST') {
      const c = this.containers.get(decodeURIComponent(m[1] as string));
      if (c === undefined) return this.#json(res, 404, { message: `No such container: ${m[1]}` });
      if (!c.running) return this.#json(res, 409, { message: `Container ${m[1]} is not running` });
      c.running = false;
      this.kills++;
      res.writeHead(204);
      res.end();
      return;
    }
    m = /^\/containers\/([^/]+)$/.exec(p);
    if (m !== null && req.method === 'DELETE') {
      const id = decodeURIComponent(m[1] as string);
      if (!this.containers.delete(id)) return this.#json(res, 404, { message: `No such container: ${id}` });
      res.writeHead(204);
      res.end();
      return;
    }
    this.#json(res, 404, { message: 'page not found' });
  }
}
