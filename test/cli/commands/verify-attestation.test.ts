/**
 * `cosign-ts verify-attestation` as the built bin against the in-process registry: one envelope line
 * per verified attestation, cosign's check list, cosign 3.1's failure messages (exit 1), and the
 * refusals (`--policy`, keyless, tlog). `attestationFailure` maps library results to those messages.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestationFailure } from '../../../src/cli/commands/verify-attestation.js';
import type { Digest } from '../../../src/digest.js';
import { RegistryClient } from '../../../src/oci/client.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../../src/testing/index.js';
import { cli, ensureBuilt } from '../helpers.js';

describe('attestationFailure', () => {
  const digest = `sha256:${'ab'.repeat(32)}` as Digest;
  it('words failures as cosign 3.1 does', () => {
    expect(attestationFailure({ ok: true, digest, verified: [], rejected: [] }, 'custom')).toBeUndefined();
    expect(attestationFailure({ ok: false, digest, verified: [], rejected: [] }, 'custom')?.message).toBe('no matching attestations: ');
    const sig = { digest, code: 'SIGNATURE_INVALID' as const, reason: 'x' };
    expect(
      attestationFailure(
        {
          ok: false,
          digest,
          format: 'bundle',
          verified: [],
          rejected: [
            { ...sig, format: 'bundle' },
            { ...sig, format: 'bundle' },
          ],
        },
        'custom',
      )?.message,
    ).toBe(
      'no matching attestations: failed to verify signature: could not verify envelope: accepted signatures do not match threshold, Found: 0, Expected 1\nfailed to verify signature: could not verify envelope: accepted signatures do not match threshold, Found: 0, Expected 1',
    );
    expect(
      attestationFailure(
        {
          ok: false,
          digest,
          format: 'legacy',
          verified: [],
          rejected: [
            { ...sig, format: 'legacy' },
            { ...sig, format: 'legacy' },
          ],
        },
        'custom',
      )?.message,
    ).toBe(
      'no matching attestations: accepted signatures do not match threshold, Found: 0, Expected 1\n accepted signatures do not match threshold, Found: 0, Expected 1',
    );
    const type = { digest, code: 'TYPE_MISMATCH' as const, reason: 'x', format: 'bundle' as const };
    expect(
      attestationFailure(
        {
          ok: false,
          digest,
          format: 'bundle',
          verified: [],
          rejected: [
            { ...sig, format: 'bundle' },
            { ...type, predicateType: 'https://a' },
            { ...type, predicateType: 'https://b' },
          ],
        },
        'spdx',
      )?.message,
    ).toBe('none of the attestations matched the predicate type: spdx, found: https://a,https://b');
  });
});

describe('cosign-ts verify-attestation', () => {
  let dir: string;
  let reg: TestRegistry;
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  const env = { COSIGN_PASSWORD: 'pw' };
  const run = (args: string[]) => cli(args, { cwd: dir, env });
  const verify = ['verify-attestation', '--key', 'cosign.pub', '--insecure-ignore-tlog=true', '--allow-http-registry=true'];
  const warning = 'WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the attestation.\n';

  beforeAll(async () => {
    ensureBuilt();
    reg = await startTestRegistry();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-va-cli-'));
    expect((await run(['generate-key-pair'])).code).toBe(0);
    await writeFile(path.join(dir, 'vex.json'), '{"a":1}');
  }, 120_000);
  afterAll(async () => {
    client.close();
    await reg.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the verified envelopes of the type, with the check list (bundle and legacy)', async () => {
    for (const [format, extra] of [
      ['bundle', ['--new-bundle-format']],
      ['legacy', []],
    ] as const) {
      const d = await pushSampleImage(client, `${reg.host}/cli/va-${format}:v1`, { n: format });
      const ref = `${reg.host}/cli/va-${format}@${d}`;
      const a = await run([
        'attest',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--allow-http-registry=true',
        '--predicate',
        'vex.json',
        '--type',
        'openvex',
        ...extra,
        ref,
      ]);
      expect(a.code, a.stderr).toBe(0);
      const v = await run([...verify, '--type', 'openvex', ref]);
      expect(v.code, v.stderr).toBe(0);
      const lines = v.stdout.split('\n');
      expect(lines).toHaveLength(2);
      const envelope = JSON.parse(lines[0] as string) as { payload: string; payloadType: string };
      expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
      expect(JSON.parse(Buffer.from(envelope.payload, 'base64').toString())).toMatchObject({ predicate: { a: 1 } });
      expect(v.stderr).toBe(
        `${warning}\nVerification for ${ref} --\nThe following checks were performed on each of these signatures:\n  - The cosign claims were validated\n` +
          `${format === 'bundle' ? '  - Existence of the claims in the transparency log was verified offline\n' : ''}  - The signatures were verified against the specified public key\n`,
      );
      const text = await run([...verify, '--type', 'openvex', '-o', 'text', ref]);
      expect(text.stdout).toBe(v.stdout);
      const wrongType = await run([...verify, '--type', 'spdx', ref]);
      expect(wrongType.code).toBe(1);
      expect(wrongType.stdout).toBe('');
      expect(wrongType.stderr).toBe(
        `${warning}Error: none of the attestations matched the predicate type: spdx, found: https://openvex.dev/ns\nerror during command execution: none of the attestations matched the predicate type: spdx, found: https://openvex.dev/ns\n`,
      );
    }
  });

  it('no attestations: cosign 3.1 message, status 1', async () => {
    const d = await pushSampleImage(client, `${reg.host}/cli/va-none:v1`, { n: 'none' });
    const v = await run([...verify, `${reg.host}/cli/va-none@${d}`]);
    expect(v.code).toBe(1);
    expect(v.stderr).toBe(`${warning}Error: no matching attestations: \nerror during command execution: no matching attestations: \n`);
  });

  it.each([
    [[...verify, '--policy', 'p.cue', 'r.example/a:v1'], /--policy\) are not supported/],
    // without --key: keyless, which needs the certificate identity (as cosign)
    [['verify-attestation', '--insecure-ignore-tlog=true', 'r.example/a:v1'], /--certificate-identity or --certificate-identity-regexp is required/],
    [['verify-attestation', '--key', 'cosign.pub', 'r.example/a:v1'], /--insecure-ignore-tlog=true/],
    [[...verify, '--certificate-identity', 'x', 'r.example/a:v1'], /--key and --certificate-identity cannot be used together/],
    [[...verify, '--type', 'bogus', 'r.example/a:v1'], /invalid predicate type/],
  ])('refuses %j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });
});
