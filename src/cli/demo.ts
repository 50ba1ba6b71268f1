/**
 * The embedded end-to-end demo (`cosign-ts demo`; `npm run demo` builds and runs it): no Docker, no cloud.
 *
 * 1. starts the in-process OCI registry on 127.0.0.1;
 * 2. pushes a small sample image;
 * 3. generates a cosign key pair (ECDSA P-256, cosign's encrypted key format) in a temp folder;
 * 4. signs the image by digest and writes the `.sig` artifact to the registry;
 * 5. verifies it and prints what `cosign verify` prints;
 * 6. tampers with the signature artifact and shows the rejection; verifies with a wrong key too.
 *
 * It writes through the same {@link ProgramIO} as every verb (so `--output-file` receives its lines) and
 * stops at the next step or registry call once `signal` is aborted (`--timeout`, Ctrl-C), rethrowing
 * the signal's reason; the registry is closed and the key folder removed either way.
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { digestOf } from '../digest.js';
import { isCosignError } from '../errors.js';
import { generateKeyPair, loadSignerFromFile, parsePublicKey, readKeyFile, writeKeyPair } from '../keys/index.js';
import { parseManifest, RegistryClient } from '../oci/index.js';
import { formatReference } from '../reference.js';
import { signImage } from '../sign/index.js';
import { pushSampleImage, startTestRegistry } from '../testing/index.js';
import { keyAuthority, verificationChecks, verifyImage } from '../verify/index.js';
import type { CliContext } from './context.js';

/** What a program writes to and is stopped by: the part of {@link CliContext} the demo uses. */
export type ProgramIO = Pick<CliContext, 'stdout' | 'stderr' | 'signal'>;

/** Options for {@link runDemo}. */
export interface DemoOptions {
  /** Keep the temporary key folder (default: removed). */
  readonly keepFiles?: boolean;
}

/**
 * Run the demo, writing its lines to `io.stdout`; resolves to 0 when every step behaved as expected,
 * 1 when a tampered or foreign signature was accepted. Rejects with `io.signal.reason` once the signal
 * is aborted (after closing the registry and removing the key folder).
 */
export async function runDemo(io: ProgramIO, options: DemoOptions = {}): Promise<number> {
  const { signal } = io;
  const log = (line: string): void => {
    io.stdout.write(`${line}\n`);
  };
  signal.throwIfAborted();
  const registry = await startTestRegistry();
  let dir: string | undefined;
  let ok = true;
  try {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-demo-'));
    const client = new RegistryClient();
    const repo = `${registry.host}/demo/hello`;
    log(`1. in-process OCI registry listening on ${registry.url}`);
    // pushSampleImage takes no signal: check it between steps (each registry call is on loopback).
    const digest = await pushSampleImage(client, `${repo}:v1`, { demo: 'hello' });
    signal.throwIfAborted();
    const image = `${repo}@${digest}`;
    log(`2. pushed sample image ${repo}:v1 → ${digest}`);

    const password = 'demo-password';
    const keys = await writeKeyPair(dir, { password });
    signal.throwIfAborted();
    log(`3. generated ECDSA P-256 key pair: ${keys.privateKeyPath} (encrypted, mode 0600), ${keys.publicKeyPath}`);

    const signer = await loadSignerFromFile(keys.privateKeyPath, password);
    const signed = await signImage(image, signer, { client, annotations: { demo: 'true' }, signal });
    const s = signed.signed[0];
    if (s === undefined) throw new Error('nothing signed');
    log(`4. signed ${image}`);
    log(`   signature artifact: ${formatReference(s.signatureReference)} (manifest ${s.signatureManifestDigest})`);
    log(`   payload: ${Buffer.from(s.payload).toString('utf8')}`);

    const authority = keyAuthority(parsePublicKey(await readKeyFile(keys.publicKeyPath)), keys.publicKeyPath);
    const result = await verifyImage(image, { client, authorities: [authority], annotations: { demo: 'true' }, signal });
    log(`5. verified: ${result.signatures.length} valid signature(s). cosign would print on stderr:`);
    log('');
    log(`Verification for ${image} --`);
    log('The following checks were performed on each of these signatures:');
    for (const line of verificationChecks({ annotations: { demo: 'true' } })) log(line);
    log('   and on stdout:');
    log(Buffer.from(result.output).toString('utf8').trim());

    // Tamper: a payload claiming another digest, under the same signature.
    const m = await client.getManifest(s.signatureReference, { signal });
    const manifest = parseManifest(m.bytes, m.mediaType, 'signature manifest');
    const forged = Buffer.from(Buffer.from(s.payload).toString('utf8').replace(digest, digestOf('some other image')));
    await client.uploadBlob(s.signatureReference, digestOf(forged), forged, { signal });
    const [first, ...rest] = manifest.layers;
    if (first === undefined) throw new Error('no layer');
    const layers = [{ ...first, digest: digestOf(forged), size: forged.byteLength }, ...rest];
    await client.putManifest(s.signatureReference, Buffer.from(JSON.stringify({ ...manifest, layers })), m.mediaType, { signal });
    try {
      await verifyImage(image, { client, authorities: [authority], signal });
      log('6. ERROR: the tampered signature was accepted');
      ok = false;
    } catch (e) {
      if (signal.aborted || !isCosignError(e, 'NO_MATCHING_SIGNATURES')) throw e;
      log(`6. tampered signature artifact rejected: ${e.code}: ${e.message}`);
    }
    const wrong = keyAuthority(parsePublicKey(generateKeyPair('').publicKeyPem), 'another-key.pub');
    try {
      await signImage(image, signer, { client, signal });
      await verifyImage(image, { client, authorities: [wrong], signal });
      log('7. ERROR: a signature from another key was accepted');
      ok = false;
    } catch (e) {
      if (signal.aborted || !isCosignError(e, 'NO_MATCHING_SIGNATURES')) throw e;
      log(`7. verification with another key rejected: ${e.code}`);
    }
    log(ok ? '\ndemo finished: sign, verify and both rejections behaved as cosign does.' : '\ndemo FAILED');
  } catch (e) {
    // A registry call stopped by the signal fails with its own error: report why it was stopped.
    if (signal.aborted) throw signal.reason;
    throw e;
  } finally {
    await registry.close();
    if (options.keepFiles !== true && dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
  return ok ? 0 : 1;
}
