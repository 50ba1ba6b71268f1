/**
 * Local, wire-faithful KMS test servers (real HTTP(S) on 127.0.0.1, random port, real node:crypto keys):
 * use them from any test, e.g. to sign images through each provider.
 *
 * - {@link AwsKmsServer}: AWS KMS JSON 1.1 with SigV4 verification (`tls: true` for cosign, which needs https;
 *   give cosign `AWS_CA_BUNDLE=TEST_CA_PATH` or `AWS_TLS_INSECURE_SKIP_VERIFY=1`).
 * - {@link GcpKmsServer}: Cloud KMS REST v1 with bearer auth and CRC32C.
 * - {@link AzureKeyVaultServer}: Key Vault over HTTPS with the bearer challenge.
 * - {@link VaultServer}: Vault transit + token/Kubernetes/JWT auth.
 * - {@link K8sApiServer}: Kubernetes secrets API over HTTPS.
 */
export { AwsKmsServer, type AwsKeySpec, type AwsTestKey } from './aws-kms.js';
export { GcpKmsServer, type GcpAlgorithm, type GcpTestKey } from './gcp-kms.js';
export { AzureKeyVaultServer, type AzureKeyKind, type AzureTestKey } from './azure-kv.js';
export { VaultServer, type VaultKeyType, type VaultTestKey } from './vault.js';
export { K8sApiServer } from './k8s-api.js';
export { TEST_CA_PATH, TEST_CA_PEM, deadPort } from './base.js';
