/**
 * Tests of src/artifact/layer.ts: a descriptor from parseSignatureManifest (validated, trusted by
 * parseSignatureLayer) gives the same layer as a plain copy of it (validated again).
 */
import { describe, expect, it } from 'vitest';
import { buildSignatureImage, buildSignatureLayer, parseSignatureLayer, parseSignatureManifest } from '../../src/artifact/index.js';
import { buildPayload } from '../../src/payload/index.js';
import { fixtureText } from '../helpers/fixtures.js';

const DIGEST = `sha256:${'ab'.repeat(32)}` as const;
const payload = buildPayload({ dockerReference: 'r.io/a', digest: DIGEST });
const fullLayer = buildSignatureLayer({
  payload,
  signature: new Uint8Array([48, 69, 2, 33, 0, 1, 2, 3]),
  certificate: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n',
  bundle: fixtureText('sigstore-rs/rekor-bundle-rekord-key/rekor-bundle.json'),
  rfc3161Timestamp: { signedRfc3161Timestamp: new Uint8Array([1, 2]) },
});
const MANIFEST = buildSignatureImage([fullLayer]).manifest;

describe('parseSignatureManifest → parseSignatureLayer on the manifest descriptors', () => {
  it('gives the same layer as an unbranded copy of the descriptor (which is validated again)', () => {
    const m = parseSignatureManifest(MANIFEST);
    const blob = payload;
    const branded = parseSignatureLayer(m.layers[0], blob);
    const copy = parseSignatureLayer(JSON.parse(JSON.stringify(m.layers[0])), blob);
    expect(branded).toStrictEqual(copy);
    expect(Object.isFrozen(m) && Object.isFrozen(m.layers[0]) && Object.isFrozen(m.layers[0]!.annotations)).toBe(true);
    expect(Object.keys(m)).toEqual(['raw', 'digest', 'mediaType', 'config', 'layers']);
    expect({ ...m }.digest).toBe(m.digest);
  });
});
