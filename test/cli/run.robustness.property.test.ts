/**
 * No CLI path ends in an uncaught exception. Fuzzed argument lists (verbs, flags and their values,
 * odd references: sha512/sha384 digests, over-long tags, unicode, empty strings, `--`, repeated flags)
 * run in-process through `runCli` (most runs) and through the installed bin (a handful): every run ends
 * with an exit status cosign uses (0, 1, 10, 11, 12), stderr carries no stack trace and no
 * "Unhandled", and nothing hangs. Every registry named is a loopback one (the in-process registry, or a
 * closed port): no traffic leaves the machine.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { writeKeyPair } from '../../src/keys/index.js';
import { anonymousKeychain, RegistryClient } from '../../src/oci/index.js';
import { isLoopbackRegistry, parseReference } from '../../src/reference.js';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { pushSignedImages } from '../helpers/many-images.js';
import { cli, ensureBuilt, tempDir } from './helpers.js';

const EXIT_STATUSES = new Set([0, 1, 10, 11, 12]);
const STACK = /\n\s+at \S|Unhandled|uncaught/i;
const PASSWORD = 'fuzz-password';

let reg: TestRegistry;
let dir: string;
let pubPath: string;
let keyPath: string;
let signed: string;
let pubPem: string;

beforeAll(async () => {
  ensureBuilt();
  reg = await startTestRegistry();
  dir = await tempDir();
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  pubPath = path.join(dir, 'plain.pub');
  pubPem = kp.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFile(pubPath, pubPem);
  const client = new RegistryClient({ keychain: anonymousKeychain });
  [signed] = (await pushSignedImages(client, reg.host, 'fuzz/app', 1, kp.privateKey)) as [string];
  client.close();
  keyPath = (await writeKeyPair(dir, { password: PASSWORD, prefix: 'cosign' })).privateKeyPath;
}, 120_000);
afterAll(async () => {
  await reg?.close();
});

/** Flags of the fuzzed lists that take the next argument as their value. */
const VALUE_FLAGS = new Set([
  '--key',
  '-a',
  '--annotations',
  '-o',
  '--output',
  '--max-workers',
  '-t',
  '--timeout',
  '--signature-digest-algorithm',
  '--signature',
  '--payload',
  '--registry-username',
  '--registry-password',
  '--registry-token',
  '--attachment-tag-prefix',
  '--type',
  '--only',
  '--output-file',
]);
const VERB_NAMES = new Set(['verify', 'sign', 'triangulate', 'tree', 'clean', 'copy', 'version', 'completion', 'public-key', 'help']);

/**
 * Keep every registry named a loopback one: an argument that could be read as an image reference (not
 * the verb, not a flag's value) and parses as one on another registry moves to the test registry;
 * URLs (key URLs, KMS schemes) are replaced.
 */
function loopbackOnly(args: readonly string[]): string[] {
  let afterDashDash = false;
  return args.map((a, i) => {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(a) && !a.startsWith('env://')) return `${reg.host}/x`;
    if (!afterDashDash && i === 0 && VERB_NAMES.has(a)) return a;
    if (!afterDashDash && a === '--') {
      afterDashDash = true;
      return a;
    }
    if (!afterDashDash && a.startsWith('-')) return a;
    if (!afterDashDash && i > 0 && args[i - 1] === '--output-file') return path.join(dir, 'out.txt'); // files only in the temp folder
    if (!afterDashDash && i > 0 && VALUE_FLAGS.has(args[i - 1] as string)) return a;
    try {
      const ref = parseReference(a);
      return isLoopbackRegistry(ref.registry) ? a : `${reg.host}/${ref.repository}`;
    } catch {
      return a; // does not parse: no traffic
    }
  });
}

