/**
 * Trust material for keyless verification: the Fulcio roots, CT log keys, Rekor keys and TSA chains a
 * certificate, SCT, transparency-log entry or RFC 3161 timestamp must chain to. From a
 * `trusted_root.json` (air-gapped, `--trusted-root`), from the public-good instance through TUF
 * (`@sigstore/tuf`, with its embedded root; offline from the cache or the embedded target), or from
 * cosign's `SIGSTORE_*` environment variables (PEM files that replace parts of the trust).
 *
 * A {@link SigstoreTrust} is built once and reused for every image: it holds the parsed
 * `@sigstore/verify` trust material (certificates parsed, keys imported) and the verifiers made from it.
 *
 * Upstream: sigstore/protobuf-specs `sigstore_trustroot.proto`; sigstore/cosign
 * `pkg/cosign/fulcio_roots.go` (SIGSTORE_ROOT_FILE), `pkg/cosign/tlog.go` (SIGSTORE_REKOR_PUBLIC_KEY),
 * `pkg/cosign/ctlog.go` (SIGSTORE_CT_LOG_PUBLIC_KEY_FILE), `cmd/cosign/cli/verify` (SIGSTORE_TSA_CERTIFICATE_FILE),
 * `pkg/cosign/env` (TUF_ROOT).
 *
 * @module
 */
