/**
 * Bounded file reads: {@link readFileLimited} is the one way `src/` reads a file whose size it does not
 * control (keys, certificates, payloads, policies, config files, tokens): bounded by the bytes actually
 * read. There is deliberately no unbounded `readFile` here.
 *
 * @internal
 * @module
 */
import { open } from 'node:fs/promises';
import type { PathLike } from 'node:fs';
import { fail } from '../errors.js';

/** Limit for key, public key, certificate and Rekor public key files (PEM or DER): 1 MiB. */
export const MAX_KEY_FILE_BYTES = 1024 * 1024;
/** Limit for CA bundle files (`--registry-cacert`, `AWS_CA_BUNDLE`, `VAULT_CACERT`): 8 MiB. */
export const MAX_CA_BUNDLE_BYTES = 8 * 1024 * 1024;
/** Limit for signature and payload files (`verify --signature/--payload`): 1 MiB, like cosign's payload limit. */
export const MAX_PAYLOAD_FILE_BYTES = 1024 * 1024;
/** Limit for configuration and policy files (Docker `config.json`, the killer's policy): 4 MiB. */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;
/** Limit for token files (Vault token, login JWT): 64 KiB. */
export const MAX_TOKEN_FILE_BYTES = 64 * 1024;

const CHUNK = 64 * 1024;

/**
 * Read a whole file, but never more than `maxBytes`: reads through a file descriptor in chunks of
 * at most 64 KiB and stops with `TOO_LARGE` (naming the file and the limit) as soon as byte
 * `maxBytes + 1` arrives. The limit is on the bytes actually read, not on `stat().size`, which is 0
 * for `/dev/zero` and FIFOs and stale for a file that grows while it is read; memory in flight is
 * at most `maxBytes` plus one chunk.
 *
 * Errors from the file system (`ENOENT`, `EISDIR`, `EACCES`, …) are passed through unchanged, as
 * `fs.readFile` does, so callers keep their own messages for them.
 * @param what names the file in the error, e.g. `key file`.
 * @throws CosignError `TOO_LARGE`; Node's system errors otherwise.
 */
export function readFileLimited(file: PathLike, maxBytes: number, what?: string): Promise<Buffer>;
export function readFileLimited(file: PathLike, maxBytes: number, what: string | undefined, encoding: BufferEncoding): Promise<string>;
export async function readFileLimited(file: PathLike, maxBytes: number, what = 'file', encoding?: BufferEncoding): Promise<Buffer | string> {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw fail('BAD_INPUT', `readFileLimited: invalid limit ${maxBytes}`);
  const fh = await open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // never ask for more than one byte past the limit
      const buf = Buffer.alloc(Math.min(CHUNK, maxBytes + 1 - total));
      const { bytesRead: n } = await fh.read(buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw fail('TOO_LARGE', `${what} ${String(file)} is larger than ${maxBytes} bytes`);
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
    }
    const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
    return encoding === undefined ? data : data.toString(encoding);
  } finally {
    await fh.close();
  }
}
