/**
 * Native keychains of the cloud registries, as go-containerregistry's `k8schain` and cosign's
 * `--k8s-keychain` use them: AWS ECR (`@aws-sdk/client-ecr` `GetAuthorizationToken`), Google Artifact
 * Registry and GCR (an access token from `google-auth-library`), Azure ACR (an Azure AD token from
 * `@azure/identity` exchanged at the registry's `/oauth2/exchange` for a refresh token) and GitHub's
 * ghcr.io (`GITHUB_TOKEN`). Each answers only for the hosts of its cloud (matched by pattern on the host
 * name, the port ignored) and loads its SDK, an optional peer dependency, on first use.
 *
 * A keychain that cannot get credentials (SDK not installed, no cloud identity, the token service
 * refused) reports the error to `onError` and answers "anonymous", as go-containerregistry's helper
 * keychains do, so public images (gcr.io/distroless, say) stay readable; `strict: true` throws instead.
 *
 * @module
 */
import type { AzureTokenCredential } from '../kms/azure.js';
import { type CosignError, fail, isCosignError } from '../errors.js';
import { decodeBase64Strict } from '../encoding.js';
import { parseJson } from '../json/strict.js';
import { schema } from '../internal/deps.js';
import { chainKeychains, type Credentials, type Keychain, type KeychainContext } from './keychain.js';

export type { AzureTokenCredential };

/** Options every cloud keychain takes. */
export interface CloudKeychainOptions {
  /**
   * Called with the reason when credentials for a matching registry could not be had (the keychain then
   * answers anonymous). Messages never hold tokens.
   */
  readonly onError?: (error: CosignError) => void;
  /** Throw instead of answering anonymous when credentials for a matching registry could not be had. */
  readonly strict?: boolean;
}

/** Host name of `host[:port]` (IPv6 brackets kept), lower-cased. */
function hostname(registry: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(registry);
  return (m?.[1] ?? registry).toLowerCase();
}

// amazon-ecr-credential-helper's pattern (ecr-login/api/client.go): account, FIPS, region, partition domain.
const ECR_RE =
  /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;

/** The ECR registry named by `registry` (`host[:port]`): account, region and FIPS, or undefined when it is not ECR. */
export function parseEcrRegistry(registry: string): { readonly accountId: string; readonly region: string; readonly fips: boolean } | undefined {
  const m = ECR_RE.exec(hostname(registry));
  if (m === null) return undefined;
  return { accountId: m[1] as string, region: m[3] as string, fips: m[2] === '-fips' };
}

/** Whether `registry` is Google's: `gcr.io`, `*.gcr.io`, `*.pkg.dev` (Artifact Registry), `*.google.com` (as go-containerregistry's `google.Keychain`). */
export function isGoogleRegistry(registry: string): boolean {
  const h = hostname(registry);
  return h === 'gcr.io' || /^[^.]+(\.[^.]+)*\.(gcr\.io|pkg\.dev|google\.com)$/.test(h);
}

const ACR_RE = /^[a-z0-9][a-z0-9-_]*(\.[a-z0-9-]+)?\.azurecr\.(io|cn|de|us)$/;

/**
 * Whether `registry` is an Azure Container Registry: `NAME.azurecr.io` and the sovereign clouds'
 * `azurecr.cn`, `azurecr.de`, `azurecr.us` (a geo-replica `NAME.REGION.azurecr.io` too). Anchored: unlike
 * some helpers' unanchored pattern, `x.azurecr.io.example.com` does not match.
 */
export function isAcrRegistry(registry: string): boolean {
  return ACR_RE.test(hostname(registry));
}

/** Whether `registry` is GitHub's container registry (`ghcr.io`). */
export function isGithubRegistry(registry: string): boolean {
  return hostname(registry) === 'ghcr.io';
}

// --- optional SDKs --------------------------------------------------------------------------------

const sdkCache = new Map<string, Promise<unknown>>();

/** Import an optional SDK once; `KMS_SDK_MISSING` (the optional-peer code) naming the package when it is not installed. */
async function loadSdk<T>(pkg: string, importer: () => Promise<T>): Promise<T> {
  let p = sdkCache.get(pkg) as Promise<T> | undefined;
  if (p === undefined) {
    p = importer();
    sdkCache.set(pkg, p);
    p.catch(() => sdkCache.delete(pkg));
  }
  try {
    return await p;
  } catch (e) {
    const message = (e as { message?: unknown } | null)?.message;
    const missing = typeof message === 'string' && /Cannot find (module|package)/.test(message) && message.includes(pkg);
    throw fail('KMS_SDK_MISSING', `the optional package ${pkg} is ${missing ? 'not installed' : 'not loadable'}; install it with \`npm install ${pkg}\``, {
      details: { package: pkg },
    });
  }
}

