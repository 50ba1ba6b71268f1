/**
 * `sigTagSource.read` (and `referrerBundleSource.read`, the same rules for cosign 3 bundles): layers
 * are handed out as their blobs arrive, with at most `concurrency` blob fetches (and so blobs) in
 * flight, every layer visited once, each distinct blob fetched once; a failing visitor or transport
 * error stops the remaining fetches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNATURE_ANNOTATION } from '../../src/artifact/media-types.js';
import type { Digest } from '../../src/digest.js';
import { CosignError, isCosignError } from '../../src/errors.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference, type ImageReference } from '../../src/reference.js';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { cosignSignatureSource, fetchSignatures, referrerBundleSource, sigTagSource, type SourceLayer } from '../../src/verify/index.js';
import { cosign3Bundle, pushBundleReferrer } from '../helpers/bundles.js';
import { pushSampleImage } from '../../src/testing/index.js';
import { generateKeyPairSync } from 'node:crypto';
import { withDigest } from '../../src/reference.js';
import { distinctJunkLayers, sha256, signedLayer, storeSignatures, testKey } from '../helpers/signatures.js';

const DIGEST = `sha256:${'12'.repeat(32)}` as Digest;

/** A client that counts blob GETs in flight (the registry answers each after a short delay). */
class CountingClient extends RegistryClient {
  inFlight = 0;
  maxInFlight = 0;
  gets = 0;
  override async getBlob(...args: Parameters<RegistryClient['getBlob']>): Promise<Uint8Array> {
    this.gets++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await super.getBlob(...args);
    } finally {
      this.inFlight--;
    }
  }
}

