/**
 * `cosign-ts demo`: the embedded end-to-end demo (`src/cli/demo.ts`), run with the verb's context, so
 * `--output-file` receives its lines and `--timeout` or Ctrl-C stop it (registry closed, key folder
 * removed).
 *
 * @module
 */
import type { Command } from '../command.js';
import { runDemo } from '../demo.js';

export const command: Command = {
  name: 'demo',
  short: 'Run the embedded end-to-end demo',
  long: 'Run the embedded end-to-end demo: start an in-process registry, push an image, generate a key,\nsign the image and verify it, printing each step.',
  usage: '[flags]',
  examples: '  cosign-ts demo\n  cosign-ts --output-file demo.txt demo',
  flags: [],
  args: { min: 0, max: 0 },
  run: (ctx) => runDemo(ctx),
};
