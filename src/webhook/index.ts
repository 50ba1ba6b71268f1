/**
 * The Kubernetes admission webhook (`cosign-ts-webhook`): AdmissionReview parsing, the admission
 * decision over the shared policy model, the HTTPS server, metrics, and importers for
 * policy-controller ClusterImagePolicies and Kyverno ClusterPolicies.
 *
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { AdmissionController, importPolicies, startWebhookServer } from 'cosign-ts/webhook';
 *
 * const { policy } = importPolicies(await readFile('/etc/cosign-ts/policies.yaml', 'utf8'));
 * const controller = new AdmissionController({ policy });
 * await startWebhookServer({ controller, tls: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' } });
 * ```
 *
 * @module cosign-ts/webhook
 */
export {
  parseAdmissionReview,
  MAX_REVIEW_BYTES,
  POD_SPEC_PATHS,
  type AdmissionRequest,
  type ContainerList,
  type ParsedReview,
  type ReviewImage,
} from './review.js';
export {
  AdmissionController,
  describeAuthority,
  safeText,
  type AdmissionControllerOptions,
  type AdmissionDecision,
  type AdmissionResponse,
  type ImageReport,
  type KeychainFactory,
  type ReviewContext,
  type ReviewOptions,
  type RuleResult,
} from './admission.js';
export { startWebhookServer, reviewDeadlineMs, type LogLevel, type WebhookServer, type WebhookServerOptions, type WebhookTls } from './server.js';
export { WebhookMetrics, type WebhookMetricsSources } from './metrics.js';
export { importPolicies, importPolicyObjects, type ImportOptions, type ImportedPolicies } from './import.js';
