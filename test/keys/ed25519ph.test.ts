import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

// RFC 8032 §7.3, test "abc" (Ed25519ph)
const SEED = Buffer.from('833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42', 'hex');
const PUB = Buffer.from('ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf', 'hex');
const SIG = Buffer.from(
  '98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406',
  'hex',
);
const ABC = Buffer.from('abc');

/** PKCS#8 v2 (RFC 8410 OneAsymmetricKey with the public key) of the RFC seed, as PEM. */
function rfcKeyPem(): string {
  const der = Buffer.concat([Buffer.from('3051020101300506032b657004220420', 'hex'), SEED, Buffer.from('812100', 'hex'), PUB]);
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
}

describe('Ed25519ph on @noble/curves', () => {
  it('the module does no curve arithmetic of its own (no BigInt constants), it delegates to @noble/curves', () => {
    const src = readFileSync(new URL('../../src/keys/ed25519ph.ts', import.meta.url), 'utf8');
    expect(src).toMatch(/import\('@noble\/curves\/ed25519\.js'\)/);
    expect(src).not.toMatch(/\b\d+n\b/);
  });

  it('synchronous use before loadEd25519ph() is UNSUPPORTED, async signing loads it, then sync works', async () => {
    vi.resetModules(); // a fresh module instance: nothing loaded yet
    const m = await import('../../src/keys/ed25519ph.js');
    const unsupported = (f: () => unknown): void => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect((e as { code?: unknown }).code).toBe('UNSUPPORTED'); // a fresh errors.js too: no instanceof
        expect((e as Error).message).toContain('loadEd25519ph');
      }
    };
    unsupported(() => m.ed25519phVerify(PUB, ABC, SIG));
    unsupported(() => m.ed25519phSignSync(SEED, ABC));
    expect(await m.ed25519phSign(SEED, ABC)).toEqual(SIG);
    expect(m.ed25519phVerify(PUB, ABC, SIG)).toBe(true);
    expect(m.ed25519phSignSync(SEED, ABC)).toEqual(SIG);
  });

  it('cross-check: the RFC 8032 "abc" key as a PEM file signs and verifies the RFC signature through the public API', async () => {
    vi.resetModules();
    const keys = await import('../../src/keys/index.js');
    const key = keys.parsePrivateKey(rfcKeyPem(), undefined, 'rfc8032.pem');
    const signer = keys.signerFromPrivateKey(key, 'rfc8032.pem', { ed25519ph: true });
    expect(signer.ed25519ph).toBe(true);
    expect(Buffer.from(await signer.sign(ABC))).toEqual(SIG);
    expect(Buffer.from(signer.signSync(ABC))).toEqual(SIG);
    const pub = await signer.publicKey();
    expect(keys.verifySignature(pub, ABC, SIG, { ed25519ph: true })).toBe(true);
    expect(new keys.PublicKeyVerifier(pub, 'rfc8032.pub', { ed25519ph: true }).verify(ABC, SIG)).toBe(true);
    expect(keys.verifySignature(pub, Buffer.from('abd'), SIG, { ed25519ph: true })).toBe(false);
    // pure Ed25519 (node:crypto, the default, as cosign 2.5) over the same key is a different signature, and not Ed25519ph
    const pure = await keys.signerFromPrivateKey(key, 'k').sign(ABC);
    expect(Buffer.from(pure)).not.toEqual(SIG);
    expect(keys.verifySignature(pub, ABC, pure, { ed25519ph: true })).toBe(false);
  });

  it('loadSignerFromFile with { ed25519ph: true } preloads Ed25519ph so that signSync works on a fresh module graph', async () => {
    vi.resetModules();
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ed25519ph-'));
    try {
      const file = path.join(dir, 'rfc.key');
      await writeFile(file, rfcKeyPem());
      const keys = await import('../../src/keys/index.js');
      const signer = await keys.loadSignerFromFile(file, undefined, { ed25519ph: true });
      expect(Buffer.from(signer.signSync(ABC))).toEqual(SIG);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a small-order public key, non-canonical S and wrong lengths, without throwing', async () => {
    const m = await import('../../src/keys/ed25519ph.js');
    await m.loadEd25519ph();
    const identity = Buffer.alloc(32);
    identity[0] = 1; // the neutral element: every (R = [S]B, S) would "verify" under it
    const s = Buffer.alloc(32);
    s[0] = 1;
    const forged = Buffer.concat([Buffer.from('5866666666666666666666666666666666666666666666666666666666666666', 'hex'), s]); // R = B, S = 1
    expect(m.ed25519phVerify(identity, ABC, forged)).toBe(false);
    const highS = Buffer.from(SIG);
    highS[63] = (highS[63] as number) | 0x10; // S >= L
    expect(m.ed25519phVerify(PUB, ABC, highS)).toBe(false);
    expect(m.ed25519phVerify(PUB, ABC, SIG.subarray(0, 63))).toBe(false);
    expect(m.ed25519phVerify(PUB.subarray(1), ABC, SIG)).toBe(false);
  });
});
