/**
 * The registry transport: an OCI distribution client with auth, retries, limits and digest checks;
 * the OCI document model (image manifests and indexes, strictly parsed) and the referrers fallback tag.
 *
 * ```ts
 * import { parseReference } from 'cosign-ts';
 * import { RegistryClient } from 'cosign-ts/oci';
 *
 * const client = new RegistryClient(); // credentials from ~/.docker/config.json and its helpers
 * const manifest = await client.getManifest(parseReference('registry.example.com/app:v1'));
 * console.log(manifest.digest, manifest.mediaType);
 * ```
 *
 * @module cosign-ts/oci
 */
export {
  RegistryClient,
  type CallOptions,
  type ManifestResponse,
  type RegistryClientOptions,
} from './client.js';
export { DOCKER_MANIFEST_LIST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE } from './manifest.js';
export {
  isIndexMediaType,
  isManifestMediaType,
  manifestMediaType,
  parseImageIndex,
  parseImageIndexIfAny,
  parseManifest,
  referrersFallbackTag,
} from './manifest.js';
export type { Descriptor, ImageIndex, ImageManifest, OciDocument } from './manifest.js';
export { anonymousKeychain, chainKeychains, dockerConfigKeychain, staticKeychain, type Credentials, type Keychain } from './keychain.js';
export {
  DOCKER_HUB_AUTH_KEY,
  loginRegistry,
  storeCredentials,
  type StoreCredentialsOptions,
  type StoredCredentials,
} from './login.js';
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MIN_BYTES_PER_SECOND,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_UNRESPONSIVE_MS,
  type RegistryTlsOptions,
  type TlsHandshakeCount,
  type TransportOptions,
  type TransportStats,
} from './transport.js';
