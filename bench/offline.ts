/**
 * Offline verification of an in-memory `.sig` artifact (parse manifest → parse layer → parse payload →
 * claims → signature) against raw `crypto.verify` on the same key and bytes, in the same run.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { buildSignatureImage, buildSignatureLayer, parseSignatureLayer, parseSignatureManifest } from '../src/artifact/index.js';
import { digestOf } from '../src/digest.js';
import { encryptPrivateKey, parsePrivateKey, signerFromPrivateKey } from '../src/keys/index.js';
import { buildPayload } from '../src/payload/index.js';
import { keyAuthority, verifyLayer } from '../src/verify/index.js';
import { statOf } from './chart.js';
import { fmt, median, timeSyncRounds, type BenchSection, type Row } from './lib.js';
import { performance } from 'node:perf_hooks';
import { generateKeyPairSync } from 'node:crypto';

export function benchOffline(): BenchSection {
  const rows: Row[] = [];
  const results: BenchSection['results'] = [];
  const digest = digestOf('bench image manifest');
  const payload = buildPayload({ dockerReference: '127.0.0.1:5000/bench/app', digest });
  const keys = [
    ['ECDSA P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['RSA 2048', generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ] as const;
  for (const [name, kp] of keys) {
    const signer = signerFromPrivateKey(kp.privateKey, name);
    const signature = signer.signSync(payload);
    const layer = buildSignatureLayer({ payload, signature });
    const image = buildSignatureImage([layer]);
    const manifestBytes = image.manifest;
    const blob = image.blobs.get(layer.descriptor.digest) as Uint8Array;
    const pub = createPublicKey(kp.publicKey.export({ type: 'spki', format: 'pem' }));
    const auth = [keyAuthority(pub, 'bench.pub')];
    const expectations = { digest };
    const full = (): void => {
      const m = parseSignatureManifest(manifestBytes);
      const l = parseSignatureLayer(m.layers[0], blob);
      const r = verifyLayer(l, auth, expectations);
      if (!r.ok) throw new Error(r.reason);
    };
    const raw = (): void => {
      if (!cryptoVerify('sha256', payload, pub, signature)) throw new Error('raw verify failed');
    };
    const iterations = name.startsWith('RSA') ? 600 : 400;
    const t = comparePaired(raw, full, iterations);
    rows.push({
      key: name,
      'raw crypto.verify (µs)': fmt(t.a / 1000, 1),
      'cosign-ts full path (µs)': fmt(t.b / 1000, 1),
      'ratio (raw/full, target ≥ 0.85)': fmt(t.ratio),
    });
    results.push({
      section: 'offline',
      name: `verify an in-memory .sig, ${name} (per signature)`,
      unit: 'µs',
      series: { 'cosign-ts': statOf(t.bs.map((x) => x / 1000)), floor: statOf(t.as.map((x) => x / 1000)) },
    });
  }
  return { rows, results };
}

/**
 * Time `a` and `b` in many short back-to-back pairs (alternating which goes first) and take the median
 * of the per-pair ratios a/b: on a shared machine the load changes between rounds, and a pair's two
 * halves see nearly the same load, so the ratio of each pair is far steadier than a ratio of medians.
 * Returns median ns per call of each, the median ratio, and every round's ns per call of each.
 */
function comparePaired(a: () => void, b: () => void, iterations: number, pairs = 41): { a: number; b: number; ratio: number; as: number[]; bs: number[] } {
  for (let i = 0; i < 2000; i++) {
    a();
    b();
  }
  const run = (f: () => void): number => {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) f();
    return ((performance.now() - t0) * 1e6) / iterations;
  };
  const ta: number[] = [];
  const tb: number[] = [];
  const ratios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    let x: number;
    let y: number;
    if (p % 2 === 0) {
      x = run(a);
      y = run(b);
    } else {
      y = run(b);
      x = run(a);
    }
    ta.push(x);
    tb.push(y);
    ratios.push(x / y);
  }
  return { a: median(ta), b: median(tb), ratio: median(ratios), as: ta, bs: tb };
}

export function benchDecrypt(): BenchSection {
  const rows: Row[] = [];
  const results: BenchSection['results'] = [];
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  for (const N of [32768, 65536]) {
    const pem = encryptPrivateKey(kp.privateKey, 'bench-password', { N });
    const rounds = timeSyncRounds(() => parsePrivateKey(pem, 'bench-password'), 3, 5);
    const ns = median(rounds);
    rows.push({ 'scrypt N': N, 'decrypt (ms)': fmt(ns / 1e6, 1) });
    results.push({
      section: 'decrypt',
      name: `decrypt an encrypted cosign key, scrypt N=${N}`,
      unit: 'ms',
      series: { 'cosign-ts': statOf(rounds.map((x) => x / 1e6)) },
    });
  }
  return { rows, results };
}
