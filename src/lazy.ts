/**
 * Values built on first use.
 *
 * Why: constructing zod schemas costs start-up time (about a millisecond or more per module), and the
 * common paths never need most of them: valid signature manifests and payloads are read by fast paths
 * and only fall back to their zod schema for anything unusual. A CLI call or a short-lived process
 * therefore builds only the schemas it actually uses.
 *
 * @module
 */

/** A function returning `make()`'s value, computed once on its first call. */
export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
