import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { encryptPrivateKey, parsePrivateKey, parsePublicKey, PublicKeyVerifier, verifySignature } from '../../src/keys/index.js';
import { loadEd25519ph } from '../../src/keys/ed25519ph.js';
import { openSecretbox } from '../../src/keys/encrypted.js';
import { fixtureText } from '../helpers/fixtures.js';
import { parseEncryptedKeyJson } from '../../src/keys/encrypted.js';
import { decodePem, encodePem } from '../../src/keys/pem.js';

/** Run f; it may succeed, but if it throws it must be a CosignError. Returns whether it threw. */
function onlyCosignErrors(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    if (!isCosignError(e)) throw new Error(`non-CosignError escaped: ${String(e)}`, { cause: e });
    return true;
  }
}

const pubPems = [
  fixtureText('containers-image/keys/cosign.pub'),
  fixtureText('cosign/keys/rsa-pkcs1-public.pem'),
  fixtureText('containers-image/keys/fulcio_v1.crt.pem'),
  fixtureText('cosign/keys/import-ed25519-pkcs8.derived.pub'),
];
const privPems = [
  fixtureText('cosign/keys/import-ec-p256-sec1.key'),
  fixtureText('cosign/keys/import-rsa2048-pkcs1.key'),
  fixtureText('cosign/keys/import-ed25519-pkcs8.key'),
  fixtureText('sigstore-rs/keys/ed25519_private.key'),
];

/** Mutate a PEM: flip/insert/delete a character anywhere. */
const mutatedPem = (pems: string[]) =>
  fc.tuple(fc.constantFrom(...pems), fc.nat(), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 32, max: 126 })).map(([pem, pos, op, ch]) => {
    const i = pos % pem.length;
    const c = String.fromCharCode(ch);
    return op === 0 ? pem.slice(0, i) + c + pem.slice(i + 1) : op === 1 ? pem.slice(0, i) + c + pem.slice(i) : pem.slice(0, i) + pem.slice(i + 1);
  });

/** Mutate the DER inside a PEM (keeps the PEM valid, so the DER parsers are exercised). */
const mutatedDer = (pems: string[]) =>
  fc.tuple(fc.constantFrom(...pems), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean()).map(([pem, pos, x, truncate]) => {
    const b = decodePem(pem)[0] as { label: string; bytes: Buffer };
    const der = Buffer.from(b.bytes);
    const i = pos % der.length;
    const out = truncate ? der.subarray(0, i) : ((der[i] = (der[i] as number) ^ x), der);
    return out.length === 0 ? pem : encodePem(b.label, out);
  });

describe('property: parsers only ever throw CosignError', () => {
  it('random bytes/strings → parsePublicKey / parsePrivateKey / decodePem', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 300 })), (input) => {
        onlyCosignErrors(() => parsePublicKey(input));
        onlyCosignErrors(() => parsePrivateKey(input));
        onlyCosignErrors(() => decodePem(input));
      }),
      { numRuns: 500 },
    );
  });

  it('mutated public key PEMs', () => {
    fc.assert(
      fc.property(mutatedPem(pubPems), (pem) => void onlyCosignErrors(() => parsePublicKey(pem))),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(mutatedDer(pubPems), (pem) => void onlyCosignErrors(() => parsePublicKey(pem))),
      { numRuns: 400 },
    );
  });

  it('mutated private key PEMs', () => {
    fc.assert(
      fc.property(mutatedPem(privPems), (pem) => void onlyCosignErrors(() => parsePrivateKey(pem))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(mutatedDer(privPems), (pem) => void onlyCosignErrors(() => parsePrivateKey(pem))),
      { numRuns: 300 },
    );
  });

  it('random / mutated encrypted-key JSON', () => {
    const good = (decodePem(fixtureText('cosign/keys/encrypted-sigstore-label.key'))[0] as { bytes: Buffer }).bytes.toString();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc
            .tuple(fc.nat(), fc.integer({ min: 32, max: 126 }))
            .map(([p, c]) => good.slice(0, p % good.length) + String.fromCharCode(c) + good.slice((p % good.length) + 1)),
        ),
        (json) => {
          onlyCosignErrors(() => parseEncryptedKeyJson(json));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('signature verification never throws on random signatures', async () => {
    await loadEd25519ph(); // Ed25519ph is imported on first use
    const keys = [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
      generateKeyPairSync('ed25519').publicKey,
    ];
    const verifiers = keys.flatMap((k) => [new PublicKeyVerifier(k), new PublicKeyVerifier(k, 'k', { ed25519ph: true, rsaPss: true })]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 64 }), (sig, msg) => {
        for (const k of keys) expect(verifySignature(k, msg, sig)).toBe(false);
        for (const v of verifiers) expect(v.verify(msg, sig)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('property: a mutated encrypted key is never accepted', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = encryptPrivateKey(privateKey, 'pw', { N: 32768 });
  const data = parseEncryptedKeyJson((decodePem(pem)[0] as { bytes: Buffer }).bytes);

  it('full path (scrypt each run; few runs): any ciphertext/nonce/salt change → WRONG_PASSWORD or BAD_KEY', () => {
    const json = JSON.parse((decodePem(pem)[0] as { bytes: Buffer }).bytes.toString()) as {
      kdf: { salt: string };
      cipher: { nonce: string };
      ciphertext: string;
    };
    fc.assert(
      fc.property(fc.constantFrom('ciphertext', 'nonce', 'salt'), fc.nat(), fc.integer({ min: 1, max: 255 }), (field, pos, x) => {
        const o = structuredClone(json);
        const b64 = field === 'ciphertext' ? o.ciphertext : field === 'nonce' ? o.cipher.nonce : o.kdf.salt;
        const bytes = Buffer.from(b64, 'base64');
        const i = pos % bytes.length;
        bytes[i] = (bytes[i] as number) ^ x;
        if (field === 'ciphertext') o.ciphertext = bytes.toString('base64');
        else if (field === 'nonce') o.cipher.nonce = bytes.toString('base64');
        else o.kdf.salt = bytes.toString('base64');
        const bad = encodePem('ENCRYPTED SIGSTORE PRIVATE KEY', Buffer.from(JSON.stringify(o)));
        let code: string | undefined;
        try {
          parsePrivateKey(bad, 'pw');
        } catch (e) {
          code = isCosignError(e) ? e.code : 'OTHER';
        }
        expect(['WRONG_PASSWORD', 'BAD_KEY']).toContain(code);
      }),
      { numRuns: 6 },
    );
  });

  it('secretbox level (cheap, many runs): any mutation or truncation of the ciphertext fails authentication', async () => {
    const { deriveKeySync } = await import('../../src/keys/encrypted.js');
    const key = deriveKeySync('pw', data);
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (pos, x, truncate) => {
        const i = pos % data.ciphertext.length;
        const ct = truncate ? data.ciphertext.subarray(0, i) : Buffer.from(data.ciphertext);
        if (!truncate) ct[i] = (ct[i] as number) ^ x;
        let code: string | undefined;
        try {
          openSecretbox(Buffer.from(key), { nonce: data.nonce, ciphertext: ct });
        } catch (e) {
          code = isCosignError(e) ? e.code : 'OTHER';
        }
        expect(code).toBe('WRONG_PASSWORD');
      }),
      { numRuns: 500 },
    );
  });
});
