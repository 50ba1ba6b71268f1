/**
 * Property tests: random and mutated-valid inputs to the payload parser only ever give a typed
 * CosignError or a correct result, never a TypeError or a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDigest } from '../../src/digest.js';
import { buildPayload, parsePayload, verifyOutputJson } from '../../src/payload/index.js';
import { fixture } from '../helpers/fixtures.js';
import { mutated, typedOnly } from '../helpers/property.js';
import { goMarshal } from '../../src/json/gojson.js';

const VALID = [
  fixture('sigstore-rs/legacy-sig-key-busybox/payload.json'),
  Buffer.from(buildPayload({ dockerReference: 'r.io/a', digest: `sha256:${'ab'.repeat(32)}`, annotations: { a: 'b', '<': '\u2028' } })),
  Buffer.from(
    '{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/skopeo-signed:tag"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":{"creator":"containers/image 5.21.2-dev","timestamp":1657296609}}',
  ),
];

function checkResult(input: Uint8Array): void {
  const p = typedOnly(() => parsePayload(input));
  if (p === undefined) return;
  // A correct result: it describes exactly the JSON that was given.
  const doc = JSON.parse(Buffer.from(input).toString('utf8')) as {
    critical: { identity: Record<string, unknown>; image: Record<string, unknown>; type: unknown };
    optional?: Record<string, unknown> | null;
  };
  expect(p.raw).toBe(input);
  expect(p.dockerReference).toBe(doc.critical.identity['docker-reference']);
  expect(p.manifestDigest).toBe(doc.critical.image['docker-manifest-digest']);
  expect(isDigest(p.manifestDigest)).toBe(true);
  expect(p.type).toBe(doc.critical.type);
  expect(p.optional).toEqual(doc.optional ?? null);
  if (p.timestamp !== undefined) expect(Number.isInteger(p.timestamp)).toBe(true);
  if (p.creator !== undefined) expect(typeof p.creator).toBe('string');
  // The verify output of anything that parses can be produced.
  expect(() => verifyOutputJson([p])).not.toThrow();
}

describe('parsePayload properties', () => {
  it('random bytes: typed errors only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => checkResult(b)),
      { numRuns: 500 },
    );
  });

  it('random JSON text: typed errors only', () => {
    fc.assert(
      fc.property(fc.json(), (s) => checkResult(new TextEncoder().encode(s))),
      { numRuns: 500 },
    );
  });

  it('mutated valid payloads: typed errors or a correct result', () => {
    for (const valid of VALID) {
      fc.assert(
        fc.property(mutated(valid), (b) => checkResult(b)),
        { numRuns: 400 },
      );
    }
  });

  it('valid payloads with random values in random places: typed errors or a correct result', () => {
    const base = JSON.parse(VALID[2]!.toString()) as Record<string, Record<string, unknown>>;
    const place = fc.constantFrom<Array<string>>(
      ['critical'],
      ['optional'],
      ['critical', 'type'],
      ['critical', 'identity'],
      ['critical', 'image'],
      ['critical', 'identity', 'docker-reference'],
      ['critical', 'image', 'docker-manifest-digest'],
      ['optional', 'creator'],
      ['optional', 'timestamp'],
      ['optional', 'x'],
      ['x'],
    );
    fc.assert(
      fc.property(place, fc.jsonValue(), (where, value) => {
        const doc = structuredClone(base) as Record<string, unknown>;
        let o: Record<string, unknown> = doc;
        for (const k of where.slice(0, -1)) o = o[k] as Record<string, unknown>;
        o[where[where.length - 1]!] = value;
        checkResult(new TextEncoder().encode(JSON.stringify(doc)));
      }),
      { numRuns: 500 },
    );
  });

  it('built payloads always parse back to what was built', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.dictionary(fc.string(), fc.string()), (ref, annotations) => {
        const digest = `sha256:${'0f'.repeat(32)}` as const;
        const raw = buildPayload({ dockerReference: ref, digest, annotations });
        const p = parsePayload(raw);
        // Lone surrogates become U+FFFD, like Go.
        expect(p.dockerReference).toBe(Buffer.from(ref, 'utf8').toString('utf8'));
        expect(p.optional ?? {}).toEqual(JSON.parse(goMarshal(annotations)));
      }),
      { numRuns: 300 },
    );
  });
});
