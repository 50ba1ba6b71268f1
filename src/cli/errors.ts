/**
 * CLI errors and cosign's exit statuses.
 *
 * cosign 2.5 exits 10 when an image has no signatures, 11 when the image tag (or repository) is not
 * found, 12 when signatures exist but none matches, and 1 for everything else, including usage errors
 * and registry failures. cosign-ts does the same (so scripts keep working) and additionally prints the
 * verb's usage after a usage error.
 *
 * @module
 */

/** Exit statuses, as cosign 2.5 uses them. */
export const EXIT = {
  OK: 0,
  /** Any other failure: usage errors, registry/network errors, bad keys, I/O. */
  ERROR: 1,
  /** `verify`: no signatures found. */
  NO_SIGNATURES: 10,
  /** `verify`: image tag or repository not found. */
  NOT_FOUND: 11,
  /** `verify`: signatures present, none matched (bad signature, annotation or digest mismatch). */
  NO_MATCHING_SIGNATURES: 12,
  /** Stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2. */
  INTERRUPTED: 130,
} as const;

/** A failure with a message for `Error: …` and an exit status. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.ERROR,
    readonly code: string = 'ERROR',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad flags or arguments: exit 1 and print the verb's usage. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.ERROR, 'USAGE');
  }
}

/** A cosign feature cosign-ts does not support yet. */
export function unsupported(what: string): CliError {
  return new CliError(`${what} is not supported by cosign-ts yet`, EXIT.ERROR, 'UNSUPPORTED');
}
