import { describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { parsePublicKey, publicKeyToPem } from '../../src/keys/index.js';
import { fixtureText } from '../helpers/fixtures.js';
import { decodePem, encodePem, MAX_PEM_SIZE } from '../../src/keys/pem.js';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isCosignError(e) ? e.code : `not a CosignError: ${String(e)}`;
  }
  return undefined;
}

const pub = fixtureText('containers-image/keys/cosign.pub');

describe('decodePem', () => {
  it('reads one block', () => {
    const [b] = decodePem(pub);
    expect(b?.label).toBe('PUBLIC KEY');
    expect(b?.bytes.length).toBe(91);
  });
  it('tolerates CRLF, trailing spaces, and text around blocks; reads multiple blocks', () => {
    const crlf = pub.replace(/\n/g, '\r\n');
    const text = `comment line\n${crlf}between\n${pub.replace(/\n/g, '  \n')}trailer`;
    const blocks = decodePem(text);
    expect(blocks.length).toBe(2);
    expect(blocks[0]?.bytes).toEqual(blocks[1]?.bytes);
  });
  it('accepts bytes', () => {
    expect(decodePem(Buffer.from(pub))[0]?.label).toBe('PUBLIC KEY');
  });
  it('rejects malformed PEM with BAD_KEY', () => {
    const body = pub.split('\n')[1] as string;
    const bad = [
      '',
      'no pem here',
      '-----BEGIN PUBLIC KEY-----\n' + body + '\n',
      '-----BEGIN PUBLIC KEY-----\n' + body + '\n-----END PRIVATE KEY-----\n',
      '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n',
      '-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\n' + body + '\n-----END PUBLIC KEY-----\n',
      '-----BEGIN PUBLIC KEY-----\n' + body + '!\n-----END PUBLIC KEY-----\n',
      '-----BEGIN PUBLIC KEY-----\n' + body.slice(0, -1) + '\n-----END PUBLIC KEY-----\n',
      '-----BEGIN PUBLIC KEY-----\nAA==AA==\n-----END PUBLIC KEY-----\n',
      '-----BEGIN PUBLIC KEY-----\n' + body.replace(/A/g, '-') + '\n-----END PUBLIC KEY-----\n',
      '-----BEGIN -----\nAAAA\n-----END -----\n',
      '-----BEGIN PUBLIC KEY-----\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
    ];
    for (const b of bad)
      expect(
        code(() => decodePem(b)),
        JSON.stringify(b),
      ).toBe('BAD_KEY');
  });
  it('enforces the size limit with TOO_LARGE', () => {
    expect(code(() => decodePem('x'.repeat(MAX_PEM_SIZE + 1)))).toBe('TOO_LARGE');
  });
});

describe('encodePem', () => {
  it('writes Go pem.EncodeToMemory layout (64 columns, trailing newline)', () => {
    const der = Buffer.alloc(100, 7);
    const pem = encodePem('PUBLIC KEY', der);
    const lines = pem.split('\n');
    expect(lines[0]).toBe('-----BEGIN PUBLIC KEY-----');
    expect(lines[1]?.length).toBe(64);
    expect(lines.at(-2)).toBe('-----END PUBLIC KEY-----');
    expect(lines.at(-1)).toBe('');
    expect(decodePem(pem)[0]?.bytes).toEqual(der);
  });
  it('round-trips cosign.pub byte for byte', () => {
    expect(publicKeyToPem(parsePublicKey(pub))).toBe(pub);
  });
});

describe('parsePublicKey errors', () => {
  it('other labels are BAD_KEY naming the label', () => {
    expect(() => parsePublicKey(fixtureText('cosign/keys/import-ec-p256-sec1.key'))).toThrow(/EC PRIVATE KEY/);
  });
  it('garbage DER is BAD_KEY', () => {
    expect(code(() => parsePublicKey(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])))).toBe('BAD_KEY');
    expect(code(() => parsePublicKey('-----BEGIN PUBLIC KEY-----\nMAMCAQA=\n-----END PUBLIC KEY-----\n'))).toBe('BAD_KEY');
    expect(code(() => parsePublicKey('-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n'))).toBe('BAD_KEY');
  });
});

describe('decodeFirstPem', () => {
  it('looks only at the first block, like Go pem.Decode', async () => {
    const { decodeFirstPem } = await import('../../src/keys/pem.js');
    expect(decodeFirstPem(`${pub}-----BEGIN BROKEN-----\nAAAA\n`).label).toBe('PUBLIC KEY');
    expect(code(() => decodePem(`${pub}-----BEGIN BROKEN-----\nAAAA\n`))).toBe('BAD_KEY');
    expect(parsePublicKey(`${pub}${fixtureText('cosign/keys/release-cosign.pub')}`).export({ type: 'spki', format: 'der' })).toEqual(
      parsePublicKey(pub).export({ type: 'spki', format: 'der' }),
    );
  });
});
