/**
 * Credentials for registries: a pluggable {@link Keychain} (explicit credentials, Docker's
 * `config.json` with `auths`, `identitytoken`, `credsStore` and `credHelpers`, or a chain), so cloud
 * helpers (ECR, GCR, ACR) fit in later as more keychains.
 *
 * @module
 */
import { MAX_CONFIG_FILE_BYTES, readFileLimited } from '../internal/read-file.js';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { schema } from '../internal/deps.js';
import { decodeBase64Strict } from '../encoding.js';
import { parseJson } from '../json/strict.js';
import { fail, isCosignError } from '../errors.js';
import { nodeChildProcess } from '../internal/node-http.js';

/** Credentials for one registry. Never logged. */
export type Credentials = { readonly username: string; readonly password: string } | { readonly identityToken: string } | { readonly registryToken: string };

/** Resolves credentials for a registry (and repository, for helpers that scope by path). */
export interface Keychain {
  /**
   * Credentials for `registry` (`host[:port]`), or undefined for anonymous access. `context` (given by
   * {@link RegistryClient}) lets a keychain talk to the registry itself (Azure's token exchange).
   */
  resolve(registry: string, repository?: string, context?: KeychainContext): Promise<Credentials | undefined>;
}

/** An HTTP request a keychain sends through the registry client's transport. */
export interface KeychainRequest {
  /** Method. */
  readonly method: 'GET' | 'POST';
  /** Where (the registry's own origin, for Azure's exchange). */
  readonly url: URL;
  /** Headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Body (a form). */
  readonly body?: Uint8Array;
  /** Largest body accepted. */
  readonly maxBytes?: number;
}

/** The response to a {@link KeychainRequest}, its body read. */
export interface KeychainResponse {
  /** HTTP status. */
  readonly status: number;
  /** The body. */
  readonly body: Buffer;
}

/** What a registry client offers a keychain while resolving credentials for one of its requests. */
export interface KeychainContext {
  /** The scheme the registry is reached with (`http` only where plain HTTP is allowed). */
  readonly scheme: 'https' | 'http';
  /**
   * Send a request with the client's transport (its TLS settings, connection pool, deadlines and size
   * limits); redirects to another origin are refused (the bodies carry secrets).
   */
  request(req: KeychainRequest): Promise<KeychainResponse>;
  /** The caller's signal. */
  readonly signal?: AbortSignal;
}

/** Anonymous access everywhere. */
export const anonymousKeychain: Keychain = { resolve: async () => undefined };

/** Fixed credentials per registry host (`host[:port]`). */
export function staticKeychain(map: Readonly<Record<string, Credentials>>): Keychain {
  return { resolve: async (registry) => map[registry] };
}

/** Try each keychain in turn; the first that answers wins. */
export function chainKeychains(...chain: Keychain[]): Keychain {
  return {
    async resolve(registry, repository, context) {
      for (const k of chain) {
        const c = await k.resolve(registry, repository, context);
        if (c !== undefined) return c;
      }
      return undefined;
    },
  };
}

// Built on first use: zod schema construction costs start-up time, and most runs have no config.json.
const ConfigSchema = schema((z) =>
  z.object({
    auths: z
      .record(
        z.string(),
        z.object({
          auth: z.string().optional(),
          username: z.string().optional(),
          password: z.string().optional(),
          identitytoken: z.string().optional(),
          registrytoken: z.string().optional(),
        }),
      )
      .optional(),
    credsStore: z.string().optional(),
    credHelpers: z.record(z.string(), z.string()).optional(),
  }),
);
const HelperOutputSchema = schema((z) => z.object({ Username: z.string(), Secret: z.string() }));

type DockerConfig = z.infer<ReturnType<typeof ConfigSchema>>;

