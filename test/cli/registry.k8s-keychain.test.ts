/**
 * `--k8s-keychain` through the built CLI: cosign's k8schain without a cluster (Docker config, then the
 * cloud keychains), taking precedence over `--registry-username/password` as in cosign.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/client.js';
import { parseReference } from '../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { skipReal } from '../helpers/real/proc.js';
import { cosign, cosign3 } from '../helpers/real/tools.js';
import { cli, ensureBuilt, tempDir } from './helpers.js';

describe('--k8s-keychain', () => {
  let reg: TestRegistry;
  let dockerDir: string;
  let digest: string;
  const auth = { username: 'k8s-user', password: 'k8s-secret-password' };

  beforeAll(async () => {
    ensureBuilt();
    reg = await startTestRegistry({ basicAuth: auth });
    const client = new RegistryClient({ keychain: { resolve: async () => auth } });
    digest = await pushSampleImage(client, parseReference(`${reg.host}/team/app:v1`));
    client.close();
    dockerDir = await tempDir();
    await writeFile(
      path.join(dockerDir, 'config.json'),
      JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') } } }),
    );
  }, 180_000);
  afterAll(async () => {
    await reg?.close();
  });

  it('uses Docker config.json first, and wins over --registry-username/password (as cosign)', async () => {
    const ref = `${reg.host}/team/app:v1`;
    const args = ['triangulate', '--registry-username', 'wrong', '--registry-password', 'wrong-password', ref];
    const without = await cli(args, { env: { DOCKER_CONFIG: dockerDir } });
    expect(without.code).not.toBe(0);
    const r = await cli(['triangulate', '--k8s-keychain', '--verbose', '--registry-username', 'wrong', '--registry-password', 'wrong-password', ref], {
      env: { DOCKER_CONFIG: dockerDir, GITHUB_TOKEN: undefined },
    });
    expect(r.stderr).toContain('credentials=k8s keychain');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${reg.host}/team/app:${digest.replace(':', '-')}.sig\n`);
    expect(r.stderr).not.toContain(auth.password);
  });

  it.skipIf(skipReal(['cosign', 'cosign3']))('real cosign 2.5 and 3.1 behave the same: same stdout, same exit statuses', async () => {
    const ref = `${reg.host}/team/app:v1`;
    const env = { DOCKER_CONFIG: dockerDir, HOME: dockerDir, GITHUB_TOKEN: undefined };
    for (const k8s of [[], ['--k8s-keychain']]) {
      const args = ['triangulate', ...k8s, '--registry-username', 'wrong', '--registry-password', 'wrong-password', ref];
      const ours = await cli(args, { env });
      for (const real of [await cosign(args, { env }), await cosign3(args, { env })]) {
        expect(ours.code === 0, `${k8s.join(' ')}: ${real.stderr}`).toBe(real.code === 0);
        expect(ours.stdout).toBe(real.stdout);
      }
    }
  });
});