/** The first line of an error's message, without anything that looks like a token. */
function reason(e: unknown): string {
  const err = e as { name?: unknown; message?: unknown; code?: unknown } | null;
  const msg = typeof err?.message === 'string' ? (err.message.split('\n')[0] ?? '') : String(e);
  const name = typeof err?.name === 'string' && err.name !== 'Error' ? `${err.name}: ` : '';
  return `${name}${msg}`.replace(/[A-Za-z0-9_\-.~+/]{40,}=*/g, '<redacted>').slice(0, 300);
}

/** How long a registry whose credentials could not be had is answered anonymously without asking again. */
export const CLOUD_FAILURE_BACKOFF_MS = 30_000;

/**
 * Runs `get` for a matching registry; a failure goes to `onError` (anonymous) or is thrown (`strict`).
 * Outside strict mode a failure is remembered per registry in `failed` for {@link CLOUD_FAILURE_BACKOFF_MS}:
 * a batch of images on a registry whose token service refuses costs one call, not one per image.
 */
async function guarded(
  options: CloudKeychainOptions,
  failed: Map<string, number>,
  registry: string,
  get: () => Promise<Credentials | undefined>,
): Promise<Credentials | undefined> {
  if (options.strict !== true && (failed.get(registry) ?? 0) > Date.now()) return undefined;
  try {
    return await get();
  } catch (e) {
    const error = isCosignError(e) ? e : fail('REGISTRY_UNAUTHORIZED', reason(e), { cause: e });
    if (options.strict === true) throw error;
    failed.set(registry, Date.now() + CLOUD_FAILURE_BACKOFF_MS);
    options.onError?.(error);
    return undefined;
  }
}

/** A value cached until a deadline, fetched once at a time. */
class Cache<T> {
  readonly #entries = new Map<string, { value: T; until: number } | Promise<{ value: T; until: number }>>();
  async get(key: string, fetch: () => Promise<{ value: T; until: number }>): Promise<T> {
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      const v = await hit;
      if (v.until > Date.now()) return v.value;
    }
    const p = fetch();
    this.#entries.set(key, p);
    try {
      const v = await p;
      this.#entries.set(key, v);
      return v.value;
    } catch (e) {
      this.#entries.delete(key);
      throw e;
    }
  }
}

// --- AWS ECR --------------------------------------------------------------------------------------

/** Options of {@link ecrKeychain}. */
export interface EcrKeychainOptions extends CloudKeychainOptions {
  /**
   * Extra `ECRClient` configuration, merged over `{ region, useFipsEndpoint }` (from the registry's host):
   * `credentials`, `endpoint`, `requestHandler`, `maxAttempts`… Default: the SDK's credential chain
   * (environment, shared config, SSO, web identity (EKS IRSA), container and instance metadata).
   */
  readonly clientConfig?: Readonly<Record<string, unknown>>;
}

interface EcrSdk {
  ECRClient: new (config: Record<string, unknown>) => { send(command: unknown): Promise<unknown> };
  GetAuthorizationTokenCommand: new (input: { registryIds?: string[] }) => unknown;
}

/**
 * AWS ECR (`ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]` and the other AWS partitions, as
 * amazon-ecr-credential-helper matches them): `GetAuthorizationToken` for the registry's account in its
 * region through `@aws-sdk/client-ecr`, giving `AWS` and a 12-hour password. Tokens are reused until
 * half their lifetime has passed (as the ECR credential helper does), per account, region and FIPS.
 * `public.ecr.aws` is not served (anonymous pulls work there).
 */
