/**
 * Ed25519ph (RFC 8032 §5.1, SHA-512 prehash, empty context), which cosign uses for Ed25519 keys by
 * default and which node:crypto does not expose. Plain BigInt arithmetic on extended twisted Edwards
 * coordinates: correct, but neither fast (~ms per operation) nor constant-time, so it is only used
 * with local key files, never on a server-side hot path.
 *
 * @module
 */
import { createHash } from 'node:crypto';

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
// Precomputed (two modular exponentiations at import cost ~1 ms of every CLI start):
// D = (-121665 * inv(121666)) % P, D2 = (2 * D) % P, SQRT_M1 = pow(2, (P - 1) / 4); a wrong value fails the RFC 8032 vector in test/keys/sign-verify.test.ts.
const D = -20800338683988658368647408995589388737092878452977063003340006470870624536394n;
const D2 = -41600677367977316737294817991178777474185756905954126006680012941741249072788n;
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;
const BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202n;
const BY = 46316835694926478169428394003475163141307993866256225615783033603165251855960n;

type Point = readonly [bigint, bigint, bigint, bigint]; // X, Y, Z, T
const BASE: Point = [BX, BY, 1n, (BX * BY) % P];
const ZERO: Point = [0n, 1n, 1n, 0n];
// "SigEd25519 no Ed25519 collisions" || phflag=1 || len(context)=0
const DOM2 = Buffer.concat([Buffer.from('SigEd25519 no Ed25519 collisions', 'latin1'), Buffer.from([1, 0])]);

function mod(a: bigint, m = P): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}
function inv(a: bigint): bigint {
  return pow(a, P - 2n);
}
function add(p: Point, q: Point): Point {
  const a = mod((p[1] - p[0]) * (q[1] - q[0]));
  const b = mod((p[1] + p[0]) * (q[1] + q[0]));
  const c = mod(p[3] * D2 * q[3]);
  const d = mod(2n * p[2] * q[2]);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}
function mul(s: bigint, p: Point): Point {
  let r = ZERO;
  let q = p;
  while (s > 0n) {
    if (s & 1n) r = add(r, q);
    q = add(q, q);
    s >>= 1n;
  }
  return r;
}
function leToBig(b: Uint8Array): bigint {
  let r = 0n;
  for (let i = b.length - 1; i >= 0; i--) r = (r << 8n) | BigInt(b[i] as number);
  return r;
}
function bigToLe32(n: bigint): Buffer {
  const out = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}
function encode(p: Point): Buffer {
  const zi = inv(p[2]);
  const x = mod(p[0] * zi);
  const y = mod(p[1] * zi);
  const out = bigToLe32(y);
  if (x & 1n) out[31] = (out[31] as number) | 0x80;
  return out;
}
function decode(b: Uint8Array): Point | undefined {
  if (b.length !== 32) return undefined;
  const sign = ((b[31] as number) >> 7) & 1;
  const yb = Buffer.from(b);
  yb[31] = (yb[31] as number) & 0x7f;
  const y = leToBig(yb);
  if (y >= P) return undefined;
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  const v3 = (v * v * v) % P;
  let x = (u * v3 * pow(u * v3 * v3 * v, (P - 5n) / 8n)) % P;
  const vx2 = (v * x * x) % P;
  if (vx2 !== u) {
    if (vx2 === mod(-u)) x = (x * SQRT_M1) % P;
    else return undefined;
  }
  if (x === 0n && sign === 1) return undefined;
  if (Number(x & 1n) !== sign) x = P - x;
  return [x, y, 1n, (x * y) % P];
}
function h512(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Public key (32 bytes) for an Ed25519 seed; used to check PKCS#8 v2 embedded public keys. */
export function ed25519PublicFromSeed(seed: Uint8Array): Buffer {
  const h = h512(seed);
  return encode(mul(clamp(h), BASE));
}

function clamp(h: Uint8Array): bigint {
  const a = Buffer.from(h.subarray(0, 32));
  a[0] = (a[0] as number) & 248;
  a[31] = ((a[31] as number) & 127) | 64;
  return leToBig(a);
}

/** Ed25519ph signature (64 bytes) of `message` with the 32-byte `seed`. */
export function ed25519phSign(seed: Uint8Array, message: Uint8Array): Buffer {
  const ph = h512(message);
  const h = h512(seed);
  const a = clamp(h);
  const pub = encode(mul(a, BASE));
  const r = mod(leToBig(h512(DOM2, h.subarray(32), ph)), L);
  const R = encode(mul(r, BASE));
  const k = mod(leToBig(h512(DOM2, R, pub, ph)), L);
  const S = mod(r + k * a, L);
  return Buffer.concat([R, bigToLe32(S)]);
}

/**
 * Verify an Ed25519ph signature (cofactorless, like Go's crypto/ed25519). Never throws.
 * @param publicKey the raw 32-byte public key.
 */
export function ed25519phVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const A = decode(publicKey);
  if (A === undefined) return false;
  const Rb = signature.subarray(0, 32);
  const S = leToBig(signature.subarray(32));
  if (S >= L) return false;
  const k = mod(leToBig(h512(DOM2, Rb, publicKey, h512(message))), L);
  const negA: Point = [mod(-A[0]), A[1], A[2], mod(-A[3])];
  const check = encode(add(mul(S, BASE), mul(k, negA)));
  return check.equals(Rb);
}
