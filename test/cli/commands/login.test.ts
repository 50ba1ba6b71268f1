/**
 * `cosign-ts login` against real cosign 2.5 and 3.1 (issue #16 item 3): from the same starting
 * `config.json` (in temporary DOCKER_CONFIG folders), both write byte-identical files, for plain
 * credentials, Docker Hub, existing entries and settings, and credential helpers (`credsStore`,
 * `credHelpers`: a recording `docker-credential-*` script gets the same JSON); stderr is cosign 3's;
 * the file is 0600 and replaced atomically; the password never appears on stdout, stderr or in errors.
 */
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../helpers.js';
import { cosign, cosign3, pushBusyboxImage, skipReal, startRegistry } from '../../helpers/real/index.js';

const SECRET = 'hunter2-<&>-"quoted"-\u00e9-s3cr3t';

describe.skipIf(skipReal(['cosign', 'cosign3']))('cosign-ts login writes config.json as cosign does', () => {
  let work: string;
  let bin: string;
  let n = 0;
  beforeAll(async () => {
    ensureBuilt();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-login-'));
    bin = path.join(work, 'bin');
    await mkdir(bin);
    // A credential helper that records what it is asked to store; `fail` exits 1, printing the secret it got.
    await writeFile(path.join(bin, 'docker-credential-rec'), '#!/bin/sh\ncat > "$REC_FILE.$1"\n', { mode: 0o755 });
    await writeFile(path.join(bin, 'docker-credential-fail'), '#!/bin/sh\ncat\necho "bad: $(cat)" >&2\nexit 1\n', { mode: 0o755 });
  }, 120_000);
  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  /** Runs `login ARGS` with cosign 2.5, cosign 3 and cosign-ts, each from `initial` in its own folder. */
  const runAll = async (args: string[], initial: string | undefined, input?: string) => {
    const id = ++n;
    const results = [];
    for (const [name, run] of [
      ['cosign', cosign],
      ['cosign3', cosign3],
      ['ours', cli],
    ] as const) {
      const dir = path.join(work, `${id}-${name}`);
      await mkdir(dir);
      if (initial !== undefined) await writeFile(path.join(dir, 'config.json'), initial, { mode: 0o600 });
      const env = { DOCKER_CONFIG: dir, PATH: `${bin}:${process.env.PATH}`, REC_FILE: path.join(dir, 'rec'), HOME: dir };
      const r = await run(['login', ...args], { env, ...(input === undefined ? {} : { input }) });
      const file = await readFile(path.join(dir, 'config.json'), 'utf8').catch(() => undefined);
      const rec = await readFile(path.join(dir, 'rec.store'), 'utf8').catch(() => undefined);
      results.push({ name, dir, code: r.code, stdout: r.stdout, stderr: r.stderr.replaceAll(dir, 'DIR'), file, rec });
    }
    return results as Array<{ name: string; dir: string; code: number; stdout: string; stderr: string; file?: string; rec?: string }>;
  };

  const scenarios: Array<{ what: string; args: string[]; initial?: string; input?: string }> = [
    {
      what: 'a fresh folder, --password-stdin with a trailing CRLF',
      args: ['reg.example.com:5000', '-u', 'alice', '--password-stdin'],
      input: `${SECRET}\r\n`,
    },
    { what: 'docker.io is stored under https://index.docker.io/v1/', args: ['docker.io', '-u', 'bob', '-p', SECRET] },
    { what: 'a user without a password', args: ['r.example', '-u', 'x'] },
    { what: 'a password without a user', args: ['r.example', '-p', SECRET] },
    {
      what: 'an existing config: other entries re-encoded, settings kept in docker/cli order, unknown fields and User-Agent dropped',
      args: ['r.example', '-u', 'alice', '--password-stdin'],
      input: SECRET,
      initial: JSON.stringify({
        zeta: 1,
        aliases: { builder: 'buildx' },
        proxies: { default: { noProxy: 'localhost', httpProxy: 'http://p:3128', extra: 'x' } },
        credHelpers: { 'gcr.io': 'gcloud' },
        auths: {
          'r.example': { auth: Buffer.from('old:pw').toString('base64'), email: 'a@b' },
          'https://index.docker.io/v1/': { username: 'u', password: 'p', serveraddress: 'x' },
          'tok.example': { identitytoken: 'idt', auth: '' },
          'empty.example': {},
        },
        HttpHeaders: { 'User-Agent': 'x', 'X-Meta': '<v>' },
        psFormat: 'table',
        plugins: { p: { k: 'v' } },
        pruneFilters: ['label=a'],
        currentContext: 'default',
      }),
    },
    {
      what: 'the same credentials again: no warning (docker/cli does not rewrite them)',
      args: ['r.example', '-u', 'a', '-p', SECRET],
      initial: JSON.stringify({ auths: { 'r.example': { auth: Buffer.from(`a:${SECRET}`).toString('base64') } } }),
    },
    { what: 'an empty config.json', args: ['r.example', '-u', 'a', '-p', SECRET], initial: '' },
    {
      what: 'credsStore: stored through the helper, an entry without secrets in the file',
      args: ['r.example', '-u', 'alice', '-p', SECRET],
      initial: '{"credsStore":"rec"}',
    },
    {
      what: 'credHelpers for the registry wins over credsStore; docker.io asks the helper of index.docker.io',
      args: ['docker.io', '-u', 'alice', '--password-stdin'],
      input: `${SECRET}\n`,
      initial: '{"credsStore":"fail","credHelpers":{"index.docker.io":"rec"}}',
    },
  ];

  for (const s of scenarios) {
    it(s.what, async () => {
      const [c2, c3, ours] = await runAll(s.args, s.initial, s.input);
      expect(c2?.code, c2?.stderr).toBe(0);
      expect(c3?.code, c3?.stderr).toBe(0);
      expect(ours?.code, ours?.stderr).toBe(0);
      expect(ours?.file).toBeDefined();
      expect(ours?.file).toBe(c2?.file);
      expect(ours?.file).toBe(c3?.file);
      expect(ours?.rec).toBe(c2?.rec);
      if (s.initial?.includes('"rec"') === true) expect(ours?.rec).toMatch(/^\{"ServerURL":"[^"]+","Username":"alice","Secret":".+"\}\n$/);
      expect(ours?.stdout).toBe('');
      expect(ours?.stderr).toBe(c3?.stderr);
      for (const r of [ours]) {
        expect(r?.stdout).not.toContain(SECRET);
        expect(r?.stderr).not.toContain(SECRET);
      }
      const st = await lstat(path.join(ours?.dir as string, 'config.json'));
      expect(st.mode & 0o777).toBe(0o600);
      expect((await readdir(ours?.dir as string)).filter((f) => f.startsWith('config.json'))).toEqual(['config.json']);
    }, 60_000);
  }

  it('errors as cosign: no credentials, a bad registry name, a failing helper; none shows the password', async () => {
    for (const [args, initial, message] of [
      [['r.example'], undefined, 'username and password required'],
      [['https://r.example/v2', '-u', 'a', '-p', SECRET], undefined, 'registries must be valid RFC 3986 URI authorities: https://r.example/v2'],
      [['r.example', '-u', 'a', '-p', SECRET], '{"credsStore":"fail"}', 'error storing credentials - err: exit status 1, out: `<redacted>`'],
      [
        ['r.example', '-u', 'a', '-p', SECRET],
        '{"credsStore":"missing"}',
        'error storing credentials - err: exec: "docker-credential-missing": executable file not found in $PATH, out: ``',
      ],
    ] as const) {
      const [c2, , ours] = await runAll([...args], initial);
      expect(c2?.code).toBe(1);
      expect(ours?.code).toBe(1);
      expect(ours?.stderr).toContain(`Error: ${message}\n`);
      expect(ours?.stdout + (ours?.stderr ?? '')).not.toContain(SECRET);
      // Nothing written on failure (cosign writes nothing either).
      expect(ours?.file).toBe(initial);
    }
  }, 120_000);

  it('a config.json that is a symlink: its target is replaced, the link kept (as docker/cli)', async () => {
    const dir = path.join(work, 'link');
    await mkdir(dir);
    await writeFile(path.join(dir, 'real.json'), '{"auths":{}}');
    await chmod(path.join(dir, 'real.json'), 0o600);
    await symlink('real.json', path.join(dir, 'config.json'));
    const r = await cli(['login', 'r.example', '-u', 'a', '--password-stdin'], { env: { DOCKER_CONFIG: dir }, input: SECRET });
    expect(r.code, r.stderr).toBe(0);
    expect((await lstat(path.join(dir, 'config.json'))).isSymbolicLink()).toBe(true);
    expect(JSON.parse(await readFile(path.join(dir, 'real.json'), 'utf8'))).toEqual({
      auths: { 'r.example': { auth: Buffer.from(`a:${SECRET}`).toString('base64') } },
    });
  }, 60_000);

  it('the credentials it stores work: cosign-ts and cosign read them for a TLS registry with basic auth', async () => {
    const reg = await startRegistry({ tls: true, auth: true });
    try {
      const digest = await pushBusyboxImage(reg.url, 'login/app', 'v1', {
        caFile: reg.caFile as string,
        username: reg.username as string,
        password: reg.password as string,
      });
      const ref = `${reg.host}/login/app@${digest}`;
      const dir = path.join(work, 'e2e');
      await mkdir(dir);
      const env = { DOCKER_CONFIG: dir, HOME: dir };
      const tree = ['tree', `--registry-cacert=${reg.caFile}`, ref];
      const before = await cli(tree, { env });
      expect(before.code).not.toBe(0);
      expect(before.stderr).toMatch(/unauthori[sz]ed|401/i);
      const login = await cli(['login', reg.host, '-u', reg.username as string, '--password-stdin'], { env, input: `${reg.password}\n` });
      expect(login.code, login.stderr).toBe(0);
      expect(login.stdout + login.stderr).not.toContain(reg.password as string);
      const ours = await cli(tree, { env });
      expect(ours.code, ours.stderr).toBe(0);
      const peer = await cosign(tree, { env });
      expect(peer.code, peer.stderr).toBe(0);
      // cosign-ts's tree output is cosign 3.1's.
      const peer3 = await cosign3(tree, { env });
      expect(peer3.code, peer3.stderr).toBe(0);
      expect(ours.stdout).toBe(peer3.stdout);
    } finally {
      await reg.stop();
    }
  }, 120_000);
});
