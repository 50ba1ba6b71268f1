/**
 * `cosign-ts completion bash|zsh|fish`: shell completion scripts for the verbs and their flags.
 *
 * @module
 */
import type { Command } from '../command.js';
import { HELP_FLAG } from '../command.js';
import { out } from '../context.js';
import { UsageError } from '../errors.js';
import { GLOBAL_FLAGS, PROG } from '../help.js';
import { VERBS } from './index.js';

type VerbFlags = Array<{ name: string; flags: string[]; short: string }>;

async function verbFlags(): Promise<VerbFlags> {
  const out: VerbFlags = [];
  for (const v of VERBS) {
    const cmd = await v.load();
    const flags = [...cmd.flags, HELP_FLAG, ...GLOBAL_FLAGS].filter((f) => f.hidden !== true);
    out.push({ name: v.name, short: v.short, flags: flags.flatMap((f) => [`--${f.name}`, ...(f.short === undefined ? [] : [`-${f.short}`])]) });
  }
  return out;
}

function bash(vf: VerbFlags): string {
  const fn = `_${PROG.replace(/-/g, '_')}`;
  const cases = vf.map((v) => `    ${v.name}) opts="${v.flags.join(' ')}" ;;`).join('\n');
  return `# bash completion for ${PROG}
${fn}() {
  local cur verb opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  verb="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${vf.map((v) => v.name).join(' ')}" -- "$cur") )
    return
  fi
  case "$verb" in
${cases}
    *) opts="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o default -F ${fn} ${PROG}
`;
}

function zsh(vf: VerbFlags): string {
  const fn = `_${PROG.replace(/-/g, '_')}`;
  const q = (s: string): string => s.replace(/'/g, "'\\''").replace(/:/g, '\\:');
  const cases = vf
    .map(
      (v) =>
        `    ${v.name}) _arguments '*:file:_files' ${v.flags
          .filter((f) => f.startsWith('--'))
          .map((f) => `'${f}[]'`)
          .join(' ')} ;;`,
    )
    .join('\n');
  return `#compdef ${PROG}
${fn}() {
  local -a verbs
  verbs=(
${vf.map((v) => `    '${v.name}:${q(v.short)}'`).join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' verbs
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef ${fn} ${PROG}
`;
}

function fish(vf: VerbFlags): string {
  const lines = [`# fish completion for ${PROG}`, `complete -c ${PROG} -f`];
  for (const v of vf) {
    lines.push(`complete -c ${PROG} -n '__fish_use_subcommand' -a '${v.name}' -d '${v.short.replace(/'/g, "\\'")}'`);
    for (const f of v.flags.filter((x) => x.startsWith('--'))) lines.push(`complete -c ${PROG} -n '__fish_seen_subcommand_from ${v.name}' -l '${f.slice(2)}'`);
  }
  return `${lines.join('\n')}\n`;
}

export const command: Command = {
  name: 'completion',
  short: 'Generate completion script',
  long: `To load completions:
Bash:
  $ source <(${PROG} completion bash)
Zsh:
  $ ${PROG} completion zsh > "\${fpath[1]}/_${PROG}"
fish:
  $ ${PROG} completion fish | source`,
  usage: '[bash|zsh|fish]',
  examples: `  ${PROG} completion bash > /etc/bash_completion.d/${PROG}
  ${PROG} completion zsh > "\${fpath[1]}/_${PROG}"
  ${PROG} completion fish > ~/.config/fish/completions/${PROG}.fish`,
  flags: [],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    const shell = flags.args[0] as string;
    const vf = await verbFlags();
    if (shell === 'bash') out(ctx, bash(vf));
    else if (shell === 'zsh') out(ctx, zsh(vf));
    else if (shell === 'fish') out(ctx, fish(vf));
    else if (shell === 'powershell') throw new UsageError('powershell completion is not supported by cosign-ts');
    else throw new UsageError(`invalid argument ${JSON.stringify(shell)} for "${PROG} completion"`);
    return 0;
  },
};
