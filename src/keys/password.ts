/**
 * Where a key password comes from, in cosign's order.
 *
 * @module
 */

/** Inputs for {@link resolvePassword}. */
export interface PasswordSource {
  /** An explicit password (e.g. from an API caller); wins over the environment. */
  readonly password?: string | undefined;
  /** Environment to read `COSIGN_PASSWORD` from; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The password to use: the explicit `password`, else `COSIGN_PASSWORD` if it is set (verbatim; the
 * empty string is a valid password), else `undefined`, meaning the caller must ask (a CLI prompts on a
 * TTY or reads stdin, like cosign).
 */
export function resolvePassword(source: PasswordSource = {}): string | undefined {
  if (source.password !== undefined) return source.password;
  const env = source.env ?? process.env;
  return env.COSIGN_PASSWORD;
}
