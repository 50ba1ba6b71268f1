/**
 * Every library loader that reads a file of untrusted size stops at its limit, by bytes read: a FIFO
 * (`stat().size` 0) fed more than the limit is `TOO_LARGE`, and so is `/dev/zero`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { loadSignerFromFile } from '../../src/keys/index.js';
import { resolvePublicKey, resolveSigner } from '../../src/kms/index.js';
import { dockerConfigKeychain } from '../../src/oci/keychain.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cosign-ts-bounded-'));
const writers: ChildProcess[] = [];
afterEach(() => {
  for (const w of writers.splice(0)) w.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1024 * 1024;

/**
 * A FIFO at `file` whose writer sends `bytes` bytes and then keeps it open without writing: a reader
 * bounded by bytes read stops with TOO_LARGE; one that reads to end of file (or trusts `stat().size`,
 * 0 here) waits forever, with bounded memory.
 */
function fifo(file: string, bytes = MiB + 65536): string {
  mkdirSync(path.dirname(file), { recursive: true });
  expect(spawnSync('mkfifo', [file]).status).toBe(0);
  const script = `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(file)},'w');let n=${bytes};const b=Buffer.alloc(65536,65);while(n>0){const k=Math.min(n,b.length);try{fs.writeSync(fd,b,0,k)}catch{process.exit(0)}n-=k}setInterval(()=>{},1e6)`;
  writers.push(spawn(process.execPath, ['-e', script], { stdio: 'ignore' }));
  return file;
}

async function expectTooLarge(p: Promise<unknown>, file: string): Promise<void> {
  const e = await p.then(
    () => expect.unreachable('expected TOO_LARGE'),
    (err: unknown) => err,
  );
  expect(isCosignError(e, 'TOO_LARGE'), String(e)).toBe(true);
  expect((e as Error).message).toContain(file);
}

describe('library loaders read at most their limit', () => {
  it('loadSignerFromFile: a FIFO larger than 1 MiB, and /dev/zero', async () => {
    await expectTooLarge(loadSignerFromFile(fifo(path.join(dir, 'key.fifo'))), 'key.fifo');
    await expectTooLarge(loadSignerFromFile('/dev/zero'), '/dev/zero');
  }, 10_000);

  it('KMS file key loader (resolveSigner / resolvePublicKey): path, file:// URL, /dev/zero', async () => {
    await expectTooLarge(resolveSigner(fifo(path.join(dir, 'kms-key.fifo'))), 'kms-key.fifo');
    await expectTooLarge(resolvePublicKey(`file://${fifo(path.join(dir, 'kms-pub.fifo'))}`), 'kms-pub.fifo');
    await expectTooLarge(resolvePublicKey('/dev/zero'), '/dev/zero');
    await expectTooLarge(resolvePublicKey('file:///dev/zero'), '/dev/zero');
  }, 10_000);

  it('docker config.json larger than 4 MiB', async () => {
    const configDir = path.join(dir, 'docker');
    fifo(path.join(configDir, 'config.json'), 4 * MiB + 65536);
    await expectTooLarge(dockerConfigKeychain({ configDir, env: {} }).resolve('example.com', 'app'), 'config.json');
  }, 10_000);
});
