/**
 * The killer's cycle over a Docker API test server and the in-process registry (real HTTP both ways,
 * real signatures): every decision path, multi-arch digests, steady state without registry requests,
 * and 200 containers per cycle.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../src/digest.js';
import {
  createPolicyVerifier,
  DockerClient,
  KillerMetrics,
  OUTAGE_CODES,
  outcomeOf,
  parseDockerHost,
  runCycle,
  type KillerDeps,
  type KillerEvent,
} from '../../src/enforce/index.js';
import { CosignError, ERROR_CODES } from '../../src/errors.js';
import { signerFromPrivateKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parsePolicy, type Policy } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { DockerApiServer } from './docker-api-server.js';
import { signatureTag } from '../../src/artifact/tags.js';
import { isCosignError } from '../../src/errors.js';
import { http } from '../../src/internal/node-http.js';
import type { AddressInfo } from 'node:net';
import { isImageId } from '../../src/enforce/docker.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf('{}'), size: 2 };
const layer = (i: number) => ({
  mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
  digest: digestOf(String(i)),
  size: String(i).length,
  annotations: { 'dev.cosignproject.cosign/signature': 'AAAA' },
});

/** Junk a tag pusher can put at `sha256-<hex>.sig`: each must be a definitive failure (killed), never an outage. */
const JUNK_SIGS: ReadonlyArray<[string, () => Buffer, string]> = [
  ['invalid JSON', () => Buffer.from('{"schemaVersion":2,'), 'BAD_MANIFEST'],
  ['an index instead of a manifest', () => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] })), 'BAD_MANIFEST'],
  [
    '1001 layers',
    () =>
      Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_CONFIG, layers: Array.from({ length: 1001 }, (_, i) => layer(i)) }),
      ),
    'TOO_LARGE',
  ],
  [
    'a 5 MiB manifest',
    () =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: EMPTY_CONFIG,
          layers: [layer(1)],
          annotations: { pad: 'x'.repeat(5 * 1024 * 1024) },
        }),
      ),
    'TOO_LARGE',
  ],
  [
    'a manifest with a layer of digest foo:bar',
    () => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_CONFIG, layers: [{ ...layer(1), digest: 'foo:bar' }] })),
    '*',
  ],
];