import { X509Certificate as NodeX509Certificate, createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { rekorKey, type RekorKey } from '../artifact/rekor.js';
import { fail, isCosignError } from '../errors.js';
import { sigstoreCore, sigstoreProtobuf, sigstoreTuf, sigstoreTufSeeds, sigstoreVerify } from '../internal/deps.js';
import { readFileLimited } from '../internal/read-file.js';
import { parseJson } from '../json/strict.js';

/** Size limit of a trusted root or a PEM trust file (4 MiB). */
export const MAX_TRUST_FILE_BYTES = 4 * 1024 * 1024;

/** The public-good TUF mirror. */
export const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

/** Trust for keyless verification, built once and shared by every verification. */
export interface SigstoreTrust {
  /** Where it came from, for messages: a file path, `tuf:<mirror>`, `env`. */
  readonly source: string;
  /** The `@sigstore/verify` trust material. */
  readonly material: TrustMaterial;
  /** The Rekor (transparency log) keys, for the legacy SET check. */
  readonly rekorKeys: ReadonlyArray<RekorKey>;
}

type CoreCertificate = TrustMaterial['certificateAuthorities'][number]['certChain'][number];

const memoized = new WeakSet<object>();
const issuerKeys = new WeakMap<object, KeyObject>();

/** The public key of a certificate as a KeyObject, imported once per certificate object. */
function issuerKey(cert: CoreCertificate): KeyObject {
  let k = issuerKeys.get(cert);
  if (k === undefined) {
    k = createPublicKey({ key: cert.publicKey, format: 'der', type: 'spki' });
    issuerKeys.set(cert, k);
  }
  return k;
}

/**
 * Make a parsed `@sigstore/core` certificate cheap to use again: its DER encodings (the whole
 * certificate, and the TBS part its signature covers) are computed once instead of re-encoded from
 * the ASN.1 tree at every `equals`, `verify` and `clone` (most of the cost of a chain check), and
 * `clone()` parses the cached DER. The certificate must not be mutated afterwards (`@sigstore/verify`
 * mutates only clones).
 * @internal
 */
export function memoizeCertificate<T extends CoreCertificate>(cert: T): T {
  if (memoized.has(cert)) return cert;
  memoized.add(cert);
  for (const obj of [cert.root, cert.root.subs[0]]) {
    if (obj === undefined) continue;
    const encode = obj.toDER.bind(obj);
    let der: Buffer | undefined;
    Object.defineProperty(obj, 'toDER', { value: () => (der ??= encode()), configurable: true });
  }
  const proto = Object.getPrototypeOf(cert) as object;
  const spki = Object.getOwnPropertyDescriptor(proto, 'publicKey')?.get;
  let publicKey: Buffer | undefined;
  if (spki !== undefined) Object.defineProperty(cert, 'publicKey', { get: () => (publicKey ??= spki.call(cert) as Buffer), configurable: true });
  // The signature check through node:crypto on the cached DER (OpenSSL parses it once), with the
  // answer kept per issuer: trusted certificates are checked against each other once.
  let native: NodeX509Certificate | undefined;
  const results = new WeakMap<object, boolean>();
  Object.defineProperty(cert, 'verify', {
    value: (issuer?: CoreCertificate): boolean => {
      const by = issuer ?? cert;
      let ok = results.get(by);
      if (ok === undefined) {
        try {
          native ??= new NodeX509Certificate(cert.root.toDER());
          ok = native.verify(issuerKey(by));
        } catch {
          ok = false;
        }
        results.set(by, ok);
      }
      return ok;
    },
    configurable: true,
  });
  // `@sigstore/verify` clones the leaf to strip its SCT extension and re-encode the TBS (RFC 6962
  // precertificate): the clone's nodes outside the edited path get their DER from the original bytes.
  Object.defineProperty(cert, 'clone', {
    value: (): T => {
      const der = cert.root.toDER();
      const copy = (cert.constructor as unknown as { parse(b: Buffer): T }).parse(Buffer.from(der));
      seedDer(copy, der);
      return copy;
    },
    configurable: true,
  });
  return cert;
}

type Asn1 = CoreCertificate['root'];

function derLength(n: number): number {
  if (n < 0x80) return 1;
  let bytes = 0;
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes++;
  return 1 + bytes;
}

/** Encoded size of a node as `toDER` encodes it (one-byte tags, definite DER lengths). */
function nodeSizes(node: Asn1, sizes: Map<Asn1, number>): number {
  const content = node.subs.length > 0 ? node.subs.reduce((a, sub) => a + nodeSizes(sub, sizes), 0) : node.value.length;
  const size = 1 + derLength(content) + content;
  sizes.set(node, size);
  return size;
}

/**
 * Give each node of a freshly parsed certificate its DER slice of `der`, except the nodes a caller
 * may edit (the root, the TBS, the extensions' [3] wrapper and sequence), which still encode from
 * their children. Skipped (nothing seeded) if the sizes do not add up to `der`.
 */
function seedDer(cert: CoreCertificate, der: Buffer): void {
  const sizes = new Map<Asn1, number>();
  if (nodeSizes(cert.root, sizes) !== der.length) return;
  const tbs = cert.root.subs[0];
  const ext3 = tbs?.subs.find((sub) => sub.tag.isContextSpecific(0x03));
  const editable = new Set<Asn1 | undefined>([cert.root, tbs, ext3, ext3?.subs[0]]);
  const walk = (node: Asn1, offset: number): void => {
    const size = sizes.get(node) ?? 0;
    if (!editable.has(node)) {
      const slice = der.subarray(offset, offset + size);
      Object.defineProperty(node, 'toDER', { value: () => slice, configurable: true });
      return;
    }
    const content = node.subs.length > 0 ? node.subs.reduce((a, sub) => a + (sizes.get(sub) ?? 0), 0) : node.value.length;
    let at = offset + 1 + derLength(content);
    for (const sub of node.subs) {
      walk(sub, at);
      at += sizes.get(sub) ?? 0;
    }
  };
  walk(cert.root, 0);
}

function toTrust(material: TrustMaterial, source: string): SigstoreTrust {
  for (const ca of [...material.certificateAuthorities, ...material.timestampAuthorities]) for (const c of ca.certChain) memoizeCertificate(c);
  const rekorKeys: RekorKey[] = [];
  for (const t of material.tlogs) {
    if (t.publicKey.asymmetricKeyType !== 'ec') continue; // Rekor v2 Ed25519 logs have no SETs
    rekorKeys.push(rekorKey(t.publicKey));
  }
  return Object.freeze({ source, material, rekorKeys: Object.freeze(rekorKeys) });
}

/**
 * Trust from the bytes of a `trusted_root.json` (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`
 * or `0.2`), as `cosign verify --trusted-root` reads it.
 * @throws CosignError `TRUST_ROOT_INVALID` when it does not parse or holds no usable authority.
 */
export function trustFromTrustedRootJson(bytes: Uint8Array, what = 'trusted root'): SigstoreTrust {
  if (bytes.byteLength > MAX_TRUST_FILE_BYTES) throw fail('TOO_LARGE', `${what}: over ${MAX_TRUST_FILE_BYTES} bytes`);
  const json = parseJson(bytes, what, 'TRUST_ROOT_INVALID');
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw fail('TRUST_ROOT_INVALID', `${what}: not a JSON object`);
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !mediaType.startsWith('application/vnd.dev.sigstore.trustedroot')) {
    throw fail('TRUST_ROOT_INVALID', `${what}: mediaType is not a Sigstore trusted root's (application/vnd.dev.sigstore.trustedroot+json)`);
  }
  let material: TrustMaterial;
  try {
    const root = sigstoreProtobuf().TrustedRoot.fromJSON(json);
    material = sigstoreVerify().toTrustMaterial(root);
  } catch (cause) {
    throw fail('TRUST_ROOT_INVALID', `${what}: ${(cause as Error).message}`, { cause });
  }
  if (material.certificateAuthorities.length === 0 && material.tlogs.length === 0 && material.timestampAuthorities.length === 0) {
    throw fail('TRUST_ROOT_INVALID', `${what}: names no certificate authority, transparency log or timestamp authority`);
  }
  return toTrust(material, what);
}

