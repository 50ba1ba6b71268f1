/**
 * `cosign-ts demo`: the embedded end-to-end demo (`src/demo.ts`, `runDemo()`), loaded on demand.
 *
 * @module
 */
import type { Command } from '../command.js';
import { CliError } from '../errors.js';

interface DemoModule {
  runDemo?: (options?: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; signal?: AbortSignal }) => Promise<unknown>;
}

export const command: Command = {
  name: 'demo',
  short: 'Run the embedded end-to-end demo',
  long: 'Run the embedded end-to-end demo: start an in-process registry, push an image, generate a key,\nsign the image and verify it, printing each step.',
  usage: '[flags]',
  examples: '  cosign-ts demo',
  flags: [],
  args: { min: 0, max: 0 },
  async run(ctx) {
    // A computed specifier: the demo module is optional (it may not be part of every build).
    const specifier = '../../demo.js';
    let mod: DemoModule;
    try {
      mod = (await import(specifier)) as DemoModule;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND') throw new CliError('the demo is not available in this build (dist/demo.js is missing)');
      throw e;
    }
    if (typeof mod.runDemo !== 'function') throw new CliError('the demo is not available in this build (dist/demo.js has no runDemo)');
    const r = await mod.runDemo({ stdout: ctx.stdout, stderr: ctx.stderr, signal: ctx.signal });
    return typeof r === 'number' ? r : 0;
  },
};
