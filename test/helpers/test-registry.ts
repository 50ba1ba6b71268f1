/**
 * The in-process registry (`cosign-ts/testing`) for one `describe` block: started before its tests with
 * an anonymous client, closed after them.
 */
import { afterAll, beforeAll } from 'vitest';
import { RegistryClient } from '../../src/oci/index.js';
import { startTestRegistry, type TestRegistry } from '../../src/testing/index.js';

/** Start a test registry and an anonymous client in `beforeAll` (handed to `set`), close both in `afterAll`. */
export function useTestRegistry(set: (reg: TestRegistry, client: RegistryClient) => void): void {
  let reg: TestRegistry | undefined;
  let client: RegistryClient | undefined;
  beforeAll(async () => {
    reg = await startTestRegistry();
    client = new RegistryClient({ keychain: { resolve: async () => undefined } });
    set(reg, client);
  });
  afterAll(async () => {
    client?.close();
    await reg?.close();
  });
}