/** Read a `trusted_root.json` file (`--trusted-root`). */
export async function trustFromTrustedRootFile(path: string): Promise<SigstoreTrust> {
  const bytes = await readFileLimited(path, MAX_TRUST_FILE_BYTES, `trusted root ${path}`);
  return trustFromTrustedRootJson(bytes, `trusted root ${path}`);
}

const ALWAYS = { start: new Date(0), end: new Date(8640000000000000) };

function pemBlocks(pem: string, label: string, what: string): Buffer[] {
  const out: Buffer[] = [];
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  for (const m of pem.matchAll(re)) {
    const body = (m[1] ?? '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw fail('TRUST_ROOT_INVALID', `${what}: bad base64 in a PEM block`);
    out.push(Buffer.from(body, 'base64'));
    if (out.length > 100) throw fail('TRUST_ROOT_INVALID', `${what}: more than 100 PEM blocks`);
  }
  if (out.length === 0) throw fail('TRUST_ROOT_INVALID', `${what}: no PEM ${label} block`);
  return out;
}

/**
 * Certificate authorities from a PEM bundle, as cosign reads `SIGSTORE_ROOT_FILE` or `--certificate-chain`:
 * self-signed certificates are roots, the others intermediates; one authority whose chain is every
 * intermediate then every root (`@sigstore/verify` builds the path from those).
 */
function certAuthoritiesFromPem(pem: string, what: string): TrustMaterial['certificateAuthorities'] {
  const core = sigstoreCore();
  const certs = pemBlocks(pem, 'CERTIFICATE', what).map((der) => {
    try {
      return core.X509Certificate.parse(der as Buffer<ArrayBuffer>);
    } catch (cause) {
      throw fail('TRUST_ROOT_INVALID', `${what}: a certificate does not parse`, { cause });
    }
  });
  const isRoot = (c: (typeof certs)[number]): boolean => c.issuer.equals(c.subject);
  const chain = [...certs.filter((c) => !isRoot(c)), ...certs.filter(isRoot)];
  return [{ certChain: chain, validFor: ALWAYS }];
}

function logsFromPem(pem: string, what: string): TrustMaterial['tlogs'] {
  return pemBlocks(pem, 'PUBLIC KEY', what).map((der) => {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    } catch (cause) {
      throw fail('TRUST_ROOT_INVALID', `${what}: a public key does not parse`, { cause });
    }
    return { logID: createHash('sha256').update(der).digest(), baseURL: '', publicKey: key, validFor: ALWAYS };
  });
}

