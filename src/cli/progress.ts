/**
 * A one-line progress bar on stderr for multi-image operations. Shown only when stderr is a terminal
 * and there is more than one item; otherwise it prints nothing at all.
 *
 * @module
 */
import type { CliContext } from './context.js';

/** A progress reporter; `update(done, total)` then `finish()`. */
export interface Progress {
  update(done: number, total: number): void;
  /** Erase the bar (call before printing other output, and at the end). */
  clear(): void;
  finish(): void;
}

const NONE: Progress = { update() {}, clear() {}, finish() {} };

/** A progress bar labelled `label`, or a no-op when stderr is not a terminal. */
export function progressBar(ctx: CliContext, label: string): Progress {
  const err = ctx.stderr;
  if (err.isTTY !== true) return NONE;
  let shown = false;
  let last = '';
  const clear = (): void => {
    if (shown) err.write('\r\u001b[2K');
    shown = false;
  };
  return {
    update(done, total) {
      if (total <= 1) return;
      const cols = Math.max(20, Math.min(err.columns ?? 80, 120));
      const counter = ` ${done}/${total}`;
      const width = Math.max(10, cols - label.length - counter.length - 4);
      const filled = Math.round((done / total) * width);
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${counter}`;
      if (line === last && shown) return;
      last = line;
      err.write(`\r\u001b[2K${line}`);
      shown = true;
    },
    clear,
    finish: clear,
  };
}
