/**
 * `cosign-ts attest-blob` as the built bin: cosign 2.5's stdout/stderr lines, files (mode 0600, no final
 * newline), exit statuses and refusals. (Byte comparisons with the real cosign: test/interop/blob-attest.test.ts.)
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../helpers.js';

describe('cosign-ts attest-blob', () => {
  let dir: string;
  const env = { COSIGN_PASSWORD: 'pw' };
  const run = (args: string[], input?: string) => cli(args, { cwd: dir, env, ...(input === undefined ? {} : { input }) });
  const hex = createHash('sha256').update('hello\n').digest('hex');
  const base = ['attest-blob', '--key', 'cosign.key', '--tlog-upload=false', '--predicate', 'p.json'];

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-attest-blob-cli-'));
    const gen = await run(['generate-key-pair']);
    expect(gen.code, gen.stderr).toBe(0);
    await writeFile(path.join(dir, 'f.txt'), 'hello\n');
    await writeFile(path.join(dir, 'p.json'), '{"b":1,"a":"<x>"}\n');
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints the DSSE envelope and the two "Using payload" lines; writes bundle, signature and statement files', async () => {
    const a = await run([...base, '--type', 'openvex', 'f.txt']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toBe('Using payload from: f.txt\nUsing payload from: p.json\n');
    expect(a.stdout).toMatch(/^\{"payloadType":"application\/vnd\.in-toto\+json","payload":"[^"]+","signatures":\[\{"keyid":"","sig":"[^"]+"\}\]\}\n$/);
    const statement = Buffer.from(JSON.parse(a.stdout).payload, 'base64').toString();
    expect(statement).toBe(
      `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://openvex.dev/ns","subject":[{"name":"f.txt","digest":{"sha256":"${hex}"}}],"predicate":{"a":"\\u003cx\\u003e","b":1}}`,
    );

    const b = await run([...base, '--type', 'openvex', '--bundle', 'b.json', '--output-signature', 's.json', '--output-attestation', 'a.json', 'f.txt']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe('');
    expect(b.stderr).toBe(
      'Using payload from: f.txt\nUsing payload from: p.json\nBundle wrote in the file  b.json\nSignature written in s.json\nAttestation written in a.json\n',
    );
    const sig = await readFile(path.join(dir, 's.json'), 'utf8');
    expect(JSON.parse(sig)).toMatchObject({ payloadType: 'application/vnd.in-toto+json' });
    expect(sig.endsWith('}')).toBe(true);
    expect(await readFile(path.join(dir, 'a.json'), 'utf8')).toBe(statement);
    const legacy = JSON.parse(await readFile(path.join(dir, 'b.json'), 'utf8')) as { base64Signature: string; cert: string };
    expect(Buffer.from(legacy.base64Signature, 'base64').toString()).toBe(sig);
    expect(Buffer.from(legacy.cert, 'base64').toString()).toBe(await readFile(path.join(dir, 'cosign.pub'), 'utf8'));
    for (const f of ['b.json', 's.json', 'a.json']) expect((await stat(path.join(dir, f))).mode & 0o777).toBe(0o600);
  });

  it('--new-bundle-format writes a Sigstore bundle v0.3 in cosign 3.1 layout', async () => {
    const r = await run([...base, '--type', 'slsaprovenance1', '--new-bundle-format', '--bundle', 'n.json', 'f.txt']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('Using payload from: f.txt\nUsing payload from: p.json\nBundle wrote in the file  n.json\n');
    const b = JSON.parse(await readFile(path.join(dir, 'n.json'), 'utf8')) as { mediaType: string; dsseEnvelope: { payload: string } };
    expect(b.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString()) as Record<string, unknown>;
    expect(Object.keys(st)).toEqual(['_type', 'subject', 'predicateType', 'predicate']);
    expect(st.predicateType).toBe('https://slsa.dev/provenance/v1');
  });

  it('--hash attests a digest without reading the blob; - reads the blob from stdin and names it "-"', async () => {
    const h = await run([...base, '--hash', hex, 'elsewhere/missing.bin']);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stderr).toBe('Using payload from: p.json\n');
    const st = JSON.parse(Buffer.from(JSON.parse(h.stdout).payload, 'base64').toString()) as { subject: unknown };
    expect(st.subject).toEqual([{ name: 'missing.bin', digest: { sha256: hex } }]);
    const s = await run([...base, '-'], 'hello\n');
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toBe('Using payload from: p.json\n');
    expect(JSON.parse(Buffer.from(JSON.parse(s.stdout).payload, 'base64').toString()).subject).toEqual([{ name: '-', digest: { sha256: hex } }]);
  });

  it('fails like cosign: no predicate, a missing predicate or blob, tlog upload asked for, no key, a bad hash', async () => {
    const noPred = await run(['attest-blob', '--key', 'cosign.key', '--tlog-upload=false', 'f.txt']);
    expect(noPred.code).toBe(1);
    expect(noPred.stderr).toBe('Error: required flag(s) "predicate" not set\nerror during command execution: required flag(s) "predicate" not set\n');
    const missingPred = await run(['attest-blob', '--key', 'cosign.key', '--tlog-upload=false', '--predicate', 'nope.json', 'f.txt']);
    expect(missingPred.code).toBe(1);
    expect(missingPred.stderr).toBe(
      'Using payload from: f.txt\nUsing payload from: nope.json\nError: getting predicate reader: open nope.json: no such file or directory\nerror during command execution: getting predicate reader: open nope.json: no such file or directory\n',
    );
    const missingBlob = await run([...base, 'nope.bin']);
    expect(missingBlob.code).toBe(1);
    expect(missingBlob.stderr).toBe(
      'Using payload from: nope.bin\nError: open nope.bin: no such file or directory\nerror during command execution: open nope.bin: no such file or directory\n',
    );
    const tlog = await run(['attest-blob', '--key', 'cosign.key', '--predicate', 'p.json', 'f.txt']);
    expect(tlog.code).toBe(1);
    expect(tlog.stderr).toContain('--tlog-upload=false');
    expect((await run(['attest-blob', '--tlog-upload=false', '--predicate', 'p.json', 'f.txt'])).code).toBe(1);
    expect((await run([...base, '--hash', 'xyz', 'f.txt'])).code).toBe(1);
    const badType = await run([...base, '--type', 'nonsense', 'f.txt']);
    expect(badType.code).toBe(1);
    expect(badType.stderr).toContain('invalid predicate type');
    await writeFile(path.join(dir, 'bad.json'), 'not json');
    const notJson = await run([
      'attest-blob',
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--predicate',
      'bad.json',
      '--type',
      'https://example.com/t',
      'f.txt',
    ]);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('invalid JSON payload for predicate type https://example.com/t');
  });
});
