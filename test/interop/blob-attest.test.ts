/**
 * Blob attestations across implementations (key-based, no tlog), with real cosign 2.5.0 and 3.1.1:
 * - the statement, envelope and bundle bytes cosign-ts writes are the ones each cosign writes (same
 *   predicate, same subject; only the signature and a custom predicate's timestamp differ);
 * - cosign 2.5 / 3.1 `attest-blob` (envelope, legacy bundle, Sigstore bundle) → cosign-ts
 *   `verify-blob-attestation` prints what cosign prints, exit status included, on success and on failure;
 * - cosign-ts `attest-blob` → each cosign `verify-blob-attestation` accepts, and rejects a wrong key,
 *   another blob and a wrong `--type`.
 * cosign 2.5 verifies Sigstore bundles only through a trusted root: an empty one (`--trusted-root`) lets it
 * check a key-based bundle offline.
 * cosign 2.5 does not check `--type` for Sigstore bundles (cosign 3.1 and cosign-ts do).
 * The one intended difference: cosign trusts the public key embedded in a legacy bundle even when `--key`
 * names another; cosign-ts only trusts `--key`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBlobAttestation } from '../../src/blob/index.js';
import { parsePublicKey } from '../../src/keys/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign, cosign3, isolatedToolEnv, skipReal, type RunResult } from '../helpers/real/index.js';

type Tool = (args: readonly string[], opts?: { cwd?: string; env?: Record<string, string> }) => Promise<RunResult>;

describe.skipIf(skipReal(['cosign', 'cosign3']))('blob attestations: interop with cosign 2.5 and 3.1', () => {
  let dir: string;
  let env: Record<string, string>;
  const file = (name: string) => path.join(dir, name);
  const c2: Tool = (args) => cosign(args, { cwd: dir, env });
  const c3: Tool = (args) => cosign3(args, { cwd: dir, env });
  const ours: Tool = (args) => cli(args, { cwd: dir, env });
  const c3sign = ['--tlog-upload=false', '--use-signing-config=false'];
  const verifyArgs = (key: string, src: string[], type: string, blob = 'blob.bin') => [
    'verify-blob-attestation',
    '--key',
    key,
    ...src,
    '--type',
    type,
    '--insecure-ignore-tlog=true',
    blob,
  ];
  const payloadOf = async (bundleFile: string): Promise<string> => {
    const b = JSON.parse(await readFile(file(bundleFile), 'utf8')) as { dsseEnvelope: { payload: string } };
    return Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8');
  };
  const noTime = (s: string) => s.replace(/"Timestamp":"[0-9TZ:-]+"/, '"Timestamp":"T"');

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-blob-attest-interop-'));
    env = { ...(await isolatedToolEnv(file('home'))), COSIGN_PASSWORD: 'pw' };
    const gen = await c2(['generate-key-pair']);
    expect(gen.code, gen.stderr).toBe(0);
    const other = await c3(['generate-key-pair', '--output-key-prefix', 'other']);
    expect(other.code, other.stderr).toBe(0);
    await writeFile(file('blob.bin'), 'release contents\n');
    await writeFile(file('other.bin'), 'release contentS\n');
    await writeFile(file('pred.json'), '{"@context":"https://openvex.dev/ns/v0.2.0","statements":[],"author":"me","version":1}\n');
    await writeFile(file('tr.json'), '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}');
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each(['custom', 'spdx', 'spdxjson', 'cyclonedx', 'openvex', 'vuln', 'https://example.com/predicate/v1'])(
    '--type %s: the same statement, envelope, bundle and output lines as cosign 2.5 (legacy) and cosign 3.1 (bundle)',
    async (type) => {
      // cosign 2.5, legacy format
      const theirs = await c2([
        'attest-blob',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--predicate',
        'pred.json',
        '--type',
        type,
        '--bundle',
        'c2.json',
        '--output-attestation',
        'c2.att',
        'blob.bin',
      ]);
      const mine = await ours([
        'attest-blob',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--predicate',
        'pred.json',
        '--type',
        type,
        '--bundle',
        't2.json',
        '--output-attestation',
        't2.att',
        'blob.bin',
      ]);
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(mine.code, mine.stderr).toBe(0);
      expect(mine.stderr).toBe(theirs.stderr.replaceAll('c2.', 't2.'));
      expect(noTime(await readFile(file('t2.att'), 'utf8'))).toBe(noTime(await readFile(file('c2.att'), 'utf8')));
      expect(mine.stdout.endsWith('}\n')).toBe(true);
      // same envelope around the same payload (the payload differs only by a custom Timestamp)
      const payload = (out: string) => noTime(Buffer.from((JSON.parse(out) as { payload: string }).payload, 'base64').toString());
      expect(payload(mine.stdout)).toBe(payload(theirs.stdout));
      expect(Object.keys(JSON.parse(mine.stdout))).toEqual(Object.keys(JSON.parse(theirs.stdout)));
      expect(JSON.parse(mine.stdout).signatures.map((s: object) => Object.keys(s))).toEqual([['keyid', 'sig']]);
      const legacy = (f: string) => readFile(file(f), 'utf8').then((s) => JSON.parse(s) as { base64Signature: string; cert: string });
      const [lt, lc] = [await legacy('t2.json'), await legacy('c2.json')];
      expect(Object.keys(lt)).toEqual(Object.keys(lc));
      expect(lt.cert).toBe(lc.cert);
      expect(payload(Buffer.from(lt.base64Signature, 'base64').toString())).toBe(payload(Buffer.from(lc.base64Signature, 'base64').toString()));

      // cosign 3.1, its default (Sigstore bundle) format
      const t3 = await c3(['attest-blob', '--key', 'cosign.key', ...c3sign, '--predicate', 'pred.json', '--type', type, '--bundle', 'c3.json', 'blob.bin']);
      expect(t3.code, t3.stderr).toBe(0);
      const m3 = await ours([
        'attest-blob',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--new-bundle-format',
        '--predicate',
        'pred.json',
        '--type',
        type,
        '--bundle',
        't3.json',
        'blob.bin',
      ]);
      expect(m3.code, m3.stderr).toBe(0);
      expect(noTime(await payloadOf('t3.json'))).toBe(noTime(await payloadOf('c3.json')));
      const shape = (s: string) => s.replace(/"payload":"[^"]+"/, '"payload":"P"').replace(/"sig":"[^"]+"/, '"sig":"S"');
      expect(shape(await readFile(file('t3.json'), 'utf8'))).toBe(shape(await readFile(file('c3.json'), 'utf8')));
    },
    120_000,
  );

  it('typed predicates (vuln, SLSA v0.2 and v1): the statement cosign 2.5 writes after its Go-struct round trip', async () => {
    await writeFile(
      file('vuln.json'),
      '{"metadata":{"scanFinishedOn":"2024-05-01T10:00:00.500+00:00","scanStartedOn":"2024-05-01T09:00:00.000+02:00"},"scanner":{"result":{"b":1,"a":[true]},"URI":"pkg:grype","db":{"version":"5"}},"extra":1}',
    );
    await writeFile(
      file('slsa.json'),
      '{"builder":{"id":"b"},"buildType":"t","materials":[{"uri":"git+https://x","digest":{"sha1":"ab"}},{}],"metadata":{"completeness":{"materials":true},"buildStartedOn":"2024-01-01T00:00:00Z"},"buildConfig":{},"invocation":{"parameters":{},"configSource":{"entryPoint":"e","digest":{}}},"z":[1]}',
    );
    await writeFile(file('noslsa.json'), '{"buildType":"t"}');
    await writeFile(
      file('slsa1.json'),
      '{"runDetails":{"byproducts":[{"content":"aGk=","mediaType":"m","name":"n","digest":{}}],"builder":{"builderDependencies":[{}],"version":{"v":"1"},"id":"b"},"metadata":{"invocationId":"i","finishedOn":"2024-01-01T00:00:00.250+01:00"}},"buildDefinition":{"buildType":"t","internalParameters":{},"externalParameters":{"b":[1,{"d":null,"c":1.5}]},"resolvedDependencies":[{"uri":"u","digest":{"sha1":"ab"},"annotations":{"y":true,"x":1}}]},"zz":1}',
    );
    for (const [type, pred] of [
      ['vuln', 'vuln.json'],
      ['slsaprovenance', 'slsa.json'],
      ['slsaprovenance02', 'slsa.json'],
      ['slsaprovenance', 'noslsa.json'],
      ['slsaprovenance1', 'slsa1.json'],
      ['slsaprovenance1', 'noslsa.json'],
    ] as const) {
      const args = (out: string) => [
        'attest-blob',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--predicate',
        pred,
        '--type',
        type,
        '--output-attestation',
        out,
        '--output-signature',
        `${out}.sig`,
        'blob.bin',
      ];
      const [theirs, mine] = [await c2(args('ty-c.att')), await ours(args('ty-t.att'))];
      expect({ code: mine.code, stderr: mine.stderr }, `${type} ${pred}`).toEqual({ code: theirs.code, stderr: theirs.stderr.replaceAll('ty-c.', 'ty-t.') });
      if (theirs.code === 0) expect(await readFile(file('ty-t.att'), 'utf8'), `${type} ${pred}`).toBe(await readFile(file('ty-c.att'), 'utf8'));
    }
  }, 120_000);

  describe('cosign attests → cosign-ts verifies, with cosign’s output', () => {
    const cases: Array<[string, Tool, string[], string[]]> = [
      ['cosign 2.5 envelope (--signature)', cosign as Tool, ['--tlog-upload=false', '--output-signature', 'x.sig'], ['--signature', 'x.sig']],
      ['cosign 2.5 legacy bundle', cosign as Tool, ['--tlog-upload=false', '--bundle', 'x.json'], ['--bundle', 'x.json']],
      ['cosign 2.5 Sigstore bundle', cosign as Tool, ['--tlog-upload=false', '--new-bundle-format', '--bundle', 'x.json'], ['--bundle', 'x.json']],
      ['cosign 3.1 Sigstore bundle (default)', cosign3 as Tool, [...c3sign, '--bundle', 'x.json'], ['--bundle', 'x.json']],
      ['cosign 3.1 legacy bundle', cosign3 as Tool, [...c3sign, '--new-bundle-format=false', '--bundle', 'x.json'], ['--bundle', 'x.json']],
      ['cosign 3.1 envelope (--signature)', cosign3 as Tool, [...c3sign, '--new-bundle-format=false', '--output-signature', 'x.sig'], ['--signature', 'x.sig']],
    ];
    it.each(cases)(
      '%s',
      async (_name, tool, signArgs, src) => {
        const made = await tool(['attest-blob', '--key', 'cosign.key', '--predicate', 'pred.json', '--type', 'openvex', ...signArgs, 'blob.bin'], {
          cwd: dir,
          env,
        });
        expect(made.code, made.stderr).toBe(0);
        // the reference verifier: cosign 2.5 for envelopes (cosign 3.1 prints a deprecation line for --signature),
        // cosign 3.1 for bundles (cosign 2.5 needs a trusted root for them)
        const ref = src[0] === '--signature' ? c2 : c3;
        const same = async (args: string[]) => {
          const [a, b] = [await ours(args), await ref(args)];
          expect({ code: a.code, stdout: a.stdout, stderr: a.stderr }, args.join(' ')).toEqual({ code: b.code, stdout: b.stdout, stderr: b.stderr });
          return a;
        };
        expect((await same(verifyArgs('cosign.pub', src, 'openvex'))).code).toBe(0);
        expect((await same(verifyArgs('cosign.pub', src, 'openvex', 'other.bin'))).code).toBe(1);
        expect((await same(verifyArgs('cosign.pub', src, 'custom'))).code).toBe(1);
        expect((await same([...verifyArgs('cosign.pub', src, 'openvex', 'other.bin'), '--check-claims=false'])).code).toBe(0);
        const wrongKey = verifyArgs('other.pub', src, 'openvex');
        if (src[1] === 'x.json' && !(await readFile(file('x.json'), 'utf8')).includes('"mediaType"')) {
          // cosign trusts the key inside a legacy bundle; cosign-ts does not
          expect((await ref(wrongKey)).code).toBe(0);
          const mine = await ours(wrongKey);
          expect(mine.code).toBe(1);
          expect(mine.stderr).toContain('accepted signatures do not match threshold, Found: 0, Expected 1');
        } else {
          expect((await same(wrongKey)).code).toBe(1);
        }
        // the library on the same bytes
        const data = await readFile(file(src[1] as string));
        const source = src[0] === '--signature' ? { envelope: data } : data.includes('"mediaType"') ? { bundle: data } : { legacyBundle: data };
        await expect(
          verifyBlobAttestation(await readFile(file('blob.bin')), parsePublicKey(await readFile(file('cosign.pub'))), source, {
            type: 'openvex',
            insecureIgnoreTlog: true,
          }),
        ).resolves.toBeDefined();
      },
      120_000,
    );

    it('cosign 3.1 --digest/--digestAlg and the missing-blob messages', async () => {
      const made = await c3(['attest-blob', '--key', 'cosign.key', ...c3sign, '--predicate', 'pred.json', '--bundle', 'd.json', 'blob.bin']);
      expect(made.code, made.stderr).toBe(0);
      const hex = (await import('node:crypto'))
        .createHash('sha256')
        .update(await readFile(file('blob.bin')))
        .digest('hex');
      for (const args of [
        ['verify-blob-attestation', '--key', 'cosign.pub', '--bundle', 'd.json', '--insecure-ignore-tlog=true', '--digest', hex, '--digestAlg', 'sha256'],
        [
          'verify-blob-attestation',
          '--key',
          'cosign.pub',
          '--bundle',
          'd.json',
          '--insecure-ignore-tlog=true',
          '--digest',
          '00'.repeat(32),
          '--digestAlg',
          'sha256',
        ],
        ['verify-blob-attestation', '--key', 'cosign.pub', '--bundle', 'd.json', '--insecure-ignore-tlog=true', '--digest', hex],
      ]) {
        const [a, b] = [await ours(args), await c3(args)];
        expect({ code: a.code, stdout: a.stdout, stderr: a.stderr }, args.join(' ')).toEqual({ code: b.code, stdout: b.stdout, stderr: b.stderr });
      }
      const noBlob = ['verify-blob-attestation', '--key', 'cosign.pub', '--bundle', 'd.json', '--insecure-ignore-tlog=true'];
      const [a, b] = [await ours(noBlob), await c2(noBlob)];
      expect({ code: a.code, stderr: a.stderr }).toEqual({ code: b.code, stderr: b.stderr });
    }, 120_000);
  });

  it('cosign-ts attests (envelope, legacy bundle, Sigstore bundle) → cosign 2.5 and 3.1 verify', async () => {
    const a = await ours([
      'attest-blob',
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--predicate',
      'pred.json',
      '--type',
      'spdxjson',
      '--bundle',
      'o.json',
      '--output-signature',
      'o.sig',
      'blob.bin',
    ]);
    expect(a.code, a.stderr).toBe(0);
    const n = await ours([
      'attest-blob',
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--new-bundle-format',
      '--predicate',
      'pred.json',
      '--type',
      'spdxjson',
      '--bundle',
      'on.json',
      'blob.bin',
    ]);
    expect(n.code, n.stderr).toBe(0);
    const checks: Array<[string, Tool, string[]]> = [
      ['2.5 --signature', c2, ['--signature', 'o.sig']],
      ['2.5 legacy bundle', c2, ['--bundle', 'o.json']],
      ['2.5 Sigstore bundle', c2, ['--bundle', 'on.json', '--new-bundle-format', '--trusted-root', 'tr.json']],
      ['3.1 legacy bundle', c3, ['--bundle', 'o.json']],
      ['3.1 Sigstore bundle', c3, ['--bundle', 'on.json']],
    ];
    for (const [name, tool, src] of checks) {
      const v = await tool(verifyArgs('cosign.pub', src, 'spdxjson'));
      expect(v.code, `${name}: ${v.stderr}`).toBe(0);
      expect(v.stderr).toContain('Verified OK');
      expect((await tool(verifyArgs('cosign.pub', src, 'spdxjson', 'other.bin'))).code, name).toBe(1);
      // cosign 2.5 does not check --type for Sigstore bundles (cosign 3.1 and cosign-ts do)
      expect((await tool(verifyArgs('cosign.pub', src, 'cyclonedx'))).code, name).toBe(name === '2.5 Sigstore bundle' ? 0 : 1);
      if (!name.includes('legacy')) expect((await tool(verifyArgs('other.pub', src, 'spdxjson'))).code, name).toBe(1);
    }
  }, 180_000);
});
