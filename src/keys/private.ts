/**
 * Private keys: read cosign's encrypted format and plain PKCS#8 / SEC1 / PKCS#1 PEM, write cosign's
 * encrypted format, generate and import key pairs.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { fail, isCosignError } from '../errors.js';
import { ed25519Pkcs8V1, OID_ED25519, parsePkcs8 } from './der.js';
import {
  COSIGN_PRIVATE_KEY_PEM_TYPE,
  DEFAULT_SCRYPT_N,
  deriveKey,
  deriveKeySync,
  encryptPkcs8,
  openSecretbox,
  parseEncryptedKeyJson,
  SIGSTORE_PRIVATE_KEY_PEM_TYPE,
  type EncryptedKeyData,
} from './encrypted.js';
import { decodeFirstPem, encodePem, type PemBlock } from './pem.js';
import { keyInfo, publicKeyToPem } from './public.js';

/** A private key (encrypted PEM) and its public key (PEM), as cosign writes them. */
export interface KeyPairPem {
  /** `ENCRYPTED SIGSTORE PRIVATE KEY` PEM (the `cosign.key` file). */
  readonly privateKeyPem: string;
  /** `PUBLIC KEY` PEM (the `cosign.pub` file). */
  readonly publicKeyPem: string;
}

/** Options for {@link encryptPrivateKey}. */
export interface EncryptOptions {
  /** scrypt N: 32768, 65536 (default, what cosign writes) or 131072. */
  readonly N?: number;
}

const PLAIN_LABELS: Readonly<Record<string, 'pkcs8' | 'sec1' | 'pkcs1'>> = {
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
};

function withWhat<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isCosignError(e) && !e.message.startsWith(what)) throw fail(e.code, `${what}: ${e.message}`, { cause: e, details: e.details });
    throw e;
  }
}

/** Check the key is a private key cosign accepts (ECDSA P-256/384/521, RSA 2048/3072/4096, Ed25519). */
function checkSupported(key: KeyObject, what: string): KeyObject {
  withWhat(what, () => keyInfo(key, true));
  return key;
}

/**
 * Turn PKCS#8 DER into a key. Ed25519 PKCS#8 v2 (OneAsymmetricKey with the public key embedded) is
 * re-encoded as v1 from its seed, and the embedded public key must match the one derived from the seed.
 */
function keyFromPkcs8(der: Buffer, what: string): KeyObject {
  const parts = parsePkcs8(der, what);
  let input = der;
  let embeddedPublic: Buffer | undefined;
  if (parts.algorithmOid.equals(OID_ED25519)) {
    const inner = parts.privateKey;
    if (inner.length !== 34 || inner[0] !== 0x04 || inner[1] !== 0x20) throw fail('BAD_KEY', `${what}: malformed Ed25519 private key`);
    embeddedPublic = parts.publicKey;
    input = ed25519Pkcs8V1(inner.subarray(2));
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: input, format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw fail('BAD_KEY', `${what}: cannot parse PKCS#8 private key`, { cause });
  } finally {
    if (input !== der) input.fill(0);
  }
  if (embeddedPublic !== undefined) {
    // the public key node:crypto derives from the seed (the last 32 bytes of its SPKI encoding)
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    if (!spki.subarray(spki.length - 32).equals(embeddedPublic)) throw fail('BAD_KEY', `${what}: embedded Ed25519 public key does not match the private key`);
  }
  return key;
}

function keyFromPlainBlock(block: PemBlock, what: string): KeyObject {
  const type = PLAIN_LABELS[block.label];
  if (type === undefined) throw fail('BAD_KEY', `${what}: unsupported private key PEM type "${block.label}"`);
  if (type === 'pkcs8') return checkSupported(keyFromPkcs8(block.bytes, what), what);
  try {
    return checkSupported(createPrivateKey({ key: block.bytes, format: 'der', type }), what);
  } catch (cause) {
    if (isCosignError(cause)) throw cause;
    throw fail('BAD_KEY', `${what}: cannot parse ${type === 'sec1' ? 'EC' : 'RSA'} private key`, { cause });
  }
}

function isEncryptedLabel(label: string): boolean {
  return label === SIGSTORE_PRIVATE_KEY_PEM_TYPE || label === COSIGN_PRIVATE_KEY_PEM_TYPE;
}

type Prepared = { readonly plain: KeyObject } | { readonly encrypted: EncryptedKeyData };

function prepare(pem: string | Uint8Array, password: string | undefined, what: string): Prepared {
  const block = decodeFirstPem(pem, what);
  if (isEncryptedLabel(block.label)) return { encrypted: parseEncryptedKeyJson(block.bytes, what) };
  if (PLAIN_LABELS[block.label] === undefined) throw fail('BAD_KEY', `${what}: unsupported private key PEM type "${block.label}"`);
  if (password !== undefined && password !== '') {
    throw fail('BAD_INPUT', `${what}: a password was given but the key ("${block.label}") is not encrypted`);
  }
  return { plain: keyFromPlainBlock(block, what) };
}

