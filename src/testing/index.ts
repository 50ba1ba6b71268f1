/**
 * Test helpers for users' own tests (`cosign-ts/testing`): an in-memory OCI registry with auth,
 * referrers and fault injection.
 *
 * Write your tests against a real registry without Docker: {@link startTestRegistry} listens on
 * 127.0.0.1 (a free port), speaks the OCI distribution API (optionally with basic or token auth and
 * referrers), logs every request and injects faults (statuses, delays, wrong bytes).
 *
 * ```ts
 * import { afterAll, beforeAll, expect, it } from 'vitest';
 * import { RegistryClient, generateKeyPair, keyAuthority, parsePrivateKey, parsePublicKey, signImage, signerFromPrivateKey, verifyImage } from 'cosign-ts';
 * import { pushSampleImage, startTestRegistry, type TestRegistry } from 'cosign-ts/testing';
 *
 * let registry: TestRegistry;
 * beforeAll(async () => { registry = await startTestRegistry(); });
 * afterAll(() => registry.close());
 *
 * it('verifies what it signed, and survives a 503', async () => {
 *   const client = new RegistryClient();
 *   const digest = await pushSampleImage(client, `${registry.host}/app:v1`);
 *   const image = `${registry.host}/app@${digest}`;
 *   const keys = generateKeyPair('');
 *   await signImage(image, signerFromPrivateKey(parsePrivateKey(keys.privateKeyPem, ''), 'test'), { client });
 *   registry.faults.next({ path: /manifests/, status: 503 }); // retried by the client
 *   const r = await verifyImage(image, { client, authorities: [keyAuthority(parsePublicKey(keys.publicKeyPem), 'test')] });
 *   expect(r.signatures).toHaveLength(1);
 * });
 * ```
 *
 * @module cosign-ts/testing
 */
export { startTestRegistry, type Fault, type LoggedRequest, type TestRegistry, type TestRegistryOptions } from './registry.js';
export { pushSampleImage } from './sample-image.js';
