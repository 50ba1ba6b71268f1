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
export type { KeychainContext, KeychainRequest, KeychainResponse } from './keychain.js';
export {
  CLOUD_FAILURE_BACKOFF_MS,
  acrKeychain,
  cloudKeychain,
  ecrKeychain,
  githubKeychain,
  googleKeychain,
  isAcrRegistry,
  isGithubRegistry,
  isGoogleRegistry,
  parseEcrRegistry,
  type AcrKeychainOptions,
  type AzureTokenCredential,
  type CloudKeychainOptions,
  type CloudKeychainsOptions,
  type EcrKeychainOptions,
  type GithubKeychainOptions,
  type GoogleAccessTokenSource,
  type GoogleKeychainOptions,
} from './cloud-keychains.js';
export {
  DOCKER_CFG_SECRET,
  DOCKER_CONFIG_JSON_SECRET,
  k8sKeychain,
  k8sNoClientKeychain,
  parsePullSecret,
  pullSecretKeychain,
  type K8sKeychainOptions,
  type K8sNoClientKeychainOptions,
  type PullSecretEntry,
} from './k8s-keychain.js';
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
export {
  DEFAULT_LAYOUT_MAX_BLOB_BYTES,
  LAYOUT_KIND_ANNOTATION,
  LAYOUT_KINDS,
  loadImage,
  OCI_LAYOUT_VERSION,
  OciLayout,
  saveImage,
  type LayoutEntry,
  type LoadImageOptions,
  type OciLayoutOptions,
  type SaveImageOptions,
  type SaveLoadResult,
} from './layout.js';
export type { RegistryReader } from './client.js';
