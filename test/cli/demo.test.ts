/**
 * The embedded demo (`src/cli/demo.ts`) behind the verbs' `{stdout, stderr, signal}`: its lines go to
 * the given stdout (and to `--output-file`), an aborted signal stops it promptly with a clean message
 * and exit status (registry closed), and its output is otherwise what it always was.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { runCli } from '../../src/cli/run.js';
import { cleanEnv, cli, cliPath, ensureBuilt, tempDir } from './helpers.js';

beforeAll(() => ensureBuilt(), 120_000);

/** A writable that keeps what it is given; `onWrite` sees the text so far after each write. */
function sink(onWrite?: (text: string) => void): Writable & { text(): string } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      onWrite?.(text);
      cb();
    },
  });
  return Object.assign(w, { text: () => text });
}

/** The demo's output with its varying parts (port, digests, temp folder) replaced. */
function normalise(text: string): string {
  return text
    .replace(/127\.0\.0\.1:\d+/g, 'HOST')
    .replace(/sha256[:-][0-9a-f]{64}/g, 'DIGEST')
    .replace(/\/[^\s,]*cosign-ts-demo-[A-Za-z0-9]+/g, 'TMP');
}

/** What `node dist/demo.js` printed before the move (normalised): the output must stay the same. */
const EXPECTED = `1. in-process OCI registry listening on http://HOST
2. pushed sample image HOST/demo/hello:v1 → DIGEST
3. generated ECDSA P-256 key pair: TMP/cosign.key (encrypted, mode 0600), TMP/cosign.pub
4. signed HOST/demo/hello@DIGEST
   signature artifact: HOST/demo/hello:DIGEST.sig (manifest DIGEST)
   payload: {"critical":{"identity":{"docker-reference":"HOST/demo/hello"},"image":{"docker-manifest-digest":"DIGEST"},"type":"cosign container image signature"},"optional":{"demo":"true"}}
5. verified: 1 valid signature(s). cosign would print on stderr:

Verification for HOST/demo/hello@DIGEST --
The following checks were performed on each of these signatures:
  - The specified annotations were verified.
  - The cosign claims were validated
  - The signatures were verified against the specified public key
   and on stdout:
[{"critical":{"identity":{"docker-reference":"HOST/demo/hello"},"image":{"docker-manifest-digest":"DIGEST"},"type":"cosign container image signature"},"optional":{"demo":"true"}}]
6. tampered signature artifact rejected: NO_MATCHING_SIGNATURES: no matching signatures for HOST/demo/hello@DIGEST: signature does not verify with the key (layer DIGEST)
7. verification with another key rejected: NO_MATCHING_SIGNATURES

demo finished: sign, verify and both rejections behaved as cosign does.
`;

/** Whether nothing listens at `url` any more. */
async function refused(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch (e) {
    return /ECONNREFUSED/.test(String((e as { cause?: unknown }).cause));
  }
}

describe('runDemo writes through the injected streams', () => {
  it('writes every line to the given stdout (nothing to stderr), the same output as before', async () => {
    const stdout = sink();
    const stderr = sink();
    const code = await runDemo({ stdout, stderr, signal: new AbortController().signal });
    expect(code).toBe(0);
    expect(stderr.text()).toBe('');
    expect(normalise(stdout.text())).toBe(EXPECTED);
  }, 60_000);

  it('cosign-ts --output-file FILE demo writes the demo to FILE, not to stdout', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'demo.txt');
    const stdout = sink();
    const stderr = sink();
    expect(await runCli(['--output-file', file, 'demo'], { stdout, stderr })).toBe(0);
    expect(stdout.text()).toBe('');
    expect(stderr.text()).toBe('');
    expect(normalise(await readFile(file, 'utf8'))).toBe(EXPECTED);
  }, 60_000);

  it('the installed bin: --output-file receives the demo', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'demo.txt');
    const r = await cli(['--output-file', file, 'demo'], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(normalise(await readFile(file, 'utf8'))).toBe(EXPECTED);
  }, 60_000);
});

describe('an aborted signal stops the demo', () => {
  it('runDemo rejects with the signal reason promptly, before the next step, and closes its registry', async () => {
    const controller = new AbortController();
    const reason = new Error('stop here');
    let abortedAt = 0;
    const stdout = sink((text) => {
      if (abortedAt === 0 && /^1\. /m.test(text)) {
        abortedAt = Date.now();
        controller.abort(reason);
      }
    });
    await expect(runDemo({ stdout, stderr: sink(), signal: controller.signal })).rejects.toBe(reason);
    expect(Date.now() - abortedAt).toBeLessThan(2000);
    expect(stdout.text()).not.toMatch(/^2\. /m);
    const url = /listening on (http:\/\/\S+)/.exec(stdout.text())?.[1];
    expect(url).toBeDefined();
    expect(await refused(url as string)).toBe(true);
  }, 30_000);

  it('an already aborted signal starts nothing', async () => {
    const stdout = sink();
    await expect(runDemo({ stdout, stderr: sink(), signal: AbortSignal.abort(new Error('no')) })).rejects.toThrow('no');
    expect(stdout.text()).toBe('');
  });

  it('runCli: an interrupt ends the demo with "Error: interrupted" and exit status 130, no stack', async () => {
    const interrupt = new AbortController();
    const stderr = sink();
    const stdout = sink((text) => {
      if (/^1\. /m.test(text)) interrupt.abort();
    });
    expect(await runCli(['demo'], { stdout, stderr, interrupt: interrupt.signal })).toBe(130);
    expect(stderr.text()).toBe('Error: interrupted\nerror during command execution: interrupted\n');
    expect(stdout.text()).not.toMatch(/^2\. /m);
  }, 30_000);

  it('runCli: --timeout stops the demo as a deadline', async () => {
    const stdout = sink();
    const stderr = sink();
    expect(await runCli(['--timeout', '20ms', 'demo'], { stdout, stderr })).toBe(1);
    expect(stderr.text()).toBe('Error: context deadline exceeded (timeout 20ms)\nerror during command execution: context deadline exceeded (timeout 20ms)\n');
    expect(stdout.text()).not.toMatch(/demo finished/);
  }, 30_000);

  it('the installed bin: Ctrl-C (SIGINT) ends the demo within a second, exit 130, one clean error', async () => {
    const child = spawn(process.execPath, [cliPath, 'demo'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...cleanEnv() } as NodeJS.ProcessEnv,
    });
    let out = '';
    let err = '';
    let sentAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (sentAt === 0 && /^1\. /m.test(out)) {
        sentAt = Date.now();
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    expect(sentAt).toBeGreaterThan(0);
    expect(Date.now() - sentAt).toBeLessThan(1500);
    expect({ code, signal, err }).toEqual({ code: 130, signal: null, err: 'Error: interrupted\nerror during command execution: interrupted\n' });
    expect(out).not.toMatch(/demo finished/);
  }, 30_000);
});
