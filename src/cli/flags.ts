/**
 * Flag parsing with cosign's (cobra/pflag) spelling:
 * `--flag value`, `--flag=value`, `-f value`, `-f=value`, `-fvalue`, boolean `--flag=false`,
 * grouped boolean shorthands (`-yr`), repeated and comma-separated slices (`-a k=v,x=y`),
 * flags anywhere among the positional arguments, `--` to end flags.
 *
 * Errors use cobra's wording (`unknown flag: --x`, `flag needs an argument: --key`,
 * `invalid argument "x" for "--flag" flag: …`) and are {@link UsageError}s, which make the CLI print
 * the verb's usage and exit 1.
 *
 * @module
 */
import { UsageError } from './errors.js';

/** How a flag takes values. */
export type FlagType = 'string' | 'boolean' | 'stringSlice' | 'stringArray';

/** One flag of a verb. */
export interface FlagSpec {
  /** Long name without dashes, as cosign spells it (`tlog-upload`). */
  readonly name: string;
  /** One-letter shorthand (`a` for `-a`). */
  readonly short?: string;
  readonly type: FlagType;
  /** Default shown in help and used when the flag is absent. */
  readonly default?: string | boolean;
  /** Help text (one paragraph). */
  readonly help: string;
  /** Accepted values, checked after parsing (e.g. `--type`). */
  readonly values?: readonly string[];
  /** Omit from help (accepted for compatibility only). */
  readonly hidden?: boolean;
}

/** Parsed flags and positional arguments. */
export interface ParsedArgs {
  /** Flag values by long name; slices are arrays; absent flags get their default. */
  readonly flags: Readonly<Record<string, string | boolean | string[] | undefined>>;
  /** Long names of the flags given on the command line. */
  readonly given: ReadonlySet<string>;
  readonly positionals: readonly string[];
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function oneOf(values: readonly string[]): string {
  const q = values.map((x) => JSON.stringify(x));
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')}, or ${q[q.length - 1] as string}`;
}

/** Go's `strconv.ParseBool`. */
export function parseGoBool(value: string): boolean | undefined {
  if (GO_TRUE.has(value)) return true;
  if (GO_FALSE.has(value)) return false;
  return undefined;
}

function flagLabel(f: FlagSpec): string {
  return f.short === undefined ? `--${f.name}` : `-${f.short}, --${f.name}`;
}

/**
 * Split one `StringSlice` value like pflag does: the value is read as one CSV record (Go
 * `encoding/csv`): commas separate fields, a field may be wrapped in double quotes (then it may hold
 * commas, and `""` stands for one quote), a quote inside an unquoted field is an error.
 */
export function splitCsvRecord(value: string): string[] {
  if (value === '') return [];
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= value.length) throw new Error(`parse error on line 1, column ${value.length + 1}: extraneous or missing " in quoted-field`);
        const c = value[i] as string;
        if (c === '"') {
          if (value[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += c;
        i++;
      }
      if (i < value.length && value[i] !== ',') {
        void start;
        throw new Error(`parse error on line 1, column ${Buffer.byteLength(value.slice(0, i)) + 1}: extraneous or missing " in quoted-field`);
      }
    } else {
      const end = value.indexOf(',', i);
      field = end < 0 ? value.slice(i) : value.slice(i, end);
      const q = field.indexOf('"');
      if (q >= 0) throw new Error(`parse error on line 1, column ${Buffer.byteLength(value.slice(0, i + q)) + 1}: bare " in non-quoted-field`);
      i = end < 0 ? value.length : end;
    }
    // encoding/csv treats \r\n and \n as record ends; a multi-line value is not a flag value cosign takes.
    if (/[\r\n]/.test(field)) throw new Error('parse error on line 1: a value must be on one line');
    out.push(field);
    if (i >= value.length) break;
    i++; // the comma
    if (i >= value.length) {
      out.push('');
      break;
    }
  }
  return out;
}

