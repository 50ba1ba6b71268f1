/** Hostile strings for log-injection tests (shared by the syslog and daemon tests). */
/** Strings an attacker can put in an image name, a container name, a registry's error text. */
export const HOSTILE: readonly string[] = [
  'a\nb',
  'a\r\nb',
  'a\u0000b',
  'x] forged="1" [y',
  'say "hi"',
  'back\\slash',
  'line\u2028sep',
  'para\u2029sep',
  '\u001b[31mred\u001b[0m',
  'c1\u0085nel\u009bcsi',
  'bidi\u202eevil\u2066',
  'del\u007f',
  '<13>1 2026-01-01T00:00:00Z host app - - - forged line',
];
