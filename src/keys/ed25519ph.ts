/**
 * Ed25519ph (RFC 8032 §5.1, SHA-512 prehash, empty context), which cosign uses for Ed25519 keys by
 * default and which node:crypto does not expose. The curve arithmetic is `@noble/curves`' audited,
 * constant-time `ed25519ph`; nothing here does arithmetic of its own.
 *
 * `@noble/curves` costs tens of milliseconds to evaluate, so it is imported on first use only: the
 * asynchronous entry points load it themselves; the synchronous ones ({@link ed25519phSignSync},
 * {@link ed25519phVerify}) need {@link loadEd25519ph} to have completed once in the process.
 *
 * Verification is RFC 8032 strict (`zip215: false`): canonical encodings of A and R, S < L, small-order
 * public keys rejected, cofactored equation. Go's crypto/ed25519 (cosign) checks the cofactorless
 * equation; the two differ only for signatures crafted by the key holder with small-order components.
 *
 * @module
 */
import { fail } from '../errors.js';

type NobleEd25519ph = typeof import('@noble/curves/ed25519.js')['ed25519ph'];

let noble: NobleEd25519ph | undefined;
let loading: Promise<NobleEd25519ph> | undefined;

/**
 * Load the Ed25519ph implementation (`@noble/curves`), once per process. Needed before the
 * synchronous Ed25519ph operations: `FileSigner.signSync` on an Ed25519 key, and `verifySignature` /
 * `PublicKeyVerifier.verify` with `{ ed25519ph: true }`. Asynchronous signing loads it itself.
 */
export async function loadEd25519ph(): Promise<void> {
  if (noble !== undefined) return;
  loading ??= import('@noble/curves/ed25519.js').then(
    (m) => (noble = m.ed25519ph),
    (cause: unknown) => {
      loading = undefined;
      throw fail('UNSUPPORTED', 'Ed25519ph needs the @noble/curves package, which could not be loaded', { cause });
    },
  );
  await loading;
}

function loaded(what: string): NobleEd25519ph {
  if (noble === undefined) throw fail('UNSUPPORTED', `${what}: Ed25519ph is not loaded yet (await loadEd25519ph() before synchronous Ed25519ph use)`);
  return noble;
}

/** Ed25519ph signature (64 bytes) of `message` with the 32-byte `seed`; needs {@link loadEd25519ph}. */
export function ed25519phSignSync(seed: Uint8Array, message: Uint8Array, what = 'Ed25519ph signing'): Buffer {
  return Buffer.from(loaded(what).sign(message, seed));
}

/** Ed25519ph signature (64 bytes) of `message` with the 32-byte `seed`, loading the implementation if needed. */
export async function ed25519phSign(seed: Uint8Array, message: Uint8Array): Promise<Buffer> {
  await loadEd25519ph();
  return ed25519phSignSync(seed, message);
}

/**
 * Verify an Ed25519ph signature (see the module description for the exact rules). Returns `false`
 * for any malformed input; throws only `UNSUPPORTED` when {@link loadEd25519ph} has not completed.
 * @param publicKey the raw 32-byte public key.
 */
export function ed25519phVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, what = 'Ed25519ph verification'): boolean {
  const impl = loaded(what);
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return impl.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
