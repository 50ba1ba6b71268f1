/**
 * Image references with Docker's normalisation, as go-containerregistry's `name` package does it:
 * `busybox` → `index.docker.io/library/busybox:latest`, `localhost:5000/a/b@sha256:…`, `repo:tag@sha256:…`.
 *
 * @module
 */
import { parseDigest, type Digest } from './digest.js';
import { fail } from './errors.js';

/** The registry host name go-containerregistry (and so cosign) uses for Docker Hub. */
export const DOCKER_HUB = 'index.docker.io';

/**
 * A parsed, normalised image reference: a plain, frozen object (compare, spread and serialise it as
 * such). References made by {@link parseReference}, {@link withDigest}, {@link withTag} and
 * {@link parseRepository} also print as `registry/repository[:tag][@digest]` in a template string or
 * `String(ref)`: they carry a non-enumerable `toString()` ({@link formatReference}), so
 * `JSON.stringify`, `{ ...ref }` and deep equality see only the fields below.
 */
export interface ImageReference {
  /** Registry host with optional port, e.g. `index.docker.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Repository path, e.g. `library/busybox`. */
  readonly repository: string;
  /** Tag, when the reference has one (`latest` is filled in only when neither tag nor digest was given). */
  readonly tag: string | undefined;
  /** Manifest digest, when the reference has one. */
  readonly digest: Digest | undefined;
  /** `registry/repository` — go-containerregistry's `Repository.Name()`, the identity cosign signs. */
  readonly name: string;
}

/** Options for {@link parseReference}. */
export interface ParseReferenceOptions {
  /** Registry used when the reference names none. Default `index.docker.io`. */
  readonly defaultRegistry?: string;
  /** Tag filled in when the reference has neither tag nor digest. Default `latest`; `null` leaves it empty. */
  readonly defaultTag?: string | null;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const MAX_LENGTH = 1024;

function bad(input: string, why: string): never {
  throw fail('BAD_REFERENCE', `invalid image reference ${JSON.stringify(input.slice(0, 200))}: ${why}`);
}

/** Parse and normalise an image reference. Throws `BAD_REFERENCE` with the reason. */
export function parseReference(input: string, options: ParseReferenceOptions = {}): ImageReference {
  if (typeof input !== 'string' || input.length === 0) bad(String(input), 'empty');
  if (input.length > MAX_LENGTH) bad(input, `longer than ${MAX_LENGTH} characters`);
  if (/\s/.test(input)) bad(input, 'contains white space');

  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    try {
      parseDigest(d);
    } catch {
      bad(input, `bad digest ${JSON.stringify(d.slice(0, 150))}`);
    }
    digest = d as Digest;
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) bad(input, `bad tag ${JSON.stringify(tag.slice(0, 150))}`);
  }

  let registry: string;
  let repository: string;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    registry = first;
    repository = rest.slice(slash + 1);
  } else {
    registry = options.defaultRegistry ?? DOCKER_HUB;
    repository = rest;
  }
  if (!HOST.test(registry)) bad(input, `bad registry ${JSON.stringify(registry.slice(0, 150))}`);
  const port = /:(\d+)$/.exec(registry)?.[1];
  if (port !== undefined && Number(port) > 65535) bad(input, `bad port ${port}`);
  if (registry === 'docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && repository.length > 0 && !repository.includes('/')) repository = `library/${repository}`;
  if (repository.length === 0) bad(input, 'empty repository');
  if (repository.length > 255) bad(input, 'repository longer than 255 characters');
  for (const part of repository.split('/')) {
    if (!COMPONENT.test(part))
      bad(input, `bad repository component ${JSON.stringify(part.slice(0, 100))} (lower-case letters, digits and separators . _ __ - only)`);
  }

  if (tag === undefined && digest === undefined && options.defaultTag !== null) tag = options.defaultTag ?? 'latest';
  return makeReference(registry, repository, tag, digest);
}

function referenceToString(this: ImageReference): string {
  return formatReference(this);
}

function makeReference(registry: string, repository: string, tag: string | undefined, digest: Digest | undefined): ImageReference {
  const ref = { registry, repository, tag, digest, name: `${registry}/${repository}` };
  // Non-enumerable: structural uses (JSON, spread, deep equality) see only the five fields.
  Object.defineProperty(ref, 'toString', { value: referenceToString, enumerable: false, writable: false, configurable: false });
  return Object.freeze(ref);
}

/** `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.name}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** The same repository, pinned to `digest` (the tag is dropped). */
export function withDigest(ref: ImageReference, digest: Digest): ImageReference {
  parseDigest(digest);
  return makeReference(ref.registry, ref.repository, undefined, digest);
}

/** The same repository at `tag` (any digest is dropped). */
export function withTag(ref: ImageReference, tag: string): ImageReference {
  if (!TAG.test(tag)) throw fail('BAD_REFERENCE', `invalid tag ${JSON.stringify(tag.slice(0, 150))}`);
  return makeReference(ref.registry, ref.repository, tag, undefined);
}

/** Another repository (e.g. `COSIGN_REPOSITORY`), parsed as `registry/repo` with no tag or digest. */
export function parseRepository(input: string, options: ParseReferenceOptions = {}): ImageReference {
  const ref = parseReference(input, { ...options, defaultTag: null });
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw fail('BAD_REFERENCE', `expected a repository without tag or digest: ${JSON.stringify(input.slice(0, 200))}`);
  }
  return ref;
}

/** A `signatureRepository` option: a string is parsed with {@link parseRepository}, a parsed reference is kept. */
export function repositoryOption(value: string | ImageReference | undefined): ImageReference | undefined {
  return typeof value === 'string' ? parseRepository(value) : value;
}

/** Host names that all mean Docker Hub. */
const DOCKER_HUB_HOSTS: ReadonlySet<string> = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * A registry host as the Docker reference grammar compares it: lower case (host names are not case
 * sensitive), without the HTTPS default port `:443`, and every Docker Hub spelling (`docker.io`,
 * `index.docker.io`, `registry-1.docker.io`) as `index.docker.io`. Used for matching (policies),
 * never for what is signed: cosign signs the name as written.
 */
export function normaliseRegistryHost(host: string): string {
  const h = host.toLowerCase().replace(/:443$/, '');
  return DOCKER_HUB_HOSTS.has(h) ? DOCKER_HUB : h;
}

/**
 * The canonical `registry/repository` of a reference, for comparing names: the host normalised with
 * {@link normaliseRegistryHost}, and `library/` before single-component Docker Hub repositories. So
 * `REGISTRY.EXAMPLE.COM:443/ci/app`, `registry.example.com/ci/app` have one canonical name, and so do
 * `registry-1.docker.io/busybox`, `docker.io/library/busybox` and `busybox`. (Repository paths are
 * lower case already: {@link parseReference} rejects upper case in them.)
 */
export function canonicalName(ref: ImageReference): string {
  const registry = normaliseRegistryHost(ref.registry);
  const repository = registry === DOCKER_HUB && !ref.repository.includes('/') ? `library/${ref.repository}` : ref.repository;
  return `${registry}/${repository}`;
}

/** True for registries on the loopback interface (plain HTTP is allowed there by default). */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
