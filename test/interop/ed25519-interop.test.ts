/**
 * Ed25519 key files with real cosign 2.5, both ways, over a real registry (Debian's docker-registry).
 *
 * What cosign 2.5 does (observed here; cosign's own `generate-key-pair` makes only ECDSA, so the keys
 * come from `openssl genpkey -algorithm ed25519` + `cosign import-key-pair`, and from `cosign-ts
 * import-key-pair`):
 * - `cosign sign --key K --tlog-upload=false` writes a **pure** Ed25519 signature over the payload;
 * - `cosign verify --key` accepts pure Ed25519 and rejects Ed25519ph (exit 12);
 * - `cosign sign-blob --tlog-upload=false` is pure Ed25519 too; `verify-blob` rejects Ed25519ph.
 * cosign-ts signs pure Ed25519 by default, byte-identical to cosign (Ed25519 is deterministic), and
 * verifies only pure Ed25519 unless an authority asks for Ed25519ph.
 */
import { generateKeyPairSync, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { ed25519phVerify, loadEd25519ph } from '../../src/keys/ed25519ph.js';
import { loadSignerFromFile, parsePublicKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { signImage } from '../../src/sign/index.js';
import { keyAuthority, verifyImage } from '../../src/verify/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import {
  cosign,
  cosignRegistryFlags,
  isolatedToolEnv,
  pushBusyboxImage,
  realTools,
  runOk,
  skipReal,
  startRegistry,
  type RealRegistry,
} from '../helpers/real/index.js';

const PASSWORD = 'ed25519-interop';

interface KeyFiles {
  key: string;
  pub: string;
  publicKey: KeyObject;
}

/** One `.sig` layer as `cosign download signature` prints it. */
interface Downloaded {
  payload: Buffer;
  signature: Buffer;
}

describe.skipIf(skipReal(['registry', 'cosign', 'openssl']))('Ed25519 key files with cosign 2.5', () => {
  let reg: RealRegistry;
  let dir: string;
  let env: Record<string, string>;
  let client: RegistryClient;
  /** openssl-generated, imported by cosign. */
  let cosignKey: KeyFiles;
  /** node-generated, imported by cosign-ts. */
  let tsKey: KeyFiles;
  let counter = 0;

  beforeAll(async () => {
    ensureBuilt();
    await loadEd25519ph();
    reg = await startRegistry();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-ed25519-'));
    env = { ...(await isolatedToolEnv(path.join(dir, 'home'))), COSIGN_PASSWORD: PASSWORD };
    client = new RegistryClient();

    await runOk(realTools.openssl, ['genpkey', '-algorithm', 'ed25519', '-out', path.join(dir, 'openssl.pem')]);
    const imp = await cosign(['import-key-pair', '--key', 'openssl.pem', '--output-key-prefix', 'cosign-ed'], { cwd: dir, env });
    expect(imp.code, imp.stderr).toBe(0);
    cosignKey = {
      key: path.join(dir, 'cosign-ed.key'),
      pub: path.join(dir, 'cosign-ed.pub'),
      publicKey: parsePublicKey(await readFile(path.join(dir, 'cosign-ed.pub'))),
    };

    await writeFile(path.join(dir, 'node.pem'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const ours = await cli(['import-key-pair', '--key', 'node.pem', '--output-key-prefix', 'ts-ed'], { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } });
    expect(ours.code, ours.stderr).toBe(0);
    tsKey = { key: path.join(dir, 'ts-ed.key'), pub: path.join(dir, 'ts-ed.pub'), publicKey: parsePublicKey(await readFile(path.join(dir, 'ts-ed.pub'))) };
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await reg?.stop();
  });

  async function push(): Promise<string> {
    const name = `ed25519/app${++counter}`;
    const digest = await pushBusyboxImage(reg.url, name, 'v1', { labels: { name } });
    return `${reg.host}/${name}@${digest}`;
  }

  async function download(image: string): Promise<Downloaded[]> {
    const r = await cosign(['download', 'signature', ...cosignRegistryFlags(reg), image], { env });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const j = JSON.parse(l) as { Payload: string; Base64Signature: string };
        return { payload: Buffer.from(j.Payload, 'base64'), signature: Buffer.from(j.Base64Signature, 'base64') };
      });
  }

  function scheme(k: KeyFiles, d: Downloaded): 'pure' | 'ph' | 'neither' {
    if (cryptoVerify(null, d.payload, k.publicKey, d.signature)) return 'pure';
    const raw = k.publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
    return ed25519phVerify(raw, d.payload, d.signature) ? 'ph' : 'neither';
  }

  const cosignVerify = (k: KeyFiles, image: string) =>
    cosign(['verify', '--key', k.pub, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), image], { env });

  it('cosign sign --tlog-upload=false signs pure Ed25519; cosign, the cosign-ts CLI and the library verify it', async () => {
    for (const k of [cosignKey, tsKey]) {
      const image = await push();
      const s = await cosign(['sign', '--key', k.key, '--tlog-upload=false', '--yes', ...cosignRegistryFlags(reg), image], { env });
      expect(s.code, s.stderr).toBe(0);
      const layers = await download(image);
      expect(layers.map((d) => scheme(k, d))).toEqual(['pure']);
      expect((await cosignVerify(k, image)).code).toBe(0);
      const ours = await cli(['verify', '--key', k.pub, '--insecure-ignore-tlog=true', image]);
      expect(ours.code, ours.stderr).toBe(0);
      expect(ours.stdout).toBe((await cosignVerify(k, image)).stdout);
      expect((await verifyImage(image, { client, authorities: [keyAuthority(k.publicKey, k.pub)] })).signatures).toHaveLength(1);
      // an Ed25519ph-only authority does not accept cosign 2.5's signature
      await expect(verifyImage(image, { client, authorities: [keyAuthority(k.publicKey, k.pub, { ed25519ph: true })] })).rejects.toSatisfy((e) =>
        isCosignError(e, 'NO_MATCHING_SIGNATURES'),
      );
    }
  });

  it('cosign-ts sign (the bundled CLI) → cosign verify passes; the signature is byte-identical to cosign 2.5', async () => {
    for (const k of [cosignKey, tsKey]) {
      const image = await push();
      const s = await cli(['sign', '--key', k.key, '--tlog-upload=false', image], { env: { COSIGN_PASSWORD: PASSWORD } });
      expect(s.code, s.stderr).toBe(0);
      const [ours] = await download(image);
      expect(scheme(k, ours!)).toBe('pure');
      const v = await cosignVerify(k, image);
      expect(v.code, v.stderr).toBe(0);
      expect(v.stderr).toContain('The signatures were verified against the specified public key');
      // cosign signing the same image with the same key produces the same bytes: it adds no layer
      const again = await cosign(['sign', '--key', k.key, '--tlog-upload=false', '--yes', ...cosignRegistryFlags(reg), image], { env });
      expect(again.code, again.stderr).toBe(0);
      const after = await download(image);
      expect(after).toHaveLength(1);
      expect(after[0]!.signature.equals(ours!.signature)).toBe(true);
    }
  });

  it('Ed25519ph image signatures (cosign-ts before this fix; cosign 2.6+ per its source) are rejected by cosign verify, and by cosign-ts unless asked', async () => {
    const image = await push();
    const ph = await loadSignerFromFile(cosignKey.key, PASSWORD, { ed25519ph: true });
    await signImage(image, ph, { client });
    expect((await download(image)).map((d) => scheme(cosignKey, d))).toEqual(['ph']);
    const v = await cosignVerify(cosignKey, image);
    expect(v.code).toBe(12);
    expect(v.stderr).toContain('no matching signatures');
    const ours = await cli(['verify', '--key', cosignKey.pub, '--insecure-ignore-tlog=true', image]);
    expect(ours.code).toBe(12);
    const lib = await verifyImage(image, { client, authorities: [keyAuthority(cosignKey.publicKey, cosignKey.pub, { ed25519ph: true })] });
    expect(lib.signatures).toHaveLength(1);
  });

  it('sign-blob / verify-blob: cosign 2.5 signs pure Ed25519; verify-blob accepts cosign-ts pure signatures and rejects Ed25519ph', async () => {
    const blob = path.join(dir, 'blob.txt');
    await writeFile(blob, 'hello ed25519\n');
    const data = await readFile(blob);
    const sb = await cosign(['sign-blob', '--key', cosignKey.key, '--tlog-upload=false', '--yes', '--output-signature', path.join(dir, 'blob.sig'), blob], {
      env,
    });
    expect(sb.code, sb.stderr).toBe(0);
    const cosignSig = Buffer.from(await readFile(path.join(dir, 'blob.sig'), 'utf8'), 'base64');
    expect(scheme(cosignKey, { payload: data, signature: cosignSig })).toBe('pure');

    const pure = await (await loadSignerFromFile(cosignKey.key, PASSWORD)).sign(data);
    expect(Buffer.from(pure).equals(cosignSig)).toBe(true); // deterministic: the same bytes as cosign
    const ph = await (await loadSignerFromFile(cosignKey.key, PASSWORD, { ed25519ph: true })).sign(data);
    const verifyBlob = async (sig: Uint8Array) => {
      const f = path.join(dir, `sig-${++counter}`);
      await writeFile(f, Buffer.from(sig).toString('base64'));
      return cosign(['verify-blob', '--key', cosignKey.pub, '--insecure-ignore-tlog=true', '--signature', f, blob], { env });
    };
    expect((await verifyBlob(pure)).code).toBe(0);
    const rejected = await verifyBlob(ph);
    expect(rejected.code).not.toBe(0);
    expect(rejected.stderr).toContain('failed to verify signature');
  });
});
