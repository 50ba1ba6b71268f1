/**
 * The built CLI against a real registry (Debian's docker-registry on 127.0.0.1): sign, verify (every
 * exit status), offline verification from files, triangulate, tree, clean, copy, recursive signing,
 * COSIGN_REPOSITORY and COSIGN_DOCKER_MEDIA_TYPES, `--output json`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest } from '../helpers/real/http.js';
import { skipReal } from '../helpers/real/proc.js';
import { startRegistry, type RealRegistry } from '../helpers/real/registry.js';
import { VaultServer } from '../kms/servers/vault.js';
import { cli, cliInPty, ensureBuilt, pushTinyImage, pushTinyIndex, tempDir } from './helpers.js';

const PW = { COSIGN_PASSWORD: 'test-pw' };
const SIGN = ['sign', '--key', 'cosign.key', '--tlog-upload=false'];
const VERIFY = ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog=true'];
const TLOG_WARNING = 'WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.\n';

function expectedPayload(repo: string, digest: string, optional: Record<string, string> | null = null): string {
  return JSON.stringify({
    critical: { identity: { 'docker-reference': repo }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
    optional,
  });
}

function header(ref: string, lines: string[]): string {
  return `\nVerification for ${ref} --\nThe following checks were performed on each of these signatures:\n${lines.map((l) => `${l}\n`).join('')}`;
}
const CHECKS = ['  - The cosign claims were validated', '  - The signatures were verified against the specified public key'];

describe.skipIf(skipReal(['registry']))('CLI against a registry', () => {
  let reg: RealRegistry;
  let dir: string;
  let otherDir: string;
  const run = (args: string[], env: Record<string, string> = {}, input?: string) =>
    cli(args, { cwd: dir, env: { ...PW, ...env }, ...(input === undefined ? {} : { input }) });

  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry();
    dir = await tempDir();
    otherDir = await tempDir();
    expect((await run(['generate-key-pair'])).code).toBe(0);
    expect((await cli(['generate-key-pair'], { cwd: otherDir, env: PW })).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
  });

  it('sign by digest then verify: exit 0, cosign stdout bytes, cosign stderr check list', async () => {
    const digest = await pushTinyImage(reg.url, 'app/one', 'v1');
    const ref = `${reg.host}/app/one@${digest}`;
    const s = await run([...SIGN, ref]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toBe('');
    expect(s.stderr).toBe(`Pushing signature to: ${reg.host}/app/one\n`);
    const v = await run([...VERIFY, ref]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(`\n[${expectedPayload(`${reg.host}/app/one`, digest)}]\n`);
    expect(v.stderr).toBe(TLOG_WARNING + header(ref, CHECKS));
    // by tag: the header names the reference as given (normalised)
    const t = await run([...VERIFY, `${reg.host}/app/one:v1`]);
    expect(t.code).toBe(0);
    expect(t.stdout).toBe(v.stdout);
    expect(t.stderr).toBe(TLOG_WARNING + header(`${reg.host}/app/one:v1`, CHECKS));
    // -o text: the raw payloads, one per line
    const text = await run([...VERIFY, '-o', 'text', ref]);
    expect(text.stdout).toBe(`${expectedPayload(`${reg.host}/app/one`, digest)}\n`);
  });

  it('signing by tag warns like cosign; annotations are signed and verified', async () => {
    const digest = await pushTinyImage(reg.url, 'app/two', 'latest');
    const s = await run([...SIGN, '-a', 'env=prod', '-a', '"list=a,b",x=1', `${reg.host}/app/two`]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toContain(`WARNING: Image reference ${reg.host}/app/two:latest uses a tag, not a digest, to identify the image to sign.\n`);
    const v = await run([...VERIFY, '-a', 'env=prod', `${reg.host}/app/two@${digest}`]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(`\n[${expectedPayload(`${reg.host}/app/two`, digest, { env: 'prod', list: 'a,b', x: '1' })}]\n`);
    expect(v.stderr).toContain('  - The specified annotations were verified.\n  - The cosign claims were validated\n');
    // re-signing the same payload with the same key adds nothing
    const again = await run([...SIGN, '-a', 'env=prod', '-a', '"list=a,b",x=1', `${reg.host}/app/two@${digest}`, '--output', 'json']);
    expect(again.code).toBe(0);
    const j = JSON.parse(again.stdout) as { signed: Array<{ appended: boolean; digest: string }> };
    expect(j.signed).toEqual([expect.objectContaining({ digest, appended: false })]);
    // an annotation without "=" fails
    const bad = await run([...SIGN, '-a', 'noequals', `${reg.host}/app/two@${digest}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unable to parse annotation: noequals');
  });

  it('exit 10: no signatures', async () => {
    const digest = await pushTinyImage(reg.url, 'app/unsigned', 'v1');
    const v = await run([...VERIFY, `${reg.host}/app/unsigned@${digest}`]);
    expect(v.code).toBe(10);
    expect(v.stdout).toBe('');
    expect(v.stderr).toMatch(/\nError: no signatures found/);
    expect(v.stderr).toMatch(/error during command execution: no signatures found.*\n$/);
  });

  it('exit 11: tag or repository not found', async () => {
    await pushTinyImage(reg.url, 'app/tagged', 'v1');
    for (const ref of [`${reg.host}/app/tagged:nope`, `${reg.host}/no/such-repo:latest`]) {
      const v = await run([...VERIFY, ref]);
      expect(v.code).toBe(11);
      expect(v.stdout).toBe('');
      expect(v.stderr).toContain('Error: image tag not found: ');
    }
  });

  it('exit 12: wrong key, annotation mismatch', async () => {
    const digest = await pushTinyImage(reg.url, 'app/twelve', 'v1');
    const ref = `${reg.host}/app/twelve@${digest}`;
    expect((await run([...SIGN, '-a', 'team=a', ref])).code).toBe(0);
    const wrongKey = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', ref], { cwd: otherDir });
    expect(wrongKey.code).toBe(12);
    expect(wrongKey.stdout).toBe('');
    expect(wrongKey.stderr).toContain('Error: no matching signatures');
    const wrongAnn = await run([...VERIFY, '-a', 'team=b', ref]);
    expect(wrongAnn.code).toBe(12);
    expect(wrongAnn.stdout).toBe('');
  });

  it('exit 1: registry unreachable, bad reference', async () => {
    const down = await run([...VERIFY, `127.0.0.1:1/app/x@sha256:${'b'.repeat(64)}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/Error: /);
    const badRef = await run([...VERIFY, 'UPPER/Case:tag']);
    expect(badRef.code).toBe(1);
    expect(badRef.stderr).toContain('Error: parsing reference: ');
  });

  it('several images: output in argument order, stops at the first failure with its status', async () => {
    const a = await pushTinyImage(reg.url, 'multi/a', 'v1');
    const b = await pushTinyImage(reg.url, 'multi/b', 'v1');
    const c = await pushTinyImage(reg.url, 'multi/c', 'v1');
    expect((await run([...SIGN, `${reg.host}/multi/a@${a}`, `${reg.host}/multi/b@${b}`])).code).toBe(0);
    const ok = await run([...VERIFY, `${reg.host}/multi/a@${a}`, `${reg.host}/multi/b@${b}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`\n[${expectedPayload(`${reg.host}/multi/a`, a)}]\n\n[${expectedPayload(`${reg.host}/multi/b`, b)}]\n`);
    const failing = await run([...VERIFY, `${reg.host}/multi/a@${a}`, `${reg.host}/multi/c@${c}`, `${reg.host}/multi/b@${b}`]);
    expect(failing.code).toBe(10);
    expect(failing.stdout).toBe(`\n[${expectedPayload(`${reg.host}/multi/a`, a)}]\n`);
    // no progress bar when stderr is not a terminal
    expect(ok.stderr).not.toContain('\r');
    expect(ok.stderr).not.toContain('Verifying [');
  });

  it.skipIf(skipReal(['script']))('a progress bar on a terminal for several images', async () => {
    const refs: string[] = [];
    for (const n of ['p1', 'p2', 'p3']) refs.push(`${reg.host}/progress/${n}@${await pushTinyImage(reg.url, `progress/${n}`, 'v1')}`);
    expect((await run([...SIGN, ...refs])).code).toBe(0);
    const r = await cliInPty([...VERIFY, ...refs], [], { cwd: dir, env: PW });
    expect(r.code).toBe(0);
    expect(r.output).toContain('Verifying [');
    expect(r.output).toContain('3/3');
    // one image: no bar
    const one = await cliInPty([...VERIFY, refs[0] as string], [], { cwd: dir, env: PW });
    expect(one.code).toBe(0);
    expect(one.output).not.toContain('Verifying [');
  });

  it('offline verification of --signature and --payload files (sign --upload=false --output-*)', async () => {
    const digest = await pushTinyImage(reg.url, 'app/offline', 'v1');
    const ref = `${reg.host}/app/offline@${digest}`;
    const s = await run([...SIGN, '--upload=false', '--output-signature', 'off.sig', '--output-payload', 'off.json', ref]);
    expect(s.code, s.stderr).toBe(0);
    const payload = await readFile(path.join(dir, 'off.json'), 'utf8');
    expect(payload).toBe(expectedPayload(`${reg.host}/app/offline`, digest));
    expect(await readFile(path.join(dir, 'off.sig'), 'utf8')).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // nothing was uploaded
    expect((await run([...VERIFY, ref])).code).toBe(10);
    const v = await run([...VERIFY, '--signature', 'off.sig', '--payload', 'off.json', ref]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(`\n[${payload}]\n`);
    // implied payload
    const implied = await run([...VERIFY, '--signature', 'off.sig', ref]);
    expect(implied.code).toBe(0);
    expect(implied.stderr).toContain('WARNING: using obsolete implied signature payload data');
    // another digest: the claim does not match
    const other = await pushTinyImage(reg.url, 'app/offline', 'v2');
    const mismatch = await run([...VERIFY, '--signature', 'off.sig', '--payload', 'off.json', `${reg.host}/app/offline@${other}`]);
    expect(mismatch.code).toBe(12);
    const wrongKey = await cli(
      ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '--signature', path.join(dir, 'off.sig'), '--payload', path.join(dir, 'off.json'), ref],
      { cwd: otherDir },
    );
    expect(wrongKey.code).toBe(12);
  });

  it('triangulate: signature, attestation, sbom, digest; COSIGN_REPOSITORY; --output json', async () => {
    const digest = await pushTinyImage(reg.url, 'tri/app', 'v1');
    const hex = digest.slice('sha256:'.length);
    const ref = `${reg.host}/tri/app:v1`;
    expect((await run(['triangulate', ref])).stdout).toBe(`${reg.host}/tri/app:sha256-${hex}.sig\n`);
    expect((await run(['triangulate', '--type', 'attestation', ref])).stdout).toBe(`${reg.host}/tri/app:sha256-${hex}.att\n`);
    expect((await run(['triangulate', '--type', 'sbom', ref])).stdout).toBe(`${reg.host}/tri/app:sha256-${hex}.sbom\n`);
    expect((await run(['triangulate', '--type', 'digest', ref])).stdout).toBe(`${reg.host}/tri/app@${digest}\n`);
    expect((await run(['triangulate', ref], { COSIGN_REPOSITORY: `${reg.host}/sigs/store` })).stdout).toBe(`${reg.host}/sigs/store:sha256-${hex}.sig\n`);
    expect((await run(['triangulate', '--attachment-tag-prefix', 'p-', ref])).stdout).toBe(`${reg.host}/tri/app:p-sha256-${hex}.sig\n`);
    const j = await run(['triangulate', '--output', 'json', ref]);
    expect(JSON.parse(j.stdout)).toEqual({ reference: `${reg.host}/tri/app:sha256-${hex}.sig`, digest, type: 'signature' });
    const bad = await run(['triangulate', '--type', 'bogus', ref]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Error: unknown attachment type bogus');
  });

  it('COSIGN_REPOSITORY: signatures stored and read elsewhere', async () => {
    const digest = await pushTinyImage(reg.url, 'repo/app', 'v1');
    const env = { COSIGN_REPOSITORY: `${reg.host}/repo/signatures` };
    const ref = `${reg.host}/repo/app@${digest}`;
    const s = await run([...SIGN, ref], env);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toBe(`Pushing signature to: ${reg.host}/repo/signatures\n`);
    expect((await run([...VERIFY, ref])).code).toBe(10);
    const v = await run([...VERIFY, ref], env);
    expect(v.code).toBe(0);
    // docker-reference stays the image's own repository
    expect(v.stdout).toBe(`\n[${expectedPayload(`${reg.host}/repo/app`, digest)}]\n`);
  });

  it('COSIGN_DOCKER_MEDIA_TYPES writes a Docker v2 signature manifest', async () => {
    const digest = await pushTinyImage(reg.url, 'docker/app', 'v1');
    expect((await run([...SIGN, `${reg.host}/docker/app@${digest}`], { COSIGN_DOCKER_MEDIA_TYPES: '1' })).code).toBe(0);
    const m = await httpRequest(`${reg.url}/v2/docker/app/manifests/sha256-${digest.slice(7)}.sig`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    });
    expect(JSON.parse(m.text()).mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect((await run([...VERIFY, `${reg.host}/docker/app@${digest}`])).code).toBe(0);
  });

  it('sign --recursive signs the index and every child', async () => {
    const { index, children } = await pushTinyIndex(reg.url, 'multiarch/app', 'v1');
    const s = await run([...SIGN, '-r', '--output', 'json', `${reg.host}/multiarch/app@${index}`]);
    expect(s.code, s.stderr).toBe(0);
    const j = JSON.parse(s.stdout) as { signed: Array<{ digest: string }> };
    expect(j.signed.map((x) => x.digest).sort()).toEqual([index, ...children].sort());
    expect(s.stderr.match(/Pushing signature to:/g)?.length).toBe(3);
    for (const d of [index, ...children]) expect((await run([...VERIFY, `${reg.host}/multiarch/app@${d}`])).code).toBe(0);
    // not recursive: only the index
    const { index: i2, children: c2 } = await pushTinyIndex(reg.url, 'multiarch/two', 'v1');
    expect((await run([...SIGN, `${reg.host}/multiarch/two@${i2}`])).code).toBe(0);
    expect((await run([...VERIFY, `${reg.host}/multiarch/two@${c2[0] as string}`])).code).toBe(10);
  });

  it('tree lists signatures in cosign layout; nothing found; not found', async () => {
    const digest = await pushTinyImage(reg.url, 'tree/app', 'v1');
    const ref = `${reg.host}/tree/app@${digest}`;
    const empty = await run(['tree', ref]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe(
      `📦 Supply Chain Security Related artifacts for an image: ${ref}\nNo Supply Chain Security Related Artifacts found for image ${ref},\n start creating one with simply running$ cosign sign <img>`,
    );
    expect((await run([...SIGN, ref])).code).toBe(0);
    expect((await run([...SIGN, '-a', 'n=2', ref])).code).toBe(0);
    const t = await run(['tree', ref]);
    expect(t.code).toBe(0);
    const lines = t.stdout.split('\n');
    expect(lines[0]).toBe(`📦 Supply Chain Security Related artifacts for an image: ${ref}`);
    expect(lines[1]).toBe(`└── 🔐 Signatures for an image tag: ${reg.host}/tree/app:sha256-${digest.slice(7)}.sig`);
    expect(lines[2]).toMatch(/^ {3}├── 🍒 sha256:[0-9a-f]{64}$/);
    expect(lines[3]).toMatch(/^ {3}└── 🍒 sha256:[0-9a-f]{64}$/);
    const j = JSON.parse((await run(['tree', '--output', 'json', ref])).stdout) as { signatures: { layers: string[] }; attestations: unknown };
    expect(j.signatures.layers).toHaveLength(2);
    expect(j.attestations).toBeNull();
    const missing = await run(['tree', `${reg.host}/tree/app:nope`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error: entity not found in registry');
  });

  it('clean asks for confirmation, then deletes the signatures', async () => {
    const digest = await pushTinyImage(reg.url, 'clean/app', 'v1');
    const ref = `${reg.host}/clean/app@${digest}`;
    expect((await run([...SIGN, ref])).code).toBe(0);
    const declined = await run(['clean', ref]);
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain(
      'WARNING: this will remove all signatures, SBOMs and attestations from the image\nAre you sure you would like to continue? [y/N] Error: user declined the prompt\n',
    );
    expect((await run([...VERIFY, ref])).code).toBe(0);
    const yes = await run(['clean', ref], {}, 'y\n');
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stderr).toContain(`Removed ${reg.host}/clean/app:sha256-${digest.slice(7)}.sig from ${ref}\n`);
    expect((await run([...VERIFY, ref])).code).toBe(10);
    expect((await run([...SIGN, ref])).code).toBe(0);
    const forced = await run(['clean', '-f', '--type', 'signature', '--output', 'json', ref]);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ removed: [`${reg.host}/clean/app:sha256-${digest.slice(7)}.sig`] });
    expect((await run([...VERIFY, ref])).code).toBe(10);
  });

  it('copy copies the image and its signatures; refuses to overwrite without -f; --only=sig', async () => {
    const digest = await pushTinyImage(reg.url, 'copy/src', 'v1');
    expect((await run([...SIGN, `${reg.host}/copy/src@${digest}`])).code).toBe(0);
    const c = await run(['copy', `${reg.host}/copy/src:v1`, `${reg.host}/copy/dst:v1`]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain(`Copying ${reg.host}/copy/src:sha256-${digest.slice(7)}.sig to ${reg.host}/copy/dst:sha256-${digest.slice(7)}.sig...`);
    const v = await run([...VERIFY, `${reg.host}/copy/dst:v1`]);
    expect(v.code, v.stderr).toBe(0);
    // the payload still names the source repository (signatures are copied, not re-signed)
    expect(v.stdout).toBe(`\n[${expectedPayload(`${reg.host}/copy/src`, digest)}]\n`);
    // an identical destination is fine; a different one needs -f
    expect((await run(['copy', `${reg.host}/copy/src:v1`, `${reg.host}/copy/dst:v1`])).code).toBe(0);
    await pushTinyImage(reg.url, 'copy/dst', 'taken');
    const refused = await run(['copy', `${reg.host}/copy/src:v1`, `${reg.host}/copy/dst:taken`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already exists. Use `-f` to overwrite');
    const forced = await run(['copy', '-f', '--output', 'json', `${reg.host}/copy/src:v1`, `${reg.host}/copy/dst:taken`]);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ digest });
    const sigOnly = await run(['copy', '--only=sig', `${reg.host}/copy/src@${digest}`, `${reg.host}/copy/sigs-only`]);
    expect(sigOnly.code, sigOnly.stderr).toBe(0);
    const triangulated = await run(['triangulate', `${reg.host}/copy/sigs-only@${digest}`]);
    const tag = triangulated.stdout.trim().split(':').pop() as string;
    expect(
      (
        await httpRequest(`${reg.url}/v2/copy/sigs-only/manifests/${tag}`, {
          method: 'HEAD',
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
        })
      ).status,
    ).toBe(200);
    // as cosign copy: the image itself is copied too (under its sha256-<hex> tag), only the named tag is not
    expect(
      (
        await httpRequest(`${reg.url}/v2/copy/sigs-only/manifests/sha256-${digest.slice(7)}`, {
          method: 'HEAD',
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
        })
      ).status,
    ).toBe(200);
    expect(sigOnly.stderr).toContain(`Copying ${reg.host}/copy/src@${digest} to ${reg.host}/copy/sigs-only:sha256-${digest.slice(7)}...`);
  });

  it('copy of an index copies every child and the children signatures', async () => {
    const { index, children } = await pushTinyIndex(reg.url, 'copyidx/src', 'v1');
    expect((await run([...SIGN, '-r', `${reg.host}/copyidx/src@${index}`])).code).toBe(0);
    const c = await run(['copy', `${reg.host}/copyidx/src:v1`, `${reg.host}/copyidx/dst:v1`]);
    expect(c.code, c.stderr).toBe(0);
    for (const d of [index, ...children]) expect((await run([...VERIFY, `${reg.host}/copyidx/dst@${d}`])).code).toBe(0);
  });

  it('--output-file writes stdout to a file', async () => {
    const digest = await pushTinyImage(reg.url, 'outfile/app', 'v1');
    const r = await run(['triangulate', '--output-file', 'tri.txt', `${reg.host}/outfile/app@${digest}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(await readFile(path.join(dir, 'tri.txt'), 'utf8')).toBe(`${reg.host}/outfile/app:sha256-${digest.slice(7)}.sig\n`);
  });

  it('errors with --output json also print a JSON error object on stdout', async () => {
    const r = await run(['triangulate', '--output', 'json', `${reg.host}/nothing/here:v1`]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as { error: { code: string; exitCode: number } };
    expect(j.error).toMatchObject({ code: 'NOT_FOUND', exitCode: 1 });
  });
});

describe.skipIf(skipReal(['registry']))('CLI with a KMS key (hashivault:// against a local Vault transit server)', () => {
  let reg: RealRegistry;
  let vault: VaultServer;
  let dir: string;
  let venv: Record<string, string>;
  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry();
    vault = await VaultServer.start();
    vault.createKey('cosign', 'ecdsa-p256');
    venv = { VAULT_ADDR: vault.url, VAULT_TOKEN: vault.rootToken };
    dir = await tempDir();
  }, 120_000);
  afterAll(async () => {
    await vault?.close();
    await reg?.stop();
  });

  it('public-key, generate-key-pair --kms, sign and verify with the KMS URI; no password asked', async () => {
    const pub = await cli(['public-key', '--key', 'hashivault://cosign'], { cwd: dir, env: venv });
    expect(pub.code, pub.stderr).toBe(0);
    expect(pub.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const gen = await cli(['generate-key-pair', '--kms', 'hashivault://cosign', '--output-key-prefix', 'vault'], { cwd: dir, env: venv });
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stderr).toBe('Public key written to vault.pub\n');
    expect(await readFile(path.join(dir, 'vault.pub'), 'utf8')).toBe(pub.stdout);
    const digest = await pushTinyImage(reg.url, 'kms/app', 'v1');
    const ref = `${reg.host}/kms/app@${digest}`;
    const s = await cli(['sign', '--key', 'hashivault://cosign', '--tlog-upload=false', ref], { cwd: dir, env: venv });
    expect(s.code, s.stderr).toBe(0);
    const byUri = await cli(['verify', '--key', 'hashivault://cosign', '--insecure-ignore-tlog', ref], { cwd: dir, env: venv });
    expect(byUri.code, byUri.stderr).toBe(0);
    const byFile = await cli(['verify', '--key', 'vault.pub', '--insecure-ignore-tlog', ref], { cwd: dir });
    expect(byFile.code).toBe(0);
    expect(byFile.stdout).toBe(byUri.stdout);
    // the token never shows up in output, even on failure
    const denied = await cli(['sign', '--key', 'hashivault://cosign', '--tlog-upload=false', ref], {
      cwd: dir,
      env: { ...venv, VAULT_TOKEN: 'hvs.wrong-token-value' },
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).not.toContain('hvs.wrong-token-value');
    expect(denied.stderr).not.toContain(vault.rootToken);
  });
});
