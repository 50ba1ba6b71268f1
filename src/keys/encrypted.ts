/**
 * Cosign's encrypted private key format (go-securesystemslib `encrypted`): scrypt + NaCl secretbox
 * (XSalsa20-Poly1305) around PKCS#8 DER, as compact JSON inside a PEM block.
 *
 * @module
 */
import { randomBytes, scrypt, scryptSync } from 'node:crypto';
import { nobleSalsa, schema } from '../internal/deps.js';
import { fail } from '../errors.js';
import { decodeBase64Strict } from '../encoding.js';
import { parseJson } from '../json/strict.js';

/** PEM label cosign ≥ v2.1 writes. */
export const SIGSTORE_PRIVATE_KEY_PEM_TYPE = 'ENCRYPTED SIGSTORE PRIVATE KEY';
/** PEM label older cosign wrote; still read. */
export const COSIGN_PRIVATE_KEY_PEM_TYPE = 'ENCRYPTED COSIGN PRIVATE KEY';

/** scrypt cost parameters accepted on decryption (go-securesystemslib's allow-list); r=8, p=1. */
export const ALLOWED_SCRYPT_N: readonly number[] = [32768, 65536, 131072];
/** scrypt N cosign (≥ v2.2) writes. */
export const DEFAULT_SCRYPT_N = 65536;

const SCRYPT_R = 8;
const SCRYPT_P = 1;
const KEY_LEN = 32;
const NONCE_LEN = 24;
const SALT_LEN = 32;
const TAG_LEN = 16;
const MAX_SALT_LEN = 1024;
/** Enough for N=131072, r=8 (128·N·r = 128 MiB) plus slack. */
const SCRYPT_MAXMEM = 256 * 1024 * 1024;

const EncryptedKeySchema = schema((z) =>
  z.object({
    kdf: z.object({
      name: z.literal('scrypt'),
      params: z.object({ N: z.number().int(), r: z.number().int(), p: z.number().int() }),
      salt: z.string(),
    }),
    cipher: z.object({ name: z.literal('nacl/secretbox'), nonce: z.string() }),
    ciphertext: z.string(),
  }),
);

/** The decoded, validated contents of an encrypted key's JSON body. */
export interface EncryptedKeyData {
  /** scrypt cost parameter (r=8, p=1 are fixed). */
  readonly N: number;
  /** scrypt salt (cosign writes 32 bytes). */
  readonly salt: Buffer;
  /** secretbox nonce, 24 bytes. */
  readonly nonce: Buffer;
  /** Poly1305 tag (16 bytes) followed by the XSalsa20 output. */
  readonly ciphertext: Buffer;
}

/**
 * Parse and validate the JSON body of an encrypted cosign key.
 * @throws CosignError `BAD_KEY` for malformed JSON, unknown KDF/cipher, disallowed scrypt parameters,
 *   bad base64, a nonce that is not 24 bytes, or a ciphertext shorter than the 16-byte tag.
 */
export function parseEncryptedKeyJson(body: Uint8Array | string, what = 'encrypted private key'): EncryptedKeyData {
  const json = parseJson(body, what, 'BAD_KEY');
  const parsed = EncryptedKeySchema().safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.join('.');
    throw fail('BAD_KEY', `${what}: invalid encrypted key JSON at ${at}: ${issue?.message ?? 'invalid'}`);
  }
  const { kdf, cipher, ciphertext } = parsed.data;
  if (!ALLOWED_SCRYPT_N.includes(kdf.params.N) || kdf.params.r !== SCRYPT_R || kdf.params.p !== SCRYPT_P) {
    throw fail('BAD_KEY', `${what}: unsupported scrypt parameters (N must be 32768, 65536 or 131072; r=8; p=1)`);
  }
  const salt = decodeBase64Strict(kdf.salt, `${what}: kdf.salt`, 'BAD_KEY');
  if (salt.length > MAX_SALT_LEN) throw fail('BAD_KEY', `${what}: kdf.salt is too long`);
  const nonce = decodeBase64Strict(cipher.nonce, `${what}: cipher.nonce`, 'BAD_KEY');
  if (nonce.length !== NONCE_LEN) throw fail('BAD_KEY', `${what}: cipher.nonce must be ${NONCE_LEN} bytes`);
  const ct = decodeBase64Strict(ciphertext, `${what}: ciphertext`, 'BAD_KEY');
  if (ct.length < TAG_LEN) throw fail('BAD_KEY', `${what}: ciphertext is shorter than the authentication tag`);
  return { N: kdf.params.N, salt, nonce, ciphertext: ct };
}

function scryptOptions(N: number): { N: number; r: number; p: number; maxmem: number } {
  return { N, r: SCRYPT_R, p: SCRYPT_P, maxmem: SCRYPT_MAXMEM };
}

/** Derive the secretbox key synchronously (blocks the thread for ~0.1–0.4 s). */
export function deriveKeySync(password: string, data: Pick<EncryptedKeyData, 'N' | 'salt'>): Buffer {
  return scryptSync(Buffer.from(password, 'utf8'), data.salt, KEY_LEN, scryptOptions(data.N));
}

/** Derive the secretbox key on the libuv thread pool. */
export function deriveKey(password: string, data: Pick<EncryptedKeyData, 'N' | 'salt'>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(password, 'utf8'), data.salt, KEY_LEN, scryptOptions(data.N), (err, key) => {
      if (err) reject(fail('BAD_KEY', 'scrypt key derivation failed', { cause: err }));
      else resolve(key);
    });
  });
}

/**
 * Open the secretbox with a derived key. The derived key is wiped afterwards.
 * @throws CosignError `WRONG_PASSWORD` when authentication fails (wrong password or tampered data).
 */
export function openSecretbox(key: Uint8Array, data: Pick<EncryptedKeyData, 'nonce' | 'ciphertext'>, what = 'encrypted private key'): Buffer {
  try {
    const plain = nobleSalsa().xsalsa20poly1305(key, data.nonce).decrypt(data.ciphertext);
    return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  } catch (cause) {
    throw fail('WRONG_PASSWORD', `${what}: decryption failed (wrong password or corrupted key)`, { cause });
  } finally {
    key.fill(0);
  }
}

/**
 * Encrypt PKCS#8 DER exactly as cosign does and return the PEM (`ENCRYPTED SIGSTORE PRIVATE KEY`,
 * compact JSON, 32-byte salt, 24-byte nonce).
 * @param N scrypt cost, one of {@link ALLOWED_SCRYPT_N}; default {@link DEFAULT_SCRYPT_N}.
 */
export function encryptPkcs8(pkcs8: Uint8Array, password: string, N: number = DEFAULT_SCRYPT_N): Buffer {
  if (!ALLOWED_SCRYPT_N.includes(N)) throw fail('BAD_INPUT', 'scrypt N must be 32768, 65536 or 131072');
  if (typeof password !== 'string') throw fail('BAD_INPUT', 'password must be a string');
  const salt = randomBytes(SALT_LEN);
  const nonce = randomBytes(NONCE_LEN);
  const key = deriveKeySync(password, { N, salt });
  let ct: Uint8Array;
  try {
    ct = nobleSalsa().xsalsa20poly1305(key, nonce).encrypt(pkcs8);
  } finally {
    key.fill(0);
  }
  const json = JSON.stringify({
    kdf: { name: 'scrypt', params: { N, r: SCRYPT_R, p: SCRYPT_P }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ct.buffer, ct.byteOffset, ct.byteLength).toString('base64'),
  });
  return Buffer.from(json, 'utf8');
}
