#!/usr/bin/env node
/**
 * `cosign-ts-killer`: kill running containers whose image signature fails the policy.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { isCosignError } from '../errors.js';
import { runKiller } from './daemon.js';
import { killedIn } from './killer.js';

const HELP = `Usage: cosign-ts-killer --policy FILE [--once | --interval SECONDS] [options]

Checks the signature of every running container's image (by digest) against the policy, kills the
containers whose signature definitively fails in enforce mode, and logs to syslog and stdout (JSON lines).

Options:
  --policy FILE            policy (YAML or JSON)                                  (required)
  --once                   run one cycle and exit (for cron: * * * * * root cosign-ts-killer --once …)
  --interval SECONDS       seconds between cycles in daemon mode                   (default 60)
  --cycle-timeout SECONDS  deadline of one cycle; what is not verified by then counts as
                           registry unavailable                         (default 80% of the interval)
  --docker-host URL        unix:///var/run/docker.sock or tcp://host:port          (default $DOCKER_HOST)
  --syslog TARGET          unix:///dev/log, udp://host:514, tcp://host:514, none    (default unix:///dev/log)
  --metrics [HOST:]PORT    serve Prometheus metrics on /metrics                    (default off)
  --fail-closed            also kill when the registry is unavailable             (default: fail open)
  --remove                 remove killed containers
  --dry-run                report what would be killed, kill nothing
  --allow-http-registry    allow plain HTTP to these registries (comma separated)
  --trusted-root FILE      Sigstore trusted root for keyless rules and the Rekor keys of tlog: require
                           rules (default: public-good through TUF)
  --tuf-cache DIR          TUF cache for the public-good trusted root        (default: TUF_ROOT)
  -h, --help               this help

Exit status (--once): 0 nothing killed, 3 something was killed, 1 error.
`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        policy: { type: 'string' },
        once: { type: 'boolean' },
        interval: { type: 'string' },
        'cycle-timeout': { type: 'string' },
        'docker-host': { type: 'string' },
        syslog: { type: 'string' },
        metrics: { type: 'string' },
        'fail-closed': { type: 'boolean' },
        remove: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'allow-http-registry': { type: 'string' },
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
  if (values.policy === undefined) {
    process.stderr.write(`Error: --policy is required\n\n${HELP}`);
    return 1;
  }
  for (const flag of ['interval', 'cycle-timeout'] as const) {
    const v = values[flag];
    if (v !== undefined && !(Number(v) > 0 && Number(v) <= 86_400)) {
      process.stderr.write(`Error: --${flag} must be a number of seconds between 0 and 86400, not ${JSON.stringify(v.slice(0, 50))}\n`);
      return 1;
    }
  }
  const report = await runKiller({
    policyFile: values.policy,
    once: values.once === true,
    ...(values.interval === undefined ? {} : { intervalSeconds: Number(values.interval) }),
    ...(values['cycle-timeout'] === undefined ? {} : { cycleTimeoutSeconds: Number(values['cycle-timeout']) }),
    ...(values['docker-host'] === undefined ? {} : { dockerHost: values['docker-host'] }),
    ...(values.syslog === undefined ? {} : { syslog: values.syslog }),
    ...(values.metrics === undefined ? {} : { metrics: values.metrics }),
    failClosed: values['fail-closed'] === true,
    remove: values.remove === true,
    dryRun: values['dry-run'] === true,
    ...(values['allow-http-registry'] === undefined ? {} : { registry: { insecureRegistries: values['allow-http-registry'].split(',') } }),
    ...(values['trusted-root'] === undefined ? {} : { trustedRoot: values['trusted-root'] }),
    ...(values['tuf-cache'] === undefined ? {} : { tufCache: values['tuf-cache'] }),
  });
  return values.once === true && report !== undefined && killedIn(report).length > 0 ? 3 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`Error: ${isCosignError(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`);
    process.exit(1);
  },
);
