/**
 * The installed bin is the library: random valid but unusually written payloads (white space, key
 * order, `\u` escapes, number spellings, unicode, `\u0000`, unknown `optional` keys) signed into the
 * in-process registry get the same verdict and the same stdout from `verifyImage(...).output` and from
 * the `cosign-ts` bin (package.json `bin`). Each run signs a batch of images and verifies them all in
 * one bin call (a spawn costs ~150 ms); images the library rejects are run through the bin one by one.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/digest.js';
import { isCosignError } from '../../src/errors.js';
import { anonymousKeychain, RegistryClient } from '../../src/oci/index.js';
import { formatReference, parseReference, withDigest, type ImageReference } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { keyAuthority, verifyImage } from '../../src/verify/index.js';
import { pushSignatureLayers, signedLayer } from '../helpers/signed-images.js';
import { cli, ensureBuilt, tempDir } from './helpers.js';

/** A JSON document as written: objects keep their entry order, numbers their spelling. */
type Json =
  | { readonly t: 'obj'; readonly entries: ReadonlyArray<readonly [string, Json]> }
  | { readonly t: 'arr'; readonly items: readonly Json[] }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'num'; readonly text: string }
  | { readonly t: 'lit'; readonly v: 'true' | 'false' | 'null' };

/** How a document is spelled: consumed in turn (cyclically) while writing. */
interface Style {
  readonly ws: readonly string[];
  readonly esc: ReadonlyArray<'plain' | 'u' | 'U' | 'slash'>;
  readonly order: readonly number[];
}

function write(doc: Json, style: Style): string {
  let w = 0;
  let e = 0;
  let o = 0;
  const ws = (): string => style.ws[w++ % style.ws.length] as string;
  const hex4 = (c: number, upper: boolean): string => {
    const h = c.toString(16).padStart(4, '0');
    return `\\u${upper ? h.toUpperCase() : h}`;
  };
  const str = (s: string): string => {
    let out = '"';
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const how = style.esc[e++ % style.esc.length];
      if (c === 0x22) out += how === 'plain' ? '\\"' : hex4(c, how === 'U');
      else if (c === 0x5c) out += how === 'plain' ? '\\\\' : hex4(c, how === 'U');
      else if (c < 0x20) out += c === 0x0a && how === 'plain' ? '\\n' : hex4(c, how === 'U');
      else if (c === 0x2f && how === 'slash') out += '\\/';
      else if (how === 'u' || how === 'U') out += hex4(c, how === 'U');
      else if (c >= 0xd800 && c <= 0xdfff)
        out += hex4(c, false); // a lone surrogate has no UTF-8 spelling
      else out += s[i];
    }
    return `${out}"`;
  };
  const value = (j: Json): string => {
    switch (j.t) {
      case 'str':
        return str(j.v);
      case 'num':
        return j.text;
      case 'lit':
        return j.v;
      case 'arr':
        return `[${ws()}${j.items.map((x) => `${value(x)}${ws()}`).join(`,${ws()}`)}]`;
      case 'obj': {
        const entries = j.entries.map((en, i) => ({ en, k: (style.order[o++ % style.order.length] as number) * 1000 + i })).sort((a, b) => a.k - b.k);
        return `{${ws()}${entries.map(({ en: [k, v] }) => `${str(k)}${ws()}:${ws()}${value(v)}${ws()}`).join(`,${ws()}`)}}`;
      }
    }
  };
  return `${ws()}${value(doc)}${ws()}`;
}

const obj = (...entries: Array<readonly [string, Json]>): Json => ({ t: 'obj', entries });
const s = (v: string): Json => ({ t: 'str', v });

