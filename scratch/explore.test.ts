import { mkdir, mkdtemp, writeFile, readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it, expect } from 'vitest';
import { cosign, cosign3, cosignRegistryFlags, isolatedToolEnv, pushBusyboxImage, startRegistry } from '../test/helpers/real/index.js';

it('explore', async () => {
  const real = await startRegistry();
  const work = await mkdtemp(path.join(os.tmpdir(), 'explore-'));
  const env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw' };
  await mkdir(path.join(work, 'k'));
  await cosign(['generate-key-pair'], { cwd: path.join(work, 'k'), env });
  await writeFile(path.join(work, 'predicate.json'), '{"buildType":"x"}');
  const key = path.join(work, 'k', 'cosign.key');
  const out: string[] = [];
  for (const [name, tool, extra] of [['v2', cosign, []], ['v3', cosign3, ['--use-signing-config=false']]] as const) {
    const repo = `ex/${name}`;
    const digest = await pushBusyboxImage(real.url, repo, 'v1', { labels: { n: name } });
    const ref = `${real.host}/${repo}@${digest}`;
    const common = ['--key', key, '--tlog-upload=false', ...extra, '--yes', ...cosignRegistryFlags(real)];
    let r = await tool(['sign', ...common, ref], { env }); out.push(`sign ${r.code} ${r.stderr}`);
    r = await tool(['attest', ...common, '--type', 'slsaprovenance', '--predicate', path.join(work, 'predicate.json'), ref], { env }); out.push(`attest ${r.code} ${r.stderr}`);
    const dir = path.join(work, `layout-${name}`);
    r = await tool(['save', ...cosignRegistryFlags(real), '--dir', dir, ref], { env }); out.push(`save ${r.code} ${r.stdout} ${r.stderr}`);
    out.push(`${name} index.json: ${await readFile(path.join(dir, 'index.json'), 'utf8')}`);
    out.push(`${name} oci-layout: ${await readFile(path.join(dir, 'oci-layout'), 'utf8')}`);
    for (const f of await readdir(path.join(dir, 'blobs', 'sha256'))) {
      const b = await readFile(path.join(dir, 'blobs', 'sha256', f));
      out.push(`  blob ${f} ${b.length} ${b.length < 3000 ? b.toString('utf8').slice(0, 1500) : '(big)'}`);
    }
    r = await tool(['verify', '--key', path.join(work, 'k', 'cosign.pub'), '--insecure-ignore-tlog=true', '--local-image', dir], { env }); out.push(`verify local ${r.code} ${r.stdout} ${r.stderr}`);
    r = await tool(['verify-attestation', '--key', path.join(work, 'k', 'cosign.pub'), '--insecure-ignore-tlog=true', '--type', 'slsaprovenance', '--local-image', dir], { env }); out.push(`verify-att local ${r.code} ${r.stdout.slice(0,300)} ${r.stderr}`);
  }
  await writeFile('/tmp/explore.out', out.join('\n'));
  await real.stop();
}, 300_000);
