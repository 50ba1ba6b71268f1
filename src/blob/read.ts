/**
 * Bounded reads of the blob to sign or verify: a file, or a stream such as stdin (`-`).
 *
 * @module
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fail } from '../errors.js';

/** Default largest blob read into memory (bytes): 1 GiB. Signing needs the whole message. */
export const MAX_BLOB_BYTES = 1024 * 1024 * 1024;

/**
 * Read all of `source` (a file path, or a readable stream such as `process.stdin`) into memory, refusing
 * more than `maxBytes` (`TOO_LARGE`). A missing or unreadable file is `IO_ERROR`.
 */
export async function readBlob(source: string | Readable, maxBytes: number = MAX_BLOB_BYTES, what = 'blob'): Promise<Buffer> {
  if (typeof source !== 'string') return readStream(source, maxBytes, what);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(source, 'r');
  } catch (cause) {
    throw fail('IO_ERROR', `${what} ${source}: ${(cause as NodeJS.ErrnoException).code ?? 'cannot open'}`, { cause });
  }
  try {
    const size = (await handle.stat()).size;
    if (size > maxBytes) throw fail('TOO_LARGE', `${what} ${source} is ${size} bytes, over the ${maxBytes}-byte limit`);
    return await readStream(handle.createReadStream({ autoClose: false }), maxBytes, `${what} ${source}`);
  } finally {
    await handle.close();
  }
}

async function readStream(stream: Readable | AsyncIterable<unknown>, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
      size += buf.byteLength;
      if (size > maxBytes) throw fail('TOO_LARGE', `${what} is over the ${maxBytes}-byte limit`);
      chunks.push(buf);
    }
  } catch (cause) {
    if ((cause as Error | null)?.name === 'CosignError') throw cause;
    throw fail('IO_ERROR', `${what}: ${(cause as Error).message}`, { cause });
  }
  return Buffer.concat(chunks, size);
}
