/**
 * Signing N images through the AWS KMS test server: exactly one `Sign` per signature and one
 * `GetPublicKey` in total; signatures/s against the server's own floor (the same number of raw SDK
 * `Sign` calls at the same concurrency).
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { resolveSigner } from '../src/kms/index.js';
import { RegistryClient } from '../src/oci/index.js';
import { signImage } from '../src/sign/index.js';
import { startTestRegistry } from '../src/testing/index.js';
import { AwsKmsServer } from '../test/kms/servers/index.js';
import { pushImages } from './registry.js';
import { statOf } from './chart.js';
import { fmt, type BenchSection } from './lib.js';

export async function benchKms(count = 200, concurrency = 8): Promise<BenchSection> {
  const aws = await AwsKmsServer.start();
  const registry = await startTestRegistry();
  try {
    aws.createKey('ECC_NIST_P256', { alias: 'image_signing_cosign_signature_key' });
    const creds = { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey };
    const client = new RegistryClient();
    const images = await pushImages(client, registry.host, count);

    // Floor: raw SDK Sign calls, same count and concurrency.
    const { KMSClient, SignCommand } = await import('@aws-sdk/client-kms');
    const kms = new KMSClient({ endpoint: aws.url, region: aws.region, credentials: creds });
    const digest = createHash('sha256').update('x').digest();
    let next = 0;
    let t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < count) {
          await kms.send(
            new SignCommand({ KeyId: 'alias/image_signing_cosign_signature_key', Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }),
          );
        }
      }),
    );
    const floorMs = performance.now() - t0;
    kms.destroy();

    const signsBefore = aws.count('Sign');
    const pubBefore = aws.count('GetPublicKey');
    const signer = await resolveSigner('awskms:///alias/image_signing_cosign_signature_key', {
      aws: { endpoint: aws.url, region: aws.region, credentials: creds },
    });
    next = 0;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < images.length) await signImage(images[next++] as string, signer, { client });
      }),
    );
    const oursMs = performance.now() - t0;
    const signs = aws.count('Sign') - signsBefore;
    const pubs = aws.count('GetPublicKey') - pubBefore;
    client.close();
    const rows = [
      {
        measure: `sign ${count} images through awskms (concurrency ${concurrency})`,
        'signatures/s': fmt((count * 1000) / oursMs, 0),
        'server floor (raw SDK Sign/s)': fmt((count * 1000) / floorMs, 0),
        ratio: `${fmt(floorMs / oursMs)}× of the floor; KMS calls: ${signs} Sign (want ${count}), ${pubs} GetPublicKey (want 1)`,
      },
    ];
    return {
      rows,
      results: [
        {
          section: 'kms',
          name: `sign ${count} images through awskms, concurrency ${concurrency} (floor: raw SDK Sign calls)`,
          unit: 'signatures/s',
          higherIsBetter: true,
          series: { 'cosign-ts': statOf([(count * 1000) / oursMs]), floor: statOf([(count * 1000) / floorMs]) },
        },
      ],
    };
  } finally {
    await registry.close();
    await aws.close();
  }
}
