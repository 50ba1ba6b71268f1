/**
 * `cosign-ts attest` as the built bin against the in-process registry: legacy `.att` and
 * `--new-bundle-format` referrers, cosign's stderr lines, the predicate from stdin, and the refusals
 * (keyless, tlog upload, bad type, missing predicate, unsupported flags).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSignatureManifest } from '../../../src/artifact/image.js';
import { RegistryClient } from '../../../src/oci/client.js';
import { parseReference, withTag } from '../../../src/reference.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
import { cli, ensureBuilt } from '../helpers.js';

describe('cosign-ts attest', () => {
  let dir: string;
  let reg: TestRegistry;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  const env = { COSIGN_PASSWORD: 'pw' };
  const run = (args: string[], input?: string) => cli(args, { cwd: dir, env, ...(input === undefined ? {} : { input }) });
  const base = ['--key', 'cosign.key', '--tlog-upload=false', '--allow-http-registry=true'];

  beforeAll(async () => {
    ensureBuilt();
    reg = await startTestRegistry();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-attest-cli-'));
    const gen = await run(['generate-key-pair']);
    expect(gen.code, gen.stderr).toBe(0);
    await writeFile(path.join(dir, 'vex.json'), '{"b":1,"a":"<x>"}');
  }, 120_000);
  afterAll(async () => {
    client.close();
    await reg.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('legacy: appends to the .att tag, prints cosign 2.5 stderr; --replace keeps one per type; predicate from stdin', async () => {
    const d = await pushSampleImage(client, `${reg.host}/cli/att:v1`, { n: 'a1' });
    const ref = `${reg.host}/cli/att@${d}`;
    const a = await run(['attest', ...base, '--predicate', 'vex.json', '--type', 'openvex', ref]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toBe('Using payload from: vex.json\n');
    expect(a.stdout).toBe('');
    const b = await run(['attest', ...base, '--predicate', '-', '--type', 'openvex', '--replace', ref], '{"c":2}');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toBe('Using payload from: -\n');
    const m = parseSignatureManifest((await client.getManifest(withTag(parseReference(ref), `sha256-${d.slice(7)}.att`))).bytes);
    expect(m.layers).toHaveLength(1);
    // by tag: cosign's tag warning first
    const t = await run(['attest', ...base, '--predicate', 'vex.json', '--type', 'custom', `${reg.host}/cli/att:v1`]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toBe(
      `WARNING: Image reference ${reg.host}/cli/att:v1 uses a tag, not a digest, to identify the image to sign.\n` +
        '    This can lead you to sign a different image than the intended one. Please use a\n' +
        '    digest (example.com/ubuntu@sha256:abc123...) rather than tag\n' +
        '    (example.com/ubuntu:latest) for the input to cosign. The ability to refer to\n' +
        '    images by tag will be removed in a future release.\n\nUsing payload from: vex.json\n',
    );
  });

  it('--new-bundle-format: a referrer, and cosign 3.1 stderr', async () => {
    const d = await pushSampleImage(client, `${reg.host}/cli/attb:v1`, { n: 'a2' });
    const ref = `${reg.host}/cli/attb@${d}`;
    const a = await run(['attest', ...base, '--new-bundle-format', '--predicate', 'vex.json', '--type', 'https://example.com/p/v1', ref]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toBe(
      'Flag --tlog-upload has been deprecated, prefer using a --signing-config file with no transparency log services\n' +
        'Flag --new-bundle-format has been deprecated, this will be the only supported format in future versions\n' +
        'Using payload from: vex.json\nSigning artifact...\n',
    );
    const refs = await client.referrers(parseReference(ref), d);
    expect(refs).toHaveLength(1);
    expect(refs[0]?.annotations?.['dev.sigstore.bundle.predicateType']).toBe('https://example.com/p/v1');
  });

  it.each([
    [['attest', '--tlog-upload=false', '--predicate', 'vex.json', 'r.example/a:v1'], /keyless signing .* not supported/],
    [['attest', '--key', 'cosign.key', '--predicate', 'vex.json', 'r.example/a:v1'], /--tlog-upload=false/],
    [
      ['attest', ...['--key', 'cosign.key', '--tlog-upload=false'], '--predicate', 'vex.json', '--type', 'nonsense', 'r.example/a:v1'],
      /invalid predicate type/,
    ],
    [['attest', ...['--key', 'cosign.key', '--tlog-upload=false'], 'r.example/a:v1'], /predicate is required/],
    [['attest', ...['--key', 'cosign.key', '--tlog-upload=false'], '--predicate', 'nope.json', 'r.example/a:v1'], /open nope.json: no such file/],
    [
      ['attest', ...['--key', 'cosign.key', '--tlog-upload=false'], '--predicate', 'vex.json', '--new-bundle-format', '--replace', 'r.example/a:v1'],
      /--replace/,
    ],
    [['attest', ...['--key', 'cosign.key', '--tlog-upload=false'], '--predicate', 'vex.json', '--no-upload', 'r.example/a:v1'], /--no-upload/],
  ])('refuses %j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });
});
