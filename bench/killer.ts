/**
 * The image killer over 200 running containers (Docker API test server on a unix socket, images signed
 * in the in-process registry): cold and warm cycle times, registry requests per warm cycle (must be 0),
 * against the floor measured in the same run: the same number of raw Docker API image inspects.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPolicyVerifier, DockerClient, parseDockerHost, runCycle } from '../src/enforce/index.js';
import { signerFromPrivateKey } from '../src/keys/index.js';
import { RegistryClient } from '../src/oci/index.js';
import { parsePolicy } from '../src/policy/index.js';
import { parseReference } from '../src/reference.js';
import { signImage } from '../src/sign/index.js';
import { pushSampleImage, startTestRegistry } from '../src/testing/index.js';
import { DockerApiServer } from '../test/enforce/docker-api-server.js';
import { statOf } from './chart.js';
import { fmt, median, type BenchSection } from './lib.js';

export async function benchKiller(containers = 200): Promise<BenchSection> {
  const reg = await startTestRegistry();
  const docker = await DockerApiServer.start();
  try {
    const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = signerFromPrivateKey(kp.privateKey, 'bench.key');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-bench-killer-'));
    await writeFile(path.join(dir, 'cosign.pub'), kp.publicKey.export({ type: 'spki', format: 'pem' }));
    const policy = parsePolicy(
      `rules:\n  - name: fleet\n    images: ["${reg.host}/fleet/*"]\n    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} } }]\n`,
    );
    for (let i = 0; i < containers; i++) {
      const ref = `${reg.host}/fleet/app${i % 50}:v${i}`;
      const d = await pushSampleImage(client, ref, { i: String(i) });
      await signImage(`${parseReference(ref).name}@${d}`, signer, { client });
      docker.run(ref, docker.addImage([`${parseReference(ref).name}@${d}`], [ref]));
    }
    const v = createPolicyVerifier({ client });
    const deps = {
      docker: new DockerClient(parseDockerHost(docker.dockerHost)),
      policy,
      verify: v.verify,
      resolveIndex: v.resolveIndex,
      killed: new Map<string, string>(),
    };
    const cold = await runCycle(deps);
    const warm: number[] = [];
    let requests = 0;
    for (let i = 0; i < 5; i++) {
      const before = client.stats.requests;
      warm.push((await runCycle(deps)).durationMs);
      requests += client.stats.requests - before;
    }
    // Floor: the Docker API calls a cycle cannot avoid (list + one image inspect per container), raw.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const ids = [...docker.images.keys()];
    const get = (p: string): Promise<void> =>
      new Promise((resolve, reject) => {
        http.get({ socketPath: docker.socketPath, path: p, agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
      });
    const floor: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await get('/v1.41/containers/json');
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < ids.length) await get(`/v1.41/images/${encodeURIComponent(ids[next++] as string)}/json`);
        }),
      );
      floor.push(performance.now() - t0);
    }
    agent.destroy();
    client.close();
    const rows = [
      {
        measure: `cold cycle, ${containers} containers (fills the cache)`,
        'time (ms)': fmt(cold.durationMs, 0),
        baseline: '-',
        ratio: `${cold.events.filter((e) => e.action === 'verified').length} verified`,
      },
      {
        measure: `warm cycle, ${containers} containers (median of 5)`,
        'time (ms)': fmt(median(warm), 1),
        baseline: `${fmt(median(floor), 1)} ms raw Docker API list + inspects`,
        ratio: `${fmt(median(warm) / median(floor))}× the Docker API floor; ${requests} registry requests in 5 warm cycles (target < 1 s, 0 requests)`,
      },
    ];
    return {
      rows,
      results: [
        {
          section: 'killer',
          name: `warm cycle over ${containers} containers (floor: raw Docker API list + inspects)`,
          unit: 'ms',
          series: { 'cosign-ts': statOf(warm), floor: statOf(floor) },
        },
      ],
    };
  } finally {
    await docker.close();
    await reg.close();
  }
}
