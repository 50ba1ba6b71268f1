/**
 * The registry transport: an OCI distribution client with auth, retries, limits and digest checks.
 *
 * @module
 */
export {
  RegistryClient,
  MANIFEST_ACCEPT,
  type CallOptions,
  type Descriptor,
  type ManifestResponse,
  type PrefetchOptions,
  type RegistryClientOptions,
} from './client.js';
export { anonymousKeychain, chainKeychains, dockerConfigKeychain, staticKeychain, type Credentials, type Keychain } from './keychain.js';
export { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MIN_BYTES_PER_SECOND, DEFAULT_REQUEST_TIMEOUT_MS, MAX_TIMED_OUT_ATTEMPTS, parseRetryAfter, type TransportOptions, type TransportStats } from './transport.js';
export { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';
