/**
 * Per-stage cost of the offline verification path (ECDSA P-256): median µs per call of each public
 * step, and full path minus raw `crypto.verify`. Run: `npx vite-node bench/offline-stages.ts`.
 */
import { createPublicKey, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { buildSignatureImage, buildSignatureLayer, parseSignatureLayer, parseSignatureManifest } from '../src/artifact/index.js';
import { digestOf } from '../src/digest.js';
import { signerFromPrivateKey } from '../src/keys/index.js';
import { buildPayload, checkClaims, parsePayload } from '../src/payload/index.js';
import { keyAuthority, verifyLayer } from '../src/verify/index.js';
const digest = digestOf('bench image manifest');
const payload = buildPayload({ dockerReference: '127.0.0.1:5000/bench/app', digest });
const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signature = signerFromPrivateKey(kp.privateKey, 'x').signSync(payload);
const layer = buildSignatureLayer({ payload, signature });
const image = buildSignatureImage([layer]);
const blob = image.blobs.get(layer.descriptor.digest) as Uint8Array;
const pub = createPublicKey(kp.publicKey.export({ type: 'spki', format: 'pem' }));
const auth = [keyAuthority(pub, 'bench.pub')];
const m0 = parseSignatureManifest(image.manifest);
const l0 = parseSignatureLayer(m0.layers[0], blob);
let _sink: unknown;
const fns: Record<string, () => void> = {
  'raw crypto.verify': () => {
    _sink = cryptoVerify('sha256', payload, pub, signature);
  },
  'full path': () => {
    const m = parseSignatureManifest(image.manifest);
    const l = parseSignatureLayer(m.layers[0], blob);
    _sink = verifyLayer(l, auth, { digest });
  },
  parseSignatureManifest: () => {
    _sink = parseSignatureManifest(image.manifest);
  },
  parseSignatureLayer: () => {
    _sink = parseSignatureLayer(m0.layers[0], blob);
  },
  parsePayload: () => {
    _sink = parsePayload(blob);
  },
  'parsePayload+checkClaims': () => {
    const p = parsePayload(blob);
    checkClaims(p, { digest });
    _sink = p;
  },
  'verifyLayer (incl. crypto)': () => {
    _sink = verifyLayer(l0, auth, { digest });
  },
};
const res: Record<string, number[]> = {};
for (const [k, f] of Object.entries(fns)) {
  res[k] = [];
  for (let i = 0; i < 3000; i++) f();
}
for (let r = 0; r < 21; r++)
  for (const [k, f] of Object.entries(fns)) {
    const n = k.includes('raw') || k.includes('full') || k.includes('verifyLayer') ? 300 : 3000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    res[k]!.push(((performance.now() - t0) * 1e3) / n);
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const k of Object.keys(fns)) console.log(`${k.padEnd(28)} ${med(res[k]!).toFixed(2).padStart(7)} µs`);
console.log(`${'overhead (full - raw)'.padEnd(28)} ${(med(res['full path']!) - med(res['raw crypto.verify']!)).toFixed(2).padStart(7)} µs`);
