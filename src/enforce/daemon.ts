/**
 * The image killer program: `--once` for cron, or a daemon checking every `--interval`, with syslog,
 * JSON lines on stdout, Prometheus metrics, and graceful shutdown on SIGTERM/SIGINT (the current
 * cycle finishes first).
 *
 * @module
 */
import { timerDelay } from '../concurrency.js';
import { readFileLimited } from '../internal/read-file.js';
import { RegistryClient, type RegistryClientOptions } from '../oci/client.js';
import { MAX_POLICY_BYTES, parsePolicy } from '../policy/policy.js';
import { DockerClient, parseDockerHost } from './docker.js';
import { runCycle, type CycleReport, type KillerEvent, type KillerOptions } from './killer.js';
import { KillerMetrics } from './metrics.js';
import { formatSyslog, safeJsonLine, syslogTransportFor, type Severity, type SyslogFormat } from './syslog.js';
import { isCosignError } from '../errors.js';
import { createPolicyVerifier, keylessOptionsForPolicy } from './verifier.js';

/** Options of {@link runKiller}. */
export interface RunKillerOptions extends KillerOptions {
  /** Policy file (YAML or JSON by extension). */
  readonly policyFile: string;
  /** Run one cycle and return (cron). */
  readonly once?: boolean;
  /** Seconds between cycles in daemon mode. Default 60. */
  readonly intervalSeconds?: number;
  /**
   * Deadline of each cycle, in seconds: what is not verified by then counts as unavailable (see
   * {@link KillerOptions.deadlineMs}). Default 80 % of the interval, so a stalled or trickling
   * registry cannot make a cycle overrun it (with `--once`, of the default 60 s interval: cron).
   */
  readonly cycleTimeoutSeconds?: number;
  /** `DOCKER_HOST`-style endpoint. Default: `DOCKER_HOST`, else `/var/run/docker.sock`. */
  readonly dockerHost?: string;
  /** `unix:///dev/log` (default), `udp://host:514`, `tcp://host:514`, or `none`. */
  readonly syslog?: string;
  readonly syslogFormat?: SyslogFormat;
  /** Serve Prometheus metrics on this port (127.0.0.1), or `host:port`. Off by default. */
  readonly metrics?: string;
  /** Record into this metrics instance (default: a new one), e.g. to read it after `--once`. */
  readonly metricsRecorder?: KillerMetrics;
  /** Write JSON lines here (default: stdout). */
  readonly out?: (line: string) => void;
  /** Registry client settings (CA, insecure registries, …). */
  readonly registry?: RegistryClientOptions;
  /**
   * Trust for the policy's keyless authorities and the Rekor keys of its `tlog: require` rules: a Sigstore
   * `trusted_root.json` (`--trusted-root`). Without it a policy that needs either uses the public-good instance's root
   * through TUF (`tufCache`, else `TUF_ROOT`).
   */
  readonly trustedRoot?: string;
  /** TUF cache folder for the public-good trusted root. */
  readonly tufCache?: string;
  /** Stop when this aborts (tests, embedding). */
  readonly abort?: AbortSignal;
}

function severityOf(e: KillerEvent): Severity {
  switch (e.action) {
    case 'killed':
    case 'killed-and-removed':
      return 'alert';
    case 'audit':
      return 'warning';
    case 'error':
    case 'skipped-unavailable':
      return 'err';
    default:
      return 'info';
  }
}

/** Run the killer until stopped (or once). Resolves with the last cycle's report. */
export async function runKiller(options: RunKillerOptions): Promise<CycleReport | undefined> {
  const text = await readFileLimited(options.policyFile, MAX_POLICY_BYTES, 'policy file', 'utf8');
  const policy = parsePolicy(text, { source: options.policyFile, format: options.policyFile.endsWith('.json') ? 'json' : 'yaml' });
  const docker = new DockerClient(parseDockerHost(options.dockerHost ?? process.env.DOCKER_HOST));
  const client = new RegistryClient(options.registry ?? {});
  const keyless = await keylessOptionsForPolicy(policy, { trustedRoot: options.trustedRoot, tufCache: options.tufCache });
  const { verify, resolveIndex, cache } = createPolicyVerifier({ client, ...(keyless === undefined ? {} : { keyless }) });
  const metrics = options.metricsRecorder ?? new KillerMetrics();
  metrics.cacheHitRatio = () => cache.hitRatio();
  const metricsServer =
    options.metrics === undefined
      ? undefined
      : await metrics.serve(
          Number(options.metrics.split(':').pop()),
          options.metrics.includes(':') ? options.metrics.slice(0, options.metrics.lastIndexOf(':')) : '127.0.0.1',
        );
  const syslog = syslogTransportFor(options.syslog ?? 'unix:///dev/log', options.syslogFormat);
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const killed = new Map<string, string>();
  const pending: Array<Promise<void>> = [];
  const onEvent = (e: KillerEvent): void => {
    out(safeJsonLine({ time: new Date().toISOString(), ...e }));
    if (syslog !== undefined && e.action !== 'verified' && e.action !== 'allowed' && e.action !== 'already-killed') {
      const m = {
        severity: severityOf(e),
        msgId: e.action.toUpperCase(),
        message: `${e.action} container ${e.containerName} (${e.containerId.slice(0, 12)}) image ${e.image}${e.reason === undefined ? '' : `: ${e.reason}`}`,
        data: {
          container_id: e.containerId,
          container_name: e.containerName,
          image: e.image,
          digest: e.digest,
          rule: e.rule,
          mode: e.mode,
          reason: e.reason,
          code: e.code,
          action: e.action,
        },
      };
      pending.push(
        syslog.send(formatSyslog(m, options.syslogFormat), m).catch((err: unknown) => {
          process.stderr.write(`syslog: ${(err as Error).message}\n`);
        }),
      );
    }
  };
  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = (): void => {
    stopping = true;
    wake?.();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  options.abort?.addEventListener('abort', stop, { once: true });
  let last: CycleReport | undefined;
  const intervalMs = (options.intervalSeconds ?? 60) * 1000;
  const deadlineMs = Math.max(1, Math.round(options.cycleTimeoutSeconds === undefined ? intervalMs * 0.8 : options.cycleTimeoutSeconds * 1000));
  try {
    for (;;) {
      try {
        last = await runCycle({
          docker,
          policy,
          verify,
          resolveIndex,
          onEvent,
          onVerification: (s, o) => metrics.observeVerification(s, o),
          options: { ...options, deadlineMs },
          killed,
        });
        metrics.observeCycle(last);
      } catch (e) {
        // The engine itself failed (socket gone, listing timed out): report, and try again next cycle.
        if (options.once === true) throw e;
        out(
          safeJsonLine({ time: new Date().toISOString(), action: 'cycle-error', ...(isCosignError(e) ? { code: e.code } : {}), reason: (e as Error).message }),
        );
      }
      await Promise.all(pending.splice(0));
      if (options.once === true || stopping) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timerDelay(intervalMs));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      if (stopping) break;
    }
  } finally {
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
    await syslog?.close();
    await metricsServer?.close();
    docker.close();
    client.close();
  }
  return last;
}
