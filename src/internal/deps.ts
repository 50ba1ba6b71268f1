/**
 * The runtime dependencies that are expensive to evaluate, loaded on first use: zod (80–100 ms, about
 * 95 modules), `yaml` (about 70 modules), `@noble/ciphers` (cosign's key encryption) and
 * `@sigstore/bundle` / `@sigstore/core` (cosign v3 Sigstore bundles, loaded by the first bundle verified).
 *
 * Importing `cosign-ts` or any of its subpaths evaluates none of them: valid signature manifests,
 * payloads and Rekor bundles are read by fast paths, and zod schemas (the checked slow paths, Docker
 * configs, token responses, policies) are built by {@link schema} only when first needed.
 *
 * They are loaded synchronously with `require()`, so that the synchronous API stays synchronous (zod
 * and yaml through their CommonJS builds, `@noble/ciphers` through `require(esm)`, Node ≥ 20.19). The
 * literal `require('…')` calls are deliberate: in the CLI bundle (CommonJS, scripts/build-cli.mjs)
 * `require` exists and esbuild bundles each call as a module initialised on its first call; in the ES
 * module build `require` is undefined and the calls go through `createRequire`.
 *
 * @internal
 * @module
 */
import { createRequire } from 'node:module';

// `require` for the ES module build (in the CLI bundle the global `require` is used instead).
const nodeRequire = createRequire(import.meta.url);

/** The `z` namespace of zod. */
export type Zod = typeof import('zod')['z'];

let z: Zod | undefined;
/** zod's `z` namespace, loaded on the first call. */
export function zod(): Zod {
  z ??= (typeof require === 'function' ? (require('zod') as typeof import('zod')) : (nodeRequire('zod') as typeof import('zod'))).z;
  return z;
}

/** A schema built by `build` on its first use (and zod loaded then, if it was not yet). */
export function schema<T>(build: (z: Zod) => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = build(zod());
      made = true;
    }
    return value as T;
  };
}

type Salsa = typeof import('@noble/ciphers/salsa.js');
let salsa: Salsa | undefined;
/** `@noble/ciphers/salsa.js` (xsalsa20poly1305, cosign's key encryption), loaded on the first call. */
export function nobleSalsa(): Salsa {
  salsa ??= typeof require === 'function' ? (require('@noble/ciphers/salsa.js') as Salsa) : (nodeRequire('@noble/ciphers/salsa.js') as Salsa);
  return salsa;
}

type Yaml = typeof import('yaml');
let yaml: Yaml | undefined;
/** The `yaml` package, loaded on the first call. */
export function yamlLib(): Yaml {
  yaml ??= typeof require === 'function' ? (require('yaml') as Yaml) : (nodeRequire('yaml') as Yaml);
  return yaml;
}

type SigstoreBundle = typeof import('@sigstore/bundle');
let sigBundle: SigstoreBundle | undefined;
/** `@sigstore/bundle` (Sigstore bundle JSON → typed, validated bundle), loaded on the first call. */
export function sigstoreBundle(): SigstoreBundle {
  sigBundle ??= typeof require === 'function' ? (require('@sigstore/bundle') as SigstoreBundle) : (nodeRequire('@sigstore/bundle') as SigstoreBundle);
  return sigBundle;
}

type SigstoreCore = typeof import('@sigstore/core');
let sigCore: SigstoreCore | undefined;
/** `@sigstore/core` (DSSE pre-authentication encoding), loaded on the first call. */
export function sigstoreCore(): SigstoreCore {
  sigCore ??= typeof require === 'function' ? (require('@sigstore/core') as SigstoreCore) : (nodeRequire('@sigstore/core') as SigstoreCore);
  return sigCore;
}

type SigstoreVerify = typeof import('@sigstore/verify');
let sigVerify: SigstoreVerify | undefined;
/** `@sigstore/verify` (keyless verification: chains, SCTs, tlog entries, timestamps), loaded on the first call. */
export function sigstoreVerify(): SigstoreVerify {
  sigVerify ??= typeof require === 'function' ? (require('@sigstore/verify') as SigstoreVerify) : (nodeRequire('@sigstore/verify') as SigstoreVerify);
  return sigVerify;
}

type SigstoreProtobuf = typeof import('@sigstore/protobuf-specs');
let sigProtobuf: SigstoreProtobuf | undefined;
/** `@sigstore/protobuf-specs` (`TrustedRoot.fromJSON`), loaded on the first call. */
export function sigstoreProtobuf(): SigstoreProtobuf {
  sigProtobuf ??=
    typeof require === 'function' ? (require('@sigstore/protobuf-specs') as SigstoreProtobuf) : (nodeRequire('@sigstore/protobuf-specs') as SigstoreProtobuf);
  return sigProtobuf;
}

type SigstoreTuf = typeof import('@sigstore/tuf');
let sigTuf: SigstoreTuf | undefined;
/** `@sigstore/tuf` (the public-good trusted root through TUF), loaded on the first call. */
export function sigstoreTuf(): SigstoreTuf {
  sigTuf ??= typeof require === 'function' ? (require('@sigstore/tuf') as SigstoreTuf) : (nodeRequire('@sigstore/tuf') as SigstoreTuf);
  return sigTuf;
}

/** The TUF seeds `@sigstore/tuf` embeds (its root.json and the trusted_root.json target, base64, per mirror). */
export function sigstoreTufSeeds(): Record<string, { 'root.json': string; targets: Record<string, string> }> {
  return (typeof require === 'function' ? require('@sigstore/tuf/seeds.json') : nodeRequire('@sigstore/tuf/seeds.json')) as Record<
    string,
    { 'root.json': string; targets: Record<string, string> }
  >;
}

type SigstoreSign = typeof import('@sigstore/sign');
let sigSign: SigstoreSign | undefined;
/** `@sigstore/sign` (Fulcio, Rekor and timestamp clients for keyless signing), loaded on the first call. */
export function sigstoreSign(): SigstoreSign {
  sigSign ??= typeof require === 'function' ? (require('@sigstore/sign') as SigstoreSign) : (nodeRequire('@sigstore/sign') as SigstoreSign);
  return sigSign;
}

/** `@sigstore/sign`'s Fulcio client, which returns the whole certificate chain (its `FulcioSigner` keeps only the leaf). */
export interface FulcioCAClient {
  createSigningCertificate(identityToken: string, publicKey: string, challenge: Buffer): Promise<string[]>;
}
type FulcioCAModule = { CAClient: new (options: { fulcioBaseURL: string; timeout?: number; retry?: unknown }) => FulcioCAClient };
let fulcioCA: FulcioCAModule | undefined;
/**
 * The `CAClient` of `@sigstore/sign` (a deep import: the package has no `exports` map, and its version is pinned
 * exactly in package.json; test/sign/keyless.test.ts holds the shape), loaded on the first call.
 */
export function sigstoreFulcioCA(): FulcioCAModule {
  fulcioCA ??=
    typeof require === 'function'
      ? (require('@sigstore/sign/dist/signer/fulcio/ca') as FulcioCAModule)
      : (nodeRequire('@sigstore/sign/dist/signer/fulcio/ca') as FulcioCAModule);
  return fulcioCA;
}