/** PEM trust pieces; each one given replaces that part of the base trust. */
export interface PemTrustOptions {
  /** Fulcio roots (and intermediates), PEM certificates (`SIGSTORE_ROOT_FILE`, `--certificate-chain`). */
  readonly fulcioCertificates?: string;
  /** Rekor public keys, PEM (`SIGSTORE_REKOR_PUBLIC_KEY`). */
  readonly rekorPublicKeys?: string;
  /** CT log public keys, PEM (`SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`). */
  readonly ctLogPublicKeys?: string;
  /** TSA certificate chain, PEM (`SIGSTORE_TSA_CERTIFICATE_FILE`, `--timestamp-certificate-chain`). */
  readonly tsaCertificates?: string;
}

/**
 * Trust from PEM pieces, optionally over a base trust whose other parts are kept.
 * @throws CosignError `TRUST_ROOT_INVALID` for a PEM that does not parse.
 */
export function trustFromPems(o: PemTrustOptions, base?: SigstoreTrust, source = 'PEM trust'): SigstoreTrust {
  const b = base?.material;
  const material: TrustMaterial = {
    certificateAuthorities:
      o.fulcioCertificates === undefined ? (b?.certificateAuthorities ?? []) : certAuthoritiesFromPem(o.fulcioCertificates, `${source}: Fulcio certificates`),
    timestampAuthorities:
      o.tsaCertificates === undefined ? (b?.timestampAuthorities ?? []) : certAuthoritiesFromPem(o.tsaCertificates, `${source}: TSA certificates`),
    tlogs: o.rekorPublicKeys === undefined ? (b?.tlogs ?? []) : logsFromPem(o.rekorPublicKeys, `${source}: Rekor public keys`),
    ctlogs: o.ctLogPublicKeys === undefined ? (b?.ctlogs ?? []) : logsFromPem(o.ctLogPublicKeys, `${source}: CT log public keys`),
    publicKey:
      b?.publicKey ??
      ((hint: string) => {
        throw fail('TRUST_ROOT_INVALID', `no trusted public key for hint ${JSON.stringify(hint.slice(0, 100))}`);
      }),
  };
  return toTrust(material, base === undefined ? source : `${base.source} + ${source}`);
}

/** cosign's trust environment variables, each naming a PEM file. */
export const SIGSTORE_TRUST_ENV = [
  'SIGSTORE_ROOT_FILE',
  'SIGSTORE_REKOR_PUBLIC_KEY',
  'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE',
  'SIGSTORE_TSA_CERTIFICATE_FILE',
] as const;

/**
 * Apply cosign's `SIGSTORE_*` variables (see {@link SIGSTORE_TRUST_ENV}) over `base`: each variable set
 * replaces that part (Fulcio roots, Rekor keys, CT log keys, TSA chain). Returns `base` when none is set.
 * @throws CosignError `TRUST_ROOT_INVALID` naming the variable for an unreadable or malformed file.
 */