export function ecrKeychain(options: EcrKeychainOptions = {}): Keychain {
  const failed = new Map<string, number>();
  const clients = new Map<string, Promise<{ send(command: unknown): Promise<unknown> }>>();
  const tokens = new Cache<Credentials>();
  const client = (region: string, fips: boolean): Promise<{ send(command: unknown): Promise<unknown> }> => {
    const key = `${region}|${fips}`;
    let c = clients.get(key);
    if (c === undefined) {
      c = loadSdk('@aws-sdk/client-ecr', () => import('@aws-sdk/client-ecr') as unknown as Promise<EcrSdk>).then(
        (sdk) => new sdk.ECRClient({ region, ...(fips ? { useFipsEndpoint: true } : {}), ...(options.clientConfig ?? {}) }),
      );
      clients.set(key, c);
      c.catch(() => clients.delete(key));
    }
    return c;
  };
  return {
    async resolve(registry) {
      const ecr = parseEcrRegistry(registry);
      if (ecr === undefined) return undefined;
      return guarded(options, failed, registry, () =>
        tokens.get(`${ecr.accountId}|${ecr.region}|${ecr.fips}`, async () => {
          const sdk = await loadSdk('@aws-sdk/client-ecr', () => import('@aws-sdk/client-ecr') as unknown as Promise<EcrSdk>);
          const requested = Date.now();
          let out: unknown;
          try {
            out = await (await client(ecr.region, ecr.fips)).send(new sdk.GetAuthorizationTokenCommand({ registryIds: [ecr.accountId] }));
          } catch (e) {
            throw fail('REGISTRY_UNAUTHORIZED', `ECR GetAuthorizationToken for ${registry} (account ${ecr.accountId}, ${ecr.region}) failed: ${reason(e)}`, {
              cause: e,
              details: { registry, provider: 'ecr' },
            });
          }
          const data = (out as { authorizationData?: { authorizationToken?: string; expiresAt?: Date | number }[] }).authorizationData?.[0];
          const token = data?.authorizationToken;
          if (token === undefined || token === '')
            throw fail('REGISTRY_ERROR', `ECR GetAuthorizationToken for ${registry}: no authorization data in the answer`, { details: { provider: 'ecr' } });
          let decoded: string;
          try {
            decoded = decodeBase64Strict(token, 'ECR authorization token').toString('utf8');
          } catch {
            throw fail('REGISTRY_ERROR', `ECR GetAuthorizationToken for ${registry}: the authorization token is not base64`, { details: { provider: 'ecr' } });
          }
          const i = decoded.indexOf(':');
          if (i <= 0)
            throw fail('REGISTRY_ERROR', `ECR GetAuthorizationToken for ${registry}: the authorization token is not user:password`, {
              details: { provider: 'ecr' },
            });
          const expires = data?.expiresAt === undefined ? requested + 3600_000 : new Date(data.expiresAt).getTime();
          const until = Number.isFinite(expires) ? requested + Math.max(0, (expires - requested) / 2) : requested;
          return { value: { username: decoded.slice(0, i), password: decoded.slice(i + 1) }, until };
        }),
      );
    },
  };
}

// --- Google ---------------------------------------------------------------------------------------

/** Something that gives OAuth2 access tokens: a `GoogleAuth`, or any of its clients. */
export interface GoogleAccessTokenSource {
  /** A valid access token (refreshed as needed by the source). */
  getAccessToken(): Promise<string | null | undefined | { token?: string | null }>;
}

/** Options of {@link googleKeychain}. */
export interface GoogleKeychainOptions extends CloudKeychainOptions {
  /** Where tokens come from. Default: `new GoogleAuth({ scopes: cloud-platform })` (Application Default Credentials). */
  readonly auth?: GoogleAccessTokenSource;
}

/** The OAuth2 scope go-containerregistry asks for. */
const GOOGLE_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * Google Artifact Registry (`*.pkg.dev`) and Container Registry (`gcr.io`, `*.gcr.io`): an access token
 * from Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's ADC file, the GKE /
 * GCE metadata server) through `google-auth-library`, as user `oauth2accesstoken`. google-auth-library
 * caches and refreshes the token itself.
 */
