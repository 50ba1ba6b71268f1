import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { isCosignError, type CosignErrorCode } from '../../src/errors.js';

/** Await `p`, expect a CosignError with `code`, whose message names `keyRef` and contains no secret. */
export async function expectKmsError(p: Promise<unknown>, code: CosignErrorCode, keyRef: string, secrets: string[]): Promise<Error> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeDefined();
  if (!isCosignError(err)) throw err;
  expect(err.code, err.message).toBe(code);
  expect(err.message).toContain(keyRef);
  expectNoSecrets(err, secrets);
  return err;
}

/** No secret in the message, JSON form, or a deep inspect (which includes `cause`). */
export function expectNoSecrets(err: unknown, secrets: string[]): void {
  const texts = [String(err), JSON.stringify(err), inspect(err, { depth: 8 }), (err as Error).stack ?? ''];
  for (const s of secrets) for (const t of texts) expect(t.includes(s), `secret leaked in: ${t.slice(0, 300)}`).toBe(false);
}

/** Verify as cosign does for this key type: ECDSA DER / RSA PKCS#1 v1.5 with `hash`. */
export function verifyLocally(pub: KeyObject, hash: 'sha256' | 'sha384' | 'sha512', message: Uint8Array, sig: Uint8Array): boolean {
  return cryptoVerify(hash, message, pub, sig);
}

export function sha256(b: Uint8Array | string): string {
  return createHash('sha256').update(b).digest('hex');
}
