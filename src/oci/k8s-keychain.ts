/**
 * The Kubernetes keychain, as go-containerregistry's `k8schain` builds it: the image pull secrets of a
 * pod (its own `imagePullSecrets` and its service account's), read through the Kubernetes API with
 * `@kubernetes/client-node` (an optional peer, loaded on first use) or from mounted files, matched to
 * registries the way the kubelet matches them; then Docker's `config.json` and the cloud keychains.
 *
 * cosign's `--k8s-keychain` is {@link k8sNoClientKeychain} (k8schain's `NewNoClient`: no cluster, so no
 * pull secrets). An admission webhook calls {@link k8sKeychain} with the pod's namespace, service
 * account and pull secrets.
 *
 * @module
 */
import { fail, isCosignError } from '../errors.js';
import { decodeBase64Strict } from '../encoding.js';
import { schema } from '../internal/deps.js';
import { MAX_CONFIG_FILE_BYTES, readFileLimited } from '../internal/read-file.js';
import { parseJson } from '../json/strict.js';
import { cloudKeychain, type CloudKeychainsOptions } from './cloud-keychains.js';
import { chainKeychains, dockerConfigKeychain, type Credentials, type Keychain } from './keychain.js';

/** The secret types whose contents are registry credentials. */
export const DOCKER_CONFIG_JSON_SECRET = 'kubernetes.io/dockerconfigjson';
/** The legacy `~/.dockercfg` secret type. */
export const DOCKER_CFG_SECRET = 'kubernetes.io/dockercfg';

/** Options of {@link k8sNoClientKeychain}. */
export interface K8sNoClientKeychainOptions extends CloudKeychainsOptions {
  /** Docker config folder (default `DOCKER_CONFIG`, else `~/.docker`). */
  readonly dockerConfigDir?: string;
}

/** Options of {@link k8sKeychain}. */
export interface K8sKeychainOptions extends K8sNoClientKeychainOptions {
  /** The pod's namespace. Default `default`. */
  readonly namespace?: string;
  /** The pod's service account, whose `imagePullSecrets` are used. Default `default`; `''`: none. */
  readonly serviceAccount?: string;
  /** The pod's own `imagePullSecrets` (secret names in {@link namespace}). */
  readonly imagePullSecrets?: ReadonlyArray<string>;
  /**
   * Mounted pull secrets: paths of files holding a `.dockerconfigjson` (`{"auths": …}`) or a
   * `.dockercfg` document (a secret volume's key files). Read without the Kubernetes API.
   */
  readonly secretFiles?: ReadonlyArray<string>;
  /** A kubeconfig document (YAML). Default: `KUBECONFIG`, `~/.kube/config`, else the in-cluster configuration. */
  readonly kubeconfig?: string;
  /** Path of a kubeconfig file. */
  readonly kubeconfigPath?: string;
  /** The kubeconfig context. Default: its current context. */
  readonly context?: string;
  /**
   * Do not talk to the Kubernetes API (only {@link secretFiles}); the default when neither a service
   * account nor pull secret names are given.
   */
  readonly noApi?: boolean;
}

/**
 * cosign's `--k8s-keychain` (go-containerregistry `k8schain.NewNoClient`): Docker's `config.json`, then
 * Google, ECR, ACR and GitHub. No Kubernetes API calls.
 */
export function k8sNoClientKeychain(options: K8sNoClientKeychainOptions = {}): Keychain {
  return chainKeychains(dockerConfigKeychain(options.dockerConfigDir === undefined ? {} : { configDir: options.dockerConfigDir }), cloudKeychain(options));
}

/**
 * go-containerregistry's `k8schain.New`: the pull secrets of {@link K8sKeychainOptions.imagePullSecrets}
 * and of the service account (read now, through the Kubernetes API), and {@link K8sKeychainOptions.secretFiles},
 * then {@link k8sNoClientKeychain}. Secrets that do not exist are skipped (as the kubelet does); other
 * API failures are errors. Secrets of other types than `kubernetes.io/dockerconfigjson` and
 * `kubernetes.io/dockercfg` are ignored.
 * @throws CosignError `REGISTRY_UNAUTHORIZED` (the API refused), `REGISTRY_UNAVAILABLE` (network),
 *   `BAD_INPUT` (a pull secret does not parse), `KMS_SDK_MISSING` (`@kubernetes/client-node` not installed).
 */
