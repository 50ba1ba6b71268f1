import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readBlob } from '../../src/blob/read.js';

describe('readBlob', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-blob-'));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads a file and a stream', async () => {
    const f = path.join(dir, 'a');
    await writeFile(f, 'abc');
    expect((await readBlob(f)).toString()).toBe('abc');
    expect((await readBlob(Readable.from([Buffer.from('ab'), 'c']))).toString()).toBe('abc');
  });

  it('refuses more than maxBytes, from a file or a stream', async () => {
    const f = path.join(dir, 'big');
    await writeFile(f, Buffer.alloc(11));
    await expect(readBlob(f, 10)).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(readBlob(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), 10)).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });

  it('reports a missing file as IO_ERROR', async () => {
    await expect(readBlob(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('ENOENT') });
  });
});
