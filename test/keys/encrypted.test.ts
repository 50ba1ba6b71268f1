import { generateKeyPairSync } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { encryptPrivateKey, generateKeyPair, keyDescription, parsePrivateKey, parsePrivateKeyAsync, publicKeyToPem } from '../../src/keys/index.js';
import { deriveKeySync, openSecretbox } from '../../src/keys/encrypted.js';
import { fixture } from '../helpers/fixtures.js';
import { parseEncryptedKeyJson } from '../../src/keys/encrypted.js';
import { decodePem } from '../../src/keys/pem.js';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isCosignError(e) ? e.code : `not a CosignError: ${String(e)}`;
  }
  return undefined;
}

describe('encryptPrivateKey writes exactly cosign’s format', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = encryptPrivateKey(privateKey, 'pässwörd');

  it('label, 64-column lines, trailing newline', () => {
    const lines = pem.split('\n');
    expect(lines[0]).toBe('-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----');
    expect(lines.at(-2)).toBe('-----END ENCRYPTED SIGSTORE PRIVATE KEY-----');
    expect(lines.at(-1)).toBe('');
    for (const l of lines.slice(1, -3)) expect(l.length).toBe(64);
  });

  it('compact JSON in cosign’s key order with N=65536, r=8, p=1, 32-byte salt, 24-byte nonce', () => {
    const json = (decodePem(pem)[0] as { bytes: Buffer }).bytes.toString('utf8');
    expect(json).toMatch(
      /^\{"kdf":\{"name":"scrypt","params":\{"N":65536,"r":8,"p":1\},"salt":"[A-Za-z0-9+/]{43}="\},"cipher":\{"name":"nacl\/secretbox","nonce":"[A-Za-z0-9+/]{32}"\},"ciphertext":"[A-Za-z0-9+/=]+"\}$/,
    );
    const data = parseEncryptedKeyJson(json);
    expect(data.salt.length).toBe(32);
    expect(data.nonce.length).toBe(24);
    // ciphertext = 16-byte tag ‖ XSalsa20 output of the 138-byte PKCS#8 P-256 key
    expect(data.ciphertext.length).toBe(16 + 138);
  });

  it('has the same shape as a real cosign generate-key-pair output', () => {
    const real = (decodePem(fixture('sigstore-rs/keys/cosign_generated_encrypted_empty_private.key'))[0] as { bytes: Buffer }).bytes.toString();
    const ours = (decodePem(pem)[0] as { bytes: Buffer }).bytes.toString();
    const shape = (s: string): string => s.replace(/"[A-Za-z0-9+/=]{20,}"/g, '"…"');
    expect(shape(ours)).toBe(shape(real));
    expect(ours.length).toBe(real.length);
  });

  it('round trip, and wrong password → WRONG_PASSWORD; N=65536 decrypt time is reported', () => {
    const t = process.hrtime.bigint();
    const back = parsePrivateKey(pem, 'pässwörd');
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(`decrypting an N=65536 key took ${ms.toFixed(0)} ms`);
    expect(publicKeyToPem(back)).toBe(publicKeyToPem(privateKey));
    expect(code(() => parsePrivateKey(pem, 'passwörd'))).toBe('WRONG_PASSWORD');
  });

  it('async decryption gives the same key', async () => {
    const back = await parsePrivateKeyAsync(pem, 'pässwörd');
    expect(publicKeyToPem(back)).toBe(publicKeyToPem(privateKey));
    await expect(parsePrivateKeyAsync(pem, 'x')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
  });
});

