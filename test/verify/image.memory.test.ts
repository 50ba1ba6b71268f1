/**
 * Bounded memory (issue #10, item 6): verifying a `.sig` of 1000 layers — 999 distinct 1 MiB payload
 * blobs that do not verify, one valid signature — must not hold every blob at once. Measured in a
 * child process (test/helpers/memory-child.ts): peak RSS above the post-warm-up baseline stays under
 * 200 MiB (about 70–90 MiB measured; holding every blob costs about 1 GiB).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';
import { runMemoryChild, storeMemoryScenario } from '../helpers/memory.js';

describe('verifyImage memory', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startTestRegistry();
  });
  afterAll(async () => {
    await reg.close();
  });

  it('1000 layers of distinct 1 MiB blobs: peak RSS < 200 MiB above baseline, same answer', async () => {
    const input = storeMemoryScenario(reg, { layers: 1000 });
    const r = await runMemoryChild(input, [], 170_000);
    expect(r.error).toBeUndefined();
    expect(r.verified).toBe(1);
    expect(r.rejected).toBe(999);
    // Every 1 MiB blob was read in full (1 MiB is within the default limit) and its signature checked.
    expect(r.codes).toEqual({ SIGNATURE_INVALID: 999 });
    expect(r.peakReset).toBe(true);
    expect(r.deltaMiB).toBeLessThan(200);
  }, 180_000);
});
