import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { readFileLimited } from '../../src/internal/read-file.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cosign-ts-node-fs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

async function tooLarge(p: Promise<unknown>, file: string, limit: number): Promise<void> {
  const e = await p.then(
    () => expect.unreachable('expected TOO_LARGE'),
    (err: unknown) => err,
  );
  expect(isCosignError(e, 'TOO_LARGE'), String(e)).toBe(true);
  expect((e as Error).message).toContain(file);
  expect((e as Error).message).toContain(`${limit} bytes`);
}

/** A FIFO whose writer (a child process) writes `bytes` bytes (or forever when undefined), then closes. */
function fifoWithWriter(name: string, bytes?: number): { file: string; stop: () => void } {
  const file = path.join(dir, name);
  expect(spawnSync('mkfifo', [file]).status).toBe(0);
  const script =
    bytes === undefined
      ? `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(file)},'w');const b=Buffer.alloc(65536,65);for(;;){try{fs.writeSync(fd,b)}catch{process.exit(0)}}`
      : `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(file)},'w');let n=${bytes};const b=Buffer.alloc(65536,65);while(n>0){const k=Math.min(n,b.length);try{fs.writeSync(fd,b,0,k)}catch{process.exit(0)}n-=k}fs.closeSync(fd)`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  return { file, stop: () => child.kill('SIGKILL') };
}

describe('readFileLimited', () => {
  it('reads a file up to and including the limit; one byte more is TOO_LARGE naming the file and the limit', async () => {
    const f = path.join(dir, 'exact');
    writeFileSync(f, Buffer.alloc(1000, 7));
    expect(await readFileLimited(f, 1000)).toEqual(Buffer.alloc(1000, 7));
    expect(await readFileLimited(f, 5000, 'x', 'latin1')).toBe('\x07'.repeat(1000));
    await tooLarge(readFileLimited(f, 999, 'key file'), f, 999);
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '');
    expect((await readFileLimited(empty, 0)).length).toBe(0);
    const big = path.join(dir, 'big');
    writeFileSync(big, Buffer.alloc(300 * 1024, 1)); // several chunks
    expect((await readFileLimited(big, 300 * 1024)).equals(Buffer.alloc(300 * 1024, 1))).toBe(true);
    await tooLarge(readFileLimited(big, 200 * 1024), big, 200 * 1024);
  });

  it('/dev/zero (stat size 0, endless) stops at the limit, quickly, and closes its descriptor', async () => {
    const before = openFds();
    const t0 = performance.now();
    await tooLarge(readFileLimited('/dev/zero', 1024 * 1024, 'key file'), '/dev/zero', 1024 * 1024);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(openFds()).toBe(before);
  });

  it('a FIFO with an endless writer stops at the limit', async () => {
    const { file, stop } = fifoWithWriter('endless');
    try {
      await tooLarge(readFileLimited(file, 512 * 1024), file, 512 * 1024);
    } finally {
      stop();
    }
  });

  it('a FIFO with a finite writer is read whole when within the limit', async () => {
    const { file, stop } = fifoWithWriter('finite', 200_000);
    try {
      expect((await readFileLimited(file, 1024 * 1024)).length).toBe(200_000);
    } finally {
      stop();
    }
  });

  it('a file growing while it is read never yields more than the limit', async () => {
    const f = path.join(dir, 'growing');
    writeFileSync(f, 'start\n'); // stat().size says 6 bytes
    const appender = spawn(process.execPath, ['-e', `const fs=require('fs');const b=Buffer.alloc(65536,66);for(;;)fs.appendFileSync(${JSON.stringify(f)},b)`], {
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 5; i++) {
        const r = await readFileLimited(f, 256 * 1024).then(
          (b) => b.length,
          (e: unknown) => (isCosignError(e, 'TOO_LARGE') ? 'TOO_LARGE' : e),
        );
        expect(r === 'TOO_LARGE' || (typeof r === 'number' && r <= 256 * 1024), String(r)).toBe(true);
      }
    } finally {
      appender.kill('SIGKILL');
    }
  });

  it('file system errors pass through unchanged (ENOENT, EISDIR)', async () => {
    await expect(readFileLimited(path.join(dir, 'missing'), 10)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readFileLimited(dir, 10)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(readFileLimited(dir, -1)).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
