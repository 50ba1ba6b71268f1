/**
 * Interop with real peers over a real registry (Debian's docker-registry), both ways:
 * - signed by cosign-ts → `cosign verify --key` passes and skopeo's `sigstoreSigned` policy passes;
 * - signed by real cosign and by skopeo → cosign-ts verifies;
 * - tampered cases are rejected by all three.
 * Runs on the plain registry and on the TLS + htpasswd one. cosign-ts verifies twice each time, as the
 * library (`verifyImage`) and as the installed bin (package.json `bin`): same verdict, same stdout.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/digest.js';
import { CosignError, isCosignError } from '../../src/errors.js';
import { parsePrivateKey, parsePublicKey, signerFromPrivateKey, writeKeyPair } from '../../src/keys/index.js';
import { RegistryClient, staticKeychain } from '../../src/oci/index.js';
import { formatReference, parseReference } from '../../src/reference.js';
import { signImage } from '../../src/sign/index.js';
import { keyAuthority, verifyImage, type VerifyImageResult } from '../../src/verify/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import {
  cosign,
  cosignGenerateKeyPair,
  cosignRegistryFlags,
  isolatedToolEnv,
  pushBusyboxImage,
  skipReal,
  skopeo,
  skopeoCopyAndSign,
  skopeoRegistryFlags,
  startRegistry,
  writeSkopeoConfig,
  type RealRegistry,
} from '../helpers/real/index.js';

const PASSWORD = 'interop-password';
/** The bin's exit status for a library error code (cosign's statuses). */
const EXIT_OF: Readonly<Record<string, number>> = { NO_SIGNATURES: 10, NOT_FOUND: 11, NO_MATCHING_SIGNATURES: 12 };

/** A library client for a real registry (plain HTTP is allowed for 127.0.0.1 by default). */
async function clientFor(reg: RealRegistry): Promise<RegistryClient> {
  return new RegistryClient({
    ...(reg.caFile === undefined ? {} : { ca: await readFile(reg.caFile, 'utf8') }),
    ...(reg.username === undefined ? {} : { keychain: staticKeychain({ [reg.host]: { username: reg.username, password: reg.password ?? '' } }) }),
  });
}

