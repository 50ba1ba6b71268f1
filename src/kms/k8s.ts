/**
 * Kubernetes secret keys: `k8s://<namespace>/<secret>` holding `cosign.key`, `cosign.pub` and
 * `cosign.password`, as `cosign generate-key-pair k8s://…` writes them. Uses `@kubernetes/client-node`
 * (loaded on first use) with the kubeconfig from `KUBECONFIG` / `~/.kube/config` / in-cluster.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { isCosignError } from '../errors.js';
import { privateKeyFromPem } from '../keys/resolve.js';
import type { Signer } from '../keys/signer.js';
import { signerFromPrivateKey } from '../keys/file-signer.js';
import { parsePublicKey, publicOf } from './crypto.js';
import { describe, kmsError, networkErrorCode, networkErrorTarget } from './errors.js';
import type { KmsOptions } from './registry.js';
import { loadSdk } from './sdk.js';

/** Options for `k8s://` references. */
export interface K8sSecretOptions {
  /** Path of a kubeconfig file. Default: `KUBECONFIG`, `~/.kube/config`, else in-cluster config. */
  readonly kubeconfigPath?: string;
  /** A kubeconfig document (YAML), instead of a file. */
  readonly kubeconfig?: string;
  /** Context to use. Default: the kubeconfig's current context. */
  readonly context?: string;
}

/** Parse `k8s://<namespace>/<name>`. */
export function parseK8sReference(keyRef: string): {
  /** The secret's namespace. */
  namespace: string;
  /** The secret's name. */
  name: string;
} {
  const m = /^k8s:\/\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(keyRef);
  if (m === null) throw kmsError('KMS_ERROR', keyRef, 'invalid Kubernetes secret reference; expected k8s://<namespace>/<secret>', { reason: 'bad-reference' });
  return { namespace: m[1] as string, name: m[3] as string };
}

const MAX_SECRET_VALUE = 1024 * 1024;

async function readSecret(keyRef: string, o: K8sSecretOptions, strict = false): Promise<Record<string, Buffer>> {
  const { namespace, name } = parseK8sReference(keyRef);
  const k8s = await loadSdk('@kubernetes/client-node', keyRef, () => import('@kubernetes/client-node'));
  let secret: { data?: Record<string, string> };
  try {
    const kc = new k8s.KubeConfig();
    if (o.kubeconfig !== undefined) kc.loadFromString(o.kubeconfig);
    else if (o.kubeconfigPath !== undefined) kc.loadFromFile(o.kubeconfigPath);
    else kc.loadFromDefault();
    if (o.context !== undefined) kc.setCurrentContext(o.context);
    const api = kc.makeApiClient(k8s.CoreV1Api);
    secret = await api.readNamespacedSecret({ name, namespace });
  } catch (e) {
    const status = typeof (e as { code?: unknown }).code === 'number' ? (e as { code: number }).code : undefined;
    const net = networkErrorCode(e);
    if (net !== undefined && status === undefined)
      throw kmsError('KMS_NETWORK', keyRef, `cannot read Kubernetes secret ${namespace}/${name}: network error (${net})${networkErrorTarget(e)}`, {
        reason: net,
      });
    if (status === 401 || status === 403)
      throw kmsError('KMS_ACCESS_DENIED', keyRef, `access to Kubernetes secret ${namespace}/${name} denied (HTTP ${status})`, { status });
    if (status === 429) throw kmsError('KMS_THROTTLED', keyRef, `Kubernetes API throttled reading secret ${namespace}/${name}`, { status });
    if (status === 404) throw kmsError('KMS_ERROR', keyRef, `Kubernetes secret ${namespace}/${name} not found`, { status, reason: 'not-found' });
    throw kmsError(
      'KMS_ERROR',
      keyRef,
      `cannot read Kubernetes secret ${namespace}/${name}: ${status !== undefined ? `HTTP ${status}` : describe(e).split('\n')[0]}`,
      status !== undefined ? { status } : undefined,
    );
  }
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    if (strict && (typeof v !== 'string' || v.length > MAX_SECRET_VALUE))
      throw kmsError('KMS_ERROR', keyRef, `Kubernetes secret ${namespace}/${name}: a data entry is not a string of at most ${MAX_SECRET_VALUE} characters`);
    if (typeof v !== 'string' || v.length > MAX_SECRET_VALUE) continue;
    out[k] = Buffer.from(v, 'base64');
  }
  return out;
}

/**
 * Every data entry of the secret `namespace/name` (decoded), for readers with their own layout (policy-controller's
 * `secretRef`: one entry, whatever its name). Errors as for `k8s://` keys, naming `k8s://namespace/name`.
 * @throws CosignError `KMS_ERROR` (not found, malformed name, an entry over 1 MiB), `KMS_ACCESS_DENIED`,
 *   `KMS_THROTTLED`, `KMS_NETWORK`, `KMS_SDK_MISSING`.
 */
export function readK8sSecretData(namespace: string, name: string, o: K8sSecretOptions = {}): Promise<Record<string, Buffer>> {
  return readSecret(`k8s://${namespace}/${name}`, o, true);
}

/**
 * A signer from the secret's `cosign.key`, decrypted with `cosign.password` (or {@link KmsOptions.password}
 * when the secret has none), via `src/keys`. With {@link KmsOptions.publicKeyOnly}, a signer that only
 * gives the secret's `cosign.pub` (no password needed; `sign` fails), or the public half of
 * `cosign.key` when the secret has no `cosign.pub`.
 */
export async function k8sSigner(keyRef: string, opts: KmsOptions = {}): Promise<Signer> {
  const data = await readSecret(keyRef, opts.k8s ?? {});
  const pub = data['cosign.pub'];
  if (opts.publicKeyOnly === true && pub !== undefined) {
    const key = parsePublicKey(pub, `${keyRef} cosign.pub`);
    return {
      keyRef,
      publicKey: () => Promise.resolve(key),
      sign: () => Promise.reject(kmsError('KMS_ERROR', keyRef, 'resolved for its public key only (publicKeyOnly): cannot sign')),
    };
  }
  const pem = data['cosign.key'];
  if (pem === undefined) throw kmsError('KMS_ERROR', keyRef, 'Kubernetes secret has no cosign.key', { reason: 'no-private-key' });
  const password = data['cosign.password'] !== undefined ? data['cosign.password'].toString('utf8') : opts.password;
  let key: KeyObject;
  try {
    key = await privateKeyFromPem(pem, password, `${keyRef} cosign.key`);
  } catch (e) {
    if (isCosignError(e)) throw e; // WRONG_PASSWORD, BAD_KEY, UNSUPPORTED_KEY: already secret-free
    throw kmsError('KMS_ERROR', keyRef, 'cannot decrypt cosign.key');
  }
  let stored: KeyObject | undefined;
  if (pub !== undefined) {
    try {
      stored = parsePublicKey(pub, `${keyRef} cosign.pub`);
    } catch {
      stored = undefined;
    }
  }
  if (stored !== undefined && !stored.equals(publicOf(key)))
    throw kmsError('KMS_ERROR', keyRef, 'cosign.pub does not match cosign.key in the Kubernetes secret');
  return signerFromPrivateKey(key, keyRef);
}

/** The secret's `cosign.pub` (no password needed), else the public half of `cosign.key`. */
export async function k8sPublicKey(keyRef: string, opts: KmsOptions = {}): Promise<KeyObject> {
  return (await k8sSigner(keyRef, { ...opts, publicKeyOnly: true })).publicKey();
}