function argvArbitrary(): fc.Arbitrary<string[]> {
  const hex = (n: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
  const ref = fc.oneof(
    fc.constant(() => signed),
    fc.constant(() => signed.replace(/@.*/, ':v0')),
    hex(128).map((h) => () => `${reg.host}/fuzz/app@sha512:${h}`),
    hex(96).map((h) => () => `${reg.host}/fuzz/app@sha384:${h}`),
    hex(64).map((h) => () => `${reg.host}/fuzz/app@sha256:${h}`),
    fc.constantFrom(
      () => `${reg.host}/fuzz/app:${'t'.repeat(128)}`,
      () => `${reg.host}/fuzz/app:${'t'.repeat(129)}`,
      () => `${reg.host}/fuzz/${'r'.repeat(300)}`,
      () => `${reg.host}/fuzz/ünïcødé:v1`,
      () => `${reg.host}/Fuzz/App`,
      () => `${reg.host}/fuzz/app@sha256:short`,
      () => `${reg.host}/fuzz/app@sha512:${'A'.repeat(128)}`,
      () => `${reg.host}/fuzz/nothing:here`,
      () => '127.0.0.1:1/closed/port:v1',
      () => '[::1]:1/closed/port@sha256:' + '1'.repeat(64),
      () => '',
      () => ' ',
      () => '--',
      () => '-',
      () => 'x'.repeat(3000),
      () => '\u0000',
      () => '😀/😀',
    ),
    fc.string({ maxLength: 20 }).map((s) => () => s),
    fc.string({ maxLength: 20 }).map((s) => () => `${reg.host}/${s}`),
  );
  const value = (xs: ReadonlyArray<() => string>): fc.Arbitrary<() => string> => fc.constantFrom(...xs);
  const flag = fc.oneof(
    fc.tuple(
      fc.constantFrom('--key', '--key='),
      value([() => pubPath, () => keyPath, () => path.join(dir, 'missing.pub'), () => '', () => 'env://FUZZ_PUB', () => 'env://NOPE', () => dir]),
    ),
    fc.tuple(fc.constantFrom('-a', '--annotations', '-a='), value([() => 'k=v', () => '=', () => 'novalue', () => '', () => 'a=b=c'])),
    fc.tuple(fc.constantFrom('-o', '--output', '--output='), value([() => 'json', () => 'text', () => '', () => 'yaml'])),
    fc.tuple(
      fc.constantFrom('--max-workers', '--max-workers='),
      value([() => '0', () => '1', () => '-1', () => 'abc', () => '100000', () => '3', () => '99999999999999999999']),
    ),
    fc.tuple(fc.constantFrom('-t', '--timeout', '--timeout='), value([() => '2s', () => '0', () => 'abc', () => '1ms', () => '-1s', () => '9999999h'])),
    fc.tuple(fc.constantFrom('--signature-digest-algorithm'), value([() => 'sha512', () => 'sha224', () => 'md5', () => ''])),
    fc.tuple(fc.constantFrom('--signature', '--payload'), value([() => path.join(dir, 'missing'), () => 'AAAAAAAAAAAAAAAAAAAA', () => pubPath, () => ''])),
    fc.tuple(
      fc.constantFrom('--registry-username', '--registry-password', '--registry-token', '--attachment-tag-prefix', '--type', '--only'),
      value([() => 'u', () => '', () => 'sig,att', () => 'bogus']),
    ),
    fc.tuple(fc.constantFrom('--output-file'), value([() => path.join(dir, 'out.txt')])),
    fc.constantFrom(
      ...[
        '--insecure-ignore-tlog',
        '--insecure-ignore-tlog=true',
        '--insecure-ignore-tlog=maybe',
        '--tlog-upload=false',
        '--allow-http-registry',
        '--allow-insecure-registry',
        '--upload=false',
        '--recursive',
        '-r',
        '--force',
        '-f',
        '-d',
        '--verbose',
        '--help',
        '-h',
        '--',
        '--no-such-flag',
        '-Z',
        '--key',
        '-a',
        '--local-image',
        '--offline',
        '--yes',
        '-y',
      ].map((f) => [f] as const),
    ),
  );
  const verb = fc.constantFrom(
    'verify',
    'verify',
    'verify',
    'sign',
    'triangulate',
    'tree',
    'clean',
    'copy',
    'version',
    'completion',
    'public-key',
    'help',
    'bogus',
    '',
    '--help',
    '-t',
    '--timeout=1s',
  );
  const piece = fc.oneof(
    { weight: 3, arbitrary: ref.map((r) => [r]) },
    {
      weight: 3,
      arbitrary: flag.map((f) =>
        f.length === 1
          ? [() => f[0]]
          : typeof f[0] === 'string' && f[0].endsWith('=')
            ? [() => `${f[0]}${(f[1] as () => string)()}`]
            : [() => f[0] as string, f[1] as () => string],
      ),
    },
  );
  const anything = fc.tuple(verb, fc.array(piece, { maxLength: 8 })).map(([v, pieces]) => [v, ...pieces.flat().map((f) => f())]);
  // Mostly well-formed verify and sign calls with odd references and a few extra flags: these get past
  // flag parsing to the registry.
  const wellFormed = fc
    .tuple(fc.constantFrom('verify', 'verify', 'sign', 'triangulate', 'tree'), fc.array(ref, { minLength: 1, maxLength: 4 }), fc.array(piece, { maxLength: 2 }))
    .map(([v, refs, pieces]) => [
      v,
      ...(v === 'verify' ? ['--key', pubPath, '--insecure-ignore-tlog=true'] : v === 'sign' ? ['--key', keyPath, '--tlog-upload=false'] : []),
      ...pieces.flat().map((f) => f()),
      ...refs.map((r) => r()),
    ]);
  return fc.oneof(anything, wellFormed).map(loopbackOnly);
}

/** A Writable that keeps what was written. */
function sink(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      cb();
    },
  });
  return Object.assign(w, { text: () => Buffer.concat(chunks).toString('utf8') });
}

