/**
 * `cosign-ts verify --local-image DIR` through the built bin: layouts saved from the in-process
 * registry verify after the registry is stopped (legacy `.sig` and bundle referrers, json and text
 * output, annotations, several layouts); unsigned, wrongly signed and hostile layouts fail with
 * cosign's exit statuses and a message naming the layout, never a stack trace.
 */
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { cli, ensureBuilt, pushTinyImage, tempDir } from './helpers.js';

const PW = { COSIGN_PASSWORD: 'test-pw' };
const SIGN = ['sign', '--key', 'cosign.key', '--tlog-upload=false', '--yes'];
const LOCAL = ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog=true', '--local-image'];

let dir: string;
const run = (args: string[]) => cli(args, { cwd: dir, env: PW });
const saved: Record<string, { dir: string; digest: string }> = {};

beforeAll(async () => {
  ensureBuilt();
  const reg: TestRegistry = await startTestRegistry();
  dir = await tempDir();
  try {
    expect((await run(['generate-key-pair'])).code).toBe(0);
    for (const [name, extra] of [
      ['legacy', ['-a', 'team=blue']],
      ['bundle', ['--new-bundle-format']],
      ['unsigned', null],
    ] as const) {
      const digest = await pushTinyImage(reg.url, `local/${name}`, 'v1');
      if (extra !== null) expect((await run([...SIGN, ...extra, `${reg.host}/local/${name}@${digest}`])).code).toBe(0);
      const out = path.join(dir, name);
      expect((await run(['save', '--dir', out, `${reg.host}/local/${name}@${digest}`])).code).toBe(0);
      saved[name] = { dir: out, digest };
    }
  } finally {
    await reg.close(); // everything below runs with no registry
  }
}, 120_000);
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const CHECKS = '  - The cosign claims were validated\n  - The signatures were verified against the specified public key\n';

describe('verify --local-image', () => {
  it('legacy signatures: cosign’s stderr, the payloads on stdout, annotations checked', async () => {
    const { dir: d, digest } = saved.legacy!;
    const r = await run([...LOCAL, d]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`\nVerification for ${d} --\nThe following checks were performed on each of these signatures:\n${CHECKS}`);
    const out = JSON.parse(r.stdout) as Array<{ critical: { image: { 'docker-manifest-digest': string } }; optional: Record<string, string> }>;
    expect(out).toHaveLength(1);
    expect(out[0]?.critical.image['docker-manifest-digest']).toBe(digest);
    expect(out[0]?.optional).toEqual({ team: 'blue' });
    expect((await run([...LOCAL, '-a', 'team=blue', d])).code).toBe(0);
    const wrongAnnotation = await run([...LOCAL, '-a', 'team=red', d]);
    expect(wrongAnnotation.code).toBe(12);
    const text = await run([...LOCAL, '-o', 'text', d]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`"docker-manifest-digest":"${digest}"`);
  });

  it('bundle referrers (cosign 3): verified, the claims printed with no docker-reference', async () => {
    const { dir: d, digest } = saved.bundle!;
    const r = await run([...LOCAL, d]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Verification for ${d} --`);
    const out = JSON.parse(r.stdout) as Array<{ critical: { identity: { 'docker-reference': string }; image: { 'docker-manifest-digest': string } } }>;
    expect(out).toHaveLength(1);
    expect(out[0]?.critical.identity['docker-reference']).toBe('');
    expect(out[0]?.critical.image['docker-manifest-digest']).toBe(digest);
  });

  it('several layouts in one run, in order', async () => {
    const r = await run([...LOCAL, saved.legacy!.dir, saved.bundle!.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.indexOf(saved.legacy!.dir)).toBeLessThan(r.stderr.indexOf(saved.bundle!.dir));
  });

  it('no signatures: exit 10 with cosign’s message; another key: no match', async () => {
    const none = await run([...LOCAL, saved.unsigned!.dir]);
    expect(none.code).toBe(10);
    expect(none.stderr).toContain(`no signatures associated with the image saved in ${saved.unsigned!.dir}`);
    const other = path.join(dir, 'other');
    await mkdir(other);
    expect((await cli(['generate-key-pair'], { cwd: other, env: PW })).code).toBe(0);
    const wrong = await run(['verify', '--key', path.join(other, 'cosign.pub'), '--insecure-ignore-tlog=true', '--local-image', saved.legacy!.dir]);
    expect(wrong.code).toBe(12);
    expect(wrong.stderr).toContain('no matching signatures');
  });

  it('hostile or broken layouts: exit 1, the layout named, no stack trace', async () => {
    const cases: Array<[string, (d: string) => Promise<void>, string]> = [
      ['missing', async () => undefined, 'no such file'],
      [
        'tampered',
        async (d) => {
          await cp(saved.legacy!.dir, d);
          const index = JSON.parse(await readFile(path.join(d, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
          await writeFile(path.join(d, 'blobs', 'sha256', index.manifests[1]!.digest.slice(7)), '{"schemaVersion":2}');
        },
        'has content with digest',
      ],
      [
        'traversal',
        async (d) => {
          await cp(saved.legacy!.dir, d);
          await writeFile(
            path.join(d, 'index.json'),
            JSON.stringify({
              schemaVersion: 2,
              manifests: [
                {
                  mediaType: 'application/vnd.oci.image.manifest.v1+json',
                  size: 1,
                  digest: 'sha256:../../../../etc/passwd',
                  annotations: { kind: 'dev.cosignproject.cosign/image' },
                },
              ],
            }),
          );
        },
        'index.json',
      ],
      [
        'symlink',
        async (d) => {
          await cp(saved.legacy!.dir, d);
          await rm(path.join(d, 'index.json'));
          await symlink('/etc/hostname', path.join(d, 'index.json'));
        },
        'symbolic link',
      ],
      [
        'huge',
        async (d) => {
          await cp(saved.legacy!.dir, d);
          await writeFile(path.join(d, 'index.json'), Buffer.alloc(5 * 1024 * 1024, 0x20));
        },
        'larger than',
      ],
    ];
    for (const [name, make, message] of cases) {
      const d = path.join(dir, `hostile-${name}`);
      await make(d);
      const r = await run([...LOCAL, d]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(1);
      expect(r.stderr, name).toContain(message);
      expect(r.stderr, name).toContain(d);
      expect(r.stderr, name).not.toContain('    at ');
      expect(r.stdout, name).toBe('');
    }
  });
});

async function cp(from: string, to: string): Promise<void> {
  const { cp: copy } = await import('node:fs/promises');
  await copy(from, to, { recursive: true });
}
