/**
 * `login`: store registry credentials the way `docker login` and `cosign login` (go-containerregistry's
 * `crane auth login` over docker/cli's config package) do. The credentials go to the credential
 * helper the config names for that registry (`credHelpers[registry]`, else `credsStore`), through
 * `docker-credential-<helper> store`, or else into `config.json` as `auths[registry].auth`
 * (base64 of `user:password`). `config.json` is rewritten as docker/cli writes it: its known
 * fields in docker/cli's order, tab-indented, unknown fields dropped, maps sorted, written to a
 * temporary file in the same folder (mode 0600) and renamed over the old one.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readlink, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeBase64Strict } from '../encoding.js';
import { fail, isCosignError } from '../errors.js';
import { goMarshal, goMarshalIndent, goStruct, type GoStruct, type GoValue } from '../json/gojson.js';
import { parseJson } from '../json/strict.js';
import { nodeChildProcess } from '../internal/node-http.js';
import { MAX_CONFIG_FILE_BYTES, readFileLimited } from '../internal/read-file.js';

/** Docker Hub's key in `config.json` (`https://index.docker.io/v1/`), go-containerregistry's `authn.DefaultAuthKey`. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** Where and how {@link storeCredentials} stores. */
export interface StoreCredentialsOptions {
  /** Folder of `config.json`. Default: `$DOCKER_CONFIG`, else `~/.docker`. */
  readonly configDir?: string;
  /** Environment for `DOCKER_CONFIG` and the credential helper. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Stops a credential helper that hangs. */
  readonly signal?: AbortSignal;
}

/** What {@link storeCredentials} did. */
export interface StoredCredentials {
  /** The `config.json` written (what cosign prints as `logged in via …`). */
  readonly configFile: string;
  /** The key the credentials are stored under (`host[:port]`, or {@link DOCKER_HUB_AUTH_KEY}). */
  readonly serverAddress: string;
  /** The credential helper that holds the secret (`osxkeychain` for `docker-credential-osxkeychain`), if one does. */
  readonly helper?: string;
  /**
   * A new password was written to `config.json` in plain text (base64), not to a helper: docker/cli
   * (and cosign 3) then warn `Your credentials are stored unencrypted`.
   */
  readonly unencrypted: boolean;
}

/**
 * The registry name `login` stores under, as go-containerregistry's `name.NewRegistry` reads it: `''`
 * and `docker.io` are `index.docker.io`.
 * @throws CosignError `BAD_INPUT` when `registry` is not a URI authority (`host[:port]`): a scheme, a path…
 */
export function loginRegistry(registry: string): string {
  // Go's url.Parse("//" + name).Host must give the name back: no scheme, path, query, fragment or user info.
  const authority = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;
  if (!authority.test(registry) || /%(?![0-9A-Fa-f]{2})/.test(registry)) {
    throw fail('BAD_INPUT', `registries must be valid RFC 3986 URI authorities: ${registry}`);
  }
  return registry === '' || registry === 'docker.io' ? 'index.docker.io' : registry;
}

/**
 * Store `username`/`password` for `registry` as `cosign login` / `docker login` do (see the module
 * comment), without contacting the registry. `registry` is `host[:port]`; `docker.io` is stored under
 * {@link DOCKER_HUB_AUTH_KEY}. Nothing secret is ever part of an error message.
 * @throws CosignError `BAD_INPUT` (bad registry name, unreadable `config.json`, an `auths` entry that is
 *   not base64 `user:password`), `IO_ERROR` (writing the file, the credential helper failing),
 *   `TOO_LARGE` (`config.json` over 4 MiB).
 */