describe('sigTagSource.read', () => {
  let reg: TestRegistry;
  let n = 0;
  const key = testKey();
  const newClient = (): CountingClient => new CountingClient({ keychain: { resolve: async () => undefined } });
  const stored = (layers: Parameters<typeof storeSignatures>[3]): ImageReference => {
    const repo = `source/app${++n}`;
    storeSignatures(reg, repo, DIGEST, layers);
    return parseReference(`${reg.host}/${repo}`);
  };

  beforeAll(async () => {
    reg = await startTestRegistry();
  });
  afterAll(async () => {
    await reg.close();
  });

  it('visits every layer once, with at most `concurrency` blobs in flight, each distinct blob fetched once', async () => {
    const junk = distinctJunkLayers(40, 2048);
    const good = signedLayer(key, 'x', DIGEST);
    // Layer 40 shares layer 3's blob (with another signature): one GET for both.
    const layers = [...junk, { blob: junk[3]!.blob, annotations: { [SIGNATURE_ANNOTATION]: 'AAAA' } }, good];
    const image = stored(layers);
    const client = newClient();
    reg.faults.next({ path: /\/blobs\//, delayMs: 5, times: 1000 });
    const seen = new Map<number, SourceLayer>();
    let heldAtOnce = 0;
    let held = 0;
    const listing = await sigTagSource(client).read(
      image,
      DIGEST,
      async (entry, i) => {
        expect(seen.has(i)).toBe(false);
        seen.set(i, entry);
        held++;
        heldAtOnce = Math.max(heldAtOnce, held);
        await new Promise((r) => setTimeout(r, 1));
        held--;
      },
      { concurrency: 3 },
    );
    reg.faults.clear();
    expect(listing.count).toBe(layers.length);
    expect(listing.reference.tag).toBe(`sha256-${'12'.repeat(32)}.sig`);
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(layers.map((_, i) => i));
    for (const [i, e] of seen) {
      expect(e.ok).toBe(true);
      if (e.ok) expect(e.layer.descriptor.digest).toBe(sha256(layers[i]!.blob));
    }
    expect(client.gets).toBe(41); // 40 junk blobs and the good one: layer 40 reuses layer 3's blob
    expect(client.maxInFlight).toBeLessThanOrEqual(3);
    expect(client.maxInFlight).toBeGreaterThan(1);
    expect(heldAtOnce).toBeLessThanOrEqual(3);
  });

  it('a visitor that throws stops the read: its error, and no further blob fetches', async () => {
    const image = stored(distinctJunkLayers(30, 512));
    const client = newClient();
    const boom = new CosignError('USAGE', 'stop here');
    await expect(
      sigTagSource(client).read(
        image,
        DIGEST,
        (_e, i) => {
          if (i === 2) throw boom;
        },
        { concurrency: 2 },
      ),
    ).rejects.toBe(boom);
    await new Promise((r) => setTimeout(r, 50));
    expect(client.gets).toBeLessThanOrEqual(5);
  });

  it('an abort stops the read with a typed error', async () => {
    const image = stored(distinctJunkLayers(20, 512));
    const client = newClient();
    const ac = new AbortController();
    reg.faults.next({ path: /\/blobs\//, delayMs: 20, times: 100 });
    const p = sigTagSource(client).read(image, DIGEST, () => ac.abort(), { concurrency: 2, signal: ac.signal });
    const err = await p.catch((e: unknown) => e);
    reg.faults.clear();
    expect(isCosignError(err)).toBe(true);
    expect((err as CosignError).code).toBe('REGISTRY_UNAVAILABLE');
    expect(client.gets).toBeLessThanOrEqual(4);
  });

  it('fetchSignatures collects the layers and the unreadable ones in listing order', async () => {
    const missing = { ...signedLayer(key, 'y', DIGEST), missing: true };
    const a = signedLayer(key, 'a', DIGEST);
    const b = signedLayer(key, 'b', DIGEST);
    const image = stored([a, missing, b]);
    const got = await fetchSignatures(sigTagSource(newClient()), image, DIGEST);
    expect(got.layers.map((l) => l.descriptor.digest)).toEqual([sha256(a.blob), sha256(b.blob)]);
    expect(got.unreadable.map((f) => [f.digest, f.code])).toEqual([[sha256(missing.blob), 'NOT_FOUND']]);
  });

  it.each([
    ['concurrency', { concurrency: Number.NaN }],
    ['concurrency', { concurrency: 0 }],
    ['concurrency', { concurrency: 2.5 }],
    ['maxPayloadBytes', { maxPayloadBytes: Number.NaN }],
    ['maxPayloadBytes', { maxPayloadBytes: -1 }],
  ])('an invalid %s (%o) is a USAGE error, not a silently empty read', async (_name, opts) => {
    const image = stored([signedLayer(key, 'z', DIGEST)]);
    let calls = 0;
    const err = await sigTagSource(newClient())
      .read(image, DIGEST, () => void calls++, opts)
      .catch((e: unknown) => e);
    expect(isCosignError(err, 'USAGE')).toBe(true);
    expect(calls).toBe(0);
  });

  it('no .sig: NO_SIGNATURES, and the visitor is never called', async () => {
    let calls = 0;
    const err = await sigTagSource(newClient())
      .read(parseReference(`${reg.host}/source/none`), DIGEST, () => void calls++)
      .catch((e: unknown) => e);
    expect(isCosignError(err, 'NO_SIGNATURES')).toBe(true);
    expect(calls).toBe(0);
  });
});

describe('referrerBundleSource.read', () => {
  let reg: TestRegistry;
  let n = 0;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const newClient = (): CountingClient => new CountingClient({ keychain: { resolve: async () => undefined } });
  /** An image with `count` bundle referrers (distinct bundles: each signs other annotations). */
  const withBundles = async (count: number): Promise<{ image: ImageReference; digest: Digest }> => {
    const client = newClient();
    const image = parseReference(`${reg.host}/bundles/app${++n}:v1`);
    const digest = await pushSampleImage(client, image);
    const m = await client.getManifest(withDigest(image, digest));
    for (let i = 0; i < count; i++) {
      await pushBundleReferrer(
        client,
        image,
        { digest, size: m.bytes.length, mediaType: m.mediaType },
        cosign3Bundle(privateKey, der, digest, { annotations: { i: String(i) } }),
      );
    }
    return { image, digest };
  };

  beforeAll(async () => {
    reg = await startTestRegistry();
  });
  afterAll(async () => {
    await reg.close();
  });

  it('visits every bundle once, with at most `concurrency` blobs in flight, and says it read bundles', async () => {
    const { image, digest } = await withBundles(12);
    const client = newClient();
    reg.faults.next({ path: /\/blobs\//, delayMs: 5, times: 1000 });
    const seen: number[] = [];
    const listing = await referrerBundleSource(client).read(image, digest, (e, i) => void (e.ok && seen.push(i)), { concurrency: 3 });
    reg.faults.clear();
    expect(listing).toMatchObject({ count: 12, format: 'bundle' });
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(client.maxInFlight).toBeLessThanOrEqual(3);
    expect(client.gets).toBe(12);
  });

  it('a visitor that throws stops the read with its error and no further fetches; an abort is REGISTRY_UNAVAILABLE', async () => {
    const { image, digest } = await withBundles(10);
    const client = newClient();
    reg.faults.next({ path: /\/blobs\//, delayMs: 10, times: 1000 });
    const boom = new Error('boom');
    await expect(
      referrerBundleSource(client).read(
        image,
        digest,
        () => {
          throw boom;
        },
        { concurrency: 2 },
      ),
    ).rejects.toBe(boom);
    await new Promise((r) => setTimeout(r, 50));
    expect(client.gets).toBeLessThanOrEqual(3);
    const ac = new AbortController();
    const err = await referrerBundleSource(newClient())
      .read(image, digest, () => ac.abort(), { concurrency: 2, signal: ac.signal })
      .catch((e: unknown) => e);
    reg.faults.clear();
    expect(isCosignError(err, 'REGISTRY_UNAVAILABLE')).toBe(true);
  });

  it('no referrers: NO_SIGNATURES, and cosignSignatureSource then reads the .sig', async () => {
    const { image, digest } = await withBundles(0);
    await expect(referrerBundleSource(newClient()).read(image, digest, () => undefined)).rejects.toMatchObject({ code: 'NO_SIGNATURES' });
    const err = await cosignSignatureSource(newClient())
      .read(image, digest, () => undefined)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NO_SIGNATURES', message: expect.stringContaining('.sig') });
  });

  it('cosignSignatureSource: in a repository found signed with bundles, no .sig request is made beside the referrers one; a legacy image there still verifies', async () => {
    const client = newClient();
    const a = await withBundles(1);
    const sigRequests = (): number => reg.requests.filter((r) => r.method === 'GET' && /\/manifests\/sha256-[0-9a-f]{64}\.sig$/.test(r.path)).length;
    // first image of the repository: both lookups at once (the .sig one is cancelled or wasted)
    await cosignSignatureSource(client).read(a.image, a.digest, () => undefined);
    // a second image of the same repository, also with a bundle: no .sig lookup at all
    const image2 = parseReference(`${a.image.name}:v2`);
    const d2 = await pushSampleImage(client, image2, { v: '2' });
    const m2 = await client.getManifest(withDigest(image2, d2));
    await pushBundleReferrer(client, image2, { digest: d2, size: m2.bytes.length, mediaType: m2.mediaType }, cosign3Bundle(privateKey, der, d2));
    const before = sigRequests();
    expect((await fetchSignatures(cosignSignatureSource(client), image2, d2)).layers.length).toBe(1);
    expect(sigRequests()).toBe(before);
    // an image of that repository with no bundle: the .sig is read after the referrers answer (same result)
    const image3 = parseReference(`${a.image.name}:v3`);
    const d3 = await pushSampleImage(client, image3, { v: '3' });
    const err = await cosignSignatureSource(client)
      .read(image3, d3, () => undefined)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NO_SIGNATURES', message: expect.stringContaining('.sig') });
    expect(sigRequests()).toBe(before + 1);
  });
});