const env = (): Record<string, string | undefined> => ({
  COSIGN_PASSWORD: PASSWORD,
  FUZZ_PUB: pubPem,
  DOCKER_CONFIG: path.join(dir, 'no-docker-config'),
  HOME: dir,
  PATH: process.env.PATH,
});

async function inProcess(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = sink();
  const stderr = sink();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`runCli did not finish within 8 s: ${JSON.stringify(argv)}`)), 8000);
  });
  try {
    const code = await Promise.race([runCli(argv, { stdout, stderr, stdin: Readable.from([]), env: env(), cwd: dir }), hang]);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    clearTimeout(timer);
  }
}

describe('CLI robustness: fuzzed argument lists', () => {
  it('sha512 and over-long references: one message, exit 1, no stack trace (bin)', async () => {
    for (const image of [`${reg.host}/fuzz/app@sha512:${'a'.repeat(128)}`, `${reg.host}/fuzz/app:${'t'.repeat(129)}`]) {
      const r = await cli(['verify', '--key', pubPath, '--insecure-ignore-tlog=true', image], { timeoutMs: 10_000 });
      expect(r.timedOut).toBe(false);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).toMatch(/^Error: .*$/m);
    }
  });

  it('in-process (runCli): every run ends with a cosign exit status, no stack trace, no hang', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(argvArbitrary(), async (argv) => {
        const r = await inProcess(argv);
        seen.set(r.code, (seen.get(r.code) ?? 0) + 1);
        expect(EXIT_STATUSES.has(r.code), `exit ${r.code} for ${JSON.stringify(argv)}:\n${r.stderr}`).toBe(true);
        expect(r.stderr, JSON.stringify(argv)).not.toMatch(STACK);
        if (r.code !== 0) expect(r.stderr, JSON.stringify(argv)).toMatch(/Error: /);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 250) },
    );
    // Not vacuous: runs got past flag parsing to the registry (verified, not found, no signatures).
    console.log('FUZZ', [...seen.entries()]);
    expect(seen.get(1)).toBeGreaterThan(0);
    expect([0, 10, 11, 12].some((c) => (seen.get(c) ?? 0) > 0)).toBe(true);
  }, 300_000);

  it('through the bin: the same, and the process ends', async () => {
    await fc.assert(
      // A real argument list cannot hold a NUL byte (the OS ends the string there).
      fc.asyncProperty(
        argvArbitrary().map((argv) => argv.map((a) => a.split('\u0000')[0] as string)),
        async (argv) => {
          const r = await cli(argv, { cwd: dir, env: env(), timeoutMs: 10_000 });
          expect(r.timedOut, JSON.stringify(argv)).toBe(false);
          expect(EXIT_STATUSES.has(r.code ?? -1), `exit ${r.code} for ${JSON.stringify(argv)}:\n${r.stderr}`).toBe(true);
          expect(r.stderr, JSON.stringify(argv)).not.toMatch(STACK);
        },
      ),
      { numRuns: 15 },
    );
  }, 300_000);

  it('an error nothing handled: one line, exit 1; the stack only with COSIGN_TS_DEBUG=1 (bin)', async () => {
    // A preloaded module makes a promise reject with nobody listening, while verify waits on a registry
    // that never answers.
    const never = await import('node:net').then(
      (net) =>
        new Promise<import('node:net').Server>((resolve) => {
          const s = net.createServer(() => undefined);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    );
    const preload = path.join(dir, 'reject.cjs');
    await writeFile(preload, "setTimeout(() => { Promise.reject(new Error('boom\\nsecond line')); }, 300);\n");
    try {
      const port = (never.address() as import('node:net').AddressInfo).port;
      const args = ['verify', '--key', pubPath, '--insecure-ignore-tlog=true', `127.0.0.1:${port}/x/y@sha256:${'2'.repeat(64)}`];
      for (const debug of [undefined, '1']) {
        const r = await cli(args, { env: { ...env(), NODE_OPTIONS: `--require=${preload}`, COSIGN_TS_DEBUG: debug }, timeoutMs: 10_000 });
        expect(r.timedOut).toBe(false);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('Error: internal error: boom second line');
        if (debug === undefined) {
          expect(r.stderr).not.toMatch(/\n\s+at \S/);
          expect(
            r.stderr
              .trim()
              .split('\n')
              .filter((l) => l.startsWith('Error:')),
          ).toHaveLength(1);
        } else {
          expect(r.stderr).toMatch(/\n\s+at \S/);
        }
      }
    } finally {
      never.close();
    }
  });
});
