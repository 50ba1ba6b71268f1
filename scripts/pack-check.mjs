#!/usr/bin/env node
/**
 * Check the package a user installs (`npm run pack-check`, run by `.ci/run`):
 *
 * 1. `npm pack` (which runs `prepare`: a clean build) into a temporary folder; print the tarball's file
 *    list by folder and its size; fail on dead source maps, a second copy of the CLI, sources or tests
 *    in it, or a missing `exports`/`bin` target;
 * 2. install the tarball into a fresh app with `npm ci --offline` (dependencies from npm's cache, no
 *    network);
 * 3. from that app: `cosign-ts version`, `cosign-ts demo`, `import('cosign-ts')` and every subpath, then
 *    sign an image in the in-process registry (`cosign-ts/testing`) with the library and
 *    `cosign-ts verify` it with the installed bin.
 *
 * Flags: `--ignore-scripts` packs the current `dist/` without rebuilding (the vitest test uses it, so it
 * never removes `dist/` under other tests); `--keep` keeps the temporary folder.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TIMEOUT = 300_000;
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));

function fail(message) {
  process.stderr.write(`pack-check: FAILED: ${message}\n`);
  process.exit(1);
}

async function sh(cmd, argv, options) {
  try {
    return await run(cmd, argv, { timeout: TIMEOUT, maxBuffer: 64 << 20, encoding: 'utf8', ...options });
  } catch (e) {
    fail(`${cmd} ${argv.join(' ')} (in ${options.cwd}) exited ${e.code}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-pack-'));
try {
  // 1. Pack. Lifecycle script output may precede the JSON on stdout: the JSON is the last `[` line on.
  const packArgs = ['pack', '--json', '--pack-destination', tmp, ...(args.has('--ignore-scripts') ? ['--ignore-scripts'] : [])];
  const packed = await sh(npm, packArgs, { cwd: root });
  const jsonStart = packed.stdout.lastIndexOf('\n[\n') >= 0 ? packed.stdout.lastIndexOf('\n[\n') + 1 : packed.stdout.indexOf('[');
  const [info] = JSON.parse(packed.stdout.slice(jsonStart));
  const files = info.files.map((f) => f.path).sort();
  const byFolder = new Map();
  for (const f of info.files) {
    const parts = f.path.split('/');
    const depth = f.path.startsWith('dist/cli/') ? 3 : 2;
    const key = parts.length === 1 ? f.path : parts.length <= depth ? `${parts.slice(0, -1).join('/')}/*` : `${parts.slice(0, depth).join('/')}/`;
    const e = byFolder.get(key) ?? { n: 0, bytes: 0 };
    e.n++;
    e.bytes += f.size;
    byFolder.set(key, e);
  }
  process.stdout.write(
    `${info.filename}: ${info.files.length} files, ${(info.size / 1024).toFixed(1)} KiB packed, ${(info.unpackedSize / 1024).toFixed(1)} KiB unpacked\n`,
  );
  for (const [k, v] of [...byFolder].sort())
    process.stdout.write(`  ${k.padEnd(28)} ${String(v.n).padStart(4)} files ${(v.bytes / 1024).toFixed(1).padStart(8)} KiB\n`);
  if (args.has('--list')) for (const f of files) process.stdout.write(`    ${f}\n`);

  const maps = files.filter((f) => f.endsWith('.map'));
  if (maps.length > 0) fail(`${maps.length} source maps in the tarball (their sources are not shipped): ${maps.slice(0, 3).join(', ')} …`);
  const cliCopies = files.filter((f) => f.startsWith('dist/cli/') && !f.startsWith('dist/cli/bundle/'));
  if (cliCopies.length > 0) fail(`a second, unused copy of the CLI is shipped: ${cliCopies.slice(0, 3).join(', ')} …`);
  const stray = files.filter((f) => /^(src|test|bench|fixtures|scripts|docs|node_modules|\.tools)\//.test(f));
  if (stray.length > 0) fail(`files that are not part of the package: ${stray.slice(0, 5).join(', ')}`);
  // The demo is part of the CLI bundle (`cosign-ts demo`); a dist/demo.js would be a dead, older copy.
  if (files.some((f) => /^dist\/demo\./.test(f))) fail('dist/demo.* is shipped: the demo lives in the CLI bundle (src/cli/demo.ts)');
  const targets = [...Object.values(pkg.bin), ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))];
  for (const t of targets) if (!files.includes(path.posix.normalize(t))) fail(`${t} (package.json exports/bin) is not in the tarball`);

  // 2. Install into a fresh app, from npm's cache only (no network): npm cannot resolve new
  //    dependencies offline (it needs registry metadata), so the app gets a lockfile that pins the
  //    tarball and this repository's locked versions of its dependencies, then `npm ci --offline`.
  const app = path.join(tmp, 'app');
  await mkdir(app);
  const tgz = `file:../${info.filename}`;
  const lock = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8'));
  const packages = {
    '': { name: 'pack-check-app', dependencies: { 'cosign-ts': tgz } },
    'node_modules/cosign-ts': {
      version: pkg.version,
      resolved: tgz,
      integrity: info.integrity,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
      peerDependencies: pkg.peerDependencies,
      peerDependenciesMeta: pkg.peerDependenciesMeta,
    },
  };
  // The dependency closure, resolved the way Node resolves it in this repository's tree: a dependency of the
  // package at `node_modules/a` is `node_modules/a/node_modules/d` if the lockfile nests one there, else the
  // next one up (npm nests a version when the hoisted one does not satisfy the range).
  const resolveIn = (from, name) => {
    for (let dir = from; ; ) {
      const key = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (lock.packages[key] !== undefined) return key;
      if (dir === '') return undefined;
      const cut = dir.lastIndexOf('/node_modules/');
      dir = cut < 0 ? '' : dir.slice(0, cut);
    }
  };
  const todo = Object.keys(pkg.dependencies ?? {}).map((name) => ['', name]);
  while (todo.length > 0) {
    const [from, name] = todo.pop();
    const key = resolveIn(from, name);
    if (key === undefined) fail(`${name} (needed by ${from || 'cosign-ts'}) is not in package-lock.json (run npm install)`);
    if (packages[key] !== undefined) continue;
    const entry = { ...lock.packages[key] };
    // The repository's lockfile records no download addresses; give npm one, so the tarball comes from the cache
    // by address and integrity even when the package's metadata was never cached in the form `npm ci` asks for.
    if (entry.resolved === undefined && entry.version !== undefined) {
      const pkgName = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
      entry.resolved = `https://registry.npmjs.org/${pkgName}/-/${pkgName.split('/').pop()}-${entry.version}.tgz`;
    }
    packages[key] = entry;
    for (const dep of Object.keys(entry.dependencies ?? {})) todo.push([key, dep]);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) if (resolveIn(key, dep) !== undefined) todo.push([key, dep]);
  }
  await writeFile(
    path.join(app, 'package.json'),
    `${JSON.stringify({ name: 'pack-check-app', private: true, type: 'module', dependencies: { 'cosign-ts': tgz } }, null, 2)}\n`,
  );
  await writeFile(
    path.join(app, 'package-lock.json'),
    `${JSON.stringify({ name: 'pack-check-app', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
  );
  const t0 = Date.now();
  await sh(npm, ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
  process.stdout.write(
    `installed into a fresh app (npm ci --offline, ${Object.keys(packages).length - 1} packages) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  // 3. Use it as a user would.
  const bin = path.join(app, 'node_modules', '.bin', 'cosign-ts');
  const version = await sh(bin, ['version'], { cwd: app });
  if (!version.stdout.includes(pkg.version)) fail(`cosign-ts version does not print ${pkg.version}:\n${version.stdout}`);
  process.stdout.write(`cosign-ts version: ok (${pkg.version})\n`);
  const demo = await sh(bin, ['demo'], { cwd: app });
  if (!/demo finished/.test(demo.stdout)) fail(`cosign-ts demo:\n${demo.stdout}`);
  process.stdout.write('cosign-ts demo: ok\n');
  const killer = await sh(path.join(app, 'node_modules', '.bin', 'cosign-ts-killer'), ['--help'], { cwd: app });
  if (!/policy/.test(killer.stdout + killer.stderr)) fail(`cosign-ts-killer --help:\n${killer.stdout}${killer.stderr}`);
  process.stdout.write('cosign-ts-killer --help: ok\n');
  const webhook = await sh(path.join(app, 'node_modules', '.bin', 'cosign-ts-webhook'), ['--help'], { cwd: app });
  if (!/policy/.test(webhook.stdout + webhook.stderr)) fail(`cosign-ts-webhook --help:\n${webhook.stdout}${webhook.stderr}`);
  process.stdout.write('cosign-ts-webhook --help: ok\n');
  // keyless signing loads @sigstore/sign from node_modules (it is not in the bundle): it must be there and load;
  // the Fulcio address refuses connections, so the run ends at the certificate request
  const keyless = await run(
    bin,
    ['sign', '--identity-token', 'e30.eyJzdWIiOiJ4In0.x', '--fulcio-url', 'http://127.0.0.1:9', '--yes', `127.0.0.1:9/x@sha256:${'a'.repeat(64)}`],
    { cwd: app, timeout: TIMEOUT, encoding: 'utf8', env: { ...process.env, SIGSTORE_ID_TOKEN: '' } },
  ).then(
    (r) => r,
    (e) => e,
  );
  if (!/Fulcio certificate request/.test(`${keyless.stderr ?? ''}`)) fail(`cosign-ts sign (keyless) did not reach Fulcio:\n${keyless.stderr ?? ''}`);
  process.stdout.write('cosign-ts sign (keyless, @sigstore/sign from node_modules): ok\n');

  const subpaths = Object.keys(pkg.exports)
    .filter((k) => k !== './package.json')
    .map((k) => (k === '.' ? 'cosign-ts' : `cosign-ts/${k.slice(2)}`));
  await writeFile(
    path.join(app, 'check.mjs'),
    `import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RegistryClient, signImage, parsePrivateKey, signerFromPrivateKey } from 'cosign-ts';
import { writeKeyPair } from 'cosign-ts/keys';
import { pushSampleImage, startTestRegistry } from 'cosign-ts/testing';

for (const s of ${JSON.stringify(subpaths)}) {
  const m = await import(s);
  if (Object.keys(m).length === 0) throw new Error(s + ' exports nothing');
}
const registry = await startTestRegistry();
try {
  const client = new RegistryClient();
  const digest = await pushSampleImage(client, registry.host + '/pack/check:v1', { check: 'pack' });
  const image = registry.host + '/pack/check@' + digest;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-pack-keys-'));
  const keys = await writeKeyPair(dir, { password: 'pw' });
  const signer = signerFromPrivateKey(parsePrivateKey(await readFile(keys.privateKeyPath, 'utf8'), 'pw'), keys.privateKeyPath);
  await signImage(image, signer, { client });
  const r = await promisify(execFile)(process.argv[2], ['verify', '--key', keys.publicKeyPath, '--insecure-ignore-tlog=true', image], { encoding: 'utf8', timeout: 60000 });
  const out = JSON.parse(r.stdout);
  if (out[0]?.critical?.image?.['docker-manifest-digest'] !== digest) throw new Error('unexpected verify output: ' + r.stdout);
  console.log('import of ${subpaths.length} entry points: ok; cosign-ts verify of a signed image in the in-process registry: ok');
} finally {
  await registry.close();
}
`,
  );
  const check = await sh(process.execPath, ['check.mjs', bin], { cwd: app });
  process.stdout.write(check.stdout);
  process.stdout.write('pack-check: ok\n');
} finally {
  if (args.has('--keep')) process.stdout.write(`kept ${tmp}\n`);
  else await rm(tmp, { recursive: true, force: true });
}
