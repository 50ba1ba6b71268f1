/**
 * Enforcement: the image killer (Docker/Podman API, policy, syslog, metrics). The admission webhook
 * will share the policy model and the verifier.
 *
 * ```ts
 * import { runKiller } from 'cosign-ts/enforce';
 *
 * // What `cosign-ts-killer --once --dry-run --policy policy.yaml` does.
 * await runKiller({ policyFile: '/etc/cosign-ts/policy.yaml', once: true, dryRun: true });
 * ```
 *
 * @module cosign-ts/enforce
 */
export { DockerClient, parseDockerHost, type ContainerDetails, type ContainerSummary, type DockerEndpoint, type ImageInfo } from './docker.js';
export {
  runCycle,
  outcomeOf,
  OUTAGE_CODES,
  type CycleReport,
  type IndexResolver,
  type KillerAction,
  type KillerDeps,
  type KillerEvent,
  type KillerOptions,
  type RuleVerifier,
  type VerifyOutcome,
} from './killer.js';
export { createPolicyVerifier, keylessOptionsForPolicy, loadRuleAuthorities, type PolicyVerifierOptions } from './verifier.js';
export { KillerMetrics } from './metrics.js';
export {
  formatSyslog,
  syslogTransportFor,
  tcpTransport,
  udpTransport,
  unixTransport,
  SEVERITY,
  type Severity,
  type SyslogFormat,
  type SyslogMessage,
  type SyslogTransport,
} from './syslog.js';
export { runKiller, type RunKillerOptions } from './daemon.js';
