/**
 * `-a key=value` annotations, split like cosign (`options.AnnotationOptions`): each slice element is
 * split at the first `=`; an element without `=` is an error.
 *
 * @module
 */
import { CliError } from './errors.js';

/** Parse `-a` values into a record (later keys win, as in cosign's map). */
export function parseAnnotations(values: readonly string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) throw new CliError(`unable to parse annotation: ${v}`);
    Object.defineProperty(out, v.slice(0, eq), { value: v.slice(eq + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
