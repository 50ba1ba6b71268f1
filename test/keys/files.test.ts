import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  importKeyPair,
  loadSignerFromFile,
  parsePrivateKey,
  parsePublicKey,
  publicKeyToPem,
  resolvePassword,
  verifySignature,
  writeKeyPair,
  writeKeyPairFiles,
} from '../../src/keys/index.js';
import { fixture, sharedFixtures } from '../helpers/fixtures.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cosign-ts-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeKeyPair', () => {
  it('writes cosign.key 0600 and cosign.pub 0644; refuses to overwrite; force overwrites', async () => {
    const out = await writeKeyPair(dir, { password: 'pw', N: 32768 });
    expect(out.privateKeyPath).toBe(path.join(dir, 'cosign.key'));
    expect(statSync(out.privateKeyPath).mode & 0o777).toBe(0o600);
    expect(statSync(out.publicKeyPath).mode & 0o777).toBe(0o644);
    const keyPem = readFileSync(out.privateKeyPath, 'utf8');
    const pubPem = readFileSync(out.publicKeyPath, 'utf8');
    expect(pubPem).toBe(out.publicKeyPem);
    expect(publicKeyToPem(parsePrivateKey(keyPem, 'pw'))).toBe(pubPem);

    await expect(writeKeyPair(dir, { password: 'pw', N: 32768 })).rejects.toMatchObject({ code: 'FILE_EXISTS' });
    expect(readFileSync(out.privateKeyPath, 'utf8')).toBe(keyPem); // untouched

    const again = await writeKeyPair(dir, { password: 'pw2', N: 32768, force: true });
    expect(readFileSync(again.privateKeyPath, 'utf8')).not.toBe(keyPem);
    expect(statSync(again.privateKeyPath).mode & 0o777).toBe(0o600);
  });

  it('refuses when only the .pub exists, writing nothing', async () => {
    writeFileSync(path.join(dir, 'half.pub'), 'x');
    const pair = importKeyPair(fixture('cosign/keys/import-ec-p256-sec1.key'), 'pw', { N: 32768 });
    await expect(writeKeyPairFiles(dir, pair, { prefix: 'half' })).rejects.toMatchObject({ code: 'FILE_EXISTS' });
    expect(() => statSync(path.join(dir, 'half.key'))).toThrow();
  });

  it('import-key-pair output goes to import-cosign.key / .pub via the prefix', async () => {
    const pair = importKeyPair(fixture('cosign/keys/import-rsa2048-pkcs1.key'), '', { N: 32768 });
    const out = await writeKeyPairFiles(dir, pair, { prefix: 'import-cosign' });
    expect(path.basename(out.privateKeyPath)).toBe('import-cosign.key');
    expect(statSync(out.privateKeyPath).mode & 0o777).toBe(0o600);
  });

  it('rejects a prefix with a path separator', async () => {
    const pair = { privateKeyPem: 'x', publicKeyPem: 'y' };
    await expect(writeKeyPairFiles(dir, pair, { prefix: '../evil' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('loadSignerFromFile', () => {
  it('loads the policy-controller key with "" and signs verifiably', async () => {
    const file = path.join(sharedFixtures, 'policy-controller/cosign.key');
    const signer = await loadSignerFromFile(file, '');
    expect(signer.keyRef).toBe(file);
    const msg = Buffer.from('hello');
    const sig = await signer.sign(msg);
    const pub = parsePublicKey(fixture('policy-controller/cosign.pub'));
    expect(verifySignature(pub, msg, sig)).toBe(true);
  });
  it('typed errors: missing file, wrong password', async () => {
    await expect(loadSignerFromFile(path.join(dir, 'nope.key'), '')).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(loadSignerFromFile(path.join(sharedFixtures, 'policy-controller/cosign.key'), 'x')).rejects.toMatchObject({
      code: 'WRONG_PASSWORD',
    });
  });
});

describe('resolvePassword', () => {
  it('option, else COSIGN_PASSWORD (empty allowed), else undefined', () => {
    expect(resolvePassword({ password: 'a', env: { COSIGN_PASSWORD: 'b' } })).toBe('a');
    expect(resolvePassword({ password: '', env: { COSIGN_PASSWORD: 'b' } })).toBe('');
    expect(resolvePassword({ env: { COSIGN_PASSWORD: 'b' } })).toBe('b');
    expect(resolvePassword({ env: { COSIGN_PASSWORD: '' } })).toBe('');
    expect(resolvePassword({ env: {} })).toBeUndefined();
  });
});
