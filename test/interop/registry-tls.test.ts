/**
 * Registry TLS against Debian's docker-registry serving HTTPS from a fresh openssl test CA and
 * requiring a client certificate (mutual TLS), issue #16 item 1: the CLI bundle signs and verifies
 * with `--registry-cacert`, `--registry-client-cert/-key`; cosign 3 verifies what cosign-ts signed
 * and the other way round; an untrusted CA, a missing client certificate and a certificate without
 * its key fail with clear errors; `SSL_CERT_FILE` stands in for `--registry-cacert`. Go's registry
 * picks HTTP/2 by ALPN: a batch signed and verified through the library is one connection (one TLS
 * handshake) per host, and cosign 3 verifies it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { signerFromPrivateKey } from '../../src/keys/index.js';
import { RegistryClient, type RegistryClientOptions } from '../../src/oci/index.js';
import { signImage } from '../../src/sign/index.js';
import { keyAuthority, verifyImages } from '../../src/verify/index.js';
import { cosign3, cosignRegistryFlags, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';

describe.skipIf(skipReal(['registry', 'cosign3', 'openssl']))('registry over mutual TLS (docker-registry)', () => {
  let reg: RealRegistry;
  let work: string;
  let env: Record<string, string>;
  let key: string;
  let pub: string;
  let n = 0;

  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry({ tls: true, mtls: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-rtls-'));
    env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: 'pw' };
    await mkdir(path.join(work, 'k'));
    const gen = await cosign3(['generate-key-pair'], { cwd: path.join(work, 'k'), env });
    expect(gen.code, gen.stderr).toBe(0);
    key = path.join(work, 'k', 'cosign.key');
    pub = path.join(work, 'k', 'cosign.pub');
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const image = async (): Promise<string> => {
    const repo = `tls/app${++n}`;
    const digest = await pushBusyboxImage(reg.url, repo, 'v1', {
      caFile: reg.caFile as string,
      clientCertFile: reg.clientCertFile as string,
      clientKeyFile: reg.clientKeyFile as string,
    });
    return `${reg.host}/${repo}@${digest}`;
  };
  // cosign 3 needs --use-signing-config=false for key-based signing without a tlog; cosign-ts has no signing config.
  const signArgs = (ref: string, flags: string[], peer = false) => [
    'sign',
    '--key',
    key,
    '--tlog-upload=false',
    ...(peer ? ['--use-signing-config=false'] : []),
    '--yes',
    ...flags,
    ref,
  ];
  const verifyArgs = (ref: string, flags: string[]) => ['verify', '--key', pub, '--insecure-ignore-tlog=true', ...flags, ref];

  it('cosign-ts signs and verifies over mutual TLS; cosign 3 verifies it, and the other way round', async () => {
    const ref = await image();
    const s = await cli(signArgs(ref, cosignRegistryFlags(reg)), { env });
    expect(s.code, s.stderr).toBe(0);
    const v = await cli(verifyArgs(ref, cosignRegistryFlags(reg)), { env });
    expect(v.code, v.stderr).toBe(0);
    const v3 = await cosign3(verifyArgs(ref, cosignRegistryFlags(reg)), { env });
    expect(v3.code, v3.stderr).toBe(0);
    expect(v.stdout).toBe(v3.stdout);

    const ref2 = await image();
    const s3 = await cosign3(signArgs(ref2, cosignRegistryFlags(reg), true), { env });
    expect(s3.code, s3.stderr).toBe(0);
    const v2 = await cli(verifyArgs(ref2, cosignRegistryFlags(reg)), { env });
    expect(v2.code, v2.stderr).toBe(0);
  }, 120_000);

  it('SSL_CERT_FILE trusts the registry CA without --registry-cacert', async () => {
    const ref = await image();
    const flags = cosignRegistryFlags(reg).filter((f) => !f.startsWith('--registry-cacert'));
    const s = await cli(signArgs(ref, flags), { env: { ...env, SSL_CERT_FILE: reg.caFile as string } });
    expect(s.code, s.stderr).toBe(0);
  }, 60_000);

  it('fails clearly: untrusted CA, no client certificate, a certificate without its key', async () => {
    const ref = await image();
    const mtls = [`--registry-client-cert=${reg.clientCertFile}`, `--registry-client-key=${reg.clientKeyFile}`];
    const untrusted = await cli(verifyArgs(ref, mtls), { env });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toContain("TLS: the registry's certificate is not trusted");
    const noCert = await cli(verifyArgs(ref, [`--registry-cacert=${reg.caFile}`]), { env });
    expect(noCert.code).not.toBe(0);
    expect(noCert.stderr).toMatch(/TLS handshake refused by the registry \(does it require a client certificate\?\)|ECONNRESET/);
    const noKey = await cli(verifyArgs(ref, [`--registry-cacert=${reg.caFile}`, `--registry-client-cert=${reg.clientCertFile}`]), { env });
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toContain('--registry-client-cert and --registry-client-key must be given together');
    const badKey = await cli(
      verifyArgs(ref, [`--registry-cacert=${reg.caFile}`, `--registry-client-cert=${reg.clientCertFile}`, `--registry-client-key=${reg.caFile}`]),
      { env },
    );
    expect(badKey.code).not.toBe(0);
    expect(badKey.stderr).toContain(`--registry-client-key ${reg.caFile}: not a PEM private key`);
  }, 60_000);

  it('--registry-cacert replaces the default roots, as in cosign: SSL_CERT_FILE trusting the registry does not help a wrong --registry-cacert', async () => {
    const ref = await image();
    const mtls = [`--registry-client-cert=${reg.clientCertFile}`, `--registry-client-key=${reg.clientKeyFile}`];
    // A valid certificate that did not issue the registry's (the client certificate stands in for another CA).
    const wrong = [`--registry-cacert=${reg.clientCertFile}`, ...mtls];
    const sslEnv = { ...env, SSL_CERT_FILE: reg.caFile as string, NODE_EXTRA_CA_CERTS: reg.caFile as string };
    const ours = await cli(verifyArgs(ref, wrong), { env: sslEnv });
    expect(ours.code).not.toBe(0);
    expect(ours.stderr).toContain("TLS: the registry's certificate is not trusted");
    const peer = await cosign3(verifyArgs(ref, wrong), { env: sslEnv });
    expect(peer.code).not.toBe(0);
    // cosign fails the same way: the certificate is not trusted (for a loopback registry go-containerregistry
    // then retries over plain HTTP, which the HTTPS registry refuses, and reports that).
    expect(peer.stderr).toMatch(/certificate signed by unknown authority|Client sent an HTTP request to an HTTPS server/);
    // Without the flag, both trust SSL_CERT_FILE.
    expect((await cli(verifyArgs(ref, mtls), { env: sslEnv })).stderr).not.toContain('not trusted');
  }, 60_000);

  it('a --registry-cacert file without a certificate is a BAD_INPUT error before any connection (cosign silently ignores it)', async () => {
    const ref = await image();
    const bad = path.join(work, 'not-a-ca.pem');
    await writeFile(bad, 'not a certificate\n');
    const r = await cli(verifyArgs(ref, [`--registry-cacert=${bad}`]), { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Error: --registry-cacert ${bad}: no valid PEM certificate found`);
  }, 60_000);

  it('HTTP/2: a batch signed and verified through the library costs one TLS handshake per host; HTTP/1.1 still works', async () => {
    const refs = await Promise.all(Array.from({ length: 4 }, () => image()));
    const options: RegistryClientOptions = {
      tls: {
        [reg.host]: {
          ca: await readFile(reg.caFile as string, 'utf8'),
          caOnly: true,
          cert: await readFile(reg.clientCertFile as string, 'utf8'),
          key: await readFile(reg.clientKeyFile as string, 'utf8'),
        },
      },
    };
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = signerFromPrivateKey(kp.privateKey, 'h2.key');
    const signing = new RegistryClient(options);
    await Promise.all(refs.map((r) => signImage(r, signer, { client: signing })));
    expect(signing.stats.http2Sessions).toBe(1);
    expect(signing.stats.tlsHandshakesByHost).toEqual({ [reg.host]: { full: 1, resumed: 0 } });
    signing.close();
    // 32 verifications at once (the same images, each verified 8 times): still one session.
    const batch = Array.from({ length: 32 }, (_, i) => refs[i % refs.length] as string);
    const authorities = [keyAuthority(kp.publicKey, 'h2.pub')];
    const verifying = new RegistryClient(options);
    const results = await verifyImages(batch, { client: verifying, authorities, batchConcurrency: 32 });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(verifying.stats.http2Sessions).toBe(1);
    expect(verifying.stats.tlsHandshakesByHost).toEqual({ [reg.host]: { full: 1, resumed: 0 } });
    verifying.close();
    const h1 = new RegistryClient({ ...options, http2: false });
    expect((await verifyImages(batch, { client: h1, authorities, batchConcurrency: 32 })).every((r) => r.ok)).toBe(true);
    expect(h1.stats.http2Sessions).toBe(0);
    expect(h1.stats.tlsHandshakesByHost[reg.host]?.full).toBe(1);
    h1.close();
    // cosign 3 verifies what the library signed over HTTP/2.
    await writeFile(path.join(work, 'h2.pub'), kp.publicKey.export({ type: 'spki', format: 'pem' }));
    const v3 = await cosign3(['verify', '--key', path.join(work, 'h2.pub'), '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), refs[0] as string], {
      env,
    });
    expect(v3.code, v3.stderr).toBe(0);
  }, 120_000);
});