describe('image killer cycle', () => {
  let reg: TestRegistry;
  let docker: DockerApiServer;
  let client: RegistryClient;
  let dir: string;
  let policy: Policy;
  let signed: { ref: string; digest: Digest };
  let unsigned: { ref: string; digest: Digest };
  const signer = signerFromPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'test.key');

  const deps = (over: Partial<KillerDeps> = {}): KillerDeps => {
    const v = createPolicyVerifier({ client });
    return { docker: new DockerClient(parseDockerHost(docker.dockerHost)), policy, verify: v.verify, resolveIndex: v.resolveIndex, ...over };
  };

  beforeAll(async () => {
    reg = await startTestRegistry();
    docker = await DockerApiServer.start();
    client = new RegistryClient({ keychain: { resolve: async () => undefined } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-killer-unit-'));
    await writeFile(path.join(dir, 'cosign.pub'), (await signer.publicKey()).export({ type: 'spki', format: 'pem' }));
    const sd = await pushSampleImage(client, `${reg.host}/ci/signed:v1`, { s: '1' });
    await signImage(`${reg.host}/ci/signed@${sd}`, signer, { client });
    const ud = await pushSampleImage(client, `${reg.host}/ci/unsigned:v1`, { u: '1' });
    signed = { ref: `${reg.host}/ci/signed:v1`, digest: sd };
    unsigned = { ref: `${reg.host}/ci/unsigned:v1`, digest: ud };
    policy = parsePolicy(
      [
        'defaults: { unmatched: deny }',
        `allow: ["${reg.host}/infra/**"]`,
        'rules:',
        '  - name: audit-only',
        `    images: ["${reg.host}/audit/*"]`,
        '    mode: audit',
        `    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} } }]`,
        '  - name: ci',
        `    images: ["${reg.host}/ci/*", "${reg.host}/multi/*"]`,
        `    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} } }]`,
      ].join('\n'),
    );
  });
  afterAll(async () => {
    client.close();
    await docker.close();
    await reg.close();
  });

  const image = (ref: string, digest: Digest) => docker.addImage([`${parseReference(ref).name}@${digest}`], [ref]);

  it('kills the unsigned container, keeps the signed one, never kills twice, steady state costs no registry requests', async () => {
    docker.containers.clear();
    const good = docker.run(signed.ref, image(signed.ref, signed.digest), 'good');
    const bad = docker.run(unsigned.ref, image(unsigned.ref, unsigned.digest), 'bad');
    const killed = new Map<string, string>();
    const d = deps({ killed });
    const r1 = await runCycle(d);
    expect(r1.events.find((e) => e.containerId === bad.id)).toMatchObject({ action: 'killed', code: 'NO_SIGNATURES', rule: 'ci', digest: unsigned.digest });
    expect(r1.events.find((e) => e.containerId === good.id)).toMatchObject({ action: 'verified', via: 'repo-digest' });
    expect(bad.running).toBe(false);
    // Bring it back "running" (a restart policy): it was already killed once, never again.
    bad.running = true;
    const before = client.stats.requests;
    const r2 = await runCycle(d);
    expect(client.stats.requests - before).toBe(0);
    expect(r2.events.find((e) => e.containerId === bad.id)?.action).toBe('already-killed');
    expect(docker.kills).toBeGreaterThanOrEqual(1);
  });

  it('audit mode reports, allow-list skips, unmatched deny kills, unmatched allow passes, dry run kills nothing', async () => {
    docker.containers.clear();
    const ad = await pushSampleImage(client, `${reg.host}/audit/app:v1`, { a: '1' });
    const audited = docker.run(`${reg.host}/audit/app:v1`, image(`${reg.host}/audit/app:v1`, ad));
    const infra = docker.run(`${reg.host}/infra/proxy:v1`, image(`${reg.host}/infra/proxy:v1`, digestOf('x')));
    const stray = docker.run('busybox:latest', image('busybox:latest', digestOf('busybox')));
    const r = await runCycle(deps());
    expect(r.events.find((e) => e.containerId === audited.id)?.action).toBe('audit');
    expect(audited.running).toBe(true);
    expect(r.events.find((e) => e.containerId === infra.id)?.action).toBe('allowed');
    expect(r.events.find((e) => e.containerId === stray.id)).toMatchObject({ action: 'killed', reason: expect.stringMatching(/no policy rule/) });
    stray.running = true;
    const allowAll = parsePolicy('defaults: { unmatched: allow }');
    const r2 = await runCycle(deps({ policy: allowAll }));
    expect(r2.events.find((e) => e.containerId === stray.id)?.action).toBe('allowed');
    const r3 = await runCycle(deps({ options: { dryRun: true } }));
    expect(r3.events.find((e) => e.containerId === stray.id)?.action).toBe('audit');
    expect(stray.running).toBe(true);
  });

  it('registry unavailable: nothing killed (fail-open); failClosed kills; vanished containers do not crash the cycle', async () => {
    docker.containers.clear();
    const bad = docker.run(unsigned.ref, image(unsigned.ref, unsigned.digest));
    reg.faults.next({ path: /manifests/, status: 503, times: 1000 });
    const fresh = new RegistryClient({ keychain: { resolve: async () => undefined }, attempts: 1 });
    const v = createPolicyVerifier({ client: fresh });
    const base = { docker: new DockerClient(parseDockerHost(docker.dockerHost)), policy, verify: v.verify, resolveIndex: v.resolveIndex };
    const open = await runCycle(base);
    expect(open.events.find((e) => e.containerId === bad.id)).toMatchObject({ action: 'skipped-unavailable', code: 'REGISTRY_UNAVAILABLE' });
    expect(bad.running).toBe(true);
    const closed = await runCycle({ ...base, options: { failClosed: true } });
    expect(closed.events.find((e) => e.containerId === bad.id)?.action).toBe('killed');
    reg.faults.clear();
    const ghost = docker.run(unsigned.ref, image(unsigned.ref, unsigned.digest));
    ghost.vanishAfterList = true;
    const r = await runCycle(deps());
    expect(r.events.find((e) => e.containerId === ghost.id)?.action).toMatch(/gone|error/);
    fresh.close();
  });

  it('remove option removes; locally built images (no RepoDigests) are killed with a clear reason', async () => {
    docker.containers.clear();
    const local = docker.run(`${reg.host}/ci/local-build:dev`, docker.addImage([], [`${reg.host}/ci/local-build:dev`]));
    const r = await runCycle(deps({ options: { remove: true } }));
    expect(r.events.find((e) => e.containerId === local.id)).toMatchObject({
      action: 'killed-and-removed',
      reason: expect.stringMatching(/no registry digest/),
    });
    expect(docker.containers.has(local.id)).toBe(false);
  });

  it('multi-arch: the index digest in RepoDigests (Docker) passes directly; a platform digest (Podman) passes through the signed index', async () => {
    docker.containers.clear();
    const repo = `${reg.host}/multi/app`;
    const amd = await pushSampleImage(client, `${repo}:amd64`, { arch: 'amd64' });
    const arm = await pushSampleImage(client, `${repo}:arm64`, { arch: 'arm64' });
    const m = await client.getManifest(parseReference(`${repo}@${amd}`));
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [amd, arm].map((d, i) => ({
          mediaType: m.mediaType,
          digest: d,
          size: m.size,
          platform: { os: 'linux', architecture: i === 0 ? 'amd64' : 'arm64' },
        })),
      }),
    );
    await client.putManifest(parseReference(`${repo}:v1`), index, OCI_INDEX);
    const indexDigest = digestOf(index);
    await signImage(`${repo}@${indexDigest}`, signer, { client }); // what `cosign sign repo:v1` does
    const dockerish = docker.run(`${repo}:v1`, image(`${repo}:v1`, indexDigest));
    const podmanish = docker.run(`${repo}:v1`, image(`${repo}:v1`, amd));
    const r = await runCycle(deps());
    expect(r.events.find((e) => e.containerId === dockerish.id)).toMatchObject({ action: 'verified', via: 'repo-digest', digest: indexDigest });
    expect(r.events.find((e) => e.containerId === podmanish.id)).toMatchObject({ action: 'verified', via: 'index', digest: indexDigest });
  });

  it('200 containers: a warm cycle takes < 1 s with zero registry requests; a newly started unsigned one is killed within one cycle', async () => {
    docker.containers.clear();
    const imgs = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const ref = `${reg.host}/ci/fleet${i}:v1`;
        const d = await pushSampleImage(client, ref, { fleet: String(i) });
        await signImage(`${reg.host}/ci/fleet${i}@${d}`, signer, { client });
        return { ref, info: image(ref, d) };
      }),
    );
    for (let i = 0; i < 200; i++) docker.run(imgs[i % 20]!.ref, imgs[i % 20]!.info);
    const metrics = new KillerMetrics();
    const v = createPolicyVerifier({ client });
    metrics.cacheHitRatio = () => v.cache.hitRatio();
    const d: KillerDeps = {
      docker: new DockerClient(parseDockerHost(docker.dockerHost)),
      policy,
      verify: v.verify,
      resolveIndex: v.resolveIndex,
      killed: new Map(),
      onVerification: (s, o) => metrics.observeVerification(s, o),
    };
    const cold = await runCycle(d);
    metrics.observeCycle(cold);
    expect(cold.events.filter((e) => e.action === 'verified')).toHaveLength(200);
    const before = client.stats.requests;
    const warm = await runCycle(d);
    metrics.observeCycle(warm);
    expect(client.stats.requests - before).toBe(0);
    expect(warm.durationMs).toBeLessThan(1000);
    console.log(`200 containers: cold cycle ${cold.durationMs.toFixed(0)} ms, warm cycle ${warm.durationMs.toFixed(0)} ms, 0 registry requests warm`);
    const intruder = docker.run(unsigned.ref, image(unsigned.ref, unsigned.digest));
    const next = await runCycle(d);
    metrics.observeCycle(next);
    expect(next.events.find((e) => e.containerId === intruder.id)?.action).toBe('killed');
    const text = metrics.render();
    expect(text).toContain('cosign_killer_containers_checked_total 601');
    expect(text).toContain('cosign_killer_containers_killed_total 1');
    expect(text).toMatch(/cosign_killer_cache_hit_ratio 0\.\d+/);
  });

  it.each(JUNK_SIGS)('a junk .sig (%s) is a definitive failure: killed in enforce mode with the reason', async (what, bytes, code) => {
    docker.containers.clear();
    const repo = `${reg.host}/ci/junk-${JUNK_SIGS.findIndex((j) => j[0] === what)}`;
    const d = await pushSampleImage(client, `${repo}:v1`, { junk: what });
    await client.putManifest(parseReference(`${repo}:${signatureTag(d)}`), bytes(), OCI_MANIFEST);
    const c = docker.run(`${repo}:v1`, image(`${repo}:v1`, d));
    const r = await runCycle(deps());
    const e = r.events.find((x) => x.containerId === c.id);
    expect(e, JSON.stringify(e)).toMatchObject({ action: 'killed', rule: 'ci', digest: d });
    if (code !== '*') expect(e?.code).toBe(code);
    expect(e?.reason).toBeTruthy();
    expect(c.running).toBe(false);
  });

  it('served content that breaks its digest or JSON is definitive too (fault-injected answers)', async () => {
    docker.containers.clear();
    const repo = `${reg.host}/ci/served-junk`;
    const d = await pushSampleImage(client, `${repo}:v1`, { served: 'junk' });
    await signImage(`${repo}@${d}`, signer, { client });
    const sigPath = new RegExp(`/manifests/${signatureTag(d)}$`);
    const c = docker.run(`${repo}:v1`, image(`${repo}:v1`, d));
    for (const [fault, code] of [
      [{ badJson: true }, 'BAD_MANIFEST'],
      [{ oversizeBytes: 5 * 1024 * 1024 }, 'TOO_LARGE'],
    ] as const) {
      c.running = true;
      reg.faults.next({ path: sigPath, ...fault });
      const r = await runCycle(deps());
      reg.faults.clear();
      expect(r.events.find((x) => x.containerId === c.id)).toMatchObject({ action: 'killed', code });
    }
  });

  it('a malformed Docker-Content-Digest header is a typed content failure (BAD_DIGEST), and the killer kills', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/v2/' || req.url === '/v2') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_CONFIG, layers: [] });
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': 'foo:bar', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c2 = new RegistryClient({ keychain: { resolve: async () => undefined }, attempts: 1 });
    try {
      const err = await c2.getManifest(parseReference(`${host}/ci/app:${signatureTag(digestOf('x'))}`)).catch((e: unknown) => e);
      expect(isCosignError(err, 'BAD_DIGEST'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/Docker-Content-Digest/);
      docker.containers.clear();
      const d = digestOf('image');
      const p = parsePolicy(
        `rules:\n  - name: other\n    images: ["${host}/ci/*"]\n    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} } }]\n`,
      );
      const v = createPolicyVerifier({ client: c2 });
      const c = docker.run(`${host}/ci/app:v1`, image(`${host}/ci/app:v1`, d));
      const r = await runCycle({ docker: new DockerClient(parseDockerHost(docker.dockerHost)), policy: p, verify: v.verify, resolveIndex: v.resolveIndex });
      expect(r.events.find((x) => x.containerId === c.id)).toMatchObject({ action: 'killed', code: 'BAD_DIGEST' });
    } finally {
      c2.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('outages stay fail-open: a registry that is down, answers 5xx or 429 → skipped-unavailable, nothing killed', async () => {
    docker.containers.clear();
    const fresh = new RegistryClient({ keychain: { resolve: async () => undefined }, attempts: 1 });
    const v = createPolicyVerifier({ client: fresh });
    const base = { docker: new DockerClient(parseDockerHost(docker.dockerHost)), policy, verify: v.verify, resolveIndex: v.resolveIndex };
    const bad = docker.run(unsigned.ref, image(unsigned.ref, unsigned.digest));
    for (const [status, code] of [
      [500, 'REGISTRY_UNAVAILABLE'],
      [502, 'REGISTRY_UNAVAILABLE'],
      [429, 'REGISTRY_THROTTLED'],
    ] as const) {
      reg.faults.next({ path: /manifests/, status, times: 1000 });
      const r = await runCycle(base);
      reg.faults.clear();
      expect(r.events.find((e) => e.containerId === bad.id)).toMatchObject({ action: 'skipped-unavailable', code });
      expect(bad.running).toBe(true);
    }
    // A registry nobody listens on (connection refused).
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    const p = parsePolicy(
      `rules:\n  - name: down\n    images: ["${host}/**"]\n    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} } }]\n`,
    );
    const down = docker.run(`${host}/ci/app:v1`, image(`${host}/ci/app:v1`, digestOf('down')));
    const r = await runCycle({ ...base, policy: p });
    expect(r.events.find((e) => e.containerId === down.id)).toMatchObject({ action: 'skipped-unavailable', code: 'REGISTRY_UNAVAILABLE' });
    expect(down.running).toBe(true);
    fresh.close();
  });

  it('a registry refusing our credentials (401) is an outage: skipped-unavailable, not killed', async () => {
    const locked = await startTestRegistry({ basicAuth: { username: 'u', password: 'p' } });
    const anon = new RegistryClient({ keychain: { resolve: async () => undefined }, attempts: 1 });
    try {
      docker.containers.clear();
      const p = parsePolicy(
        `rules:\n  - name: locked\n    images: ["${locked.host}/**"]\n    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} } }]\n`,
      );
      const c = docker.run(`${locked.host}/ci/app:v1`, image(`${locked.host}/ci/app:v1`, digestOf('locked')));
      const v = createPolicyVerifier({ client: anon });
      const r = await runCycle({ docker: new DockerClient(parseDockerHost(docker.dockerHost)), policy: p, verify: v.verify, resolveIndex: v.resolveIndex });
      expect(r.events.find((e) => e.containerId === c.id)).toMatchObject({ action: 'skipped-unavailable', code: 'REGISTRY_UNAUTHORIZED' });
      expect(c.running).toBe(true);
    } finally {
      anon.close();
      await locked.close();
    }
  });

  it('outcomeOf: only transport failures are outages; content errors, unknown errors and everything else are definitive', () => {
    expect([...OUTAGE_CODES].sort()).toEqual(['KMS_NETWORK', 'KMS_THROTTLED', 'REGISTRY_THROTTLED', 'REGISTRY_UNAUTHORIZED', 'REGISTRY_UNAVAILABLE']);
    for (const code of ERROR_CODES) expect(outcomeOf(new CosignError(code, 'x'))).toMatchObject({ ok: false, code, definitive: !OUTAGE_CODES.has(code) });
    for (const code of ['BAD_MANIFEST', 'TOO_LARGE', 'DIGEST_MISMATCH', 'BAD_DIGEST', 'NOT_FOUND', 'REGISTRY_ERROR'] as const)
      expect(outcomeOf(new CosignError(code, 'x')).ok === false && outcomeOf(new CosignError(code, 'x'))).toMatchObject({ definitive: true });
    expect(outcomeOf(new TypeError('boom'))).toMatchObject({ ok: false, definitive: true, reason: 'boom' });
  });

  it("an authority that cannot be loaded (missing key file) is the killer's problem, not the image's: skipped, not killed", async () => {
    docker.containers.clear();
    const p = parsePolicy(
      `rules:\n  - name: nokey\n    images: ["${reg.host}/ci/*"]\n    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'missing.pub'))} } }]\n`,
    );
    const c = docker.run(unsigned.ref, image(unsigned.ref, unsigned.digest));
    const r = await runCycle(deps({ policy: p }));
    expect(r.events.find((e) => e.containerId === c.id)).toMatchObject({
      action: 'skipped-unavailable',
      reason: expect.stringMatching(/nokey: cannot load its authorities/),
    });
    expect(c.running).toBe(true);
  });

  describe('containers whose image is shown as an id', () => {
    it("isImageId: full ids, sha256: ids and prefixes of the container's image id; other hex names stay names", () => {
      const id = `sha256:${'ab12'.repeat(16)}`;
      expect(isImageId(id)).toBe(true);
      expect(isImageId(id.slice(7))).toBe(true);
      expect(isImageId(id.slice(7, 19), id)).toBe(true);
      expect(isImageId(`sha256:${id.slice(7, 19)}`, id)).toBe(true);
      expect(isImageId('deadbeefcafe', id)).toBe(false); // a Docker Hub repository that happens to be hex
      expect(isImageId('deadbeefcafe')).toBe(true); // no image id to compare: never read an id as a name
      expect(isImageId('busybox', id)).toBe(false);
      expect(isImageId(`registry.example.com/ci/app@${id}`, id)).toBe(false);
    });

    it('started by id: the policy applies to the RepoDigests name (signed → verified, unsigned → killed), never to "library/sha256"', async () => {
      docker.containers.clear();
      const si = image(signed.ref, signed.digest);
      const ui = image(unsigned.ref, unsigned.digest);
      const good = docker.run(si.id, si);
      const goodShort = docker.run(si.id.slice(7, 19), si);
      const bad = docker.run(ui.id, ui);
      const r = await runCycle(deps());
      for (const c of [good, goodShort])
        expect(r.events.find((e) => e.containerId === c.id)).toMatchObject({
          action: 'verified',
          via: 'repo-digest',
          rule: 'ci',
          digest: signed.digest,
          imageName: `${reg.host}/ci/signed`,
        });
      expect(r.events.find((e) => e.containerId === bad.id)).toMatchObject({ action: 'killed', rule: 'ci', code: 'NO_SIGNATURES', digest: unsigned.digest });
      expect(good.running && goodShort.running).toBe(true);
    });

    it('tag moved: the list shows the id, Config.Image has the name it was started with → verified by that name', async () => {
      docker.containers.clear();
      const si = image(signed.ref, signed.digest);
      const c = docker.run(si.id.slice(7, 19), si);
      c.configImage = signed.ref;
      const r = await runCycle(deps());
      expect(r.events.find((e) => e.containerId === c.id)).toMatchObject({ action: 'verified', imageName: signed.ref, digest: signed.digest });
    });

    it('an id with no registry digest follows defaults.unverifiable (deny: killed, even under allow: ["*"]; allow: runs)', async () => {
      docker.containers.clear();
      const local = docker.addImage([], []);
      const tagged = docker.addImage([], [`${reg.host}/ci/local-build:dev`]);
      const a = docker.run(local.id, local);
      const b = docker.run(tagged.id.slice(7), tagged);
      const allowStar = parsePolicy(
        `allow: ["*"]\nrules:\n  - name: ci\n    images: ["${reg.host}/ci/*"]\n    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} } }]\n`,
      );
      const r = await runCycle(deps({ policy: allowStar }));
      expect(r.events.find((e) => e.containerId === a.id)).toMatchObject({
        action: 'killed',
        code: 'NO_SIGNATURES',
        reason: expect.stringMatching(/no registry name or digest/),
      });
      expect(r.events.find((e) => e.containerId === b.id)).toMatchObject({
        action: 'killed',
        rule: 'ci',
        imageName: `${reg.host}/ci/local-build:dev`,
        reason: expect.stringMatching(/no registry digest/),
      });
      docker.restart(a);
      docker.restart(b);
      const lenient = parsePolicy(
        `defaults: { unverifiable: allow }\nrules:\n  - name: ci\n    images: ["${reg.host}/ci/*"]\n    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} } }]\n`,
      );
      const r2 = await runCycle(deps({ policy: lenient }));
      for (const c of [a, b])
        expect(r2.events.find((e) => e.containerId === c.id)).toMatchObject({
          action: 'allowed',
          reason: expect.stringMatching(/unverifiable images are allowed/),
        });
    });
  });

  it('a killed container started again (same id, new StartedAt) is killed again and logged; the memory of kills stays bounded', async () => {
    docker.containers.clear();
    const bad = docker.run(unsigned.ref, image(unsigned.ref, unsigned.digest));
    const killed = new Map<string, string>();
    const logged: KillerEvent[] = [];
    const d = deps({ killed, onEvent: (e) => logged.push(e) });
    expect((await runCycle(d)).events.find((e) => e.containerId === bad.id)?.action).toBe('killed');
    expect(killed.get(bad.id)).toBe(bad.startedAt);
    docker.restart(bad);
    const r2 = await runCycle(d);
    expect(r2.events.find((e) => e.containerId === bad.id)).toMatchObject({
      action: 'killed',
      reason: expect.stringMatching(/started again after an earlier kill/),
    });
    expect(logged.filter((e) => e.containerId === bad.id && e.action === 'killed')).toHaveLength(2);
    expect(bad.running).toBe(false);
    expect(docker.kills).toBeGreaterThanOrEqual(2);
    // Not running any more: forgotten next cycle.
    await runCycle(d);
    expect(killed.size).toBe(0);
  });

  describe('cycle deadline against a stalled registry', () => {
    let stalled: import('node:http').Server;
    let stalledHost: string;
    let stalledPolicy: Policy;
    beforeAll(async () => {
      stalled = http.createServer((req, res) => {
        // /v2/ answers, then manifests trickle one byte per 200 ms and never finish.
        if (req.url === '/v2/' || req.url === '/v2') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': 1000 });
        const t = setInterval(() => res.write(' '), 200);
        res.on('close', () => clearInterval(t));
      });
      await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
      stalledHost = `127.0.0.1:${(stalled.address() as AddressInfo).port}`;
      stalledPolicy = parsePolicy(
        [
          'rules:',
          '  - name: ci',
          `    images: ["${reg.host}/ci/*", "${stalledHost}/**"]`,
          `    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} } }]`,
        ].join('\n'),
      );
    });
    afterAll(async () => {
      stalled.closeAllConnections();
      await new Promise<void>((r) => stalled.close(() => r()));
    });

    it('finishes by its deadline: the stalled verifications and the containers not reached are outages (skipped, or killed with failClosed); the rest is decided', async () => {
      docker.containers.clear();
      const stuck = Array.from({ length: 3 }, (_, i) => docker.run(`${stalledHost}/app${i}:v1`, image(`${stalledHost}/app${i}:v1`, digestOf(`stalled${i}`))));
      const good = docker.run(signed.ref, image(signed.ref, signed.digest));
      const bad = docker.run(unsigned.ref, image(unsigned.ref, unsigned.digest));
      const slow = new RegistryClient({ keychain: { resolve: async () => undefined }, attempts: 1, timeoutMs: 60_000 });
      const v = createPolicyVerifier({ client: slow });
      const base = { docker: new DockerClient(parseDockerHost(docker.dockerHost)), policy: stalledPolicy, verify: v.verify, resolveIndex: v.resolveIndex };
      const t0 = performance.now();
      const r = await runCycle({ ...base, options: { deadlineMs: 400, concurrency: 2 } });
      const took = performance.now() - t0;
      expect(took).toBeLessThan(1500);
      expect(r.deadlineReached).toBe(true);
      for (const c of stuck) {
        const e = r.events.find((x) => x.containerId === c.id);
        expect(e, JSON.stringify(e)).toMatchObject({
          action: 'skipped-unavailable',
          code: 'REGISTRY_UNAVAILABLE',
          reason: expect.stringMatching(/cycle deadline \(400 ms\) passed/),
        });
        expect(c.running).toBe(true);
      }
      // Checked in order with 2 at a time: the last two wait behind the stalled ones and are not reached.
      expect(r.events.filter((x) => /before this container was checked/.test(x.reason ?? '')).length).toBeGreaterThanOrEqual(1);
      expect(r.events).toHaveLength(5);
      // Alone with a deadline, the healthy ones are decided as usual.
      docker.containers.delete(stuck[0]!.id);
      docker.containers.delete(stuck[1]!.id);
      docker.containers.delete(stuck[2]!.id);
      const r2 = await runCycle({ ...base, options: { deadlineMs: 2000 } });
      expect(r2.events.find((x) => x.containerId === good.id)?.action).toBe('verified');
      expect(r2.events.find((x) => x.containerId === bad.id)?.action).toBe('killed');
      // failClosed: a verification cut short by the deadline is killed.
      docker.containers.clear();
      const one = docker.run(`${stalledHost}/app9:v1`, image(`${stalledHost}/app9:v1`, digestOf('stalled9')));
      const r3 = await runCycle({ ...base, options: { deadlineMs: 300, failClosed: true } });
      expect(r3.events.find((x) => x.containerId === one.id)).toMatchObject({ action: 'killed', code: 'REGISTRY_UNAVAILABLE' });
      console.log(`stalled registry: cycle with a 400 ms deadline took ${took.toFixed(0)} ms`);
      slow.close();
    });

    it('a verifier that ignores the signal cannot hold the cycle past its deadline', async () => {
      docker.containers.clear();
      const c = docker.run(signed.ref, image(signed.ref, signed.digest));
      const t0 = performance.now();
      const r = await runCycle({ ...deps(), verify: () => new Promise(() => undefined), options: { deadlineMs: 200 } });
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(r.events.find((x) => x.containerId === c.id)).toMatchObject({ action: 'skipped-unavailable', code: 'REGISTRY_UNAVAILABLE' });
    });
  });
});
