/**
 * Which Ed25519 scheme each key-file signing path produces. cosign 2.5 signs pure Ed25519 with an
 * Ed25519 key file (`sign`, `sign-blob`; test/interop/ed25519-interop.test.ts runs it), so that is the
 * default everywhere; Ed25519ph only with `{ ed25519ph: true }`.
 */
import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { encryptPrivateKey, FileSigner, signerFromPrivateKey } from '../../src/keys/index.js';
import { ed25519phVerify, loadEd25519ph } from '../../src/keys/ed25519ph.js';

const message = Buffer.from('{"critical":{"identity":{"docker-reference":"example.com/app"}},"optional":null}');

describe('FileSigner: Ed25519 scheme per path', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);

  it('new FileSigner / signerFromPrivateKey: pure Ed25519, byte-identical to node:crypto, sync and async', async () => {
    for (const signer of [
      new FileSigner(privateKey, 'k'),
      signerFromPrivateKey(privateKey, 'k'),
      signerFromPrivateKey(privateKey, 'k', { ed25519ph: false }),
    ]) {
      expect(signer.ed25519ph).toBe(false);
      const expected = cryptoSign(null, message, privateKey);
      expect(Buffer.from(await signer.sign(message))).toEqual(expected);
      expect(Buffer.from(signer.signSync(message))).toEqual(expected);
    }
  });

  it('{ ed25519ph: true }: Ed25519ph, not pure', async () => {
    await loadEd25519ph();
    const signer = signerFromPrivateKey(privateKey, 'k', { ed25519ph: true });
    expect(signer.ed25519ph).toBe(true);
    const sig = await signer.sign(message);
    expect(ed25519phVerify(raw, message, sig)).toBe(true);
    expect(cryptoVerify(null, message, publicKey, sig)).toBe(false);
  });

  it('loadSignerFromFile (cosign-encrypted key file): pure by default, and signSync needs no Ed25519ph load', async () => {
    vi.resetModules(); // a fresh module graph: @noble/curves not loaded
    const keys = await import('../../src/keys/index.js');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'file-signer-'));
    try {
      const file = path.join(dir, 'ed.key');
      await writeFile(file, encryptPrivateKey(privateKey, 'pw', { N: 32768 }));
      const signer = await keys.loadSignerFromFile(file, 'pw');
      expect(signer.ed25519ph).toBe(false);
      expect(Buffer.from(signer.signSync(message))).toEqual(cryptoSign(null, message, privateKey));
      const ph = await keys.loadSignerFromFile(file, 'pw', { ed25519ph: true });
      expect(ed25519phVerify(raw, message, ph.signSync(message))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('other key types ignore the option', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const s = signerFromPrivateKey(ec, 'k', { ed25519ph: true });
    expect(s.ed25519ph).toBe(false);
    expect(cryptoVerify('sha256', message, ec, s.signSync(message))).toBe(true);
  });
});
