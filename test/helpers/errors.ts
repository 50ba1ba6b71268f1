/**
 * The typed error a call ends with, as its `code`: what most parser and client tests assert. Anything
 * thrown that is not a `CosignError` is rethrown, since an untyped error is a crash, not a verdict.
 */
import { isCosignError } from '../../src/errors.js';

/** The `CosignError` code `f` throws, or `'no error'`. */
export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (!isCosignError(e)) throw e;
    return e.code;
  }
  return 'no error';
}

/** The `CosignError` code `p` rejects with, or `'ok'`. */
export async function codeOfAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (!isCosignError(e)) throw e;
    return e.code;
  }
  return 'ok';
}
