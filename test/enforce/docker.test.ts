/**
 * DockerClient connection errors name the engine asked and how to point at another one.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DockerClient, parseDockerHost } from '../../src/enforce/docker.js';
import { isCosignError } from '../../src/errors.js';

describe('DockerClient without an engine', () => {
  it('names the socket path, --docker-host and DOCKER_HOST', async () => {
    const sock = path.join(await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-docker-')), 'docker.sock');
    const client = new DockerClient(parseDockerHost(`unix://${sock}`), { timeoutMs: 5000 });
    try {
      const e = await client.listContainers().catch((x: unknown) => x);
      expect(isCosignError(e, 'IO_ERROR')).toBe(true);
      const m = (e as Error).message;
      expect(m).toContain(`socket ${sock}`);
      expect(m).toContain('ENOENT');
      expect(m).toContain('--docker-host');
      expect(m).toContain('DOCKER_HOST');
    } finally {
      client.close();
    }
  });
});
