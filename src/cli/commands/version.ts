/**
 * `cosign-ts version [--json]`: the version of cosign-ts, in cosign's layout.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Command } from '../command.js';
import { out } from '../context.js';

/** Version facts, the keys cosign's `version --json` prints. */
export interface VersionInfo {
  readonly gitVersion: string;
  readonly gitCommit: string;
  readonly gitTreeState: string;
  readonly buildDate: string;
  readonly goVersion: string;
  readonly compiler: string;
  readonly platform: string;
}

/** The package version (from package.json next to `dist/`). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The version facts of this build. */
export function versionInfo(): VersionInfo {
  return {
    gitVersion: `v${packageVersion()}`,
    gitCommit: 'unknown',
    gitTreeState: 'unknown',
    buildDate: 'unknown',
    // cosign reports the Go toolchain; we report the JavaScript runtime in the same slot.
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export const command: Command = {
  name: 'version',
  short: 'Prints the version',
  usage: '[flags]',
  examples: '  cosign-ts version\n  cosign-ts version --json',
  flags: [{ name: 'json', type: 'boolean', default: false, help: 'print JSON instead of text' }],
  args: { min: 0, max: 0 },
  run(ctx, flags) {
    const v = versionInfo();
    if (flags.bool('json')) {
      out(ctx, `${JSON.stringify(v, null, 2)}\n`);
      return Promise.resolve(0);
    }
    const rows: Array<[string, string]> = [
      ['GitVersion:', v.gitVersion],
      ['GitCommit:', v.gitCommit],
      ['GitTreeState:', v.gitTreeState],
      ['BuildDate:', v.buildDate],
      ['GoVersion:', v.goVersion],
      ['Compiler:', v.compiler],
      ['Platform:', v.platform],
    ];
    out(
      ctx,
      `cosign-ts: sign and verify container images like Sigstore cosign, in pure TypeScript.\n\n${rows.map(([k, val]) => `${k.padEnd(15)}${val}`).join('\n')}\n`,
    );
    return Promise.resolve(0);
  },
};