export async function storeCredentials(
  registry: string,
  credentials: { readonly username: string; readonly password: string },
  options: StoreCredentialsOptions = {},
): Promise<StoredCredentials> {
  const env = options.env ?? process.env;
  const host = loginRegistry(registry);
  const dir = options.configDir ?? (env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : path.join(os.homedir(), '.docker'));
  const file = path.join(dir, 'config.json');
  const cfg = await loadConfig(file);
  const helper = cfg.credHelpers?.get(host) ?? cfg.credsStore ?? '';
  const serverAddress = host === 'index.docker.io' ? DOCKER_HUB_AUTH_KEY : host;
  let unencrypted = false;
  if (helper !== '') {
    await helperStore(
      helper,
      { ServerURL: serverAddress, Username: credentials.username, Secret: credentials.password },
      credentials.password,
      env,
      options.signal,
    );
    // docker/cli keeps an entry without secrets (only a deprecated email would be kept).
    cfg.auths.set(serverAddress, {});
  } else {
    const old = cfg.auths.get(serverAddress);
    const same =
      old !== undefined &&
      (old.username ?? '') === credentials.username &&
      (old.password ?? '') === credentials.password &&
      (old.email ?? '') === '' &&
      (old.identitytoken ?? '') === '' &&
      (old.registrytoken ?? '') === '';
    unencrypted = !same && credentials.password !== '';
    cfg.auths.set(serverAddress, { username: credentials.username, password: credentials.password });
  }
  await saveConfig(file, cfg);
  return { configFile: file, serverAddress, ...(helper === '' ? {} : { helper }), unencrypted };
}