describe('round trips with other key types and the empty password (N=32768 for speed)', () => {
  const keys = [
    generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
    generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    generateKeyPairSync('ed25519').privateKey,
  ];
  for (const key of keys) {
    it(keyDescription(key), () => {
      const pem = encryptPrivateKey(key, '', { N: 32768 });
      const back = parsePrivateKey(pem, '');
      expect(publicKeyToPem(back)).toBe(publicKeyToPem(key));
    });
  }
  it('generateKeyPair makes an encrypted P-256 key and its public key', () => {
    const pair = generateKeyPair('', { N: 32768 });
    const key = parsePrivateKey(pair.privateKeyPem, '');
    expect(keyDescription(key)).toBe('ECDSA P-256');
    expect(publicKeyToPem(key)).toBe(pair.publicKeyPem);
  });
  it('refuses a public key, an unsupported key, and an N cosign would not read', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(code(() => encryptPrivateKey(publicKey, 'x'))).toBe('BAD_INPUT');
    expect(code(() => encryptPrivateKey(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey, 'x'))).toBe('UNSUPPORTED_KEY');
    expect(code(() => encryptPrivateKey(privateKey, 'x', { N: 16384 }))).toBe('BAD_INPUT');
  });
});

describe('encrypted key JSON validation', () => {
  const good = (decodePem(fixture('cosign/keys/encrypted-sigstore-label.key'))[0] as { bytes: Buffer }).bytes.toString();
  const obj = JSON.parse(good) as Record<string, Record<string, unknown>>;
  const variant = (f: (o: any) => void): string => {
    const o = structuredClone(obj);
    f(o);
    return JSON.stringify(o);
  };
  it('accepts the fixture', () => {
    expect(parseEncryptedKeyJson(good).N).toBe(32768);
  });
  const bad: Array<[string, string]> = [
    ['not JSON', '{'],
    ['array', '[]'],
    ['kdf name', variant((o) => (o.kdf.name = 'pbkdf2'))],
    ['cipher name', variant((o) => (o.cipher.name = 'aes'))],
    ['N=16384', variant((o) => (o.kdf.params.N = 16384))],
    ['N=2^20', variant((o) => (o.kdf.params.N = 1048576))],
    ['r=16', variant((o) => (o.kdf.params.r = 16))],
    ['p=2', variant((o) => (o.kdf.params.p = 2))],
    ['N string', variant((o) => (o.kdf.params.N = '32768'))],
    ['nonce 23 bytes', variant((o) => (o.cipher.nonce = Buffer.alloc(23).toString('base64')))],
    ['nonce base64url', variant((o) => (o.cipher.nonce = '-_' + (o.cipher.nonce as string).slice(2)))],
    ['salt not base64', variant((o) => (o.kdf.salt = 'salt!'))],
    ['ciphertext short', variant((o) => (o.ciphertext = Buffer.alloc(15).toString('base64')))],
    ['ciphertext missing', variant((o) => delete o.ciphertext)],
    ['duplicate key', good.replace('{"kdf":', '{"ciphertext":"AAAA","kdf":')],
  ];
  for (const [name, json] of bad) {
    it(`rejects ${name} with BAD_KEY`, () => {
      expect(code(() => parseEncryptedKeyJson(json))).toBe('BAD_KEY');
    });
  }
  it('a disallowed N is refused before any scrypt work', () => {
    const pem = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(variant((o) => (o.kdf.params.N = 1 << 24))).toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
    const t = Date.now();
    expect(code(() => parsePrivateKey(pem, 'hello'))).toBe('BAD_KEY');
    expect(Date.now() - t).toBeLessThan(50);
  });
});

describe('secretbox layout', () => {
  it('ciphertext is the Poly1305 tag followed by the XSalsa20 output, and any flipped bit fails', () => {
    const data = parseEncryptedKeyJson((decodePem(fixture('cosign/keys/encrypted-sigstore-label.key'))[0] as { bytes: Buffer }).bytes);
    const key = deriveKeySync('hello', data);
    const plain = openSecretbox(Buffer.from(key), data);
    expect(plain[0]).toBe(0x30);
    // re-seal with the same key/nonce reproduces the fixture's ciphertext exactly
    expect(Buffer.from(xsalsa20poly1305(key, data.nonce).encrypt(plain))).toEqual(data.ciphertext);
    for (const i of [0, 15, 16, data.ciphertext.length - 1]) {
      const ct = Buffer.from(data.ciphertext);
      ct[i] = (ct[i] as number) ^ 0x01;
      expect(code(() => openSecretbox(Buffer.from(key), { nonce: data.nonce, ciphertext: ct }))).toBe('WRONG_PASSWORD');
    }
  });
});