export function googleKeychain(options: GoogleKeychainOptions = {}): Keychain {
  const failed = new Map<string, number>();
  let source: Promise<GoogleAccessTokenSource> | undefined;
  const auth = (): Promise<GoogleAccessTokenSource> => {
    if (options.auth !== undefined) return Promise.resolve(options.auth);
    source ??= loadSdk('google-auth-library', () => import('google-auth-library')).then((g) => new g.GoogleAuth({ scopes: GOOGLE_SCOPE }));
    source.catch(() => {
      source = undefined;
    });
    return source;
  };
  return {
    async resolve(registry) {
      if (!isGoogleRegistry(registry)) return undefined;
      return guarded(options, failed, registry, async () => {
        const a = await auth();
        let t: Awaited<ReturnType<GoogleAccessTokenSource['getAccessToken']>>;
        try {
          t = await a.getAccessToken();
        } catch (e) {
          throw fail('REGISTRY_UNAUTHORIZED', `Google access token for ${registry}: ${reason(e)}`, { cause: e, details: { registry, provider: 'google' } });
        }
        const token = typeof t === 'string' ? t : (t?.token ?? undefined);
        if (token === undefined || token === null || token === '')
          throw fail('REGISTRY_UNAUTHORIZED', `Google access token for ${registry}: none given`, { details: { registry, provider: 'google' } });
        return { username: 'oauth2accesstoken', password: token };
      });
    },
  };
}

// --- Azure ACR ------------------------------------------------------------------------------------

/** Options of {@link acrKeychain}. */
export interface AcrKeychainOptions extends CloudKeychainOptions {
  /**
   * The Azure AD credential. Default: `new DefaultAzureCredential()` from `@azure/identity` (environment
   * service principal, AKS workload identity, managed identity, Azure CLI…).
   */
  readonly credential?: AzureTokenCredential;
  /** Scope of the Azure AD token. Default `https://management.azure.com/.default` (what ACR's exchange accepts). */
  readonly scope?: string;
  /** Tenant sent to the exchange. Default: `AZURE_TENANT_ID`, else the token's `tid` claim. */
  readonly tenantId?: string;
}

const ExchangeSchema = schema((z) => z.object({ refresh_token: z.string().min(1) }));
const JwtClaimsSchema = schema((z) => z.object({ exp: z.number().optional(), tid: z.string().optional() }).loose());