/** One `auths` entry, decoded (`auth` split into `username` and `password`), as docker/cli holds it. */
interface AuthEntry {
  username?: string;
  password?: string;
  email?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** docker/cli's `ConfigFile` fields: JSON name and kind, in declaration order (the order it writes them). */
const FIELDS = [
  ['auths', 'auths'],
  ['HttpHeaders', 'stringMap'],
  ['psFormat', 'string'],
  ['imagesFormat', 'string'],
  ['networksFormat', 'string'],
  ['pluginsFormat', 'string'],
  ['volumesFormat', 'string'],
  ['statsFormat', 'string'],
  ['detachKeys', 'string'],
  ['credsStore', 'string'],
  ['credHelpers', 'stringMap'],
  ['serviceInspectFormat', 'string'],
  ['servicesFormat', 'string'],
  ['tasksFormat', 'string'],
  ['secretFormat', 'string'],
  ['configFormat', 'string'],
  ['nodesFormat', 'string'],
  ['pruneFilters', 'stringList'],
  ['proxies', 'proxies'],
  ['experimental', 'string'],
  ['currentContext', 'string'],
  ['cliPluginsExtraDirs', 'stringList'],
  ['plugins', 'plugins'],
  ['aliases', 'stringMap'],
  ['features', 'stringMap'],
] as const;
const AUTH_FIELDS = ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const;
const PROXY_FIELDS = ['httpProxy', 'httpsProxy', 'noProxy', 'ftpProxy', 'allProxy'] as const;

/** A loaded `config.json`: the known fields only (docker/cli drops the others when it saves). */
interface DockerConfigFile {
  auths: Map<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Map<string, string>;
  /** Every known field but `auths`, by JSON name. */
  readonly other: Map<string, unknown>;
}

/** The struct field `key` decodes into: an exact name first, else one equal ignoring case (as Go's encoding/json). */
function fieldFor<T extends string>(names: readonly T[], key: string): T | undefined {
  return names.find((n) => n === key) ?? names.find((n) => n.toLowerCase() === key.toLowerCase());
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function expect<T>(ok: boolean, value: unknown, where: string, kind: string): T {
  if (!ok) throw fail('BAD_INPUT', `docker config.json: ${where} is not ${kind}`);
  return value as T;
}

function stringMap(v: unknown, where: string, into = new Map<string, string>()): Map<string, string> {
  for (const [k, s] of Object.entries(expect<Record<string, unknown>>(isObject(v), v, where, 'an object'))) {
    if (s === null) continue;
    into.set(k, expect<string>(typeof s === 'string', s, `${where}[${JSON.stringify(k)}]`, 'a string'));
  }
  return into;
}

function struct(v: unknown, names: readonly string[], where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(expect<Record<string, unknown>>(isObject(v), v, where, 'an object'))) {
    const f = fieldFor(names, k);
    if (f === undefined || s === null) continue;
    out[f] = expect<string>(typeof s === 'string', s, `${where}.${k}`, 'a string');
  }
  return out;
}

/** Read `config.json` as docker/cli's `config.Load` does (a missing or empty file is an empty config). */
async function loadConfig(file: string): Promise<DockerConfigFile> {
  const cfg: DockerConfigFile = { auths: new Map(), other: new Map() };
  let bytes: Buffer;
  try {
    bytes = await readFileLimited(file, MAX_CONFIG_FILE_BYTES, 'docker config.json');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return cfg;
    if (isCosignError(e)) throw e;
    throw fail('IO_ERROR', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (bytes.toString('utf8').trim() === '') return cfg;
  const doc = parseJson(bytes, `docker config.json (${file})`);
  if (!isObject(doc)) throw fail('BAD_INPUT', `docker config.json (${file}) is not a JSON object`);
  const names = FIELDS.map(([n]) => n);
  for (const [key, value] of Object.entries(doc)) {
    const name = fieldFor(names, key);
    if (name === undefined || value === null) continue;
    const kind = FIELDS.find(([n]) => n === name)?.[1];
    switch (kind) {
      case 'auths':
        for (const [addr, entry] of Object.entries(expect<Record<string, unknown>>(isObject(value), value, 'auths', 'an object'))) {
          cfg.auths.set(addr, decodeEntry(entry === null ? {} : struct(entry, AUTH_FIELDS, `auths[${JSON.stringify(addr)}]`), addr));
        }
        break;
      case 'string': {
        const s = expect<string>(typeof value === 'string', value, name, 'a string');
        if (name === 'credsStore') cfg.credsStore = s;
        else cfg.other.set(name, s);
        break;
      }
      case 'stringMap': {
        if (name === 'credHelpers') cfg.credHelpers = stringMap(value, name, cfg.credHelpers);
        else cfg.other.set(name, stringMap(value, name, cfg.other.get(name) as Map<string, string> | undefined));
        break;
      }
      case 'stringList': {
        const list = expect<unknown[]>(Array.isArray(value), value, name, 'an array');
        cfg.other.set(
          name,
          list.map((s, i) => (s === null ? '' : expect<string>(typeof s === 'string', s, `${name}[${i}]`, 'a string'))),
        );
        break;
      }
      case 'proxies': {
        const m = (cfg.other.get(name) as Map<string, Record<string, string>> | undefined) ?? new Map<string, Record<string, string>>();
        for (const [k, p] of Object.entries(expect<Record<string, unknown>>(isObject(value), value, name, 'an object'))) {
          m.set(k, p === null ? {} : struct(p, PROXY_FIELDS, `proxies[${JSON.stringify(k)}]`));
        }
        cfg.other.set(name, m);
        break;
      }
      case 'plugins': {
        const m = (cfg.other.get(name) as Map<string, Map<string, string>> | undefined) ?? new Map<string, Map<string, string>>();
        for (const [k, p] of Object.entries(expect<Record<string, unknown>>(isObject(value), value, name, 'an object'))) {
          if (p === null) m.set(k, new Map());
          else m.set(k, stringMap(p, `plugins[${JSON.stringify(k)}]`));
        }
        cfg.other.set(name, m);
        break;
      }
    }
  }
  return cfg;
}

/** docker/cli's `decodeAuth`: `auth` is base64 of `user:password`, and replaces `username`/`password`. */
function decodeEntry(raw: Record<string, string>, addr: string): AuthEntry {
  const { auth, serveraddress: _server, ...entry } = raw as Record<string, string> & { auth?: string; serveraddress?: string };
  if (auth === undefined || auth === '') return entry;
  const where = `docker config.json auths[${JSON.stringify(addr)}].auth`;
  const decoded = decodeBase64Strict(auth, where).toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw fail('BAD_INPUT', `${where}: invalid auth configuration file (not user:password)`);
  return { ...entry, username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/^\0+|\0+$/g, '') };
}

/** The bytes docker/cli's `SaveToWriter` writes for `cfg`. */
function encodeConfig(cfg: DockerConfigFile): string {
  const str = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);
  const map = <V>(m: Map<string, V> | undefined, f: (v: V) => GoValue): Map<string, GoValue> | undefined =>
    m === undefined || m.size === 0 ? undefined : new Map([...m].map(([k, v]) => [k, f(v)] as const));
  const auths = new Map<string, GoValue>(
    [...cfg.auths].map(([k, e]) => {
      const auth =
        (e.username ?? '') === '' && (e.password ?? '') === '' ? undefined : Buffer.from(`${e.username ?? ''}:${e.password ?? ''}`, 'utf8').toString('base64');
      return [k, goStruct(['auth', auth], ['email', str(e.email)], ['identitytoken', str(e.identitytoken)], ['registrytoken', str(e.registrytoken)])] as const;
    }),
  );
  const fields: Array<readonly [string, GoValue]> = FIELDS.map(([name, kind]): readonly [string, GoValue] => {
    if (name === 'auths') return [name, auths];
    if (name === 'credsStore') return [name, str(cfg.credsStore)];
    if (name === 'credHelpers') return [name, map(cfg.credHelpers, (v) => v)];
    const v = cfg.other.get(name);
    switch (kind) {
      case 'string':
        return [name, str(v as string | undefined)];
      case 'stringMap': {
        const m = v as Map<string, string> | undefined;
        // The User-Agent header is set by the client and never saved.
        return [name, map(name === 'HttpHeaders' && m !== undefined ? new Map([...m].filter(([k]) => k.toLowerCase() !== 'user-agent')) : m, (s) => s)];
      }
      case 'stringList': {
        const l = v as string[] | undefined;
        return [name, l === undefined || l.length === 0 ? undefined : l];
      }
      case 'proxies':
        return [name, map(v as Map<string, Record<string, string>> | undefined, (p) => goStruct(...PROXY_FIELDS.map((f) => [f, str(p[f])] as const)))];
      default:
        return [name, map(v as Map<string, Map<string, string>> | undefined, (p) => p)];
    }
  });
  return goMarshalIndent(goStruct(...fields) as GoStruct, '\t');
}

/** Write `config.json` atomically: a temporary file (0600) in the same folder, renamed over it (or over a symlink's target). */
async function saveConfig(file: string, cfg: DockerConfigFile): Promise<void> {
  const dir = path.dirname(file);
  let target = file;
  try {
    target = path.resolve(dir, await readlink(file));
  } catch {
    // not a symlink
  }
  const temp = path.join(path.dirname(target), `${path.basename(file)}${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fh = await open(temp, 'wx', 0o600);
    try {
      await fh.writeFile(encodeConfig(cfg));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined);
    if (isCosignError(e)) throw e;
    throw fail('IO_ERROR', `writing ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** `docker-credential-<helper> store` with the credentials as JSON on stdin (docker-credential-helpers' client). */
function helperStore(
  helper: string,
  creds: { ServerURL: string; Username: string; Secret: string },
  secret: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal | undefined,
): Promise<void> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = nodeChildProcess().execFile(
      program,
      ['store'],
      { timeout: 30_000, maxBuffer: 64 * 1024, env, ...(signal === undefined ? {} : { signal }) },
      (err, stdout) => {
        if (err === null) return resolve();
        // The helper's output is shown as docker shows it, unless it repeats the secret.
        const out = String(stdout).trim();
        const quoted = [secret, goMarshal(secret).slice(1, -1), JSON.stringify(secret).slice(1, -1)];
        const shown = secret !== '' && quoted.some((q) => out.includes(q)) ? '<redacted>' : out;
        const code = (err as { code?: unknown }).code;
        // Go's messages; never the helper's stderr, which Node puts in err.message.
        const why =
          code === 'ENOENT'
            ? `exec: "${program}": executable file not found in $PATH`
            : typeof code === 'number'
              ? `exit status ${code}`
              : err.killed
                ? 'signal: killed'
                : String(code ?? 'error');
        reject(fail('IO_ERROR', `error storing credentials - err: ${why}, out: \`${shown}\``, { details: { helper } }));
      },
    );
    child.stdin?.on('error', () => undefined);
    // json.NewEncoder: compact, HTML-escaped, with a newline.
    child.stdin?.end(`${goMarshal(goStruct(['ServerURL', creds.ServerURL], ['Username', creds.Username], ['Secret', creds.Secret]))}\n`);
  });
}
