/**
 * `WWW-Authenticate` parsing (RFC 7235): `Bearer realm="…",service="…",scope="repository:a:pull,push"`
 * with quoted strings that may contain commas and escaped quotes.
 *
 * @module
 */

/** A parsed challenge. Parameter names are lower-cased. */
export interface Challenge {
  /** `basic` or `bearer` (lower-cased); other schemes come back as written. */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string | undefined>>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

/**
 * Parse the first challenge of a `WWW-Authenticate` header. Never throws: an unreadable header gives
 * undefined (the request then fails as unauthorised).
 */
export function parseWwwAuthenticate(header: string): Challenge | undefined {
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  let i = 0;
  const skipWs = (): void => {
    while (i < header.length && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(header);
    if (m === null) return undefined;
    i = TOKEN.lastIndex;
    return m[0];
  };
  skipWs();
  const scheme = token();
  if (scheme === undefined) return undefined;
  const params: Record<string, string> = {};
  for (;;) {
    skipWs();
    if (i >= header.length) break;
    const name = token();
    if (name === undefined) return undefined;
    skipWs();
    if (header[i] !== '=') {
      // The next challenge starts here (e.g. "Bearer …, Basic realm=…"): stop.
      break;
    }
    i++;
    skipWs();
    let value: string;
    if (header[i] === '"') {
      i++;
      let v = '';
      while (i < header.length && header[i] !== '"') {
        if (header[i] === '\\' && i + 1 < header.length) i++;
        v += header[i];
        i++;
      }
      if (header[i] !== '"') return undefined;
      i++;
      value = v;
    } else {
      const t = token();
      if (t === undefined) return undefined;
      value = t;
    }
    params[name.toLowerCase()] = value;
    skipWs();
    if (header[i] === ',') i++;
    else if (i < header.length) return undefined;
  }
  return { scheme: scheme.toLowerCase(), params };
}
