import { generateKeyPairSync, sign as cryptoSign, createPrivateKey, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import {
  defaultHashFor,
  FileSigner,
  keyDescription,
  loadEd25519ph,
  parsePublicKey,
  PublicKeyVerifier,
  signerFromPrivateKey,
  verifySignature,
} from '../../src/keys/index.js';
import { ed25519phSign, ed25519phSignSync, ed25519phVerify } from '../../src/keys/ed25519ph.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';

// the synchronous Ed25519ph checks below need the implementation loaded (it is imported on first use)
beforeAll(() => loadEd25519ph());

/** The raw public key node:crypto derives from an Ed25519 seed. */
function ed25519PublicFromSeed(seed: Buffer): Buffer {
  const spki = createPublicKey(
    createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' }),
  ).export({ type: 'spki', format: 'der' });
  return spki.subarray(spki.length - 32);
}

const message = Buffer.from('{"critical":{"identity":{"docker-reference":"example.com/app"}},"optional":null}');

function gen(kind: string): KeyObject {
  switch (kind) {
    case 'P-256':
    case 'P-384':
    case 'P-521':
      return generateKeyPairSync('ec', { namedCurve: kind }).privateKey;
    case 'RSA-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    default:
      return generateKeyPairSync('ed25519').privateKey;
  }
}

describe('sign → verify', () => {
  const cases = [
    ['P-256', 'ECDSA P-256', 'sha256'],
    ['P-384', 'ECDSA P-384', 'sha384'],
    ['P-521', 'ECDSA P-521', 'sha512'],
    ['RSA-2048', 'RSA 2048', 'sha256'],
    ['Ed25519', 'Ed25519', 'sha512'],
  ] as const;
  for (const [kind, desc, hash] of cases) {
    it(`${kind}: signer output verifies with the default hash (${hash})`, async () => {
      const priv = gen(kind);
      const signer = signerFromPrivateKey(priv, 'mem');
      expect(keyDescription(priv)).toBe(desc);
      expect(defaultHashFor(priv)).toBe(hash);
      expect(signer.hashAlgorithm).toBe(hash);
      const pub = await signer.publicKey();
      expect(pub.type).toBe('public');
      const sig = await signer.sign(message);
      const opts = kind === 'Ed25519' ? {} : { hash };
      expect(verifySignature(pub, message, sig, opts)).toBe(true);
      expect(new PublicKeyVerifier(pub, 'mem', opts).verify(message, sig)).toBe(true);
      const other = Buffer.from(message);
      other[0] = 0x5b;
      expect(verifySignature(pub, other, sig, opts)).toBe(false);
      if (kind === 'P-256' || kind === 'RSA-2048') {
        // cosign verify --key default (sha256) works for these
        expect(verifySignature(pub, message, sig)).toBe(true);
      }
      if (kind === 'P-384' || kind === 'P-521') {
        // spec §12.2: with cosign's verify default (sha256) these do not verify
        expect(verifySignature(pub, message, sig)).toBe(false);
      }
      if (kind === 'Ed25519') {
        // cosign 2.5 signs pure Ed25519 and `cosign verify --key` checks pure Ed25519 (test/interop/ed25519-interop.test.ts)
        expect(signer.ed25519ph).toBe(false);
        expect(verifySignature(pub, message, sig)).toBe(true);
        expect(verifySignature(pub, message, sig, { ed25519ph: true })).toBe(false);
        // Ed25519ph (cosign 2.6+ image signatures) only on request; it does not verify as pure Ed25519
        const ph = signerFromPrivateKey(priv, 'mem', { ed25519ph: true });
        const phSig = await ph.sign(message);
        expect(verifySignature(pub, message, phSig)).toBe(false);
        expect(verifySignature(pub, message, phSig, { ed25519ph: true })).toBe(true);
      }
    });
  }

  it('ECDSA signatures are ASN.1 DER; RSA is PKCS#1 v1.5 SHA-256 (checked with raw node:crypto)', async () => {
    const ec = gen('P-256');
    const sig = await new FileSigner(ec, 'k').sign(message);
    expect(sig[0]).toBe(0x30);
    expect(cryptoVerify('sha256', message, ec, sig)).toBe(true);
    const rsa = gen('RSA-2048');
    const rsig = await new FileSigner(rsa, 'k').sign(message);
    expect(rsig.length).toBe(256);
    expect(cryptoVerify('sha256', message, rsa, rsig)).toBe(true);
    // PKCS#1 v1.5 is deterministic
    expect(Buffer.from(rsig)).toEqual(cryptoSign('sha256', message, rsa));
  });

  it('ECDSA raw r||s (IEEE P1363) is accepted, only at exactly 2× field size', () => {
    for (const [curve, size, hash] of [
      ['P-256', 32, 'sha256'],
      ['P-384', 48, 'sha384'],
      ['P-521', 66, 'sha512'],
    ] as const) {
      const priv = gen(curve);
      const sig = cryptoSign(hash, message, { key: priv, dsaEncoding: 'ieee-p1363' });
      expect(sig.length).toBe(2 * size);
      expect(verifySignature(priv, message, sig, { hash })).toBe(true);
      expect(new PublicKeyVerifier(priv, 'k', { hash }).verify(message, sig)).toBe(true);
      const padded = Buffer.concat([Buffer.from([0]), sig]);
      expect(verifySignature(priv, message, padded, { hash })).toBe(false);
      expect(new PublicKeyVerifier(priv, 'k', { hash }).verify(message, padded)).toBe(false);
    }
  });

  it('RSA-PSS only when asked', () => {
    const priv = gen('RSA-2048');
    const pss = cryptoSign('sha256', message, { key: priv, padding: 6, saltLength: 32 });
    expect(verifySignature(priv, message, pss)).toBe(false);
    expect(verifySignature(priv, message, pss, { rsaPss: true })).toBe(true);
    expect(new PublicKeyVerifier(priv, 'k', { rsaPss: true }).verify(message, pss)).toBe(true);
    const pkcs1 = cryptoSign('sha256', message, priv);
    expect(verifySignature(priv, message, pkcs1, { rsaPss: true })).toBe(false);
  });

  it('malformed signatures return false and never throw', () => {
    const keys = ['P-256', 'P-521', 'RSA-2048', 'Ed25519'].map(gen);
    const junk = [
      new Uint8Array(0),
      new Uint8Array(1),
      new Uint8Array(64),
      new Uint8Array(132),
      Buffer.from('3006020100020100', 'hex'),
      Buffer.from('30ff', 'hex'),
      Buffer.from('invalid signature'),
      new Uint8Array(1000).fill(0xff),
    ];
    for (const k of keys) {
      const v = new PublicKeyVerifier(k, 'k');
      const vph = new PublicKeyVerifier(k, 'k', { ed25519ph: true, rsaPss: true });
      for (const j of junk) {
        expect(verifySignature(k, message, j)).toBe(false);
        expect(verifySignature(k, message, j, { ed25519ph: true, rsaPss: true, hash: 'sha512' })).toBe(false);
        expect(v.verify(message, j)).toBe(false);
        expect(vph.verify(message, j)).toBe(false);
      }
      // wrong types at runtime (JS callers) do not throw either
      expect(v.verify(undefined as unknown as Uint8Array, undefined as unknown as Uint8Array)).toBe(false);
    }
  });

  it('unsupported keys are refused with UNSUPPORTED_KEY', () => {
    for (const k of [
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
      generateKeyPairSync('ed448').publicKey,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
    ]) {
      let err: unknown;
      try {
        new PublicKeyVerifier(k);
      } catch (e) {
        err = e;
      }
      expect(isCosignError(err, 'UNSUPPORTED_KEY')).toBe(true);
      expect(() => parsePublicKey(k.export({ type: 'spki', format: 'pem' }) as string)).toThrow(/not allowed|unsupported/);
    }
    expect(() => new FileSigner(generateKeyPairSync('rsa', { modulusLength: 2560 }).privateKey, 'k')).toThrow(/2560 not allowed/);
  });

  it('verifies a real cosign signature (sigstore-rs busybox vector) and rejects the wrong key', () => {
    const payload = fixture('sigstore-rs/legacy-sig-key-busybox/payload.json');
    const sig = Buffer.from(fixtureText('sigstore-rs/legacy-sig-key-busybox/signature.b64').trim(), 'base64');
    const good = parsePublicKey(fixture('sigstore-rs/legacy-sig-key-busybox/cosign.pub'));
    const wrong = parsePublicKey(fixture('sigstore-rs/legacy-sig-key-busybox/wrong-key.pub'));
    expect(verifySignature(good, payload, sig)).toBe(true);
    expect(new PublicKeyVerifier(good, 'cosign.pub').verify(payload, sig)).toBe(true);
    expect(verifySignature(wrong, payload, sig)).toBe(false);
  });
});

describe('Ed25519ph (RFC 8032 §7.3)', () => {
  const seed = Buffer.from('833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42', 'hex');
  const pub = Buffer.from('ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf', 'hex');
  const sig = Buffer.from(
    '98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406',
    'hex',
  );
  it('matches the test vector', async () => {
    expect(ed25519PublicFromSeed(seed)).toEqual(pub);
    expect(await ed25519phSign(seed, Buffer.from('abc'))).toEqual(sig);
    expect(ed25519phSignSync(seed, Buffer.from('abc'))).toEqual(sig);
    expect(ed25519phVerify(pub, Buffer.from('abc'), sig)).toBe(true);
    expect(ed25519phVerify(pub, Buffer.from('abd'), sig)).toBe(false);
  });
  it('verifySignature with ed25519ph accepts it through a KeyObject', () => {
    const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    expect(verifySignature(key, Buffer.from('abc'), sig, { ed25519ph: true })).toBe(true);
    expect(verifySignature(key, Buffer.from('abc'), sig)).toBe(false);
  });
  it('signatures of random keys verify against the public key node:crypto derives', async () => {
    for (let i = 0; i < 5; i++) {
      const priv = generateKeyPairSync('ed25519').privateKey;
      const k = priv.export({ format: 'jwk' });
      const s = await ed25519phSign(Buffer.from(k.d as string, 'base64url'), message);
      expect(ed25519phVerify(Buffer.from(k.x as string, 'base64url'), message, s)).toBe(true);
      expect(verifySignature(createPublicKey(priv), message, s, { ed25519ph: true })).toBe(true);
    }
  });
  it('rejects non-canonical S and bad points', () => {
    const bad = Buffer.from(sig);
    bad[63] = 0xff;
    expect(ed25519phVerify(pub, Buffer.from('abc'), bad)).toBe(false);
    expect(ed25519phVerify(Buffer.alloc(32, 0xff), Buffer.from('abc'), sig)).toBe(false);
    expect(ed25519phVerify(pub, Buffer.from('abc'), sig.subarray(0, 63))).toBe(false);
  });
});

describe('verification speed', () => {
  it('PublicKeyVerifier.verify costs about as much as raw crypto.verify (ECDSA P-256)', () => {
    const priv = gen('P-256');
    const publicKey = new PublicKeyVerifier(priv).key;
    const sig = cryptoSign('sha256', message, priv);
    const v = new PublicKeyVerifier(publicKey, 'k');
    const n = 2000;
    const time = (f: () => boolean): number => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) if (!f()) throw new Error('verify failed');
      return Number(process.hrtime.bigint() - t);
    };
    time(() => cryptoVerify('sha256', message, publicKey, sig));
    time(() => v.verify(message, sig));
    let raw = Infinity;
    let ours = Infinity;
    for (let r = 0; r < 5; r++) {
      raw = Math.min(
        raw,
        time(() => cryptoVerify('sha256', message, publicKey, sig)),
      );
      ours = Math.min(
        ours,
        time(() => v.verify(message, sig)),
      );
    }
    console.log(`verify throughput vs raw crypto.verify: ${(raw / ours).toFixed(3)}x`);
    // generous bound for noisy CI; the benchmark target is ≥ 0.85× raw throughput
    expect(raw / ours).toBeGreaterThan(0.6);
  });
});

describe('hash option', () => {
  it('only sha256/sha384/sha512 (a JS caller cannot downgrade to md5/sha1)', () => {
    const priv = gen('RSA-2048');
    const sig = cryptoSign('sha1', message, priv);
    expect(() => verifySignature(priv, message, sig, { hash: 'sha1' as 'sha256' })).toThrow(/unsupported signature hash/);
    expect(() => new PublicKeyVerifier(priv, 'k', { hash: 'md5' as 'sha256' })).toThrow(/unsupported signature hash/);
  });
});