for (const variant of ['plain', 'tls+auth'] as const) {
  describe.skipIf(skipReal(['registry', 'cosign', 'skopeo']))(`interop with cosign 2.5 and skopeo 1.18 (${variant} registry)`, () => {
    let reg: RealRegistry;
    let dir: string;
    let client: RegistryClient;
    let env: Record<string, string>;
    let ourKey: { key: string; pub: string };
    let cosignKey: { privateKeyPath: string; publicKeyPath: string };
    let counter = 0;
    const repo = (): string => `interop/app${++counter}`;

    beforeAll(async () => {
      ensureBuilt();
      reg = await startRegistry(variant === 'plain' ? {} : { tls: true, auth: true });
      dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-interop-'));
      client = await clientFor(reg);
      env = { ...(await isolatedToolEnv(path.join(dir, 'home'))), COSIGN_PASSWORD: PASSWORD };
      const written = await writeKeyPair(dir, { password: PASSWORD, prefix: 'ours' });
      ourKey = { key: written.privateKeyPath, pub: written.publicKeyPath };
      const ck = await cosignGenerateKeyPair(path.join(dir, 'cosign-keys'), PASSWORD);
      cosignKey = { privateKeyPath: ck.keyPath, publicKeyPath: ck.pubPath };
    });
    afterAll(async () => {
      await reg?.stop();
    });

    async function push(name: string, labels: Record<string, string> = {}): Promise<string> {
      const digest = await pushBusyboxImage(reg.url, name, 'v1', {
        ...(reg.caFile === undefined ? {} : { caFile: reg.caFile }),
        ...(reg.username === undefined ? {} : { username: reg.username, password: reg.password }),
        labels: { variant, name, ...labels },
      });
      return `${reg.host}/${name}@${digest}`;
    }

    async function ourSigner() {
      return signerFromPrivateKey(parsePrivateKey(await readFile(ourKey.key, 'utf8'), PASSWORD), ourKey.key);
    }

    /**
     * cosign-ts verifies `image` with the public key file, as the library and as the installed bin:
     * the bin must give the library's verdict (exit status) and stdout. Resolves to the library's result,
     * or rejects with its error.
     */
    async function ours(
      image: string,
      pubPath: string,
      opts: { annotations?: Record<string, string>; signatureRepository?: string } = {},
    ): Promise<VerifyImageResult> {
      const lib = await verifyImage(image, {
        client,
        authorities: [keyAuthority(parsePublicKey(await readFile(pubPath)), pubPath)],
        ...(opts.annotations === undefined ? {} : { annotations: opts.annotations }),
        ...(opts.signatureRepository === undefined ? {} : { signatureRepository: opts.signatureRepository }),
      }).then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e }),
      );
      const annotationFlags = Object.entries(opts.annotations ?? {}).flatMap(([k, v]) => ['-a', `${k}=${v}`]);
      const bin = await cli(['verify', '--key', pubPath, '--insecure-ignore-tlog=true', ...annotationFlags, ...cosignRegistryFlags(reg), image], {
        env: opts.signatureRepository === undefined ? {} : { COSIGN_REPOSITORY: opts.signatureRepository },
      });
      expect(bin.stderr).not.toMatch(/\n\s+at |Unhandled/);
      if (lib.ok) {
        expect(bin.code, bin.stderr).toBe(0);
        expect(bin.stdout).toBe(Buffer.from(lib.r.output).toString());
        return lib.r;
      }
      expect(bin.code, bin.stderr).toBe(lib.e instanceof CosignError ? (EXIT_OF[lib.e.code] ?? 1) : 1);
      expect(bin.stdout).toBe('');
      throw lib.e;
    }

    async function ourVerify(image: string, pubPath: string): Promise<VerifyImageResult> {
      return ours(image, pubPath);
    }

    it('cosign-ts signs → real cosign verifies, byte-identical verify output', async () => {
      const image = await push(repo());
      const signed = await signImage(image, await ourSigner(), { client });
      expect(signed.signed).toHaveLength(1);
      const r = await cosign(['verify', '--key', ourKey.pub, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), image], { env });
      expect(r.code, r.stderr).toBe(0);
      const mine = await ourVerify(image, ourKey.pub);
      expect(Buffer.from(mine.output).toString()).toBe(r.stdout);
      expect(r.stderr).toContain('The signatures were verified against the specified public key');
    });

    it('cosign-ts signs with annotations → cosign verifies -a, and rejects a wrong -a', async () => {
      const image = await push(repo());
      await signImage(image, await ourSigner(), { client, annotations: { env: 'prod', team: 'platform' } });
      const ok = await cosign(['verify', '--key', ourKey.pub, '--insecure-ignore-tlog=true', '-a', 'env=prod', ...cosignRegistryFlags(reg), image], { env });
      expect(ok.code, ok.stderr).toBe(0);
      const mine = await ours(image, ourKey.pub, { annotations: { env: 'prod' } });
      expect(Buffer.from(mine.output).toString()).toBe(ok.stdout);
      await expect(ours(image, ourKey.pub, { annotations: { env: 'dev' } })).rejects.toMatchObject({ code: 'NO_MATCHING_SIGNATURES' });
      const bad = await cosign(['verify', '--key', ourKey.pub, '--insecure-ignore-tlog=true', '-a', 'env=dev', ...cosignRegistryFlags(reg), image], { env });
      expect(bad.code).toBe(12);
    });

    it('signing twice with the same key adds no layer, like cosign', async () => {
      const image = await push(repo());
      const first = await signImage(image, await ourSigner(), { client });
      const second = await signImage(image, await ourSigner(), { client });
      expect(first.signed[0]?.appended).toBe(true);
      expect(second.signed[0]?.appended).toBe(false);
      // And cosign re-signing with its own key appends to our artifact; both verify.
      const r = await cosign(['sign', '--key', cosignKey.privateKeyPath, '--tlog-upload=false', '--yes', ...cosignRegistryFlags(reg), image], { env });
      expect(r.code, r.stderr).toBe(0);
      expect((await ourVerify(image, ourKey.pub)).signatures).toHaveLength(1);
      expect((await ourVerify(image, cosignKey.publicKeyPath)).signatures).toHaveLength(1);
    });

    it('real cosign signs → cosign-ts verifies (and rejects the wrong key)', async () => {
      const image = await push(repo());
      const r = await cosign(
        ['sign', '--key', cosignKey.privateKeyPath, '--tlog-upload=false', '--yes', '-a', 'by=cosign', ...cosignRegistryFlags(reg), image],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
      const mine = await ourVerify(image, cosignKey.publicKeyPath);
      expect(mine.signatures[0]?.payload.optional).toEqual({ by: 'cosign' });
      const theirs = await cosign(['verify', '--key', cosignKey.publicKeyPath, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), image], { env });
      expect(Buffer.from(mine.output).toString()).toBe(theirs.stdout);
      await expect(ourVerify(image, ourKey.pub)).rejects.toMatchObject({ code: 'NO_MATCHING_SIGNATURES' });
    });

    it('cosign-ts signs → skopeo sigstoreSigned policy accepts; unsigned is refused', async () => {
      const name = repo();
      const image = await push(name);
      await signImage(image, await ourSigner(), { client });
      const cfg = await writeSkopeoConfig(path.join(dir, `skopeo-${counter}`), { keyPath: ourKey.pub });
      const copyTo = `oci:${path.join(dir, `copy-${counter}`)}:x`;
      const ok = await skopeo([...cfg.globalFlags, 'copy', '--quiet', '--remove-signatures', ...skopeoRegistryFlags(reg, 'src'), `docker://${image}`, copyTo], {
        env,
      });
      expect(ok.code, ok.stderr).toBe(0);
      const unsigned = await push(repo());
      const refused = await skopeo(
        [...cfg.globalFlags, 'copy', '--quiet', '--remove-signatures', ...skopeoRegistryFlags(reg, 'src'), `docker://${unsigned}`, `${copyTo}u`],
        { env },
      );
      expect(refused.code).not.toBe(0);
    });

    it('skopeo signs → cosign-ts verifies (skopeo payloads have creator and timestamp)', async () => {
      const src = await push(repo());
      const destName = repo();
      await skopeoCopyAndSign({
        src: `docker://${src}`,
        dest: `${reg.host}/${destName}:signed`,
        keyPath: cosignKey.privateKeyPath,
        passphrase: PASSWORD,
        destRegistry: reg,
        srcRegistry: reg,
        workDir: path.join(dir, `skopeo-sign-${counter}`),
        env,
      });
      const mine = await ours(`${reg.host}/${destName}:signed`, cosignKey.publicKeyPath);
      expect(mine.signatures[0]?.payload.creator).toMatch(/skopeo|containers/i);
    });

    it('tampered signature artifact: rejected by cosign-ts, cosign and skopeo', async () => {
      const name = repo();
      const image = await push(name);
      const signed = await signImage(image, await ourSigner(), { client });
      const sigRef = signed.signed[0]!.signatureReference;
      // Replace the payload blob with a payload for another digest, keeping the signature annotation.
      const m = await client.getManifest(sigRef);
      const doc = JSON.parse(Buffer.from(m.bytes).toString()) as { layers: Array<{ digest: string; size: number }> };
      const layer = doc.layers[0]!;
      const payload = Buffer.from(await client.getBlob(sigRef, layer.digest as `sha256:${string}`));
      const forged = Buffer.from(payload.toString().replace(/sha256:[0-9a-f]{64}/, digestOf('another image')));
      const forgedDigest = digestOf(forged);
      await client.uploadBlob(sigRef, forgedDigest, forged);
      layer.digest = forgedDigest;
      layer.size = forged.byteLength;
      const bytes = Buffer.from(JSON.stringify(doc));
      await client.putManifest(sigRef, bytes, m.mediaType);
      await expect(ourVerify(image, ourKey.pub)).rejects.toMatchObject({ code: 'NO_MATCHING_SIGNATURES' });
      const r = await cosign(['verify', '--key', ourKey.pub, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), image], { env });
      expect(r.code).toBe(12);
      const cfg = await writeSkopeoConfig(path.join(dir, `skopeo-t-${counter}`), { keyPath: ourKey.pub });
      const sk = await skopeo(
        [
          ...cfg.globalFlags,
          'copy',
          '--quiet',
          '--remove-signatures',
          ...skopeoRegistryFlags(reg, 'src'),
          `docker://${image}`,
          `oci:${path.join(dir, `t-${counter}`)}:x`,
        ],
        { env },
      );
      expect(sk.code).not.toBe(0);
    });

    it('no signatures: distinct error (cosign exit 10)', async () => {
      const image = await push(repo());
      await expect(ourVerify(image, ourKey.pub)).rejects.toMatchObject({ code: 'NO_SIGNATURES' });
      const r = await cosign(['verify', '--key', ourKey.pub, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), image], { env });
      expect(r.code).toBe(10);
    });

    it('COSIGN_REPOSITORY-style signature repository works both ways', async () => {
      const image = await push(repo());
      const sigRepo = `${reg.host}/interop/signatures`;
      await signImage(image, await ourSigner(), { client, signatureRepository: sigRepo });
      const r = await cosign(['verify', '--key', ourKey.pub, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), image], {
        env: { ...env, COSIGN_REPOSITORY: sigRepo },
      });
      expect(r.code, r.stderr).toBe(0);
      const mine = await ours(image, ourKey.pub, { signatureRepository: sigRepo });
      expect(mine.signatureReference.name).toBe(sigRepo);
    });

    it('a bad reference is a distinct error', async () => {
      await expect(ours('NOT A REF', ourKey.pub)).rejects.toSatisfy((e: unknown) => isCosignError(e, 'BAD_REFERENCE'));
      expect(formatReference(parseReference(`${reg.host}/x:y`))).toBe(`${reg.host}/x:y`);
      void writeFile;
    });
  });
}
