/**
 * The built CLI as a subprocess, without a registry: help and usage errors for every verb, version,
 * completion, demo, key generation/import/export with the password from the environment, from stdin
 * and from a pseudo-terminal (no echo), and the clear "not supported yet" failures.
 */
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { VERBS } from '../../src/cli/commands/index.js';
import { skipReal } from '../helpers/real/proc.js';
import { cli, cliInPty, ensureBuilt, tempDir } from './helpers.js';

beforeAll(() => ensureBuilt(), 120_000);

const VERB_NAMES = VERBS.map((v) => v.name);

describe('help and usage', () => {
  it('root help lists every verb and the exit statuses', async () => {
    for (const args of [[], ['--help'], ['-h'], ['help']]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      for (const v of VERB_NAMES) expect(r.stdout).toContain(`  ${v} `);
      expect(r.stdout).toMatch(/10 +verify: no signatures found/);
      expect(r.stdout).toContain('COSIGN_PASSWORD');
    }
  });

  it.each(VERB_NAMES)('%s --help prints usage with examples on stdout and exits 0', async (verb) => {
    for (const flag of ['--help', '-h']) {
      const r = await cli([verb, flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage:\n  cosign-ts ${verb} `);
      expect(r.stdout).toMatch(/Examples:\n {2}\S/);
      expect(r.stdout).toContain('Flags:\n');
      expect(r.stderr).toBe('');
    }
    const viaHelp = await cli(['help', verb]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain(`cosign-ts ${verb} `);
  });

  it.each(VERB_NAMES)('%s with an unknown flag is a usage error: exit 1, cobra wording, a pointer to --help (not the usage)', async (verb) => {
    const r = await cli([verb, '--no-such-flag']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`Error: unknown flag: --no-such-flag\nRun 'cosign-ts ${verb} --help' for usage.\n`);
  });

  it('unknown shorthand, missing value, bad boolean, wrong argument count', async () => {
    const short = await cli(['sign', '-Z', 'x']);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("Error: unknown shorthand flag: 'Z' in -Z");
    const missing = await cli(['verify', 'img', '--key']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error: flag needs an argument: --key');
    const badBool = await cli(['sign', '--tlog-upload=maybe', 'img']);
    expect(badBool.code).toBe(1);
    expect(badBool.stderr).toContain('Error: invalid argument "maybe" for "--tlog-upload" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
    const noArgs = await cli(['verify', '--key', 'k.pub']);
    expect(noArgs.code).toBe(1);
    expect(noArgs.stderr).toContain('Error: requires at least 1 arg(s), only received 0');
    expect(noArgs.stderr).toBe("Error: requires at least 1 arg(s), only received 0\nRun 'cosign-ts verify --help' for usage.\n");
    const tooMany = await cli(['triangulate', 'a', 'b']);
    expect(tooMany.code).toBe(1);
    expect(tooMany.stderr).toContain('Error: accepts 1 arg(s), received 2');
    const badType = await cli(['clean', '--type', 'bogus', 'img']);
    expect(badType.code).toBe(1);
    expect(badType.stderr).toContain(
      'Error: invalid argument "bogus" for "--type" flag: must be one of "signature", "attestation", "referrer", "sbom", or "all"',
    );
  });

  it('--timeout is a Go duration as cosign parses it: beyond 292 years, empty, or unit-less is a usage error', async () => {
    // Each message is what cosign 2.5 printed for the same value.
    for (const [value, why] of [
      ['9999999h', 'invalid duration "9999999h"'],
      ['9223372036854775808ns', 'invalid duration "9223372036854775808ns"'],
      ['', 'invalid duration ""'],
      ['1', 'missing unit in duration "1"'],
      ['1e3s', 'unknown unit "e" in duration "1e3s"'],
    ]) {
      const r = await cli(['verify', '--key', 'k.pub', `--timeout=${value}`, 'img']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `Error: invalid argument ${JSON.stringify(value)} for "-t, --timeout" flag: time: ${why}\nRun 'cosign-ts verify --help' for usage.\n`,
      );
    }
  });

  it('--timeout 0 (or less) has passed already, as in cosign; a verb that waits on nothing still runs', async () => {
    const key = path.resolve(__dirname, '../../fixtures/harbor/signer-key-from-rekor-entry.derived.pub');
    for (const t of ['0', '-1s', '0.000000001ns']) {
      const r = await cli(['verify', '--key', key, '--insecure-ignore-tlog=true', '-t', t, '127.0.0.1:9/app@sha256:' + 'a'.repeat(64)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^Error: .*(context deadline exceeded|the deadline of the whole call passed)/m);
    }
    expect((await cli(['version', '-t', '0'])).code).toBe(0);
  });

  it('the longest --timeout Go accepts is a deadline far away, not a timer that fires at once', async () => {
    const key = path.resolve(__dirname, '../../fixtures/harbor/signer-key-from-rekor-entry.derived.pub');
    // Port 9 (discard) refuses at once: the run ends with the registry error, not "context deadline exceeded".
    const r = await cli(['verify', '--key', key, '--insecure-ignore-tlog=true', '-t', '2562047h', '127.0.0.1:9/app@sha256:' + 'a'.repeat(64)]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('deadline');
    expect(r.stderr).not.toMatch(/RangeError|TimeoutOverflowWarning|\n\s+at /);
  });

  it('unknown verb: cobra wording, exit 1', async () => {
    const r = await cli(['bogusverb']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: unknown command "bogusverb" for "cosign-ts"\nRun \'cosign-ts --help\' for usage.\n');
  });

  it('annotation values are split like cobra StringSlice; a bare quote is a usage error', async () => {
    const r = await cli(['sign', '--key', 'x.key', '--tlog-upload=false', '-a', 'k=a"b', 'img@sha256:' + 'a'.repeat(64)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: invalid argument "k=a\\"b" for "-a, --annotations" flag: parse error on line 1, column 4: bare " in non-quoted-field');
  });
});

describe('version, completion, demo', () => {
  it('version prints text, --json prints cosign keys', async () => {
    const pkg = JSON.parse(await readFile(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
    const t = await cli(['version']);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(`GitVersion:    v${pkg.version}`);
    const j = await cli(['version', '--json']);
    expect(j.code).toBe(0);
    const v = JSON.parse(j.stdout) as Record<string, string>;
    expect(Object.keys(v)).toEqual(['gitVersion', 'gitCommit', 'gitTreeState', 'buildDate', 'goVersion', 'compiler', 'platform']);
    expect(v.gitVersion).toBe(`v${pkg.version}`);
  });

  it.each(['bash', 'zsh', 'fish'])('completion %s names every verb', async (shell) => {
    const r = await cli(['completion', shell]);
    expect(r.code).toBe(0);
    for (const v of VERB_NAMES) expect(r.stdout).toContain(v);
    expect(r.stdout).toContain('tlog-upload');
  });

  it('completion with an unknown shell is a usage error', async () => {
    const r = await cli(['completion', 'tcsh']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: invalid argument "tcsh" for "cosign-ts completion"\nRun \'cosign-ts completion --help\' for usage.\n');
  });

  it('demo runs the embedded demo, or says it is not in this build', async () => {
    const r = await cli(['demo'], { timeoutMs: 120_000 });
    if (r.code !== 0) expect(r.stderr).toContain('the demo is not available in this build');
  });
});

describe('keys', () => {
  it('generate-key-pair with COSIGN_PASSWORD writes cosign.key (0600) and cosign.pub (0644); public-key reads it back', async () => {
    const dir = await tempDir();
    const r = await cli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('Private key written to cosign.key\nPublic key written to cosign.pub\n');
    expect((await stat(path.join(dir, 'cosign.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'cosign.pub'))).mode & 0o777).toBe(0o644);
    const key = await readFile(path.join(dir, 'cosign.key'), 'utf8');
    expect(key).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    expect(r.stderr + r.stdout).not.toContain('pw\n');
    const pub = await cli(['public-key', '--key', 'cosign.key'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
    expect(pub.code).toBe(0);
    expect(pub.stdout).toBe(await readFile(path.join(dir, 'cosign.pub'), 'utf8'));
    const wrong = await cli(['public-key', '--key', 'cosign.key'], { cwd: dir, env: { COSIGN_PASSWORD: 'nope' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^Error: .*(password|decrypt)/);
    expect(wrong.stderr).not.toContain('nope');
    const out = await cli(['public-key', '--key', 'cosign.key', '--outfile', 'exported.pub'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
    expect(out.code).toBe(0);
    expect(out.stderr).toBe('Public key written to exported.pub\n');
    expect(await readFile(path.join(dir, 'exported.pub'), 'utf8')).toBe(pub.stdout);
  });

  it('the empty COSIGN_PASSWORD is a password; without it the password is all of stdin', async () => {
    const dir = await tempDir();
    expect((await cli(['generate-key-pair', '--output-key-prefix', 'empty'], { cwd: dir, env: { COSIGN_PASSWORD: '' } })).code).toBe(0);
    expect((await cli(['public-key', '--key', 'empty.key'], { cwd: dir, env: { COSIGN_PASSWORD: '' } })).code).toBe(0);
    const gen = await cli(['generate-key-pair', '--output-key-prefix', 'piped'], { cwd: dir, input: 'line\n' });
    expect(gen.code).toBe(0);
    // the newline is part of the password, as in cosign
    expect((await cli(['public-key', '--key', 'piped.key'], { cwd: dir, input: 'line\n' })).code).toBe(0);
    expect((await cli(['public-key', '--key', 'piped.key'], { cwd: dir, input: 'line' })).code).toBe(1);
    expect((await cli(['public-key', '--key', 'piped.key'], { cwd: dir, env: { COSIGN_PASSWORD: 'line\n' } })).code).toBe(0);
  });

  it('a wrong password says where it came from (empty stdin, stdin without newline, COSIGN_PASSWORD), never what it was', async () => {
    const dir = await tempDir();
    expect((await cli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'secret-pw' } })).code).toBe(0);
    const empty = await cli(['public-key', '--key', 'cosign.key'], { cwd: dir, input: '' });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(
      /^Error: .*decryption failed.*; COSIGN_PASSWORD is not set and stdin is not a terminal, so the password was all of stdin: it was empty/,
    );
    const noNewline = await cli(['public-key', '--key', 'cosign.key'], { cwd: dir, input: 'secret-px' });
    expect(noNewline.stderr).toContain('so the password was all of stdin: it has no trailing newline');
    expect(noNewline.stderr).not.toContain('secret-p');
    const env = await cli(['public-key', '--key', 'cosign.key'], { cwd: dir, env: { COSIGN_PASSWORD: 'secret-px' } });
    expect(env.stderr).toContain('; the password came from COSIGN_PASSWORD\n');
    expect(env.stderr).not.toContain('secret-p');
  });

  it('generate-key-pair asks before overwriting; EOF or "n" declines, "y" overwrites', async () => {
    const dir = await tempDir();
    expect((await cli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'a' } })).code).toBe(0);
    const before = await readFile(path.join(dir, 'cosign.key'), 'utf8');
    const declined = await cli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'b' } });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toBe(
      'WARNING: File cosign.key already exists. Overwrite?\nAre you sure you would like to continue? [y/N] Error: user declined the prompt\nerror during command execution: user declined the prompt\n',
    );
    expect(await readFile(path.join(dir, 'cosign.key'), 'utf8')).toBe(before);
    const yes = await cli(['generate-key-pair', '--output', 'json'], { cwd: dir, env: { COSIGN_PASSWORD: 'b' }, input: 'y\n' });
    expect(yes.code).toBe(0);
    expect(JSON.parse(yes.stdout)).toEqual({ privateKey: 'cosign.key', publicKey: 'cosign.pub' });
    expect(await readFile(path.join(dir, 'cosign.key'), 'utf8')).not.toBe(before);
  });

  it.skipIf(skipReal(['script']))('password from a pseudo-terminal: prompted twice on generate, once on use, never echoed', async () => {
    const dir = await tempDir();
    const secret = 'pty-S3cret';
    const gen = await cliInPty(
      ['generate-key-pair'],
      [
        ['Enter password for private key: ', secret],
        ['Enter password for private key again: ', secret],
      ],
      { cwd: dir },
    );
    expect(gen.code).toBe(0);
    expect(gen.output).toContain('Enter password for private key: ');
    expect(gen.output).toContain('Enter password for private key again: ');
    expect(gen.output).toContain('Private key written to cosign.key');
    expect(gen.output).not.toContain(secret);
    const pub = await cliInPty(['public-key', '--key', 'cosign.key'], [['Enter password for private key: ', secret]], { cwd: dir });
    expect(pub.code).toBe(0);
    expect(pub.output).toContain('-----BEGIN PUBLIC KEY-----');
    expect(pub.output).not.toContain(secret);
    // the same key opens with the password from the environment
    expect((await cli(['public-key', '--key', 'cosign.key'], { cwd: dir, env: { COSIGN_PASSWORD: secret } })).code).toBe(0);
    const mismatch = await cliInPty(
      ['generate-key-pair', '--output-key-prefix', 'other'],
      [
        ['Enter password for private key: ', 'one'],
        ['Enter password for private key again: ', 'two'],
      ],
      { cwd: dir },
    );
    expect(mismatch.code).toBe(1);
    expect(mismatch.output).toContain('Error: passwords do not match');
  });

  it('import-key-pair re-encrypts EC, RSA and Ed25519 PEM keys; the result signs like a generated key', async () => {
    const dir = await tempDir();
    const keys = {
      ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }),
      rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }),
      ed: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    };
    for (const [name, pem] of Object.entries(keys)) {
      await writeFile(path.join(dir, `${name}.pem`), pem);
      const r = await cli(['import-key-pair', '--key', `${name}.pem`, '-o', `imported-${name}`], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe(`Private key written to imported-${name}.key\nPublic key written to imported-${name}.pub\n`);
      const pub = await cli(['public-key', '--key', `imported-${name}.key`], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
      expect(pub.stdout).toBe(await readFile(path.join(dir, `imported-${name}.pub`), 'utf8'));
    }
    const defaultName = await cli(['import-key-pair', '--key', 'ec.pem'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
    expect(defaultName.code).toBe(0);
    expect(defaultName.stderr).toContain('Private key written to import-cosign.key');
    const again = await cli(['import-key-pair', '--key', 'ec.pem', '-y'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('WARNING: File import-cosign.key already exists. Overwrite?');
    const noKey = await cli(['import-key-pair'], { cwd: dir });
    expect(noKey.code).toBe(1);
    const encrypted = await cli(['import-key-pair', '--key', 'import-cosign.key', '-o', 'x'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
    expect(encrypted.code).toBe(1);
  });

  it('the bundled CLI signs with an Ed25519 key: pure Ed25519 like cosign 2.5, the same bytes as the library signer (deterministic)', async () => {
    const dir = await tempDir();
    const priv = generateKeyPairSync('ed25519').privateKey;
    await writeFile(path.join(dir, 'ed.pem'), priv.export({ type: 'pkcs8', format: 'pem' }));
    expect((await cli(['import-key-pair', '--key', 'ed.pem', '-o', 'ed'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } })).code).toBe(0);
    const ref = `127.0.0.1:1/ed/app@sha256:${'ab'.repeat(32)}`; // --upload=false with a digest: no registry contact
    const r = await cli(['sign', '--key', 'ed.key', '--tlog-upload=false', '--upload=false', '--output-signature', 'sig', '--output-payload', 'payload', ref], {
      cwd: dir,
      env: { COSIGN_PASSWORD: 'pw' },
    });
    expect(r.code, r.stderr).toBe(0);
    const payload = await readFile(path.join(dir, 'payload'));
    const sig = Buffer.from(await readFile(path.join(dir, 'sig'), 'utf8'), 'base64');
    const keys = await import('../../src/keys/index.js');
    const expected = await keys.signerFromPrivateKey(priv, 'ed.pem').sign(payload);
    expect(sig.toString('base64')).toBe(Buffer.from(expected).toString('base64'));
    expect(sig.toString('base64')).toBe(cryptoSign(null, payload, priv).toString('base64'));
    expect(keys.verifySignature(keys.parsePublicKey(await readFile(path.join(dir, 'ed.pub'))), payload, sig)).toBe(true);
  });

  it('env:// key references', async () => {
    const dir = await tempDir();
    await cli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
    const key = await readFile(path.join(dir, 'cosign.key'), 'utf8');
    const r = await cli(['public-key', '--key', 'env://MY_KEY'], { env: { COSIGN_PASSWORD: 'pw', MY_KEY: key } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await readFile(path.join(dir, 'cosign.pub'), 'utf8'));
    const unset = await cli(['public-key', '--key', 'env://NOT_SET_ANYWHERE'], { env: { COSIGN_PASSWORD: 'pw' } });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('NOT_SET_ANYWHERE');
  });
});

describe('features cosign-ts does not have yet fail clearly (never silently ignored)', () => {
  const img = `127.0.0.1:1/x@sha256:${'a'.repeat(64)}`;
  it('keyless sign with no identity token says where a token comes from', async () => {
    const s = await cli(['sign', '--tlog-upload=false', img], {
      env: { SIGSTORE_ID_TOKEN: '', ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' },
    });
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('no OIDC identity token');
  });
});

describe('keyless verify: flags and trust (no network)', () => {
  const img = `127.0.0.1:1/x@sha256:${'a'.repeat(64)}`;
  const root = path.resolve('fixtures/sigstore-go/trust/trusted-root-public-good.json');
  it('needs an issuer and an identity, like cosign', async () => {
    const v = await cli(['verify', '--trusted-root', root, '--certificate-identity', 'me@example.com', img]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required');
    const w = await cli(['verify', '--trusted-root', root, '--certificate-oidc-issuer', 'https://accounts.example.com', img]);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain('--certificate-identity or --certificate-identity-regexp is required');
  });
  it('--key with an identity flag is a usage error', async () => {
    const v = await cli(['verify', '--key', 'cosign.pub', '--certificate-identity', 'me@example.com', img]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('cannot be used together');
  });
  it('a bad trusted root is reported before the registry is asked', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'root.json'), '{"mediaType":"nope"}');
    const v = await cli(['verify', '--trusted-root', path.join(dir, 'root.json'), '--certificate-identity', 'a', '--certificate-oidc-issuer', 'b', img]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('loading the trusted root');
  });
  it('with a trusted root, keyless verification runs (and reaches the registry)', async () => {
    const v = await cli([
      'verify',
      '--trusted-root',
      root,
      '--certificate-identity',
      'me@example.com',
      '--certificate-oidc-issuer',
      'https://accounts.example.com',
      img,
    ]);
    expect(v.code).not.toBe(0);
    expect(v.stderr).not.toContain('not supported');
  });
  it('verify without --insecure-ignore-tlog and without a Rekor key', async () => {
    const dir = await tempDir();
    await cli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
    const r = await cli(['verify', '--key', 'cosign.pub', img], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--insecure-ignore-tlog=true');
    expect(r.stderr).toContain('SIGSTORE_REKOR_PUBLIC_KEY');
  });
  it.each([
    [['sign', '--key', 'k', '--tlog-upload=false', '--registry-referrers-mode', 'oci-1-1', img], 'registry-referrers-mode'],
    [['sign', '--key', 'k', '--tlog-upload=false', '--sign-container-identity', 'x', img], 'sign-container-identity'],
    [['verify', '--key', 'k', '--insecure-ignore-tlog', '--check-claims=false', img], 'check-claims'],
    [['copy', '--platform', 'linux/amd64', img, img], 'platform'],
    [['generate-key-pair', 'k8s://ns/secret'], 'k8s://'],
    [['sign', '--key', 'pkcs11:token=x', '--tlog-upload=false', img], 'pkcs11'],
  ])('%j', async (args, what) => {
    const r = await cli(args, { env: { COSIGN_PASSWORD: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(what);
    expect(r.stderr).toContain('not supported by cosign-ts yet');
  });
});
