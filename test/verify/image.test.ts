/**
 * verifyImage options as plain callers pass them: `throughIndex` as a plain string (type-checks, and
 * is validated at run time with a typed error).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { generateKeyPair, parsePrivateKey, parsePublicKey, signerFromPrivateKey } from '../../src/keys/index.js';
import { RegistryClient } from '../../src/oci/index.js';
import { parseReference } from '../../src/reference.js';
import { signImage } from '../../src/sign/index.js';
import { pushSampleImage, startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { keyAuthority, verifyImage } from '../../src/verify/index.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startTestRegistry();
});
afterAll(async () => {
  await registry.close();
});

describe('verifyImage throughIndex', () => {
  it('accepts a plain string digest, and rejects a malformed one with BAD_DIGEST', async () => {
    const client = new RegistryClient();
    const repo = `${registry.host}/through/index`;
    const platform = await pushSampleImage(client, `${repo}:amd64`, { arch: 'amd64' });
    const m = await client.getManifest(parseReference(`${repo}@${platform}`));
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: m.mediaType, digest: platform, size: m.bytes.byteLength, platform: { architecture: 'amd64', os: 'linux' } }],
      }),
    );
    const indexDigest = await client.putManifest(parseReference(`${repo}:multi`), index, 'application/vnd.oci.image.index.v1+json');
    const keys = generateKeyPair('');
    await signImage(`${repo}@${indexDigest}`, signerFromPrivateKey(parsePrivateKey(keys.privateKeyPem, ''), 'k'), { client });
    const authorities = [keyAuthority(parsePublicKey(keys.publicKeyPem), 'k.pub')];

    // A string, e.g. read from a file or an environment variable: no cast needed.
    const fromConfig: string = String(indexDigest);
    const r = await verifyImage(`${repo}@${platform}`, { client, authorities, throughIndex: fromConfig });
    expect(r.signatures).toHaveLength(1);

    for (const bad of ['sha256:nothex', 'latest', '']) {
      const e = await verifyImage(`${repo}@${platform}`, { client, authorities, throughIndex: bad }).catch((x: unknown) => x);
      expect(isCosignError(e, 'BAD_DIGEST'), String(e)).toBe(true);
    }
  });
});

describe('verifyImage: no matching signature', () => {
  it('says each distinct reason once and names the layers it applies to', async () => {
    const client = new RegistryClient();
    const image = `${registry.host}/wrong/key@${await pushSampleImage(client, `${registry.host}/wrong/key:v1`)}`;
    const signer = signerFromPrivateKey(parsePrivateKey(generateKeyPair('').privateKeyPem, ''), 'k');
    const a = await signImage(image, signer, { client });
    const b = await signImage(image, signer, { client, annotations: { n: '2' } });
    const other = [keyAuthority(parsePublicKey(generateKeyPair('').publicKeyPem), 'other.pub')];
    const e = await verifyImage(image, { client, authorities: other }).catch((x: unknown) => x);
    expect(isCosignError(e, 'NO_MATCHING_SIGNATURES')).toBe(true);
    const message = (e as Error).message;
    expect(message.match(/signature does not verify with the key/g)).toHaveLength(1);
    expect(message).toContain('(2 layers ');
    expect(a.signed[0]?.signature).toBeDefined();
    expect(b.signed).toHaveLength(1);
  });
});
