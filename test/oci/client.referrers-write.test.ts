/**
 * Writing referrers: `pushReferrer` (referrers API vs fallback tag index) and the conditional
 * read-modify-write of the fallback index (`If-Match` / `If-None-Match: *`, retried on 412), so that
 * concurrent signers never lose an entry on a registry that honours conditional requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../src/digest.js';
import { RegistryClient, type Keychain } from '../../src/oci/index.js';
import { referrersFallbackTag } from '../../src/oci/manifest.js';
import { parseReference, withTag } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { codeOfAsync } from '../helpers/errors.js';

const anonymous: Keychain = { resolve: async () => undefined };
const EMPTY = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' as Digest;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** A cosign-3-shaped referrer manifest (the `n` annotation makes each one distinct). */
function referrer(subject: Digest, n: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: EMPTY, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
      layers: [],
      annotations: { n: String(n) },
      subject: { mediaType: OCI_MANIFEST, size: 1, digest: subject },
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    }),
  );
}

describe('RegistryClient referrer writes', () => {
  let api: TestRegistry;
  let noApi: TestRegistry;
  let plain: TestRegistry;
  beforeAll(async () => {
    api = await startTestRegistry();
    noApi = await startTestRegistry({ referrers: false });
    plain = await startTestRegistry({ referrers: false, conditionalRequests: false });
  });
  afterAll(async () => {
    await Promise.all([api.close(), noApi.close(), plain.close()]);
  });

  async function setup(reg: TestRegistry, name: string): Promise<{ client: RegistryClient; subject: Digest; repo: ReturnType<typeof parseReference> }> {
    const client = new RegistryClient({ keychain: anonymous });
    const subject = await pushSampleImage(client, `${reg.host}/${name}:v1`);
    const repo = parseReference(`${reg.host}/${name}`);
    await client.uploadBlob(repo, EMPTY, Buffer.from('{}'));
    return { client, subject, repo };
  }

  it('referrers API (OCI-Subject in the PUT answer): the manifest only, no fallback tag', async () => {
    const { client, subject, repo } = await setup(api, 'w/api');
    const m = referrer(subject, 1);
    const before = api.requests.length;
    const out = await client.pushReferrer(repo, m, OCI_MANIFEST, subject);
    expect(out.fallback).toBe(false);
    expect(out.descriptor).toEqual({ mediaType: OCI_MANIFEST, digest: digestOf(m), size: m.byteLength, artifactType: 'application/vnd.oci.empty.v1+json' });
    expect(api.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([`PUT /v2/w/api/manifests/${digestOf(m)}`]);
    expect(client.supportsReferrersApi(api.host)).toBe(true);
    expect((await client.referrers(repo, subject)).map((d) => d.digest)).toEqual([digestOf(m)]);
    client.close();
  });

  it('no referrers API, the image itself under the fallback tag (as `cosign copy` leaves it): no referrers listed; the first referrer replaces it by an index', async () => {
    const { client, subject, repo } = await setup(noApi, 'w/copied');
    const image = await client.getManifest({ ...repo, digest: subject, tag: undefined });
    await client.putManifest(withTag(repo, referrersFallbackTag(subject)), image.bytes, image.mediaType);
    expect(await client.referrers(repo, subject)).toEqual([]);
    const m = referrer(subject, 1);
    expect((await client.pushReferrer(repo, m, OCI_MANIFEST, subject)).fallback).toBe(true);
    const idx = await client.getManifest(withTag(repo, referrersFallbackTag(subject)));
    expect(idx.mediaType).toBe(OCI_INDEX);
    expect((await client.referrers(repo, subject)).map((d) => d.digest)).toEqual([digestOf(m)]);
    // the image is still there by digest
    expect((await client.getManifest({ ...repo, digest: subject, tag: undefined })).digest).toBe(subject);
    client.close();
  });

  it('no referrers API: the fallback index, with the entry cosign 3.1 writes (byte for byte)', async () => {
    const { client, subject, repo } = await setup(noApi, 'w/fb');
    const m = referrer(subject, 1);
    const out = await client.pushReferrer(repo, m, OCI_MANIFEST, subject);
    expect(out.fallback).toBe(true);
    const idx = await client.getManifest(withTag(repo, referrersFallbackTag(subject)));
    expect(Buffer.from(idx.bytes).toString()).toBe(
      `{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[{"mediaType":"${OCI_MANIFEST}","size":${m.byteLength},"digest":"${digestOf(m)}","artifactType":"application/vnd.oci.empty.v1+json"}]}`,
    );
    // Again: de-duplicated, the index is not rewritten.
    const before = noApi.requests.length;
    await client.pushReferrer(repo, m, OCI_MANIFEST, subject);
    expect(noApi.requests.slice(before).filter((r) => r.method === 'PUT' && r.path.includes('sha256-'))).toEqual([]);
    client.close();
  });

  it('a manifest whose subject is another digest is refused', async () => {
    const { client, subject, repo } = await setup(noApi, 'w/bad');
    expect(await codeOfAsync(client.pushReferrer(repo, referrer(subject, 1), OCI_MANIFEST, digestOf('other') as Digest))).toBe('USAGE');
    client.close();
  });

  it('the in-process registry honours If-Match / If-None-Match on manifests (412)', async () => {
    const { client, subject, repo } = await setup(noApi, 'w/cond');
    const tag = referrersFallbackTag(subject);
    const url = `${noApi.url}/v2/w/cond/manifests/${tag}`;
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    const put = (headers: Record<string, string>): Promise<number> =>
      fetch(url, { method: 'PUT', headers: { 'content-type': OCI_INDEX, ...headers }, body }).then((r) => r.status);
    expect(await put({ 'if-match': '"sha256:nope"' })).toBe(412); // nothing there yet
    expect(await put({ 'if-none-match': '*' })).toBe(201);
    expect(await put({ 'if-none-match': '*' })).toBe(412);
    const get = await fetch(url, { headers: { accept: OCI_INDEX } });
    const etag = get.headers.get('etag');
    expect(etag).toBe(`"${digestOf(body)}"`);
    expect(await put({ 'if-match': '"sha256:stale"' })).toBe(412);
    expect(await put({ 'if-match': etag ?? '' })).toBe(201);
    expect(repo.repository).toBe('w/cond');
    client.close();
  });

  for (const n of [2, 8]) {
    it(`${n} concurrent signers (separate clients) all land in the fallback index`, async () => {
      const { client, subject, repo } = await setup(noApi, `w/race${n}`);
      const clients = Array.from({ length: n }, () => new RegistryClient({ keychain: anonymous }));
      const manifests = clients.map((_, i) => referrer(subject, i));
      const before = noApi.requests.length;
      await Promise.all(clients.map((c, i) => c.pushReferrer(repo, manifests[i] ?? Buffer.alloc(0), OCI_MANIFEST, subject)));
      const got = (await client.referrers(repo, subject)).map((d) => d.digest);
      expect(got).toEqual(manifests.map((m) => digestOf(m)).sort());
      // Every index write was conditional.
      const indexPuts = noApi.requests.slice(before).filter((r) => r.method === 'PUT' && r.path.endsWith(referrersFallbackTag(subject)));
      expect(indexPuts.length).toBeGreaterThanOrEqual(n);
      for (const c of [client, ...clients]) c.close();
    });
  }

  it('removeFallbackReferrer goes through the same conditional loop; concurrent add and remove both hold', async () => {
    const { client, subject, repo } = await setup(noApi, 'w/rm');
    const [a, b, c] = [referrer(subject, 1), referrer(subject, 2), referrer(subject, 3)];
    await client.pushReferrer(repo, a, OCI_MANIFEST, subject);
    await client.pushReferrer(repo, b, OCI_MANIFEST, subject);
    const other = new RegistryClient({ keychain: anonymous });
    const [removed] = await Promise.all([
      client.removeFallbackReferrer(repo, subject, digestOf(a) as Digest),
      other.pushReferrer(repo, c, OCI_MANIFEST, subject),
    ]);
    expect(removed).toBe(true);
    expect((await client.referrers(repo, subject)).map((d) => d.digest)).toEqual([digestOf(b), digestOf(c)].sort());
    expect(await client.removeFallbackReferrer(repo, subject, digestOf(a) as Digest)).toBe(false);
    for (const x of [client, other]) x.close();
  });

  it('a registry that keeps answering 412: REGISTRY_ERROR after a bounded number of attempts', async () => {
    const { client, subject, repo } = await setup(noApi, 'w/busy');
    noApi.faults.next({ path: /\/manifests\/sha256-/, method: 'PUT', status: 412, times: 100 });
    try {
      expect(await codeOfAsync(client.pushReferrer(repo, referrer(subject, 1), OCI_MANIFEST, subject))).toBe('REGISTRY_ERROR');
    } finally {
      noApi.faults.clear();
    }
    client.close();
  });

  it('a registry without conditional requests (like Debian docker-registry): plain writes, sequential signers land', async () => {
    const { client, subject, repo } = await setup(plain, 'w/plain');
    for (let i = 0; i < 3; i++) await client.pushReferrer(repo, referrer(subject, i), OCI_MANIFEST, subject);
    expect(await client.referrers(repo, subject)).toHaveLength(3);
    client.close();
  });
});
