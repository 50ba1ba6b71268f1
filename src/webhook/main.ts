#!/usr/bin/env node
/**
 * `cosign-ts-webhook`: a Kubernetes admission webhook (validating, and optionally mutating) that
 * checks the signatures of the images of Pods and pod owners against policy-controller
 * ClusterImagePolicies, Kyverno ClusterPolicies or a cosign-ts policy.
 *
 * @module
 */
import { keylessOptionsForPolicy } from '../enforce/verifier.js';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isCosignError } from '../errors.js';
import { AdmissionController } from './admission.js';
import { importPolicies } from './import.js';
import { startWebhookServer, type LogLevel } from './server.js';

const HELP = `Usage: cosign-ts-webhook --policy FILE [--policy FILE…] --tls-cert FILE --tls-key FILE [options]

Serves POST /validate (ValidatingAdmissionWebhook) and POST /mutate (MutatingAdmissionWebhook: pins
tags to verified digests for mutateDigest rules) over HTTPS, plus /healthz, /readyz and /metrics.

Options:
  --policy FILE             ClusterImagePolicy / Kyverno ClusterPolicy / config-policy-controller
                            ConfigMap documents (YAML, several per file), or one cosign-ts/v1 policy;
                            repeatable (files are concatenated as one stream)          (required)
  --tls-cert FILE           PEM certificate chain (re-read every 10 s: hot reload)       (required)
  --tls-key FILE            PEM private key                                               (required)
  --port PORT               listen port                                                  (default 8443)
  --host HOST               listen address                                               (default 0.0.0.0)
  --timeout-seconds N       the webhook configuration's timeoutSeconds (used when the API server
                            sends no ?timeout=); each review's deadline stays below it   (default 10)
  --tag-ttl SECONDS         reuse a tag → digest resolution this long                    (default 10)
  --secret-namespace NS     namespace of ClusterImagePolicy secretRef secrets (each holds one data
                            entry: the PEM public key)                                  (default cosign-system)
  --allow-http-registry R   allow plain HTTP to these registries (comma separated)
  --trusted-root FILE       Sigstore trusted root for keyless rules and for the Rekor keys of rules that
                            require a Rekor entry on key signatures (ctlog.url; Kyverno keys without
                            rekor.ignoreTlog) (default: the public-good instance through TUF, cached in
                            --tuf-cache; SIGSTORE_REKOR_PUBLIC_KEY, SIGSTORE_ROOT_FILE,
                            SIGSTORE_CT_LOG_PUBLIC_KEY_FILE and SIGSTORE_TSA_CERTIFICATE_FILE replace parts)
  --tuf-cache DIR           TUF cache for the public-good trusted root      (default: TUF_ROOT or ~/.sigstore/root)
  --log-level LEVEL         debug, info, warn, error                                     (default info)
  -h, --help                this help

Registry credentials: the pod's imagePullSecrets and its service account's, read through the Kubernetes API
(in a cluster; RBAC get on secrets and serviceaccounts, see deploy/webhook/), then Docker's config.json
(DOCKER_CONFIG; mount the node's docker config there), then native ECR / GCR / ACR / ghcr.io credentials.
  --pull-secrets MODE       api: read pull secrets through the Kubernetes API; off: docker config and cloud
                            credentials only                      (default: api in a cluster, else off)
KMS authorities use the providers' usual environment (VAULT_ADDR/VAULT_TOKEN, GOOGLE_APPLICATION_CREDENTIALS…).
`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        policy: { type: 'string', multiple: true },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'timeout-seconds': { type: 'string' },
        'tag-ttl': { type: 'string' },
        'secret-namespace': { type: 'string' },
        'allow-http-registry': { type: 'string' },
        'log-level': { type: 'string' },
        'pull-secrets': { type: 'string' },
        'trusted-root': { type: 'string' },
        'tuf-cache': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`Error: ${(e as Error).message}\n\n${HELP}`);
    return 1;
  }
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const missing = (['policy', 'tls-cert', 'tls-key'] as const).filter((f) => values[f] === undefined);
  if (missing.length > 0) {
    process.stderr.write(`Error: --${missing.join(', --')} required\n\n${HELP}`);
    return 1;
  }
  const num = (flag: 'port' | 'timeout-seconds' | 'tag-ttl', min: number, max: number): number | undefined => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${flag} must be an integer from ${min} to ${max}, not ${JSON.stringify(v.slice(0, 50))}`);
    return n;
  };
  const level = values['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new Error('--log-level must be debug, info, warn or error');
  const files = values.policy as string[];
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  const imported = importPolicies(texts.join('\n---\n'), {
    source: files.join(','),
    ...(values['secret-namespace'] === undefined ? {} : { secretNamespace: values['secret-namespace'] }),
  });
  const tagTtl = num('tag-ttl', 0, 3600);
  const pullSecrets = values['pull-secrets'] ?? (process.env.KUBERNETES_SERVICE_HOST ? 'api' : 'off');
  if (pullSecrets !== 'api' && pullSecrets !== 'off') throw new Error('--pull-secrets must be api or off');
  const { pullSecretKeychains } = await import('./credentials.js');
  const { k8sNoClientKeychain } = await import('../oci/k8s-keychain.js');
  const nodeKeychain = k8sNoClientKeychain();
  // keyless rules (and key rules requiring Rekor entries) need trust material, loaded once at start (a webhook that cannot verify them fails to start)
  const keyless = await keylessOptionsForPolicy(imported.policy, { trustedRoot: values['trusted-root'], tufCache: values['tuf-cache'], env: process.env });
  const controller = new AdmissionController({
    policy: imported.policy,
    ...(keyless === undefined ? {} : { keyless }),
    keychain:
      pullSecrets === 'api'
        ? pullSecretKeychains({
            onSecretsError: (e, ctx) =>
              process.stderr.write(
                `${JSON.stringify({ level: 'warn', msg: 'pull secrets unreadable: using docker config and cloud credentials', namespace: ctx.namespace, serviceAccount: ctx.serviceAccountName, error: isCosignError(e) ? e.code : 'error' })}\n`,
              ),
          })
        : () => nodeKeychain,
    ...(tagTtl === undefined ? {} : { tagTtlMs: tagTtl * 1000 }),
    ...(values['allow-http-registry'] === undefined ? {} : { registry: { insecureRegistries: values['allow-http-registry'].split(',') } }),
  });
  const port = num('port', 0, 65535);
  const timeout = num('timeout-seconds', 1, 30);
  const server = await startWebhookServer({
    controller,
    tls: { certFile: values['tls-cert'] as string, keyFile: values['tls-key'] as string },
    ...(port === undefined ? {} : { port }),
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(timeout === undefined ? {} : { timeoutSeconds: timeout }),
    logLevel: level as LogLevel,
  });
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.close();
  controller.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`Error: ${isCosignError(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`);
    process.exit(1);
  },
);
