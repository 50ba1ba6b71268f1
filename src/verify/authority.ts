/**
 * Authorities: what a signature must chain to. Public keys today (from a PEM file, or the public half
 * of a KMS key); certificate identities (keyless) are modelled so policies can name them, and fail
 * closed until keyless verification lands.
 *
 * @module
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { HashAlgorithm } from '../keys/signer.js';
import { PublicKeyVerifier } from '../keys/verify.js';

/** A public key the signature must verify with. */
export interface KeyAuthority {
  readonly kind: 'key';
  /** Where the key came from, for messages and results: a file path or a KMS URI. Never secret. */
  readonly keyRef: string;
  /** The public key. */
  readonly publicKey: KeyObject;
  /**
   * Hash used to verify, like cosign's `--signature-digest-algorithm` (default `sha256`, which is what
   * `cosign verify --key` uses for every key type).
   */
  readonly hash?: HashAlgorithm;
  /**
   * Ed25519 keys only: check signatures as Ed25519ph (SHA-512 prehash) instead of pure Ed25519.
   * Default false, which is what `cosign verify --key` does (it accepts only pure Ed25519, what cosign
   * 2.5 and cosign-ts sign). Set it to accept Ed25519ph signatures (cosign 2.6+ image signatures,
   * earlier cosign-ts versions); to accept either scheme, pass the key twice, once with each setting.
   */
  readonly ed25519ph?: boolean;
}

/** Options of {@link keyAuthority}. */
export interface KeyAuthorityOptions {
  /** See {@link KeyAuthority.hash}. */
  readonly hash?: HashAlgorithm;
  /** See {@link KeyAuthority.ed25519ph}. */
  readonly ed25519ph?: boolean;
}

/** A keyless (Fulcio certificate) identity. Parsed and kept; verification arrives with the keyless issue. */
export interface IdentityAuthority {
  readonly kind: 'identity';
  readonly issuer?: string;
  readonly issuerRegExp?: string;
  readonly subject?: string;
  readonly subjectRegExp?: string;
}

/** Anything a signature can be checked against. */
export type Authority = KeyAuthority | IdentityAuthority;

/**
 * Build a {@link KeyAuthority}.
 * @param hashOrOptions the hash (like `--signature-digest-algorithm`), or {@link KeyAuthorityOptions}.
 */
export function keyAuthority(publicKey: KeyObject, keyRef: string, hashOrOptions?: HashAlgorithm | KeyAuthorityOptions): KeyAuthority {
  const o: KeyAuthorityOptions = typeof hashOrOptions === 'string' ? { hash: hashOrOptions } : (hashOrOptions ?? {});
  return {
    kind: 'key',
    keyRef,
    publicKey,
    ...(o.hash === undefined ? {} : { hash: o.hash }),
    ...(o.ed25519ph === true ? { ed25519ph: true } : {}),
  };
}

const fingerprints = new WeakMap<KeyObject, string>();

/** A stable fingerprint of an authority (sha256 of the SPKI DER for keys), used in cache keys. */
export function authorityFingerprint(a: Authority): string {
  if (a.kind === 'key') {
    let fp = fingerprints.get(a.publicKey);
    if (fp === undefined) {
      fp = createHash('sha256')
        .update(a.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex');
      fingerprints.set(a.publicKey, fp);
    }
    return `key:${fp}:${a.hash ?? 'sha256'}${a.ed25519ph === true ? ':ed25519ph' : ''}`;
  }
  return `identity:${JSON.stringify([a.issuer, a.issuerRegExp, a.subject, a.subjectRegExp])}`;
}

const verifiers = new WeakMap<KeyAuthority, PublicKeyVerifier>();

/** The verifier of a key authority (its hash and Ed25519 settings), made once per authority. @internal */
export function authorityVerifier(a: KeyAuthority): PublicKeyVerifier {
  let v = verifiers.get(a);
  if (v === undefined) {
    v = new PublicKeyVerifier(a.publicKey, a.keyRef, {
      ...(a.hash === undefined ? {} : { hash: a.hash }),
      ...(a.ed25519ph === true ? { ed25519ph: true } : {}),
    });
    verifiers.set(a, v);
  }
  return v;
}