export async function applySigstoreEnv(env: Readonly<Record<string, string | undefined>>, base?: SigstoreTrust): Promise<SigstoreTrust | undefined> {
  const read = async (name: (typeof SIGSTORE_TRUST_ENV)[number]): Promise<string | undefined> => {
    const file = env[name];
    if (file === undefined || file === '') return undefined;
    try {
      return await readFileLimited(file, MAX_TRUST_FILE_BYTES, `${name} ${file}`, 'utf8');
    } catch (e) {
      if (isCosignError(e)) throw fail('TRUST_ROOT_INVALID', `${name}: ${e.message}`, { cause: e });
      throw fail('TRUST_ROOT_INVALID', `${name}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { cause: e });
    }
  };
  const [fulcio, rekor, ct, tsa] = await Promise.all(SIGSTORE_TRUST_ENV.map(read));
  if (fulcio === undefined && rekor === undefined && ct === undefined && tsa === undefined) return base;
  return trustFromPems(
    {
      ...(fulcio === undefined ? {} : { fulcioCertificates: fulcio }),
      ...(rekor === undefined ? {} : { rekorPublicKeys: rekor }),
      ...(ct === undefined ? {} : { ctLogPublicKeys: ct }),
      ...(tsa === undefined ? {} : { tsaCertificates: tsa }),
    },
    base,
    'SIGSTORE_* environment',
  );
}

/** Options of {@link publicGoodTrust}. */
export interface PublicGoodTrustOptions {
  /** TUF cache directory (cosign: `TUF_ROOT`, default `~/.sigstore/root`; here `@sigstore/tuf`'s default when absent). */
  readonly cachePath?: string;
  /** TUF mirror. Default {@link PUBLIC_GOOD_TUF_MIRROR}. */
  readonly mirrorURL?: string;
  /** A TUF `root.json` to start from instead of the embedded one (cosign initialize `--root`). */
  readonly rootPath?: string;
  /**
   * No network: use the cached TUF metadata, else the cached trusted root target, else the trusted
   * root embedded in `@sigstore/tuf` (public-good mirror only).
   */
  readonly offline?: boolean;
  /** Per-request timeout in ms (default 5000). */
  readonly timeoutMs?: number;
}

/**
 * The public-good (or a private TUF mirror's) trusted root through `@sigstore/tuf`.
 * @throws CosignError `TRUST_ROOT_INVALID` when TUF fails (online), or when nothing is cached or embedded (offline).
 */
export async function publicGoodTrust(o: PublicGoodTrustOptions = {}): Promise<SigstoreTrust> {
  const mirrorURL = o.mirrorURL ?? PUBLIC_GOOD_TUF_MIRROR;
  const tuf = sigstoreTuf();
  try {
    const root = await tuf.getTrustedRoot({
      mirrorURL,
      ...(o.cachePath === undefined ? {} : { cachePath: o.cachePath }),
      ...(o.rootPath === undefined ? {} : { rootPath: o.rootPath }),
      forceCache: o.offline === true,
      timeout: o.timeoutMs ?? 5000,
      retry: o.offline === true ? false : { retries: 2 },
    });
    return toTrust(sigstoreVerify().toTrustMaterial(root), `tuf:${mirrorURL}`);
  } catch (cause) {
    if (o.offline !== true) {
      throw fail('TRUST_ROOT_INVALID', `TUF ${mirrorURL}: ${(cause as Error).message} (use --offline to verify from the cached or embedded trusted root)`, {
        cause,
      });
    }
  }
  // Offline and the TUF metadata could not be used: the cached target, then the embedded one.
  if (o.cachePath !== undefined) {
    const url = new URL(mirrorURL);
    const repo = encodeURIComponent(url.host + url.pathname.replace(/\/$/, ''));
    const file = `${o.cachePath}/${repo}/targets/trusted_root.json`;
    try {
      return trustFromTrustedRootJson(await readFileLimited(file, MAX_TRUST_FILE_BYTES, file), `cached trusted root ${file}`);
    } catch (e) {
      if (isCosignError(e, 'TRUST_ROOT_INVALID')) throw e;
    }
  }
  const seed = sigstoreTufSeeds()[mirrorURL]?.targets['trusted_root.json'];
  if (seed === undefined) throw fail('TRUST_ROOT_INVALID', `TUF ${mirrorURL}: offline, and no cached or embedded trusted root`);
  return trustFromTrustedRootJson(Buffer.from(seed, 'base64'), `embedded trusted root of ${mirrorURL}`);
}