/**
 * Parse `argv` (the arguments after the verb) against `specs`.
 * @throws UsageError with cobra's wording for unknown flags, missing values, bad booleans, bad slices.
 */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    if (s.short !== undefined) byShort.set(s.short, s);
  }
  // Each flag occurrence is recorded as it is read: the last value wins for booleans and strings,
  // slices and arrays append. (No `--no-NAME` negation: cosign has flags whose names start with `no-`.)
  const values = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  const given = new Set<string>();
  const pushValue = (s: FlagSpec, value: string | undefined, shown: string): void => {
    given.add(s.name);
    if (s.type === 'boolean') {
      if (value === undefined) {
        values.set(s.name, true);
        return;
      }
      const b = parseGoBool(value);
      if (b === undefined)
        throw new UsageError(
          `invalid argument ${JSON.stringify(value)} for ${JSON.stringify(flagLabel(s))} flag: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`,
        );
      values.set(s.name, b);
      return;
    }
    if (value === undefined) throw new UsageError(`flag needs an argument: ${shown}`);
    if (s.type === 'string') values.set(s.name, value);
    else {
      const prev = values.get(s.name);
      values.set(s.name, [...(Array.isArray(prev) ? prev : []), value]);
    }
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const s = byName.get(name);
      if (s === undefined) throw new UsageError(`unknown flag: --${name}`);
      if (eq >= 0) pushValue(s, a.slice(eq + 1), `--${name}`);
      else if (s.type === 'boolean') pushValue(s, undefined, `--${name}`);
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
        pushValue(s, argv[++i] as string, `--${name}`);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // shorthand group: -yr, -ak=v, -a=k=v, -a k=v
      let j = 1;
      while (j < a.length) {
        const c = a[j] as string;
        const s = byShort.get(c);
        if (s === undefined) throw new UsageError(`unknown shorthand flag: '${c}' in ${a}`);
        const rest = a.slice(j + 1);
        if (s.type === 'boolean') {
          if (rest.startsWith('=')) {
            pushValue(s, rest.slice(1), `-${c}`);
            break;
          }
          pushValue(s, undefined, `-${c}`);
          j++;
          continue;
        }
        if (rest.length > 0) pushValue(s, rest.startsWith('=') ? rest.slice(1) : rest, `-${c}`);
        else {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in -${c}`);
          pushValue(s, argv[++i] as string, `-${c}`);
        }
        break;
      }
      continue;
    }
    positionals.push(a);
  }

  const flags: Record<string, string | boolean | string[] | undefined> = {};
  for (const s of specs) {
    const v = values.get(s.name);
    if (s.type === 'stringSlice') {
      const raw = (v as string[] | undefined) ?? [];
      const out: string[] = [];
      for (const r of raw) {
        try {
          out.push(...splitCsvRecord(r));
        } catch (e) {
          throw new UsageError(`invalid argument ${JSON.stringify(r)} for ${JSON.stringify(flagLabel(s))} flag: ${(e as Error).message}`);
        }
      }
      flags[s.name] = out;
    } else if (s.type === 'stringArray') {
      flags[s.name] = (v as string[] | undefined) ?? [];
    } else if (v === undefined) {
      flags[s.name] = s.default;
    } else {
      flags[s.name] = v as string | boolean;
    }
    const val = flags[s.name];
    if (s.values !== undefined && typeof val === 'string' && given.has(s.name) && !s.values.includes(val)) {
      throw new UsageError(`invalid argument ${JSON.stringify(val)} for ${JSON.stringify(flagLabel(s))} flag: must be one of ${oneOf(s.values)}`);
    }
  }
  return { flags, given, positionals };
}

/** Typed accessors over {@link ParsedArgs}. */
export class Flags {
  constructor(readonly parsed: ParsedArgs) {}
  /** A string flag ('' when absent and without default). */
  str(name: string): string {
    const v = this.parsed.flags[name];
    return typeof v === 'string' ? v : '';
  }
  /** A boolean flag. */
  bool(name: string): boolean {
    return this.parsed.flags[name] === true;
  }
  /** A slice/array flag. */
  list(name: string): string[] {
    const v = this.parsed.flags[name];
    return Array.isArray(v) ? v : [];
  }
  /** Whether the flag was on the command line. */
  has(name: string): boolean {
    return this.parsed.given.has(name);
  }
  get args(): readonly string[] {
    return this.parsed.positionals;
  }
}
