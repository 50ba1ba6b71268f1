/**
 * `storeCredentials` (the library side of `cosign-ts login`): registry names as go-containerregistry
 * reads them, docker/cli's file layout, typed errors that never carry the password, atomic 0600 writes.
 * Byte-compatibility with real cosign is tested in test/cli/commands/login.test.ts.
 */
import { lstat, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_HUB_AUTH_KEY, loginRegistry, storeCredentials } from '../../src/oci/login.js';
import { dockerConfigKeychain } from '../../src/oci/keychain.js';

const SECRET = 'pa:ss<w>&rd\u00e9';

describe('storeCredentials', () => {
  let root: string;
  let n = 0;
  const dir = () => path.join(root, String(++n));
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-login-lib-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('registry names: host[:port] as given, docker.io and "" are Docker Hub, anything else is refused', () => {
    expect(loginRegistry('reg.example:5000')).toBe('reg.example:5000');
    expect(loginRegistry('[::1]:5000')).toBe('[::1]:5000');
    expect(loginRegistry('docker.io')).toBe('index.docker.io');
    expect(loginRegistry('')).toBe('index.docker.io');
    for (const bad of ['https://r.example', 'r.example/v2', 'user@r.example', 'r.example?x', 'r .example', 'r.example:5000:1x']) {
      expect(() => loginRegistry(bad), bad).toThrow(
        expect.objectContaining({ code: 'BAD_INPUT', message: `registries must be valid RFC 3986 URI authorities: ${bad}` }),
      );
    }
  });

  it('creates the folder and a 0600 config.json the keychain reads back; Docker Hub under its v1 URL', async () => {
    const d = path.join(dir(), 'nested');
    const r = await storeCredentials('docker.io', { username: 'alice', password: SECRET }, { configDir: d });
    expect(r).toEqual({ configFile: path.join(d, 'config.json'), serverAddress: DOCKER_HUB_AUTH_KEY, unencrypted: true });
    expect((await lstat(r.configFile)).mode & 0o777).toBe(0o600);
    expect((await lstat(d)).mode & 0o777).toBe(0o700);
    expect(await readFile(r.configFile, 'utf8')).toBe(
      `{\n\t"auths": {\n\t\t"https://index.docker.io/v1/": {\n\t\t\t"auth": "${Buffer.from(`alice:${SECRET}`).toString('base64')}"\n\t\t}\n\t}\n}`,
    );
    expect(await dockerConfigKeychain({ configDir: d }).resolve('index.docker.io')).toEqual({ username: 'alice', password: SECRET });
    expect(await readdir(d)).toEqual(['config.json']);
  });

  it('DOCKER_CONFIG from the given environment', async () => {
    const d = dir();
    const r = await storeCredentials('r.example', { username: 'u', password: 'p' }, { env: { DOCKER_CONFIG: d } });
    expect(r.configFile).toBe(path.join(d, 'config.json'));
  });

  it('malformed config files are BAD_INPUT naming the field, and left untouched', async () => {
    for (const [text, message] of [
      ['{"auths":[]}', /auths is not an object/],
      ['{"credsStore":1}', /credsStore is not a string/],
      ['{"auths":{"r":{"auth":"!!"}}}', /auths\["r"\]\.auth/],
      ['{"auths":{"r":{"auth":"bm9jb2xvbg=="}}}', /invalid auth configuration file/],
      ['[1]', /not a JSON object/],
      ['{"a":1,"a":2}', /duplicate/i],
    ] as const) {
      const d = dir();
      await writeFile(path.join(await mkdtempIn(d), 'config.json'), text);
      const err = await storeCredentials('r', { username: 'u', password: SECRET }, { configDir: d }).catch((e: unknown) => e);
      expect(err, text).toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(message) });
      expect(String((err as Error).message)).not.toContain(SECRET);
      expect(await readFile(path.join(d, 'config.json'), 'utf8')).toBe(text);
    }
  });

  it('a credential helper that fails: IO_ERROR, the secret never in the message, the file unchanged', async () => {
    const d = dir();
    await mkdtempIn(d);
    await writeFile(path.join(d, 'config.json'), '{"credsStore":"cosign-ts-test-missing"}');
    const err = await storeCredentials('r', { username: 'u', password: SECRET }, { configDir: d, env: { PATH: '/nonexistent' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('docker-credential-cosign-ts-test-missing') });
    expect(String((err as Error).message)).not.toContain(SECRET);
    expect(await readFile(path.join(d, 'config.json'), 'utf8')).toBe('{"credsStore":"cosign-ts-test-missing"}');
  });
});

async function mkdtempIn(d: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(d, { recursive: true });
  return d;
}
