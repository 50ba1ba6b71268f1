import { describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { importKeyPair, keyDescription, parsePrivateKey, parsePublicKey, publicKeyToPem } from '../../src/keys/index.js';
import { fixture, fixtureText, vectors } from '../helpers/fixtures.js';

function expectCode(f: () => unknown, code: string): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isCosignError(err), `expected CosignError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

const keyVectors = vectors().filter((v) => v.kind === 'encrypted-key' || v.kind === 'import-key');

describe('vectors.json encrypted-key and import-key', () => {
  it('has the expected vectors', () => {
    expect(keyVectors.length).toBeGreaterThanOrEqual(11);
  });

  for (const v of keyVectors) {
    it(`${v.id}: ${v.expected}`, () => {
      const pem = fixture(v.files[0] as string);
      const trust = v.trust as { password?: string; public_key?: string };
      if (v.kind === 'encrypted-key') {
        if (v.expected === 'loads') {
          const key = parsePrivateKey(pem, trust.password);
          const expected = publicKeyToPem(parsePublicKey(fixtureText(trust.public_key as string)));
          expect(publicKeyToPem(key)).toBe(expected);
        } else {
          let err: unknown;
          try {
            parsePrivateKey(pem, trust.password);
          } catch (e) {
            err = e;
          }
          expect(isCosignError(err)).toBe(true);
          // wrong password → WRONG_PASSWORD; SEC1 plaintext → BAD_KEY (cosign: "use ParseECPrivateKey instead")
          expect((err as { code: string }).code).toBe(trust.password === 'wrong' ? 'WRONG_PASSWORD' : 'BAD_KEY');
        }
      } else {
        if (v.expected === 'error') {
          expectCode(() => importKeyPair(pem, 'pw', { N: 32768 }), 'UNSUPPORTED_KEY');
        } else {
          const pair = importKeyPair(pem, 'pw', { N: 32768 });
          expect(pair.publicKeyPem).toBe(publicKeyToPem(parsePublicKey(fixtureText(trust.public_key as string))));
        }
      }
    });
  }
});

describe('encrypted fixtures with a wrong password', () => {
  const encrypted: Array<[string, string]> = [
    ['cosign/keys/encrypted-sigstore-label.key', 'hello'],
    ['cosign/keys/encrypted-cosign-label-rsa.key', 'hello'],
    ['cosign/keys/encrypted-cosign-label-ec-sec1.key', 'hello'],
    ['sigstore-rs/keys/cosign_generated_encrypted_empty_private.key', ''],
    ['sigstore-rs/keys/ecdsa_encrypted_private.key', '123'],
    ['sigstore-rs/keys/ed25519_encrypted_private.key', '123'],
    ['sigstore-rs/keys/rsa_encrypted_private.key', '123'],
    ['sigstore-rs/keys/example-ECDSA_P256_ASN1_ENCRYPTED_PRIVATE_PEM.key', 'password'],
    ['policy-controller/cosign.key', ''],
  ];
  for (const [file, good] of encrypted) {
    it(`${file} → WRONG_PASSWORD`, () => {
      const wrong = good === '' ? 'x' : `${good}x`;
      expectCode(() => parsePrivateKey(fixture(file), wrong), 'WRONG_PASSWORD');
    });
  }
  it('missing password means the empty password (policy-controller key loads, others fail)', () => {
    expect(keyDescription(parsePrivateKey(fixture('policy-controller/cosign.key')))).toBe('ECDSA P-256');
    expectCode(() => parsePrivateKey(fixture('sigstore-rs/keys/ecdsa_encrypted_private.key')), 'WRONG_PASSWORD');
  });
});

describe('sigstore-rs keys (README C3)', () => {
  const loads: Array<[string, string | undefined, string]> = [
    ['ecdsa_encrypted_private', '123', 'ECDSA P-256'],
    ['ed25519_encrypted_private', '123', 'Ed25519'],
    ['rsa_encrypted_private', '123', 'RSA 4096'],
    ['ecdsa_private', undefined, 'ECDSA P-256'],
    ['ed25519_private', undefined, 'Ed25519'],
    ['rsa_private', undefined, 'RSA 4096'],
  ];
  for (const [name, pw, desc] of loads) {
    it(`${name} loads as ${desc} and matches its derived public key`, () => {
      const key = parsePrivateKey(fixture(`sigstore-rs/keys/${name}.key`), pw);
      expect(keyDescription(key)).toBe(desc);
      expect(publicKeyToPem(key)).toBe(publicKeyToPem(parsePublicKey(fixtureText(`sigstore-rs/keys/${name}.derived.pub`))));
    });
  }
  for (const name of ['ecdsa_private', 'ed25519_private', 'rsa_private']) {
    it(`${name}: a non-empty password for an unencrypted key is an error; "" is fine`, () => {
      expectCode(() => parsePrivateKey(fixture(`sigstore-rs/keys/${name}.key`), 'secret'), 'BAD_INPUT');
      expect(parsePrivateKey(fixture(`sigstore-rs/keys/${name}.key`), '').type).toBe('private');
    });
  }
  it('Ed25519 PKCS#8 v2 with a mismatching embedded public key is refused', () => {
    const pem = fixtureText('sigstore-rs/keys/ed25519_private.key');
    const der = Buffer.from(
      pem
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('-----'))
        .join(''),
      'base64',
    );
    der[der.length - 1] = (der[der.length - 1] as number) ^ 1;
    const bad = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
    expectCode(() => parsePrivateKey(bad), 'BAD_KEY');
  });
});

describe('import-key-pair inputs (README B3)', () => {
  for (const [name, desc] of [
    ['import-ec-p256-sec1', 'ECDSA P-256'],
    ['import-rsa2048-pkcs1', 'RSA 2048'],
    ['import-ed25519-pkcs8', 'Ed25519'],
  ] as const) {
    it(`${name} imports; the encrypted key decrypts to the same public key`, () => {
      const pair = importKeyPair(fixture(`cosign/keys/${name}.key`), 'pw', { N: 32768 });
      const expected = fixtureText(`cosign/keys/${name}.derived.pub`);
      expect(pair.publicKeyPem).toBe(publicKeyToPem(parsePublicKey(expected)));
      expect(pair.privateKeyPem.startsWith('-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n')).toBe(true);
      const back = parsePrivateKey(pair.privateKeyPem, 'pw');
      expect(keyDescription(back)).toBe(desc);
      expect(publicKeyToPem(back)).toBe(pair.publicKeyPem);
    });
  }
  it('refuses encrypted keys and public keys', () => {
    expectCode(() => importKeyPair(fixture('cosign/keys/encrypted-sigstore-label.key'), 'pw'), 'BAD_KEY');
    expectCode(() => importKeyPair(fixture('cosign/keys/release-cosign.pub'), 'pw'), 'BAD_KEY');
  });
  it('P-224 is UNSUPPORTED_KEY, with the curve named', () => {
    expect(() => importKeyPair(fixture('cosign/keys/import-invalid-ec-p224.key'), 'pw')).toThrow(/P-224 not allowed/);
    expectCode(() => parsePrivateKey(fixture('cosign/keys/import-invalid-ec-p224.key')), 'UNSUPPORTED_KEY');
  });
});

describe('public key fixtures', () => {
  const cases: Array<[string, string]> = [
    ['cosign/keys/release-cosign.pub', 'ECDSA P-256'],
    ['cosign/keys/rsa-pkcs1-public.pem', 'RSA 4096'],
    ['cosign/keys/rsa-pkix-public-google.pem', 'RSA 4096'],
    ['containers-image/keys/cosign.pub', 'ECDSA P-256'],
    ['containers-image/keys/rekor.pub', 'ECDSA P-256'],
    ['containers-image/keys/some-rsa-key.pub', 'RSA 4096'],
    ['containers-image/keys/fulcio_v1.crt.pem', 'ECDSA P-384'],
    ['sigstore-go/npm-publish-key/publish_key.pub', 'ECDSA P-256'],
  ];
  for (const [file, desc] of cases) {
    it(`${file} → ${desc}`, () => {
      const key = parsePublicKey(fixture(file));
      expect(keyDescription(key)).toBe(desc);
      const pem = publicKeyToPem(key);
      expect(parsePublicKey(pem).export({ type: 'spki', format: 'der' })).toEqual(key.export({ type: 'spki', format: 'der' }));
    });
  }
  it('publicKeyToPem reproduces cosign.pub files byte for byte', () => {
    for (const file of ['cosign/keys/release-cosign.pub', 'containers-image/keys/cosign.pub', 'cosign/keys/rsa-pkix-public-google.pem']) {
      expect(publicKeyToPem(parsePublicKey(fixtureText(file)))).toBe(fixtureText(file));
    }
  });
  it('RSA PUBLIC KEY (PKCS#1) exports as the PKIX form of the same key', () => {
    const pem = publicKeyToPem(parsePublicKey(fixtureText('cosign/keys/rsa-pkcs1-public.pem')));
    expect(pem.startsWith('-----BEGIN PUBLIC KEY-----\n')).toBe(true);
  });
  it('DER SPKI and DER certificates are accepted', () => {
    const key = parsePublicKey(fixture('containers-image/keys/rekor.pub'));
    expect(keyDescription(parsePublicKey(key.export({ type: 'spki', format: 'der' })))).toBe('ECDSA P-256');
  });
  it('the wrongkey conformance key is refused with a typed error', () => {
    let err: unknown;
    try {
      parsePublicKey(fixture('sigstore-conformance/managed-key-wrong-key_fail/key.pub'));
    } catch (e) {
      err = e;
    }
    // either it does not parse, or it parses as some other (valid) key: never a TypeError
    if (err !== undefined) expect(isCosignError(err)).toBe(true);
  });
});