const oddChar = fc.constantFrom('\u0000', '\u001f', '"', '\\', '/', '\u2028', '\ufeff', '\u00e9', '\ud83d\ude00', '\ud800', '<', '&', ' ');
const oddString = fc.oneof(fc.string({ maxLength: 10 }), fc.string({ unit: oddChar, maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
const numberText = fc.oneof(
  fc.constantFrom('0', '-0', '1e2', '1E+2', '1.5e-7', '0.1', '12345678901234567890', '-9007199254740993', '1.7976931348623157e308', '100.000', '5e-324'),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);
const jsonValue: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    oddString.map(s),
    numberText.map((text): Json => ({ t: 'num', text })),
    fc.constantFrom<'true' | 'false' | 'null'>('true', 'false', 'null').map((v): Json => ({ t: 'lit', v })),
    fc.array(tie('v'), { maxLength: 3 }).map((items): Json => ({ t: 'arr', items })),
    fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), tie('v'), { maxKeys: 3 }).map((d): Json => ({ t: 'obj', entries: Object.entries(d) })),
  ),
})).v;
/** `optional`: null, or an object with unknown keys (always-string annotations look the same to cosign). */
const optional: fc.Arbitrary<Json> = fc.oneof(
  fc.constant<Json>({ t: 'lit', v: 'null' }),
  fc
    .dictionary(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('creator', 'timestamp', 'Bundle', '__proto__', '')), jsonValue, {
      maxKeys: 4,
    })
    .map((d): Json => ({ t: 'obj', entries: Object.entries(d) })),
);
const style: fc.Arbitrary<Style> = fc.record({
  ws: fc.array(fc.constantFrom('', '', ' ', '\n', '\t', '\r\n    '), { minLength: 1, maxLength: 9 }),
  esc: fc.array(fc.constantFrom<'plain' | 'u' | 'U' | 'slash'>('plain', 'plain', 'plain', 'u', 'U', 'slash'), { minLength: 1, maxLength: 9 }),
  order: fc.array(fc.nat(3), { minLength: 1, maxLength: 9 }),
});
/** One image's payload: given the reference name and digest, the bytes to sign. */
const payloadSpec = fc.record({ optional, style });

function payloadFor(name: string, digest: Digest, spec: { optional: Json; style: Style }): Buffer {
  const doc = obj(
    [
      'critical',
      obj(
        ['identity', obj(['docker-reference', s(name)])],
        ['image', obj(['docker-manifest-digest', s(digest)])],
        ['type', s('cosign container image signature')],
      ),
    ],
    ['optional', spec.optional],
  );
  return Buffer.from(write(doc, spec.style), 'utf8');
}

let reg: TestRegistry;
let client: RegistryClient;
let pubPath: string;
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

beforeAll(async () => {
  ensureBuilt();
  reg = await startTestRegistry();
  client = new RegistryClient({ keychain: anonymousKeychain });
  pubPath = path.join(await tempDir(), 'cosign.pub');
  await writeFile(pubPath, keys.publicKey.export({ type: 'spki', format: 'pem' }));
}, 120_000);
afterAll(async () => {
  client?.close();
  await reg?.close();
});

const EXIT_OF: Readonly<Record<string, number>> = { NO_SIGNATURES: 10, NOT_FOUND: 11, NO_MATCHING_SIGNATURES: 12 };
let batch = 0;

describe('bin ≡ library on unusual payloads', () => {
  it('same verdict and same stdout, batches of images in one bin call', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(payloadSpec, { minLength: 4, maxLength: 12 }), async (specs) => {
        const b = ++batch;
        const images: ImageReference[] = [];
        for (const [i, spec] of specs.entries()) {
          const repo = parseReference(`${reg.host}/prop/b${b}`, { defaultTag: null });
          const digest = await pushSampleImage(client, `${repo.name}:i${i}`, { batch: String(b), i: String(i) });
          await pushSignatureLayers(client, repo, digest, [signedLayer(payloadFor(repo.name, digest, spec), keys.privateKey)]);
          images.push(withDigest(repo, digest));
        }
        const lib = await Promise.all(
          images.map((image) =>
            verifyImage(image, { client, authorities: [keyAuthority(keys.publicKey, pubPath)] }).then(
              (r) => ({ ok: true as const, output: Buffer.from(r.output).toString('utf8') }),
              (e: unknown) => {
                if (!isCosignError(e)) throw e;
                return { ok: false as const, code: e.code, message: e.message };
              },
            ),
          ),
        );
        const good = images.filter((_, i) => lib[i]?.ok === true);
        accepted += good.length;
        if (good.length > 0) {
          const r = await cli(['verify', '--key', pubPath, '--insecure-ignore-tlog=true', ...good.map(formatReference)]);
          expect(r.stderr).not.toMatch(/\n\s+at |Unhandled/);
          expect(r.code, r.stderr).toBe(0);
          expect(r.stdout).toBe(lib.flatMap((l) => (l.ok ? [l.output] : [])).join(''));
        }
        for (const [i, l] of lib.entries()) {
          if (l.ok) continue;
          const r = await cli(['verify', '--key', pubPath, '--insecure-ignore-tlog=true', formatReference(images[i] as ImageReference)]);
          expect(r.code, r.stderr).toBe(EXIT_OF[l.code] ?? 1);
          expect(r.stderr).toContain(l.message);
          expect(r.stdout).toBe('');
        }
      }),
      { numRuns: 8 },
    );
    expect(accepted).toBeGreaterThan(20); // the payloads are valid: most must verify
  }, 240_000);
});
