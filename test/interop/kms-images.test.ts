/**
 * Sign images in the real local registry through each KMS provider (real SDKs against the local
 * wire-faithful servers), verify with the library and with real cosign (`cosign verify --key` on the
 * exported public key PEM). Then real cosign signs through the AWS test server
 * (`cosign sign --key awskms://127.0.0.1:PORT/alias/…`) and the library verifies it. The installed
 * `cosign-ts` bin (package.json `bin`) verifies each image too, with the same stdout.
 */
import { Agent } from 'node:https';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePublicKey, resolveSigner, type KmsOptions } from '../../src/kms/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { signImage } from '../../src/sign/index.js';
import { keyAuthority, verifyImage } from '../../src/verify/index.js';
import { cli, ensureBuilt } from '../cli/helpers.js';
import { cosign, cosignRegistryFlags, isolatedToolEnv, pushBusyboxImage, skipReal, startRegistry, type RealRegistry } from '../helpers/real/index.js';
import { AwsKmsServer, AzureKeyVaultServer, GcpKmsServer, TEST_CA_PATH, TEST_CA_PEM, VaultServer } from '../kms/servers/index.js';

describe.skipIf(skipReal(['registry', 'cosign']))('KMS-signed images in a real registry, verified by cosign-ts and real cosign', () => {
  let reg: RealRegistry;
  let client: RegistryClient;
  let dir: string;
  let env: Record<string, string>;
  let aws: AwsKmsServer;
  let gcp: GcpKmsServer;
  let kv: AzureKeyVaultServer;
  let vault: VaultServer;
  let n = 0;

  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry();
    client = new RegistryClient();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-kms-img-'));
    env = await isolatedToolEnv(path.join(dir, 'home'));
    [aws, gcp, kv, vault] = await Promise.all([AwsKmsServer.start({ tls: true }), GcpKmsServer.start(), AzureKeyVaultServer.start(), VaultServer.start()]);
  });
  afterAll(async () => {
    await Promise.all([reg?.stop(), aws?.close(), gcp?.close(), kv?.close(), vault?.close()]);
  });

  const awsCreds = (): NonNullable<KmsOptions['aws']> => ({
    caBundle: TEST_CA_PATH,
    region: aws.region,
    credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
  });

  const providers: Array<[string, () => { ref: string; opts: KmsOptions }]> = [
    [
      'awskms',
      () => {
        aws.createKey('ECC_NIST_P256', { alias: 'image_signing_cosign_signature_key' });
        return { ref: `awskms://${aws.host}/alias/image_signing_cosign_signature_key`, opts: { aws: awsCreds() } };
      },
    ],
    [
      'gcpkms',
      () => {
        const key = gcp.createKey({ key: 'image-signing' }, 'EC_SIGN_P256_SHA256', { versions: 1 });
        return { ref: `gcpkms://${key.name}/cryptoKeyVersions/1`, opts: { gcp: { endpoint: gcp.url, accessToken: gcp.token } } };
      },
    ],
    [
      'azurekms',
      () => {
        kv.createKey('image-signing', 'EC-P256');
        return {
          ref: `azurekms://${kv.host}/image-signing`,
          opts: {
            azure: { credential: kv.credential(), disableChallengeResourceVerification: true, clientOptions: { agent: new Agent({ ca: TEST_CA_PEM }) } },
          },
        };
      },
    ],
    [
      'hashivault',
      () => {
        vault.createKey('cosign', 'ecdsa-p256');
        return { ref: 'hashivault://cosign', opts: { env: { VAULT_ADDR: vault.url, VAULT_TOKEN: vault.rootToken } } };
      },
    ],
  ];

  for (const [name, setup] of providers) {
    it(`${name}: sign by digest through the KMS → cosign-ts and cosign verify with the exported public key`, async () => {
      const { ref, opts } = setup();
      const repo = `kms/${name}-${++n}`;
      const digest = await pushBusyboxImage(reg.url, repo, 'v1', { labels: { kms: name } });
      const image = `${reg.host}/${repo}@${digest}`;
      const signer = await resolveSigner(ref, opts);
      const signed = await signImage(image, signer, { client });
      expect(signed.signed[0]?.appended).toBe(true);

      const pub = await resolvePublicKey(ref, opts);
      const pemPath = path.join(dir, `${name}.pub`);
      await writeFile(pemPath, pub.export({ type: 'spki', format: 'pem' }));
      const ours = await verifyImage(image, { client, authorities: [keyAuthority(pub, ref)] });
      expect(ours.signatures[0]?.authority).toBe(ref);
      const theirs = await cosign(['verify', '--key', pemPath, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), image], { env });
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(Buffer.from(ours.output).toString()).toBe(theirs.stdout);
      const bin = await cli(['verify', '--key', pemPath, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), image]);
      expect(bin.code, bin.stderr).toBe(0);
      expect(bin.stdout).toBe(theirs.stdout);
    });
  }

  it('real cosign signs through the AWS test server (awskms://127.0.0.1:PORT/alias/…) → cosign-ts verifies with the KMS reference', async () => {
    aws.createKey('ECC_NIST_P256', { alias: 'cosign-cli-signing' });
    const ref = `awskms://${aws.host}/alias/cosign-cli-signing`;
    const repo = `kms/cosign-aws-${++n}`;
    const digest = await pushBusyboxImage(reg.url, repo, 'v1', { labels: { kms: 'cosign-aws' } });
    const image = `${reg.host}/${repo}@${digest}`;
    const awsEnv = {
      AWS_ACCESS_KEY_ID: aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
      AWS_REGION: aws.region,
      AWS_CA_BUNDLE: TEST_CA_PATH,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const r = await cosign(['sign', '--key', ref, '--tlog-upload=false', '--yes', ...cosignRegistryFlags(reg), image], { env: { ...env, ...awsEnv } });
    expect(r.code, r.stderr).toBe(0);
    const pub = await resolvePublicKey(ref, { aws: awsCreds() });
    const ours = await verifyImage(image, { client, authorities: [keyAuthority(pub, ref)] });
    expect(ours.signatures).toHaveLength(1);
    expect(ours.signatures[0]?.payload.dockerReference).toBe(`${reg.host}/${repo}`);
    // The bin, with the KMS reference as --key (the public key is fetched from the AWS test server).
    const bin = await cli(['verify', '--key', ref, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), image], { env: awsEnv });
    expect(bin.code, bin.stderr).toBe(0);
    expect(bin.stdout).toBe(Buffer.from(ours.output).toString());
  });
});
