/**
 * Registry credentials per admission review, as the kubelet would pull: the pod's `imagePullSecrets` and its
 * service account's, read through the Kubernetes API with the same code as `k8sKeychain` (`cosign-ts/oci`),
 * then the node's docker config and the cloud keychains; and the fingerprint that scopes the admission
 * controller's tag cache to one credential.
 *
 * @module
 */
import { createHmac, randomBytes } from 'node:crypto';
import { k8sKeychain, k8sNoClientKeychain, type K8sKeychainOptions } from '../oci/k8s-keychain.js';
import type { Credentials, Keychain, KeychainContext } from '../oci/keychain.js';
import type { KeychainFactory, ReviewContext } from './admission.js';

/** Options of {@link pullSecretKeychains}. */
export interface PullSecretKeychainsOptions extends Omit<K8sKeychainOptions, 'namespace' | 'serviceAccount' | 'imagePullSecrets'> {
  /** How long secrets read for one (namespace, service account, pull secrets) are reused. Default 60 s. */
  readonly ttlMs?: number;
  /** Most distinct identities kept. Default 256 (the least recently used is dropped). */
  readonly maxEntries?: number;
  /** Told when secrets cannot be read (the review then goes on with docker config and cloud credentials). */
  readonly onSecretsError?: (error: unknown, context: ReviewContext) => void;
}

/**
 * A {@link KeychainFactory} for the webhook: one keychain object per (namespace, service account, pull
 * secrets), so registry clients are shared by the reviews of one workload identity; its secrets are read on
 * first use and read again after `ttlMs` (a rotated secret is picked up). When they cannot be read (no RBAC,
 * API down) the keychain falls back to docker config and the cloud keychains, and `onSecretsError` is told.
 */
export function pullSecretKeychains(options: PullSecretKeychainsOptions = {}): KeychainFactory {
  const ttl = options.ttlMs ?? 60_000;
  const max = options.maxEntries ?? 256;
  const { ttlMs: _t, maxEntries: _m, onSecretsError, ...k8s } = options;
  const fallback = k8sNoClientKeychain(k8s);
  const entries = new Map<string, Keychain>();
  return (context: ReviewContext): Keychain => {
    const key = JSON.stringify([context.namespace, context.serviceAccountName, [...context.imagePullSecrets].sort()]);
    const hit = entries.get(key);
    if (hit !== undefined) {
      entries.delete(key);
      entries.set(key, hit);
      return hit;
    }
    let current: { at: number; keychain: Promise<Keychain> } | undefined;
    const load = (): Promise<Keychain> => {
      const now = Date.now();
      if (current === undefined || now - current.at >= ttl) {
        const keychain = k8sKeychain({
          ...k8s,
          namespace: context.namespace,
          serviceAccount: context.serviceAccountName,
          imagePullSecrets: context.imagePullSecrets,
        }).catch((e: unknown) => {
          onSecretsError?.(e, context);
          current = undefined; // read again on the next review
          return fallback;
        });
        current = { at: now, keychain };
      }
      return current.keychain;
    };
    const keychain: Keychain = {
      async resolve(registry: string, repository?: string, ctx?: KeychainContext): Promise<Credentials | undefined> {
        return (await load()).resolve(registry, repository, ctx);
      },
    };
    entries.set(key, keychain);
    if (entries.size > max) entries.delete(entries.keys().next().value as string);
    return keychain;
  };
}

/** Per-process key of {@link credentialFingerprint}: fingerprints cannot be compared across processes or brute-forced offline. */
const FINGERPRINT_KEY = randomBytes(32);

/**
 * An opaque identity of registry credentials, for cache keys: `anonymous` without credentials, else `c:` and 128 bits
 * of an HMAC-SHA256 (keyed with a random per-process key) over the credential's kind and fields. Equal credentials
 * give equal fingerprints within one process; the credential itself cannot be recovered from it, and it never
 * leaves the process (no log, metric or response carries it).
 */
export function credentialFingerprint(credentials: Credentials | undefined): string {
  if (credentials === undefined) return 'anonymous';
  const fields =
    'username' in credentials
      ? ['basic', credentials.username, credentials.password]
      : 'identityToken' in credentials
        ? ['identity', credentials.identityToken]
        : ['registry', credentials.registryToken];
  return `c:${createHmac('sha256', FINGERPRINT_KEY).update(JSON.stringify(fields)).digest('base64url').slice(0, 22)}`;
}
