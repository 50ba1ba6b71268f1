/**
 * The progress bar (src/cli/progress.ts): drawn on a terminal stderr only, never on a pipe, erased by
 * clear()/finish(), nothing for a single item.
 */
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.js';
import { progressBar } from '../../src/cli/progress.js';

function ctxWith(isTTY: boolean): { ctx: CliContext; written: () => string } {
  let out = '';
  const stderr = { isTTY, columns: 60, write: (s: string | Uint8Array) => ((out += String(s)), true) };
  return { ctx: { stderr } as unknown as CliContext, written: () => out };
}

describe('progressBar', () => {
  it('draws and erases on a terminal', () => {
    const { ctx, written } = ctxWith(true);
    const bar = progressBar(ctx, 'Verifying');
    bar.update(1, 4);
    bar.update(4, 4);
    bar.finish();
    const out = written();
    expect(out).toContain('Verifying [');
    expect(out).toContain(' 1/4');
    expect(out).toContain(' 4/4');
    expect(out.endsWith('\r\u001b[2K')).toBe(true);
    expect(out.split('\r\u001b[2K').every((l) => l.length <= 60)).toBe(true);
  });

  it('prints nothing when stderr is not a terminal, or for one item', () => {
    const pipe = ctxWith(false);
    const bar = progressBar(pipe.ctx, 'Copying');
    bar.update(1, 3);
    bar.finish();
    expect(pipe.written()).toBe('');
    const one = ctxWith(true);
    const b1 = progressBar(one.ctx, 'Signing');
    b1.update(1, 1);
    b1.finish();
    expect(one.written()).toBe('');
  });
});
