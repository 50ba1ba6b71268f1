/**
 * The killer with a keyless rule: a container whose image is signed keyless by the policy's CI identity (against a
 * private Sigstore instance, `@sigstore/mock` over node:http) lives; with another identity in the policy it is
 * killed. The trust comes from `trustedRoot` (`cosign-ts-killer --trusted-root`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKiller } from '../../src/enforce/index.js';
import { anonymousKeychain, RegistryClient } from '../../src/oci/index.js';
import { parseReference } from '../../src/reference.js';
import { fulcioSigner, signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { GITHUB_CLAIMS, mockIdentityToken, startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';
import { DockerApiServer } from './docker-api-server.js';

describe('runKiller with keyless rules', () => {
  let reg: TestRegistry;
  let docker: DockerApiServer;
  let sigstore: SigstoreMock;
  let dir: string;
  let ref: string;
  beforeAll(async () => {
    reg = await startTestRegistry();
    docker = await DockerApiServer.start();
    sigstore = await startSigstoreMock();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-killer-keyless-'));
    await writeFile(path.join(dir, 'trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
    const client = new RegistryClient({ keychain: anonymousKeychain });
    ref = `${reg.host}/ci/app:v1`;
    const d = await pushSampleImage(client, ref, { keyless: '1' });
    await signImage(`${parseReference(ref).name}@${d}`, fulcioSigner({ fulcioURL: sigstore.fulcioURL, identityToken: mockIdentityToken() }), {
      client,
      witness: { rekorURL: sigstore.rekorURL },
    });
    client.close();
    docker.run(ref, docker.addImage([`${parseReference(ref).name}@${d}`], [ref]), 'ci-job');
  }, 60_000);
  afterAll(async () => {
    await docker?.close();
    await reg?.close();
    await sigstore?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const cycle = async (subject: string): Promise<Array<{ action: string; code?: string }>> => {
    const policyFile = path.join(dir, `policy-${subject.length}.yaml`);
    await writeFile(
      policyFile,
      `rules:\n  - name: ci\n    images: ["${reg.host}/ci/*"]\n    authorities: [{ keyless: { issuer: "${GITHUB_CLAIMS.iss}", subject: "${subject}" } }]\n`,
    );
    const lines: string[] = [];
    await runKiller({
      policyFile,
      once: true,
      dryRun: true,
      dockerHost: docker.dockerHost,
      syslog: 'none',
      out: (l) => lines.push(l),
      registry: { keychain: anonymousKeychain },
      trustedRoot: path.join(dir, 'trusted_root.json'),
    });
    return lines.map((l) => JSON.parse(l) as { action: string; code?: string });
  };

  it("keeps a container signed by the policy's identity; under another identity it is a definitive failure (dry run)", async () => {
    const ok = await cycle(GITHUB_CLAIMS.sub);
    expect(ok.map((l) => l.action)).toEqual(['verified']);
    const bad = await cycle('https://github.com/acme/app/.github/workflows/other.yml@refs/heads/main');
    // a definitive failure in enforce mode (dry run: reported, not killed)
    expect(bad.map((l) => [l.action, l.code])).toEqual([['audit', 'NO_MATCHING_SIGNATURES']]);
  });
});
