/**
 * The built `cosign-ts-killer` bin as a subprocess: help, usage errors, and `--once` exit statuses
 * against the Docker API test server and the in-process registry.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signerFromPrivateKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { repoRoot } from '../helpers/fixtures.js';
import { DockerApiServer } from './docker-api-server.js';

const BIN = path.join(repoRoot, 'dist/enforce/main.js');

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });
}

describe('cosign-ts-killer bin', () => {
  let reg: TestRegistry;
  let docker: DockerApiServer;
  let policy: string;
  let signedRef: string;
  let unsignedRef: string;
  let signedDigest: string;
  let unsignedDigest: string;

  beforeAll(async () => {
    reg = await startTestRegistry();
    docker = await DockerApiServer.start();
    const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-killer-bin-'));
    await writeFile(path.join(dir, 'cosign.pub'), kp.publicKey.export({ type: 'spki', format: 'pem' }));
    signedRef = `${reg.host}/ci/signed:v1`;
    unsignedRef = `${reg.host}/ci/unsigned:v1`;
    signedDigest = await pushSampleImage(client, signedRef, { s: '1' });
    unsignedDigest = await pushSampleImage(client, unsignedRef, { u: '1' });
    await signImage(`${reg.host}/ci/signed@${signedDigest}`, signerFromPrivateKey(kp.privateKey, 'k'), { client });
    policy = path.join(dir, 'policy.yaml');
    await writeFile(
      policy,
      `rules:\n  - name: ci\n    images: ["${reg.host}/ci/*"]\n    authorities: [{ key: { path: ${JSON.stringify(path.join(dir, 'cosign.pub'))} } }]\n`,
    );
    client.close();
  });
  afterAll(async () => {
    await docker.close();
    await reg.close();
  });

  it('--help, and a usage error without --policy', async () => {
    const h = await run(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: cosign-ts-killer --policy FILE');
    const u = await run(['--once']);
    expect(u.code).toBe(1);
    expect(u.stderr).toContain('--policy is required');
    const bad = await run(['--policy', policy, '--bogus']);
    expect(bad.code).toBe(1);
  });

  it('--once: exit 0 when nothing is killed, 3 when something is; JSON lines on stdout', async () => {
    docker.containers.clear();
    docker.run(signedRef, docker.addImage([`${reg.host}/ci/signed@${signedDigest}`]));
    const ok = await run(['--once', '--policy', policy, '--syslog', 'none', '--docker-host', docker.dockerHost]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(
      ok.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).action),
    ).toEqual(['verified']);
    const bad = docker.run(unsignedRef, docker.addImage([`${reg.host}/ci/unsigned@${unsignedDigest}`]));
    const killed = await run(['--once', '--policy', policy, '--syslog', 'none'], { DOCKER_HOST: docker.dockerHost });
    expect(killed.code, killed.stderr).toBe(3);
    const events = killed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { containerId: string; action: string });
    expect(events.find((e) => e.containerId === bad.id)?.action).toBe('killed');
    const invalid = path.join(os.tmpdir(), `bad-policy-${process.pid}.yaml`);
    await writeFile(invalid, 'rules:\n  - name: x\n');
    const p = await run(['--once', '--policy', invalid, '--syslog', 'none', '--docker-host', docker.dockerHost]);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/POLICY_INVALID: .*bad-policy-\d+\.yaml:2:\d+: rules\.0/);
  });
});
