/**
 * Smoke tests of the real components installed by scripts/install-deps.sh: the registry (both
 * variants), cosign and skopeo, podman's Docker-compatible API, and a busybox container that can be
 * killed through that API. In CI a missing component fails these tests; locally they are skipped.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, waitFor } from '../helpers/real/http.js';
import { buildBusyboxImage, pushBusyboxImage, writeOciLayout } from '../helpers/real/image.js';
import { startPodman, type PodmanService } from '../helpers/real/podman.js';
import { realTools, runInPty, skipReal, toolsDir } from '../helpers/real/proc.js';
import { startRegistry, type RealRegistry } from '../helpers/real/registry.js';
import {
  cosign,
  cosign3,
  cosignGenerateKeyPair,
  cosignRegistryFlags,
  isolatedToolEnv,
  kubectl,
  skopeo,
  skopeoCopyAndSign,
  skopeoRegistryFlags,
  writeSkopeoConfig,
} from '../helpers/real/tools.js';

describe.skipIf(skipReal(['registry', 'htpasswd', 'openssl']))('real registry', () => {
  it('plain HTTP variant answers /v2/ and stores pushed images', async () => {
    const reg = await startRegistry();
    try {
      expect(reg.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(reg.host).toBe(`127.0.0.1:${reg.port}`);
      const r = await httpRequest(`${reg.url}/v2/`);
      expect(r.status).toBe(200);
      const digest = await pushBusyboxImage(reg.url, 'smoke/busybox', 'v1');
      const m = await httpRequest(`${reg.url}/v2/smoke/busybox/manifests/v1`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      expect(m.status).toBe(200);
      expect(m.headers['docker-content-digest']).toBe(digest);
      // deletes are enabled
      const del = await httpRequest(`${reg.url}/v2/smoke/busybox/manifests/${digest}`, { method: 'DELETE' });
      expect(del.status).toBe(202);
    } finally {
      await reg.stop();
    }
  });

  it('TLS + htpasswd variant requires credentials and trusts only its test CA', async () => {
    const reg = await startRegistry({ tls: true, auth: true });
    try {
      expect(reg.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(reg.caFile).toBeDefined();
      expect(reg.username).toBeDefined();
      const anon = await httpRequest(`${reg.url}/v2/`, { caFile: reg.caFile! });
      expect(anon.status).toBe(401);
      expect(String(anon.headers['www-authenticate'])).toMatch(/^Basic realm=/);
      const ok = await httpRequest(`${reg.url}/v2/`, { caFile: reg.caFile!, username: reg.username!, password: reg.password! });
      expect(ok.status).toBe(200);
      const bad = await httpRequest(`${reg.url}/v2/`, { caFile: reg.caFile!, username: reg.username!, password: 'wrong' });
      expect(bad.status).toBe(401);
      await expect(httpRequest(`${reg.url}/v2/`)).rejects.toThrow(); // not trusted without the CA
      const digest = await pushBusyboxImage(reg.url, 'smoke/busybox', 'v1', {
        caFile: reg.caFile!,
        username: reg.username!,
        password: reg.password!,
      });
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    } finally {
      await reg.stop();
    }
  });
});

describe.skipIf(skipReal(['registry', 'htpasswd', 'openssl', 'cosign', 'skopeo', 'busybox']))('real cosign and skopeo', () => {
  let plain: RealRegistry;
  let secure: RealRegistry;
  let work: string;
  beforeAll(async () => {
    [plain, secure] = await Promise.all([startRegistry(), startRegistry({ tls: true, auth: true })]);
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-infra-'));
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), secure?.stop()]);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('run and report their versions', async () => {
    const c = await cosign(['version']);
    expect(c.code).toBe(0);
    expect(c.stdout + c.stderr).toMatch(/GoVersion/);
    const s = await skopeo(['--version']);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^skopeo version 1\.18\./);
    // cosign's own version output says "devel" (Debian build): the package version is in the stamp.
    const stamp = await readFile(path.join(toolsDir, 'trixie', '.installed'), 'utf8');
    expect(stamp).toMatch(/^Package: cosign Version: 2\.5\./m);
  });

  it('script gives cosign a terminal to prompt on', async () => {
    const dir = path.join(work, 'pty');
    await mkdir(dir);
    const r = await runInPty(realTools.cosign, ['generate-key-pair'], {
      cwd: dir,
      input: 'pty-pass\npty-pass\n',
      env: { ...(await isolatedToolEnv(path.join(dir, 'home'))), COSIGN_PASSWORD: undefined },
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Enter password for private key:/);
    expect(r.stdout).toMatch(/Public key written to cosign\.pub/);
  });

  it('cosign signs and verifies on both registry variants; skopeo verifies with a sigstoreSigned policy', async () => {
    const keys = await cosignGenerateKeyPair(path.join(work, 'keys'));
    const env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: keys.password };
    for (const reg of [plain, secure]) {
      const access = reg.caFile !== undefined ? { caFile: reg.caFile, username: reg.username!, password: reg.password! } : {};
      const digest = await pushBusyboxImage(reg.url, 'smoke/signed', 'v1', access);
      const ref = `${reg.host}/smoke/signed@${digest}`;
      const sign = await cosign(['sign', '--key', keys.keyPath, '--tlog-upload=false', '--yes', ...cosignRegistryFlags(reg), ref], { env });
      expect(sign.code, sign.stderr).toBe(0);
      const verify = await cosign(['verify', '--key', keys.pubPath, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), ref], { env });
      expect(verify.code, verify.stderr).toBe(0);
      const payloads = JSON.parse(verify.stdout) as { critical: { image: { 'docker-manifest-digest': string } } }[];
      expect(payloads[0]?.critical.image['docker-manifest-digest']).toBe(digest);

      const cfg = await writeSkopeoConfig(path.join(work, `skopeo-${reg.port}`), { keyPath: keys.pubPath });
      const inspect = await skopeo(
        [...cfg.globalFlags, 'copy', '--quiet', ...skopeoRegistryFlags(reg, 'src'), `docker://${ref}`, `dir:${path.join(work, `copy-${reg.port}`)}`],
        { env },
      );
      expect(inspect.code, inspect.stderr).toBe(0);
    }
    // An unsigned image is refused by the same policy.
    const unsigned = await pushBusyboxImage(plain.url, 'smoke/unsigned', 'v1');
    const cfg = await writeSkopeoConfig(path.join(work, 'skopeo-unsigned'), { keyPath: keys.pubPath });
    const refused = await skopeo(
      [
        ...cfg.globalFlags,
        'copy',
        '--quiet',
        ...skopeoRegistryFlags(plain, 'src'),
        `docker://${plain.host}/smoke/unsigned@${unsigned}`,
        `dir:${path.join(work, 'copy-unsigned')}`,
      ],
      { env },
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/signature/i);
  });

  it('skopeo copies and signs from an OCI layout; cosign verifies the result', async () => {
    const keys = await cosignGenerateKeyPair(path.join(work, 'keys-skopeo'));
    const img = buildBusyboxImage({ labels: { smoke: 'skopeo' } });
    const layout = path.join(work, 'layout');
    await writeOciLayout(layout, 'v1', img);
    for (const reg of [plain, secure]) {
      await skopeoCopyAndSign({
        src: `oci:${layout}:v1`,
        dest: `${reg.host}/smoke/skopeo-signed:v1`,
        keyPath: keys.keyPath,
        passphrase: keys.password,
        destRegistry: reg,
        workDir: path.join(work, `skopeo-sign-${reg.port}`),
      });
      const env = await isolatedToolEnv(path.join(work, 'home2'));
      const verify = await cosign(
        ['verify', '--key', keys.pubPath, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), `${reg.host}/smoke/skopeo-signed@${img.digest}`],
        { env },
      );
      expect(verify.code, verify.stderr).toBe(0);
    }
  });
});

describe.skipIf(skipReal(['podman', 'runc', 'registry', 'busybox']))('real podman service', () => {
  let reg: RealRegistry;
  let pm: PodmanService;
  beforeAll(async () => {
    reg = await startRegistry();
    pm = await startPodman({ insecureRegistries: [reg.host] });
  });
  afterAll(async () => {
    await pm?.stop();
    await reg?.stop();
  });

  it('serves the Docker API on its socket', async () => {
    const ping = await pm.api('GET', '/_ping');
    expect(ping.status).toBe(200);
    expect(ping.text()).toBe('OK');
    const list = await pm.api('GET', '/containers/json');
    expect(list.status).toBe(200);
    expect(list.json()).toEqual([]);
  });

  it('runs a busybox container from the registry and kills it through the Docker API', async () => {
    const digest = await pushBusyboxImage(reg.url, 'smoke/run', 'v1');
    const ref = `${reg.host}/smoke/run@${digest}`;
    await pm.pull(ref);
    const id = await pm.run(ref, { name: 'smoke-sleeper', labels: { purpose: 'smoke' } });
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const running = await pm.listContainers();
    const mine = running.find((c) => c.Id === id);
    expect(mine, JSON.stringify(running)).toBeDefined();
    expect(mine?.State).toBe('running');
    expect(mine?.Labels?.purpose).toBe('smoke');

    // What an admission/killer component sees: the image reference and the repo digest.
    const inspect = await pm.api('GET', `/containers/${id}/json`);
    expect(inspect.status).toBe(200);
    const info = inspect.json<{ Image: string; Config: { Image: string }; State: { Running: boolean; Pid: number } }>();
    expect(info.State.Running).toBe(true);
    expect(info.Config.Image).toContain(`${reg.host}/smoke/run`);
    const image = await pm.api('GET', `/images/${encodeURIComponent(info.Image)}/json`);
    expect(image.status).toBe(200);
    expect(image.json<{ RepoDigests: string[] }>().RepoDigests).toContain(`${reg.host}/smoke/run@${digest}`);

    const kill = await pm.api('POST', `/containers/${id}/kill?signal=SIGKILL`);
    expect(kill.status).toBe(204);
    await waitFor('container to stop', async () => (await pm.listContainers()).every((c) => c.Id !== id), 15_000, 100);
    const after = await pm.listContainers(true);
    expect(after.find((c) => c.Id === id)?.State).toMatch(/exited|stopped/);
  });

  it('creates and starts a container through the Docker API too', async () => {
    const digest = await pushBusyboxImage(reg.url, 'smoke/api', 'v1', { labels: { via: 'api' } });
    const ref = `${reg.host}/smoke/api@${digest}`;
    const pull = await pm.api('POST', `/images/create?fromImage=${encodeURIComponent(ref)}`);
    expect(pull.status, pull.text()).toBe(200);
    const created = await pm.api('POST', '/containers/create?name=api-sleeper', {
      Image: ref,
      Cmd: ['/bin/sleep', '600'],
      HostConfig: { NetworkMode: 'none' },
    });
    expect(created.status, created.text()).toBe(201);
    const id = created.json<{ Id: string }>().Id;
    const start = await pm.api('POST', `/containers/${id}/start`);
    expect(start.status, start.text()).toBe(204);
    expect((await pm.listContainers()).some((c) => c.Id === id)).toBe(true);
    const kill = await pm.api('POST', `/containers/${id}/kill`);
    expect(kill.status).toBe(204);
    await waitFor('container to stop', async () => (await pm.listContainers()).every((c) => c.Id !== id), 15_000, 100);
  });
});

describe.skipIf(skipReal(['registry', 'cosign3', 'kubectl']))('real cosign 3 and kubectl (Debian sid)', () => {
  let reg: RealRegistry;
  let work: string;
  beforeAll(async () => {
    reg = await startRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-infra3-'));
  });
  afterAll(async () => {
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('cosign 3 signs with a key and no tlog as a bundle referrer (the fallback tag on this registry) and verifies it', async () => {
    const stamp = await readFile(path.join(toolsDir, 'sid', '.installed'), 'utf8');
    expect(stamp).toMatch(/^Package: cosign Version: 3\./m);
    const env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw3' };
    const keys = path.join(work, 'keys');
    await mkdir(keys);
    const gen = await cosign3(['generate-key-pair'], { cwd: keys, env });
    expect(gen.code, gen.stderr).toBe(0);
    const digest = await pushBusyboxImage(reg.url, 'smoke/v3', 'v1');
    const ref = `${reg.host}/smoke/v3@${digest}`;
    const flags = cosignRegistryFlags(reg);
    const sign = await cosign3(['sign', '--key', path.join(keys, 'cosign.key'), '--tlog-upload=false', '--use-signing-config=false', '--yes', ...flags, ref], {
      env,
    });
    expect(sign.code, sign.stderr).toBe(0);
    // Debian's docker-registry has no referrers API: cosign 3 keeps the fallback tag index sha256-<hex>.
    const fallback = await httpRequest(`${reg.url}/v2/smoke/v3/manifests/${digest.replace(':', '-')}`, {
      headers: { accept: 'application/vnd.oci.image.index.v1+json' },
    });
    expect(fallback.status).toBe(200);
    const index = JSON.parse(fallback.body.toString('utf8')) as { manifests: { artifactType?: string }[] };
    expect(index.manifests).toHaveLength(1);
    // No legacy .sig tag.
    const sig = await httpRequest(`${reg.url}/v2/smoke/v3/manifests/${digest.replace(':', '-')}.sig`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(sig.status).toBe(404);
    const verify = await cosign3(['verify', '--key', path.join(keys, 'cosign.pub'), '--insecure-ignore-tlog=true', ...flags, ref], { env });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(digest);
  });

  it('kubectl builds a Deployment object offline', async () => {
    const r = await kubectl(['create', 'deployment', 'web', '--image=registry.example.com/ci/app:1', '--dry-run=client', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const obj = JSON.parse(r.stdout) as { kind: string; spec: { template: { spec: { containers: { image: string }[] } } } };
    expect(obj.kind).toBe('Deployment');
    expect(obj.spec.template.spec.containers[0]?.image).toBe('registry.example.com/ci/app:1');
  });
});
