/**
 * Help texts: the root usage and each verb's usage, in cobra's layout.
 *
 * @module
 */
import type { Command } from './command.js';
import { HELP_FLAG } from './command.js';
import type { FlagSpec } from './flags.js';

/** The program name shown in help. */
export const PROG = 'cosign-ts';

/** Flags accepted before or after the verb (cosign's persistent flags). */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'output-file', type: 'string', default: '', help: 'write standard output to this file instead' },
  { name: 'timeout', short: 't', type: 'string', default: '3m0s', help: 'timeout for commands (Go duration: 30s, 3m0s, 1h)' },
  { name: 'verbose', short: 'd', type: 'boolean', default: false, help: 'log debug output' },
];

function defaultText(f: FlagSpec): string {
  if (f.type === 'boolean') return String(f.default === true);
  if (f.type === 'stringSlice' || f.type === 'stringArray') return '[]';
  return `'${typeof f.default === 'string' ? f.default : ''}'`;
}

/** One flag block: `    -a, --annotations=[]:` then the help text on a tab-indented line. */
export function renderFlag(f: FlagSpec): string {
  const names = f.short === undefined ? `    --${f.name}` : `    -${f.short}, --${f.name}`;
  const values = f.values === undefined ? '' : ` (${f.values.join('|')})`;
  return `${names}=${defaultText(f)}:\n\t${f.help}${values}\n`;
}

/** The verb's full help (`cosign-ts <verb> --help`). */
export function commandHelp(cmd: Command): string {
  const flags = [...cmd.flags, HELP_FLAG].filter((f) => f.hidden !== true).sort((a, b) => a.name.localeCompare(b.name));
  let s = `${cmd.long ?? cmd.short}\n\nUsage:\n  ${PROG} ${cmd.name} ${cmd.usage}\n\nExamples:\n${cmd.examples.replace(/\n+$/, '')}\n\nFlags:\n`;
  s += flags.map(renderFlag).join('\n');
  s += `\nGlobal Flags:\n${GLOBAL_FLAGS.map(renderFlag).join('\n')}`;
  if (cmd.notes !== undefined) s += `\n${cmd.notes.replace(/\n+$/, '')}\n`;
  return s;
}

/**
 * The one line printed after a usage error's `Error: …` line, like cobra's for an unknown command: where
 * the usage is (`cosign-ts <verb> --help`), not the usage itself.
 */
export function usageHint(cmd?: Pick<Command, 'name'>): string {
  return `Run '${PROG}${cmd === undefined ? '' : ` ${cmd.name}`} --help' for usage.\n`;
}

/** Exit statuses, for help texts and docs. */
export const EXIT_STATUS_HELP = `Exit status (the same as cosign 2.5):
  0   success
  1   any other error: usage error (bad flag or argument; --help shows the usage), registry or
      network error, bad key or password, unsupported feature
  10  verify: no signatures found for the image
  11  verify: the image tag or repository was not found
  12  verify: signatures were found but none matched (invalid signature, annotation or digest mismatch)
  130 interrupted (Ctrl-C)
`;

/** The root help (`cosign-ts --help`). */
export function rootHelp(verbs: ReadonlyArray<{ name: string; short: string }>): string {
  const width = Math.max(...verbs.map((v) => v.name.length)) + 2;
  return `${PROG}: sign and verify container images like Sigstore cosign, in pure TypeScript.
Same verbs, flags, environment variables, outputs and exit statuses as cosign 2.5 (key-based, no
transparency-log upload yet).

Usage:
  ${PROG} [command]

Available Commands:
${verbs.map((v) => `  ${v.name.padEnd(width)}${v.short}`).join('\n')}

Flags:
    -h, --help=false:
\thelp for ${PROG}

Global Flags:
${GLOBAL_FLAGS.map(renderFlag).join('\n')}
Environment:
  COSIGN_PASSWORD            password of encrypted private keys (the empty value is a valid password);
                             without it, cosign-ts prompts on a terminal or reads all of stdin
  COSIGN_REPOSITORY          store and look up signatures in this repository (registry/repo)
  COSIGN_DOCKER_MEDIA_TYPES  write signature manifests with Docker v2 media types (1/true)
  SIGSTORE_REKOR_PUBLIC_KEY  Rekor public key file (PEM) to verify transparency-log bundles offline
  DOCKER_CONFIG              folder of the Docker config.json used for registry credentials

${EXIT_STATUS_HELP}
Use "${PROG} [command] --help" for more information about a command.
`;
}