/** Normalise an `auths` key (`https://host/v1/`, `host/path`, …) to `host[:port]` and an optional path. */
function authsKey(key: string): { host: string; path: string } {
  let k = key.replace(/^https?:\/\//, '');
  const slash = k.indexOf('/');
  const p = slash >= 0 ? k.slice(slash + 1).replace(/\/+$/, '') : '';
  k = slash >= 0 ? k.slice(0, slash) : k;
  if (k === 'index.docker.io' || k === 'registry-1.docker.io' || k === 'docker.io') k = 'index.docker.io';
  return { host: k, path: p === 'v1' || p === 'v2' ? '' : p };
}

/** Run `docker-credential-<helper> get` with the server URL on stdin. */
function runHelper(helper: string, server: string): Promise<Credentials | undefined> {
  return new Promise((resolve, reject) => {
    const child = nodeChildProcess().execFile(`docker-credential-${helper}`, ['get'], { timeout: 30_000, maxBuffer: 1024 * 1024 }, (err, stdout) => {
      if (err !== null) {
        // "credentials not found" is not an error: anonymous access.
        if (/not found/i.test(String(stdout)) || /not found/i.test(err.message)) return resolve(undefined);
        return reject(fail('REGISTRY_UNAUTHORIZED', `credential helper docker-credential-${helper} failed for ${server}`, { details: { helper } }));
      }
      try {
        const r = HelperOutputSchema().parse(parseJson(stdout, `docker-credential-${helper} output`));
        resolve(r.Username === '<token>' ? { identityToken: r.Secret } : { username: r.Username, password: r.Secret });
      } catch {
        reject(fail('REGISTRY_UNAUTHORIZED', `credential helper docker-credential-${helper} gave unreadable output for ${server}`));
      }
    });
    child.stdin?.end(server);
  });
}

/**
 * Docker's `config.json`: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (a missing file
 * means anonymous). `auths` keys may be URLs or carry a repository path (the longest matching path
 * wins); `credHelpers[host]` and `credsStore` run `docker-credential-*` (asked for `host/repo` first,
 * then `host`, as cosign does).
 */
export function dockerConfigKeychain(options: { configDir?: string; env?: NodeJS.ProcessEnv } = {}): Keychain {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker');
  let loaded: Promise<DockerConfig | undefined> | undefined;
  const load = (): Promise<DockerConfig | undefined> =>
    (loaded ??= readFileLimited(path.join(dir, 'config.json'), MAX_CONFIG_FILE_BYTES, 'docker config').then(
      (bytes) => {
        const parsed = ConfigSchema().safeParse(parseJson(bytes, 'docker config.json'));
        if (!parsed.success)
          throw fail('BAD_INPUT', `docker config.json: ${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        return parsed.data;
      },
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        if (isCosignError(e)) throw e;
        throw fail('IO_ERROR', `cannot read ${path.join(dir, 'config.json')}: ${e.code ?? e.message}`);
      },
    ));
  return {
    async resolve(registry, repository) {
      const cfg = await load();
      if (cfg === undefined) return undefined;
      const helper = cfg.credHelpers?.[registry];
      if (helper !== undefined) return runHelper(helper, registry);
      let best: { creds: Credentials; len: number } | undefined;
      for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
        const k = authsKey(key);
        if (k.host !== registry) continue;
        if (k.path !== '' && !(repository === k.path || repository?.startsWith(`${k.path}/`) === true)) continue;
        let creds: Credentials | undefined;
        if (entry.identitytoken !== undefined && entry.identitytoken !== '') creds = { identityToken: entry.identitytoken };
        else if (entry.registrytoken !== undefined && entry.registrytoken !== '') creds = { registryToken: entry.registrytoken };
        else if (entry.auth !== undefined && entry.auth !== '') {
          const decoded = decodeBase64Strict(entry.auth, `docker config.json auths[${JSON.stringify(key)}].auth`).toString('utf8');
          const i = decoded.indexOf(':');
          if (i < 0) throw fail('BAD_INPUT', `docker config.json auths[${JSON.stringify(key)}].auth is not user:password`);
          creds = { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
        } else if (entry.username !== undefined) creds = { username: entry.username, password: entry.password ?? '' };
        if (creds !== undefined && (best === undefined || k.path.length > best.len)) best = { creds, len: k.path.length };
      }
      if (best !== undefined) return best.creds;
      if (cfg.credsStore !== undefined && cfg.credsStore !== '') {
        if (repository !== undefined) {
          const scoped = await runHelper(cfg.credsStore, `${registry}/${repository}`);
          if (scoped !== undefined) return scoped;
        }
        return runHelper(cfg.credsStore, registry);
      }
      return undefined;
    },
  };
}
