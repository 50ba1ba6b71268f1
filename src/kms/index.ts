/**
 * Key references → signers and public keys: AWS KMS (`awskms://`), Google Cloud KMS (`gcpkms://`),
 * Azure Key Vault (`azurekms://`), HashiCorp Vault / OpenBao transit (`hashivault://`, `openbao://`),
 * Kubernetes secrets (`k8s://`), key files, and any scheme registered with {@link registerKmsProvider}.
 *
 * Importing this module loads no cloud SDK: each provider imports its SDK (an optional peer
 * dependency) on first use, and a missing one is reported as `KMS_SDK_MISSING` naming the package.
 *
 * ```ts
 * import { resolvePublicKey, resolveSigner } from 'cosign-ts/kms';
 *
 * // The SDK (@aws-sdk/client-kms here) is an optional peer dependency, loaded on first use.
 * const signer = await resolveSigner('awskms:///alias/image_signing_cosign_signature_key');
 * const publicKey = await resolvePublicKey('hashivault://cosign'); // VAULT_ADDR, VAULT_TOKEN
 * ```
 *
 * @module cosign-ts/kms
 */
export { isKmsReference, keyRefScheme, FILE_SCHEMES } from './scheme.js';
export {
  BUILTIN_KMS_PROVIDERS,
  kmsSchemes,
  registerKmsProvider,
  resolvePublicKey,
  resolveSigner,
  resolveVerifier,
  unregisterKmsProvider,
  type KmsOptions,
  type KmsSignerFactory,
  type ResolveVerifierOptions,
} from './registry.js';
export type { KeyPassword, KeyReferenceOptions, ReadKeyOptions } from '../keys/resolve.js';
export { awsSigner, parseAwsReference, type AwsKeyReference, type AwsKmsOptions } from './aws.js';
export { gcpSigner, parseGcpReference, type GcpKeyReference, type GcpKmsOptions } from './gcp.js';
export { azureSigner, parseAzureReference, type AzureKeyReference, type AzureKmsOptions, type AzureTokenCredential, type AzureAccessToken } from './azure.js';
export {
  parseVaultReference,
  type KmsEnv,
  vaultSigner,
  type VaultAuth,
  type VaultJwtAuth,
  type VaultKmsOptions,
  type VaultKubernetesAuth,
  type VaultTokenAuth,
} from './hashivault.js';
export { k8sPublicKey, k8sSigner, parseK8sReference, type K8sSecretOptions } from './k8s.js';
export type { KmsErrorCode } from './errors.js';
export type { HashAlgorithm, SignatureVerifier, Signer } from '../keys/signer.js';
