/**
 * cosign 3.1 signs and attests (Sigstore bundles as OCI 1.1 referrers) → `cosign-ts copy` → `cosign3 verify`
 * and `cosign3 verify-attestation` accept the destination (cosign 3.1's own `copy` leaves the referrers
 * behind). Between and across Debian's docker-registry (fallback tag index) and the in-process registry
 * (referrers API); an index and its children; `--only`; a second copy is a no-op. The lines cosign3 copy
 * prints for the image and its tags are the lines we print.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPY_DEPRECATION } from '../../src/cli/commands/copy.js';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { cli, ensureBuilt, pushTinyIndex } from '../cli/helpers.js';
import {
  cosign3,
  cosign3Signer,
  cosignRegistryFlags,
  pushBusyboxImage,
  skipReal,
  startRegistry,
  type Cosign3Registry,
  type Cosign3Signer,
  type RealRegistry,
} from '../helpers/real/index.js';

describe.skipIf(skipReal(['registry', 'cosign3', 'openssl']))('copy of cosign 3.1-signed images', () => {
  let real: RealRegistry;
  let mem: TestRegistry;
  let work: string;
  let c3: Cosign3Signer;
  let n = 0;

  beforeAll(async () => {
    ensureBuilt();
    real = await startRegistry();
    mem = await startTestRegistry();
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-v3copy-'));
    c3 = await cosign3Signer(work);
  }, 120_000);
  afterAll(async () => {
    await real?.stop();
    await mem?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const flags = (...regs: Cosign3Registry[]): string[] => [...new Set(regs.flatMap((r) => cosignRegistryFlags(r)))];
  /** The `Copying … to …...` lines, repositories renamed, sorted (cosign copies concurrently). */
  const copying = (stderr: string, names: Record<string, string>): string[] =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('Copying '))
      .map((l) => Object.entries(names).reduce((s, [from, to]) => s.replaceAll(from, to), l))
      .sort();

  // (registries are started in beforeAll: named here, picked in the test)
  const pick = (w: 'real' | 'mem'): Cosign3Registry => (w === 'real' ? real : mem);

  it.each([
    ['docker-registry → docker-registry (fallback tag)', 'real', 'real'],
    ['in-process → in-process (referrers API)', 'mem', 'mem'],
    ['in-process → docker-registry', 'mem', 'real'],
    ['docker-registry → in-process', 'real', 'mem'],
  ] as const)(
    '%s: cosign3 verify and verify-attestation accept the copy; a second copy changes nothing',
    async (_, fromName, toName) => {
      const [from, to] = [pick(fromName), pick(toName)];
      const repo = `v3copy/src${++n}`;
      const digest = await pushBusyboxImage(from.url, repo, 'v1', { labels: { n: String(n) } });
      await c3.sign(from, `${from.host}/${repo}@${digest}`);
      await c3.attest(from, `${from.host}/${repo}@${digest}`);
      const dst = `${to.host}/v3copy/dst${n}`;
      const c = await cli(['copy', ...flags(from, to), `${from.host}/${repo}:v1`, `${dst}:v1`], { env: c3.env });
      expect(c.code, c.stderr).toBe(0);
      expect(c.stderr.startsWith(COPY_DEPRECATION)).toBe(true);
      // the image under its sha256-<hex> tag (as cosign copy), the two bundles by digest, then the tag
      expect(c.stderr).toContain(`Copying ${from.host}/${repo}@${digest} to ${dst}:sha256-${digest.slice(7)}...\n`);
      expect(c.stderr.match(new RegExp(`Copying ${from.host}/${repo}@sha256:[0-9a-f]{64} to ${dst}@sha256:[0-9a-f]{64}\\.\\.\\.\\n`, 'g'))).toHaveLength(2);
      expect(c.stderr.endsWith(`Copying ${from.host}/${repo}@${digest} to ${dst}:v1...\n`)).toBe(true);

      for (const img of [`${dst}:v1`, `${dst}@${digest}`]) {
        const v = await c3.verify(to, img);
        expect(v.code, v.stderr).toBe(0);
        const a = await c3.verifyAttestation(to, img);
        expect(a.code, a.stderr).toBe(0);
      }
      const ours = await cli(['verify', '--key', c3.pubPath, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(to), `${dst}:v1`], { env: c3.env });
      expect(ours.code, ours.stderr).toBe(0);
      // both trees list the two bundles on the destination
      const [t3, tts] = [
        await cosign3(['tree', ...cosignRegistryFlags(to), `${dst}@${digest}`], { env: c3.env }),
        await cli(['tree', ...cosignRegistryFlags(to), `${dst}@${digest}`], { env: c3.env }),
      ];
      expect(t3.stdout.match(/artifacts via OCI referrer/g)).toHaveLength(2);
      expect(tts.stdout.split('\n').sort()).toEqual(t3.stdout.split('\n').sort());

      // again: everything is there already
      const again = await cli(['copy', ...flags(from, to), `${from.host}/${repo}:v1`, `${dst}:v1`], { env: c3.env });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toBe(COPY_DEPRECATION);
      expect((await c3.verify(to, `${dst}:v1`)).code).toBe(0);
    },
    180_000,
  );

  it.each([
    ['docker-registry', () => real],
    ['in-process registry', () => mem as Cosign3Registry],
  ] as const)(
    '%s: the lines cosign3 copy prints for the image and its tags are ours; --only=sig copies the signature bundle and the image, not the attestation',
    async (_, reg) => {
      const r = reg();
      const repo = `v3copy/only${++n}`;
      const digest = await pushBusyboxImage(r.url, repo, 'v1', { labels: { n: String(n) } });
      await c3.sign(r, `${r.host}/${repo}@${digest}`);
      await c3.attest(r, `${r.host}/${repo}@${digest}`);
      const theirs = await cosign3(['copy', ...cosignRegistryFlags(r), `${r.host}/${repo}:v1`, `${r.host}/v3copy/c3-${n}:v1`], { env: c3.env });
      const ours = await cli(['copy', ...cosignRegistryFlags(r), `${r.host}/${repo}:v1`, `${r.host}/v3copy/ts-${n}:v1`], { env: c3.env });
      expect(ours.code, ours.stderr).toBe(theirs.code);
      const notReferrer = (l: string): boolean => !/@sha256:[0-9a-f]{64}\.\.\.$/.test(l);
      expect(copying(ours.stderr, { [`v3copy/ts-${n}`]: 'DST' }).filter(notReferrer)).toEqual(copying(theirs.stderr, { [`v3copy/c3-${n}`]: 'DST' }));

      const only = await cli(['copy', '--only=sig', ...cosignRegistryFlags(r), `${r.host}/${repo}:v1`, `${r.host}/v3copy/sig-${n}`], { env: c3.env });
      expect(only.code, only.stderr).toBe(0);
      expect(only.stderr.match(/ to \S+@sha256:[0-9a-f]{64}\.\.\.\n/g)).toHaveLength(1);
      expect((await c3.verify(r, `${r.host}/v3copy/sig-${n}@${digest}`)).code).toBe(0);
      expect((await c3.verifyAttestation(r, `${r.host}/v3copy/sig-${n}@${digest}`)).code).not.toBe(0);
      // as cosign: no destination tag with --only, but the image itself under sha256-<hex>
      const theirsOnly = await cosign3(['copy', '--only=sig', ...cosignRegistryFlags(r), `${r.host}/${repo}:v1`, `${r.host}/v3copy/sig3-${n}`], {
        env: c3.env,
      });
      expect(copying(only.stderr, { [`v3copy/sig-${n}`]: 'DST' }).filter(notReferrer)).toEqual(copying(theirsOnly.stderr, { [`v3copy/sig3-${n}`]: 'DST' }));
    },
    180_000,
  );

  it.each([
    ['docker-registry', () => real],
    ['in-process registry', () => mem as Cosign3Registry],
  ] as const)(
    '%s: an index signed recursively by cosign3: the children and their bundles are copied too',
    async (_, reg) => {
      const r = reg();
      const repo = `v3copy/idx${++n}`;
      const { index, children } = await pushTinyIndex(r.url, repo, 'v1');
      await c3.sign(r, `${r.host}/${repo}@${index}`, ['--recursive']);
      const dst = `${r.host}/v3copy/idxdst${n}`;
      const c = await cli(['copy', ...cosignRegistryFlags(r), `${r.host}/${repo}:v1`, `${dst}:v1`], { env: c3.env });
      expect(c.code, c.stderr).toBe(0);
      for (const d of [index, ...children]) {
        const v = await c3.verify(r, `${dst}@${d}`);
        expect(v.code, `${d}: ${v.stderr}`).toBe(0);
      }
    },
    180_000,
  );
});
