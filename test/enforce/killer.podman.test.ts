/**
 * The image killer end to end with real components: Debian's podman serving the Docker-compatible API,
 * Debian's docker-registry, busybox images signed and unsigned. One cycle kills the unsigned container,
 * keeps the signed one, sends RFC 5424 lines to a syslog listener and counts it in the metrics. With the
 * registry stopped nothing is killed (fail-open) unless `--fail-closed`.
 */
import dgram from 'node:dgram';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerClient, KillerMetrics, parseDockerHost, runKiller, type KillerEvent } from '../../src/enforce/index.js';
import { generateKeyPair, parsePrivateKey, signerFromPrivateKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { signImage } from '../../src/sign/index.js';
import { pushBusyboxImage, skipReal, startPodman, startRegistry, type PodmanService, type RealRegistry } from '../helpers/real/index.js';

describe.skipIf(skipReal(['registry', 'podman', 'runc', 'busybox']))('image killer with real podman and a real registry', () => {
  let reg: RealRegistry;
  let podman: PodmanService;
  let dir: string;
  let policyFile: string;
  let signedRef: string;
  let unsignedRef: string;
  let signedId: string;
  let unsignedId: string;
  let syslogLines: string[];
  let syslog: dgram.Socket;
  let syslogPort: number;

  beforeAll(async () => {
    reg = await startRegistry();
    podman = await startPodman({ insecureRegistries: [reg.host] });
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-killer-'));
    const pair = generateKeyPair('');
    await writeFile(path.join(dir, 'cosign.pub'), pair.publicKeyPem);
    const signer = signerFromPrivateKey(parsePrivateKey(pair.privateKeyPem, ''), 'cosign.key');
    const signedDigest = await pushBusyboxImage(reg.url, 'ci/signed', 'v1', { labels: { which: 'signed' } });
    await pushBusyboxImage(reg.url, 'ci/unsigned', 'v1', { labels: { which: 'unsigned' } });
    signedRef = `${reg.host}/ci/signed:v1`;
    unsignedRef = `${reg.host}/ci/unsigned:v1`;
    await signImage(`${reg.host}/ci/signed@${signedDigest}`, signer, { client: new RegistryClient() });
    policyFile = path.join(dir, 'policy.yaml');
    await writeFile(
      policyFile,
      [
        'apiVersion: cosign-ts/v1',
        'defaults:',
        '  unmatched: deny',
        'rules:',
        '  - name: ci-images',
        `    images: ["${reg.host}/ci/*"]`,
        '    mode: enforce',
        '    authorities:',
        `      - key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} }`,
        '',
      ].join('\n'),
    );
    syslogLines = [];
    syslog = dgram.createSocket('udp4');
    syslog.on('message', (m) => syslogLines.push(m.toString()));
    await new Promise<void>((resolve) => syslog.bind(0, '127.0.0.1', resolve));
    syslogPort = syslog.address().port;
  });
  afterAll(async () => {
    syslog?.close();
    await podman?.stop();
    await reg?.stop();
  });

  async function startBoth(): Promise<void> {
    signedId = await podman.run(signedRef, { name: `signed-${Date.now()}` });
    unsignedId = await podman.run(unsignedRef, { name: `unsigned-${Date.now()}` });
  }

  async function running(): Promise<Set<string>> {
    return new Set((await podman.listContainers()).map((c) => c.Id));
  }

  it('kills the unsigned container, keeps the signed one, logs to syslog (RFC 5424)', async () => {
    await startBoth();
    const events: KillerEvent[] = [];
    const metrics = new KillerMetrics();
    const report = await runKiller({
      metricsRecorder: metrics,
      policyFile,
      once: true,
      dockerHost: podman.dockerHost,
      syslog: `udp://127.0.0.1:${syslogPort}`,
      out: (line) => events.push(JSON.parse(line) as KillerEvent),
    });
    const ids = await running();
    expect(ids.has(signedId)).toBe(true);
    expect(ids.has(unsignedId)).toBe(false);
    expect(report?.events.find((e) => e.containerId === unsignedId)?.action).toBe('killed');
    const kept = report?.events.find((e) => e.containerId === signedId);
    expect(kept?.action).toBe('verified');
    expect(kept?.via).toBe('repo-digest');
    expect(events.some((e) => e.containerId === unsignedId && e.action === 'killed' && e.code === 'NO_SIGNATURES')).toBe(true);
    const text = metrics.render();
    expect(text).toContain('cosign_killer_containers_killed_total 1');
    expect(text).toMatch(/cosign_killer_containers_checked_total [2-9]/);
    expect(text).toMatch(/cosign_killer_verification_seconds_count [1-9]/);
    await new Promise((r) => setTimeout(r, 200));
    const line = syslogLines.find((l) => l.includes(unsignedId));
    expect(line).toMatch(
      /^<9>1 \d{4}-\d\d-\d\dT\S+Z \S+ cosign-ts-killer \d+ KILLED \[cosign-ts@32473 container_id="[0-9a-f]{64}" container_name="unsigned-\d+" image="[^"]+\/ci\/unsigned:v1" digest="sha256:[0-9a-f]{64}" rule="ci-images" mode="enforce" reason="[^"]+" code="NO_SIGNATURES" action="killed"\] killed container unsigned-/,
    );
  });

  /** The killer's library pieces over the podman socket, with the test policy and a fresh kill memory. */
  async function librarySetup() {
    const client = new RegistryClient();
    const { createPolicyVerifier, runCycle } = await import('../../src/enforce/index.js');
    const { parsePolicy } = await import('../../src/policy/index.js');
    const { readFile } = await import('node:fs/promises');
    const policy = parsePolicy(await readFile(policyFile, 'utf8'));
    const { verify, resolveIndex } = createPolicyVerifier({ client });
    const docker = new DockerClient(parseDockerHost(podman.dockerHost));
    return { client, runCycle, policy, verify, resolveIndex, docker, killed: new Map<string, string>() };
  }

  it('a second cycle costs no registry requests for the signed image and never kills twice', async () => {
    // The daemon keeps its cache across cycles; the library-level check: steady state = 0 requests.
    const { client, runCycle, policy, verify, resolveIndex, docker, killed } = await librarySetup();
    await runCycle({ docker, policy, verify, resolveIndex, killed });
    const before = client.stats.requests;
    const again = await runCycle({ docker, policy, verify, resolveIndex, killed });
    expect(client.stats.requests - before).toBe(0);
    expect(again.events.every((e) => e.action !== 'killed')).toBe(true);
    docker.close();
  });

  it('started by image id: judged by the RepoDigests name (signed kept, unsigned killed); restarted after the kill → killed again', async () => {
    const idOf = async (ref: string): Promise<string> => (await podman.podman(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
    const sid = await idOf(signedRef);
    const uid = await idOf(unsignedRef);
    const byIdSigned = await podman.run(sid, { name: `by-id-signed-${Date.now()}` });
    const byIdUnsigned = await podman.run(uid.slice(0, 12), { name: `by-id-unsigned-${Date.now()}` });
    const { client, runCycle, policy, verify, resolveIndex, docker, killed } = await librarySetup();
    try {
      const r = await runCycle({ docker, policy, verify, resolveIndex, killed });
      expect(r.events.find((e) => e.containerId === byIdSigned)).toMatchObject({ action: 'verified', via: 'repo-digest' });
      expect(r.events.find((e) => e.containerId === byIdUnsigned)).toMatchObject({ action: 'killed', code: 'NO_SIGNATURES', rule: 'ci-images' });
      expect((await running()).has(byIdUnsigned)).toBe(false);
      await podman.podman(['start', byIdUnsigned]);
      expect((await running()).has(byIdUnsigned)).toBe(true);
      const r2 = await runCycle({ docker, policy, verify, resolveIndex, killed });
      expect(r2.events.find((e) => e.containerId === byIdUnsigned)).toMatchObject({ action: 'killed', reason: expect.stringMatching(/started again/) });
      expect((await running()).has(byIdUnsigned)).toBe(false);
    } finally {
      docker.close();
      client.close();
    }
  });

  it('registry down: nothing is killed by default (fail-open); --fail-closed kills', async () => {
    await startBoth();
    await reg.stop();
    const open = await runKiller({
      policyFile,
      once: true,
      dockerHost: podman.dockerHost,
      syslog: 'none',
      out: () => undefined,
      registry: { attempts: 1, timeoutMs: 2000 },
    });
    let ids = await running();
    expect(ids.has(signedId)).toBe(true);
    expect(ids.has(unsignedId)).toBe(true);
    expect(open?.events.filter((e) => e.action === 'skipped-unavailable').length).toBeGreaterThanOrEqual(2);
    const closed = await runKiller({
      policyFile,
      once: true,
      failClosed: true,
      dockerHost: podman.dockerHost,
      syslog: 'none',
      out: () => undefined,
      registry: { attempts: 1, timeoutMs: 2000 },
    });
    ids = await running();
    expect(ids.has(unsignedId)).toBe(false);
    expect(ids.has(signedId)).toBe(false);
    expect(closed?.events.filter((e) => e.action === 'killed').length).toBeGreaterThanOrEqual(2);
  });
});
