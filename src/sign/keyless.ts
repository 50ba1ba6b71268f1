/**
 * Keyless signing: an OIDC identity token from the CI (or the caller), a short-lived Fulcio certificate for
 * a key held by the signer (an ephemeral P-256 key by default, or any {@link Signer} such as a KMS key), and
 * the witnesses cosign adds: a Rekor entry and an RFC 3161 timestamp. Fulcio, Rekor and the timestamp
 * authority are reached through `@sigstore/sign`'s clients; nothing here speaks their protocols by hand.
 *
 * @module
 */
import { X509Certificate, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { raceAbort, timerDelay } from '../concurrency.js';
import { decodeUtf8Strict } from '../json/strict.js';
import { CosignError, fail } from '../errors.js';
import { sigstoreFulcioCA } from '../internal/deps.js';
import { MAX_TOKEN_FILE_BYTES, readFileLimited } from '../internal/read-file.js';
import type { Signer, SigningCertificate } from '../keys/signer.js';
import { signerFromPrivateKey } from '../keys/file-signer.js';

/** The public-good Fulcio, as cosign's `--fulcio-url` default. */
export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';

/** Default time allowed for one Fulcio, Rekor, timestamp or token call, end to end (retries included). */
export const DEFAULT_SIGSTORE_TIMEOUT_MS = 30_000;

/** The file cosign reads a token from when nothing else gives one (`filesystem` provider). */
export const DEFAULT_TOKEN_FILE = '/var/run/sigstore/cosign/oidc-token';

/** Where {@link resolveIdentityToken} looks for an OIDC token. */
export interface IdentityTokenOptions {
  /**
   * The token, or a path to a file holding it (`--identity-token`, which takes either, as cosign's does).
   * When given it wins over everything else.
   */
  readonly token?: string;
  /** Environment to read (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Audience asked of GitHub Actions (default `sigstore`). */
  readonly audience?: string;
  /** The token file cosign's filesystem provider reads (default {@link DEFAULT_TOKEN_FILE}). */
  readonly tokenFile?: string;
  /** Time allowed to get a token from GitHub Actions (default {@link DEFAULT_SIGSTORE_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
}

async function readTokenFile(path: string): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFileLimited(path, MAX_TOKEN_FILE_BYTES, 'identity token file');
  } catch (e) {
    if (e instanceof CosignError && e.code === 'TOO_LARGE') throw e;
    return undefined;
  }
  return decodeUtf8Strict(bytes, 'identity token file', 'BAD_INPUT').trim();
}

function looksLikeJwt(s: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(s);
}

async function githubActionsToken(env: Readonly<Record<string, string | undefined>>, audience: string, timeoutMs: number): Promise<string | undefined> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw fail('NO_IDENTITY_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
  }
  u.searchParams.append('audience', audience);
  const res = await fetch(u, {
    headers: { Accept: 'application/json', Authorization: `Bearer ${bearer}` },
    signal: AbortSignal.timeout(timerDelay(timeoutMs)),
  }).catch((e: unknown) => {
    throw fail('SIGSTORE_ERROR', `GitHub Actions OIDC token request to ${u.host} failed: ${e instanceof Error ? e.name : 'error'}`);
  });
  const text = await res.text();
  if (!res.ok) throw fail('SIGSTORE_ERROR', `GitHub Actions OIDC token request to ${u.host}: HTTP ${res.status}`);
  if (text.length > MAX_TOKEN_FILE_BYTES) throw fail('TOO_LARGE', 'GitHub Actions OIDC token answer is too large');
  let value: unknown;
  try {
    value = (JSON.parse(text) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || !looksLikeJwt(value)) throw fail('SIGSTORE_ERROR', `GitHub Actions OIDC token answer from ${u.host} holds no token`);
  return value;
}

/**
 * Find the OIDC identity token for keyless signing, in cosign's order: the explicit token (or token file),
 * `SIGSTORE_ID_TOKEN` (also how GitLab CI hands over an `id_tokens` entry named `SIGSTORE_ID_TOKEN`), GitHub
 * Actions (`ACTIONS_ID_TOKEN_REQUEST_URL` / `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, audience `sigstore`), then
 * cosign's token file. There is no interactive browser flow.
 * @throws CosignError `NO_IDENTITY_TOKEN` when none is found; `SIGSTORE_ERROR` when GitHub's endpoint fails.
 */
export async function resolveIdentityToken(options: IdentityTokenOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SIGSTORE_TIMEOUT_MS;
  const explicit = options.token?.trim();
  if (explicit) {
    if (looksLikeJwt(explicit)) return explicit;
    const fromFile = await readTokenFile(explicit);
    if (fromFile && looksLikeJwt(fromFile)) return fromFile;
    throw fail('NO_IDENTITY_TOKEN', '--identity-token is neither a JWT nor a readable file holding one');
  }
  const fromEnv = env.SIGSTORE_ID_TOKEN?.trim();
  if (fromEnv) {
    if (!looksLikeJwt(fromEnv)) throw fail('NO_IDENTITY_TOKEN', 'SIGSTORE_ID_TOKEN does not hold a JWT');
    return fromEnv;
  }
  const gha = await githubActionsToken(env, options.audience ?? 'sigstore', timeoutMs);
  if (gha !== undefined) return gha;
  const fromFile = await readTokenFile(options.tokenFile ?? DEFAULT_TOKEN_FILE);
  if (fromFile && looksLikeJwt(fromFile)) return fromFile;
  throw fail(
    'NO_IDENTITY_TOKEN',
    'no OIDC identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, or run in GitHub Actions with `permissions: id-token: write`',
  );
}

/**
 * The identity Fulcio binds: the token's `email` (which must be verified) or else its `sub`, as Fulcio and
 * sigstore-js read it. The proof of possession is a signature over exactly this string.
 */
export function identityTokenSubject(token: string): string {
  const part = token.split('.')[1];
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
  } catch {
    claims = undefined;
  }
  if (claims === null || typeof claims !== 'object') throw fail('NO_IDENTITY_TOKEN', 'identity token: the claims are not a JSON object');
  const c = claims as Record<string, unknown>;
  if (typeof c.email === 'string' && c.email !== '') {
    if (c.email_verified !== true) throw fail('NO_IDENTITY_TOKEN', 'identity token: its email is not verified by the issuer');
    return c.email;
  }
  if (typeof c.sub === 'string' && c.sub !== '') return c.sub;
  throw fail('NO_IDENTITY_TOKEN', 'identity token: no email or sub claim');
}

/** Options of {@link fulcioSigner}. */
export interface FulcioSignerOptions {
  /** Fulcio's base URL (`--fulcio-url`). Default {@link DEFAULT_FULCIO_URL}. */
  readonly fulcioURL?: string;
  /** The OIDC token, or where to find it (see {@link resolveIdentityToken}). Default: the environment. */
  readonly identityToken?: string | (() => Promise<string>);
  /**
   * The key the certificate is issued for. Default: a fresh ephemeral ECDSA P-256 key, never stored. A KMS
   * signer (`resolveSigner('awskms://…')`) makes the KMS key the key holder, as `cosign sign --key … --fulcio…`.
   */
  readonly keyHolder?: Signer;
  /** Time allowed for the certificate request, end to end. Default {@link DEFAULT_SIGSTORE_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

/** Describe an error from `@sigstore/sign` without echoing anything it may carry (tokens are in some messages). */
export function sigstoreFailure(what: string, e: unknown): CosignError {
  if (e instanceof CosignError) return e;
  const code = e !== null && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;
  const status =
    e !== null && typeof e === 'object' && typeof (e as { cause?: { statusCode?: unknown } }).cause?.statusCode === 'number'
      ? (e as { cause: { statusCode: number } }).cause.statusCode
      : undefined;
  const detail = [code, status === undefined ? undefined : `HTTP ${status}`].filter((x) => x !== undefined).join(', ');
  return fail('SIGSTORE_ERROR', `${what} failed${detail === '' ? '' : ` (${detail})`}`);
}

function splitPemChain(pems: ReadonlyArray<string>): SigningCertificate {
  const [leaf, ...chain] = pems;
  if (leaf === undefined || !leaf.includes('-----BEGIN CERTIFICATE-----')) throw fail('SIGSTORE_ERROR', 'Fulcio answered no certificate');
  // re-encoded as standard PEM (64-column base64), whatever line layout the CA used
  const norm = (p: string, i: number): string => {
    try {
      return new X509Certificate(p).toString();
    } catch {
      throw fail('SIGSTORE_ERROR', `Fulcio answered an unreadable certificate (chain position ${i})`);
    }
  };
  return { certificate: norm(leaf, 0), chain: chain.map((p, i) => norm(p, i + 1)) };
}

/**
 * A keyless {@link Signer}: on first use it gets an OIDC token, proves possession of the key holder's key to
 * Fulcio by signing the token's subject, and keeps the short-lived certificate (and chain) Fulcio issues.
 * Every signature is then made by the key holder; `certificate()` hands out the same certificate, so one
 * batch (`sign -r`, many images) needs one certificate, as one `cosign sign` run does.
 */
export function fulcioSigner(options: FulcioSignerOptions = {}): Signer & { certificate(): Promise<SigningCertificate> } {
  const keyHolder =
    options.keyHolder ?? signerFromPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey as KeyObject, 'ephemeral key (keyless)');
  const fulcioURL = options.fulcioURL ?? DEFAULT_FULCIO_URL;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SIGSTORE_TIMEOUT_MS;
  let cert: Promise<SigningCertificate> | undefined;
  const obtain = async (): Promise<SigningCertificate> => {
    const token =
      typeof options.identityToken === 'function'
        ? await options.identityToken()
        : await resolveIdentityToken(options.identityToken === undefined ? {} : { token: options.identityToken });
    const subject = identityTokenSubject(token);
    const challenge = await keyHolder.sign(Buffer.from(subject, 'utf8'));
    const publicKey = (await keyHolder.publicKey()).export({ type: 'spki', format: 'pem' }).toString();
    const { CAClient } = sigstoreFulcioCA();
    const ca = new CAClient({ fulcioBaseURL: fulcioURL, timeout: timeoutMs, retry: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2000 } });
    let pems: string[];
    try {
      pems = await raceAbort(ca.createSigningCertificate(token, publicKey, Buffer.from(challenge)), AbortSignal.timeout(timerDelay(timeoutMs)), () =>
        fail('SIGSTORE_ERROR', `Fulcio ${new URL(fulcioURL).host}: no answer within ${timeoutMs} ms`),
      );
    } catch (e) {
      throw sigstoreFailure(`Fulcio certificate request to ${new URL(fulcioURL).host}`, e);
    }
    return splitPemChain(pems);
  };
  return {
    keyRef: `fulcio ${fulcioURL} (${keyHolder.keyRef})`,
    publicKey: () => keyHolder.publicKey(),
    async sign(message: Uint8Array): Promise<Uint8Array> {
      await this.certificate();
      return keyHolder.sign(message);
    },
    certificate(): Promise<SigningCertificate> {
      cert ??= obtain().catch((e: unknown) => {
        cert = undefined;
        throw e;
      });
      return cert;
    },
  };
}