function finish(plaintext: Buffer, what: string): KeyObject {
  try {
    try {
      parsePkcs8(plaintext, what);
    } catch (cause) {
      throw fail('BAD_KEY', `${what}: decrypted key is not PKCS#8 (cosign requires PKCS#8; an SEC1 or PKCS#1 key must be imported)`, { cause });
    }
    return checkSupported(keyFromPkcs8(plaintext, what), what);
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Parse a private key PEM (first block):
 * - `ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE KEY` (cosign's format; the plaintext
 *   must be PKCS#8, as in cosign); `password` undefined means the empty password, like cosign without a
 *   password function;
 * - unencrypted `PRIVATE KEY` (PKCS#8, including Ed25519 PKCS#8 v2), `EC PRIVATE KEY` (SEC1),
 *   `RSA PRIVATE KEY` (PKCS#1). Cosign itself only signs with encrypted keys; we accept these too, but a
 *   non-empty password with an unencrypted key is an error (`BAD_INPUT`), as in sigstore-rs: it means the
 *   caller is probably holding the wrong file.
 *
 * Runs scrypt synchronously; prefer {@link parsePrivateKeyAsync} on a server.
 * @throws CosignError `WRONG_PASSWORD`, `BAD_KEY`, `UNSUPPORTED_KEY` (e.g. P-224, RSA-1024), `BAD_INPUT`, `TOO_LARGE`.
 */
export function parsePrivateKey(pem: string | Uint8Array, password?: string, what = 'private key'): KeyObject {
  const p = prepare(pem, password, what);
  if ('plain' in p) return p.plain;
  const key = deriveKeySync(password ?? '', p.encrypted);
  return finish(openSecretbox(key, p.encrypted, what), what);
}

/** {@link parsePrivateKey} with scrypt on the libuv thread pool instead of the calling thread. */
export async function parsePrivateKeyAsync(pem: string | Uint8Array, password?: string, what = 'private key'): Promise<KeyObject> {
  const p = prepare(pem, password, what);
  if ('plain' in p) return p.plain;
  const key = await deriveKey(password ?? '', p.encrypted);
  return finish(openSecretbox(key, p.encrypted, what), what);
}

/**
 * Encrypt a private key exactly as cosign writes `cosign.key`: PEM `ENCRYPTED SIGSTORE PRIVATE KEY`
 * holding compact JSON `{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":…},"cipher":{"name":"nacl/secretbox","nonce":…},"ciphertext":…}`
 * around the PKCS#8 DER, with a fresh random 32-byte salt and 24-byte nonce. The empty password is allowed.
 * @throws CosignError `UNSUPPORTED_KEY` for a key cosign does not support, `BAD_INPUT` for a public key or bad N.
 */
export function encryptPrivateKey(key: KeyObject, password: string, opts: EncryptOptions = {}): string {
  if (key.type !== 'private') throw fail('BAD_INPUT', 'encryptPrivateKey needs a private key');
  keyInfo(key, true);
  const der = key.export({ type: 'pkcs8', format: 'der' });
  try {
    return encodePem(SIGSTORE_PRIVATE_KEY_PEM_TYPE, encryptPkcs8(der, password, opts.N ?? DEFAULT_SCRYPT_N));
  } finally {
    der.fill(0);
  }
}

/**
 * Generate an ECDSA P-256 key pair, as `cosign generate-key-pair` does, encrypted with `password`
 * (the empty string is allowed).
 */
export function generateKeyPair(password: string, opts: EncryptOptions = {}): KeyPairPem {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKeyPem: encryptPrivateKey(privateKey, password, opts), publicKeyPem: publicKeyToPem(privateKey) };
}

/**
 * Import an unencrypted private key as `cosign import-key-pair` does: only PEM `RSA PRIVATE KEY`
 * (PKCS#1), `EC PRIVATE KEY` (SEC1) or `PRIVATE KEY` (PKCS#8 RSA, ECDSA or Ed25519) is accepted; RSA must be
 * 2048/3072/4096 bits with e=65537, ECDSA P-256/P-384/P-521. Returns the encrypted private key
 * (`ENCRYPTED SIGSTORE PRIVATE KEY`) and the public key; the caller writes them (cosign uses
 * `import-cosign.key` / `import-cosign.pub`).
 * @throws CosignError `BAD_KEY` (other PEM types, including already-encrypted keys), `UNSUPPORTED_KEY`.
 */
export function importKeyPair(pem: string | Uint8Array, password: string, opts: EncryptOptions = {}): KeyPairPem {
  const what = 'imported key';
  const block = decodeFirstPem(pem, what);
  if (PLAIN_LABELS[block.label] === undefined) {
    throw fail('BAD_KEY', `${what}: unsupported private key PEM type "${block.label}" (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)`);
  }
  const key = keyFromPlainBlock(block, what);
  return { privateKeyPem: encryptPrivateKey(key, password, opts), publicKeyPem: publicKeyToPem(key) };
}