export async function k8sKeychain(options: K8sKeychainOptions = {}): Promise<Keychain> {
  const entries: PullSecretEntry[] = [];
  for (const file of options.secretFiles ?? []) {
    let bytes: Buffer;
    try {
      bytes = (await readFileLimited(file, MAX_CONFIG_FILE_BYTES, 'pull secret file')) as Buffer;
    } catch (e) {
      if (isCosignError(e)) throw e;
      throw fail('IO_ERROR', `cannot read pull secret file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    entries.push(...parsePullSecret(bytes, undefined, `pull secret file ${file}`));
  }
  const names = [...(options.imagePullSecrets ?? [])];
  const serviceAccount = options.serviceAccount ?? 'default';
  const useApi = options.noApi !== true && (names.length > 0 || serviceAccount !== '' || options.namespace !== undefined);
  if (useApi) entries.push(...(await readPullSecrets(options, names, serviceAccount)));
  return chainKeychains(pullSecretKeychain(entries), k8sNoClientKeychain(options));
}

/** One registry entry of a pull secret. */
export interface PullSecretEntry {
  /** The key as written (`registry.example`, `https://index.docker.io/v1/`, `*.example.com/team`). */
  readonly key: string;
  /** The credentials. */
  readonly credentials: Credentials;
}

const AuthEntrySchema = schema((z) =>
  z
    .object({
      auth: z.string().optional(),
      username: z.string().optional(),
      password: z.string().optional(),
      identitytoken: z.string().optional(),
      registrytoken: z.string().optional(),
    })
    .loose(),
);
const DockerCfgSchema = schema((z) => z.record(z.string(), AuthEntrySchema()));
const DockerConfigJsonSchema = schema((z) => z.object({ auths: DockerCfgSchema() }).loose());

/**
 * The registry entries of a pull secret's document: `.dockerconfigjson` (`{"auths": {…}}`) or
 * `.dockercfg` (the map itself); `type` picks one (`undefined`: either, by shape).
 * @throws CosignError `BAD_INPUT` naming `what` (never the secret's contents).
 */
export function parsePullSecret(
  bytes: Uint8Array,
  type: typeof DOCKER_CONFIG_JSON_SECRET | typeof DOCKER_CFG_SECRET | undefined,
  what: string,
): PullSecretEntry[] {
  const doc = parseJson(bytes, what);
  const isJson = type === DOCKER_CONFIG_JSON_SECRET || (type === undefined && typeof doc === 'object' && doc !== null && 'auths' in doc);
  const parsed = isJson ? DockerConfigJsonSchema().safeParse(doc) : DockerCfgSchema().safeParse(doc);
  if (!parsed.success) throw fail('BAD_INPUT', `${what}: not a ${isJson ? '.dockerconfigjson' : '.dockercfg'} document`);
  const map = ('auths' in parsed.data && typeof parsed.data.auths === 'object' ? parsed.data.auths : parsed.data) as Record<
    string,
    {
      auth?: string | undefined;
      username?: string | undefined;
      password?: string | undefined;
      identitytoken?: string | undefined;
      registrytoken?: string | undefined;
    }
  >;
  const out: PullSecretEntry[] = [];
  for (const [key, e] of Object.entries(map)) {
    let credentials: Credentials | undefined;
    if (e.identitytoken) credentials = { identityToken: e.identitytoken };
    else if (e.registrytoken) credentials = { registryToken: e.registrytoken };
    else if (e.username !== undefined && e.username !== '') credentials = { username: e.username, password: e.password ?? '' };
    else if (e.auth) {
      const decoded = decodeBase64Strict(e.auth, `${what}: auth of ${JSON.stringify(key)}`).toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw fail('BAD_INPUT', `${what}: auth of ${JSON.stringify(key)} is not user:password`);
      credentials = { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
    }
    if (credentials !== undefined) out.push({ key, credentials });
  }
  return out;
}

interface ParsedKey {
  readonly host: string;
  readonly port: string;
  readonly path: string;
}

/** A key or a `registry/repository` as the kubelet parses it: scheme and trailing `/` dropped; Docker Hub's names unified. */
function parseKey(key: string): ParsedKey {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '');
  k = k.replace(/\/+$/, '');
  const slash = k.indexOf('/');
  const hostPort = slash < 0 ? k : k.slice(0, slash);
  let path = slash < 0 ? '' : k.slice(slash + 1);
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(hostPort);
  let host = (m?.[1] ?? hostPort).toLowerCase();
  const port = m?.[2] ?? '';
  if (host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io') {
    host = 'index.docker.io';
    if (path === 'v1' || path === 'v2') path = '';
  }
  return { host, port, path };
}

/** Whether a key's host glob (`*` within one label, as the kubelet's `filepath.Match` per label) matches. */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.split('.');
  const h = host.split('.');
  if (p.length !== h.length) return false;
  return p.every((label, i) => {
    if (!label.includes('*')) return label === h[i];
    const re = new RegExp(
      `^${label
        .split('*')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^.]*')}$`,
    );
    return re.test(h[i] as string);
  });
}

/**
 * A keychain over pull secret entries, matched as the kubelet's keyring does: the key's host (with
 * `*` globs per label) and port equal the registry's, and its path is a prefix of the repository; the
 * most specific key (the longest path, then reverse lexical order) wins.
 */
export function pullSecretKeychain(entries: ReadonlyArray<PullSecretEntry>): Keychain {
  const sorted = entries
    .map((e) => ({ ...e, parsed: parseKey(e.key) }))
    .filter((e) => e.parsed.host !== '')
    .sort((a, b) => b.parsed.path.length - a.parsed.path.length || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  return {
    async resolve(registry, repository) {
      if (sorted.length === 0) return undefined;
      const target = parseKey(`${registry}/${repository ?? ''}`);
      for (const e of sorted) {
        if (e.parsed.port !== target.port || !hostMatches(e.parsed.host, target.host)) continue;
        if (e.parsed.path !== '' && !(target.path === e.parsed.path || target.path.startsWith(`${e.parsed.path}/`))) continue;
        return e.credentials;
      }
      return undefined;
    },
  };
}

// --- the Kubernetes API -------------------------------------------------------------------------

interface K8sApi {
  readNamespacedSecret(p: { name: string; namespace: string }): Promise<{ type?: string; data?: Record<string, string> }>;
  readNamespacedServiceAccount(p: { name: string; namespace: string }): Promise<{ imagePullSecrets?: { name?: string }[] }>;
}

/** The HTTP status of a client-node error, if any. */
function statusOf(e: unknown): number | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? c : undefined;
}

function apiError(e: unknown, what: string): Error {
  if (isCosignError(e)) return e;
  const status = statusOf(e);
  if (status === 401 || status === 403)
    return fail('REGISTRY_UNAUTHORIZED', `Kubernetes API: reading ${what} was denied (HTTP ${status})`, { details: { status } });
  if (status !== undefined) return fail('REGISTRY_ERROR', `Kubernetes API: reading ${what} failed (HTTP ${status})`, { details: { status } });
  const code = (e as { code?: unknown; cause?: { code?: unknown } } | null)?.cause?.code ?? (e as { code?: unknown } | null)?.code;
  return fail(
    'REGISTRY_UNAVAILABLE',
    `Kubernetes API: reading ${what}: ${typeof code === 'string' ? code : ((e as Error)?.message ?? String(e)).split('\n')[0]}`,
    {
      cause: e,
    },
  );
}

async function readPullSecrets(options: K8sKeychainOptions, names: string[], serviceAccount: string): Promise<PullSecretEntry[]> {
  const namespace = options.namespace ?? 'default';
  let k8s: typeof import('@kubernetes/client-node');
  try {
    k8s = await import('@kubernetes/client-node');
  } catch {
    throw fail('KMS_SDK_MISSING', 'the optional package @kubernetes/client-node is not installed; install it with `npm install @kubernetes/client-node`', {
      details: { package: '@kubernetes/client-node' },
    });
  }
  let api: K8sApi;
  try {
    const kc = new k8s.KubeConfig();
    if (options.kubeconfig !== undefined) kc.loadFromString(options.kubeconfig);
    else if (options.kubeconfigPath !== undefined) kc.loadFromFile(options.kubeconfigPath);
    else kc.loadFromDefault();
    if (options.context !== undefined) kc.setCurrentContext(options.context);
    api = kc.makeApiClient(k8s.CoreV1Api) as unknown as K8sApi;
  } catch (e) {
    throw fail('USAGE', `Kubernetes configuration: ${((e as Error)?.message ?? String(e)).split('\n')[0]}`);
  }
  const all = [...names];
  if (serviceAccount !== '') {
    try {
      const sa = await api.readNamespacedServiceAccount({ name: serviceAccount, namespace });
      for (const s of sa.imagePullSecrets ?? []) if (s.name !== undefined && s.name !== '') all.push(s.name);
    } catch (e) {
      // A service account that does not exist (yet) has no pull secrets, as for the kubelet.
      if (statusOf(e) !== 404) throw apiError(e, `service account ${namespace}/${serviceAccount}`);
    }
  }
  const out: PullSecretEntry[] = [];
  for (const name of [...new Set(all)]) {
    let secret: { type?: string; data?: Record<string, string> };
    try {
      secret = await api.readNamespacedSecret({ name, namespace });
    } catch (e) {
      if (statusOf(e) === 404) continue;
      throw apiError(e, `secret ${namespace}/${name}`);
    }
    const what = `pull secret ${namespace}/${name}`;
    if (secret.type === DOCKER_CONFIG_JSON_SECRET && secret.data?.['.dockerconfigjson'] !== undefined) {
      out.push(...parsePullSecret(decodeBase64Strict(secret.data['.dockerconfigjson'], what), DOCKER_CONFIG_JSON_SECRET, what));
    } else if (secret.type === DOCKER_CFG_SECRET && secret.data?.['.dockercfg'] !== undefined) {
      out.push(...parsePullSecret(decodeBase64Strict(secret.data['.dockercfg'], what), DOCKER_CFG_SECRET, what));
    }
  }
  return out;
}
