/**
 * zod for the schemas that are built on first use.
 *
 * Valid signature manifests and payloads are read by fast paths; zod schemas (the checked slow paths,
 * Docker configs, token responses) are built by {@link schema} only when first needed. The CLI bundle
 * contains this module and zod exactly as they are (scripts/build-cli.mjs only bundles).
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