/** The claims of a JWT, unverified (hints only: expiry and tenant), or undefined. */
function jwtClaims(token: string): { exp?: number | undefined; tid?: string | undefined } | undefined {
  const part = token.split('.')[1];
  if (part === undefined || part.length > 64 * 1024) return undefined;
  try {
    const parsed = JwtClaimsSchema().safeParse(parseJson(Buffer.from(part, 'base64url'), 'JWT claims'));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Azure Container Registry (`NAME.azurecr.io`, `.cn`, `.de`, `.us`): ACR's documented Azure AD flow. An
 * Azure AD access token (from `@azure/identity`) is exchanged at `https://REGISTRY/oauth2/exchange`
 * (`grant_type=access_token`) for an ACR refresh token, which the client then trades for repository-scoped
 * access tokens (the identity-token grant, as docker and go-containerregistry do with user `<token>`).
 * The exchange goes through the registry client's transport (its TLS settings); refresh tokens are reused
 * until shortly before they or the Azure AD token expire.
 */
export function acrKeychain(options: AcrKeychainOptions = {}): Keychain {
  const failed = new Map<string, number>();
  let credential: Promise<AzureTokenCredential> | undefined;
  const refresh = new Cache<Credentials>();
  const cred = (): Promise<AzureTokenCredential> => {
    if (options.credential !== undefined) return Promise.resolve(options.credential);
    credential ??= loadSdk('@azure/identity', () => import('@azure/identity')).then((id) => new id.DefaultAzureCredential() as unknown as AzureTokenCredential);
    credential.catch(() => {
      credential = undefined;
    });
    return credential;
  };
  return {
    async resolve(registry, _repository, context) {
      if (!isAcrRegistry(registry)) return undefined;
      return guarded(options, failed, registry, () =>
        refresh.get(registry, async () => {
          const scope = options.scope ?? 'https://management.azure.com/.default';
          let aad: { token: string; expiresOnTimestamp: number } | null;
          try {
            aad = await (await cred()).getToken(scope);
          } catch (e) {
            if (isCosignError(e)) throw e;
            throw fail('REGISTRY_UNAUTHORIZED', `Azure AD token for ${registry}: ${reason(e)}`, { cause: e, details: { registry, provider: 'acr' } });
          }
          if (aad === null || aad.token === '')
            throw fail('REGISTRY_UNAUTHORIZED', `Azure AD token for ${registry}: none given`, { details: { provider: 'acr' } });
          const tenant = options.tenantId ?? process.env.AZURE_TENANT_ID ?? jwtClaims(aad.token)?.tid;
          const form = new URLSearchParams({ grant_type: 'access_token', service: hostname(registry), access_token: aad.token, ...(tenant ? { tenant } : {}) });
          const url = new URL(`${context?.scheme ?? 'https'}://${registry}/oauth2/exchange`);
          const send = context?.request ?? (await standaloneRequest());
          const res = await send({
            method: 'POST',
            url,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: Buffer.from(form.toString()),
            maxBytes: 1024 * 1024,
          });
          if (res.status === 401 || res.status === 403)
            throw fail('REGISTRY_UNAUTHORIZED', `ACR token exchange at ${url.origin}/oauth2/exchange was refused (HTTP ${res.status})`, {
              details: { status: res.status, provider: 'acr' },
            });
          if (res.status !== 200)
            throw fail('REGISTRY_ERROR', `ACR token exchange at ${url.origin}/oauth2/exchange failed (HTTP ${res.status})`, {
              details: { status: res.status, provider: 'acr' },
            });
          const parsed = ExchangeSchema().safeParse(parseJson(res.body, 'ACR exchange response', 'REGISTRY_ERROR'));
          if (!parsed.success) throw fail('REGISTRY_ERROR', `ACR token exchange at ${url.origin}/oauth2/exchange: no refresh_token in the answer`);
          const now = Date.now();
          const exp = jwtClaims(parsed.data.refresh_token)?.exp;
          const ends = Math.min(aad.expiresOnTimestamp > now ? aad.expiresOnTimestamp : now + 3600_000, exp === undefined ? now + 3 * 3600_000 : exp * 1000);
          return { value: { identityToken: parsed.data.refresh_token }, until: ends - 5 * 60_000 };
        }),
      );
    },
  };
}

/** For a keychain used without a registry client: a transport of its own (default TLS settings). */
async function standaloneRequest(): Promise<KeychainContext['request']> {
  const { Transport } = await import('./transport.js');
  const t = (standaloneTransport ??= new Transport());
  return (r) => t.request({ ...r, sameOriginRedirectsOnly: true });
}
let standaloneTransport: import('./transport.js').Transport | undefined;

// --- GitHub ---------------------------------------------------------------------------------------

/** Options of {@link githubKeychain}. */
export interface GithubKeychainOptions {
  /** Environment to read `GITHUB_TOKEN` and `GITHUB_ACTOR` from. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * ghcr.io from `GITHUB_TOKEN` (user `GITHUB_ACTOR`, else `unset`), as go-containerregistry's
 * `github.Keychain` (part of cosign's `--k8s-keychain`). Anonymous when `GITHUB_TOKEN` is not set.
 */
export function githubKeychain(options: GithubKeychainOptions = {}): Keychain {
  return {
    async resolve(registry) {
      if (!isGithubRegistry(registry)) return undefined;
      const env = options.env ?? process.env;
      const token = env.GITHUB_TOKEN ?? '';
      if (token === '') return undefined;
      return { username: env.GITHUB_ACTOR || 'unset', password: token };
    },
  };
}

// --- all of them ----------------------------------------------------------------------------------

/** Options of {@link cloudKeychain}. */
export interface CloudKeychainsOptions extends CloudKeychainOptions {
  /** {@link ecrKeychain}'s options (`onError`/`strict` default to these). */
  readonly ecr?: EcrKeychainOptions;
  /** {@link googleKeychain}'s options. */
  readonly google?: GoogleKeychainOptions;
  /** {@link acrKeychain}'s options. */
  readonly acr?: AcrKeychainOptions;
  /** {@link githubKeychain}'s options. */
  readonly github?: GithubKeychainOptions;
}

/**
 * The cloud keychains in cosign's `--k8s-keychain` order: Google, ECR, ACR, GitHub (each answers only
 * for its own hosts, so at most one of them is asked per registry).
 */
export function cloudKeychain(options: CloudKeychainsOptions = {}): Keychain {
  const common: CloudKeychainOptions = {
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    ...(options.strict === undefined ? {} : { strict: options.strict }),
  };
  return chainKeychains(
    googleKeychain({ ...common, ...(options.google ?? {}) }),
    ecrKeychain({ ...common, ...(options.ecr ?? {}) }),
    acrKeychain({ ...common, ...(options.acr ?? {}) }),
    githubKeychain(options.github ?? {}),
  );
}
