/**
 * Key-reference schemes, with no dependencies (the CLI uses this before deciding what to load).
 *
 * @module
 */

/** Schemes that name a file-like key source rather than a KMS. */
export const FILE_SCHEMES: ReadonlySet<string> = new Set(['env', 'file', 'http', 'https']);

/** The scheme of a key reference (`awskms` for `awskms:///…`), lower-cased, or undefined for a plain path. */
export function keyRefScheme(keyRef: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(keyRef);
  return m === null ? undefined : (m[1] as string).toLowerCase();
}

/** True when `keyRef` names a KMS (a non-file scheme), known or not. */
export function isKmsReference(keyRef: string): boolean {
  const s = keyRefScheme(keyRef);
  return s !== undefined && !FILE_SCHEMES.has(s);
}
