/**
 * zod for the schemas that are built on first use.
 *
 * The library imports zod statically, as usual. The CLI bundle (scripts/build-cli.mjs) swaps this module
 * for one that loads zod on the first call: valid signature manifests and payloads are read by fast
 * paths, so a `cosign-ts verify` that never meets unusual JSON (or a Docker config, or a token
 * response) does not evaluate zod at all — several milliseconds of start-up.
 *
 * @module
 */
import { z } from 'zod';
import { lazy } from './lazy.js';

/** The `z` namespace. */
export type Zod = typeof z;

/** zod's `z` namespace. */
export function zod(): Zod {
  return z;
}

/** A schema built by `build` on first use (see `lazy`). */
export function schema<T>(build: (z: Zod) => T): () => T {
  return lazy(() => build(zod()));
}
