/**
 * Test helpers for users' own tests (`cosign-ts/testing`): an in-memory OCI registry with auth,
 * referrers and fault injection.
 *
 * @module
 */
export { startTestRegistry, type Fault, type LoggedRequest, type TestRegistry, type TestRegistryOptions } from './registry.js';
export { pushSampleImage } from './sample-image.js';
