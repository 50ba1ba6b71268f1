/**
 * The flag parser: cobra/pflag spellings and StringSlice splitting (Go encoding/csv), as unit tests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/errors.js';
import { parseFlags, splitCsvRecord, type FlagSpec } from '../../src/cli/flags.js';
import { parseGoDuration } from '../../src/cli/run.js';

const SPECS: FlagSpec[] = [
  { name: 'key', type: 'string', default: '', help: '' },
  { name: 'annotations', short: 'a', type: 'stringSlice', help: '' },
  { name: 'tlog-upload', type: 'boolean', default: true, help: '' },
  { name: 'yes', short: 'y', type: 'boolean', default: false, help: '' },
  { name: 'recursive', short: 'r', type: 'boolean', default: false, help: '' },
  { name: 'output', short: 'o', type: 'string', default: 'json', help: '' },
];

describe('splitCsvRecord (cobra StringSlice)', () => {
  it.each([
    ['k=v', ['k=v']],
    ['a=1,b=2', ['a=1', 'b=2']],
    ['"k=a,b",x=1', ['k=a,b', 'x=1']],
    ['"say ""hi""=1"', ['say "hi"=1']],
    ['', []],
    ['a,', ['a', '']],
    ['k=<&>', ['k=<&>']],
  ])('%j', (input, want) => {
    expect(splitCsvRecord(input)).toEqual(want);
  });
  it.each([
    ['k="a,b"', 'parse error on line 1, column 3: bare " in non-quoted-field'],
    ['k=a"b', 'parse error on line 1, column 4: bare " in non-quoted-field'],
    ['"unterminated', 'extraneous or missing " in quoted-field'],
    ['"a"b', 'extraneous or missing " in quoted-field'],
  ])('%j fails like encoding/csv', (input, msg) => {
    expect(() => splitCsvRecord(input)).toThrow(msg);
  });
  it('round-trips any list of quote-free, comma-free fields', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string().filter((s) => !/[",\r\n]/.test(s)),
          { minLength: 1 },
        ),
        (fields) => {
          const joined = fields.join(',');
          if (joined === '') return;
          expect(splitCsvRecord(joined)).toEqual(fields);
        },
      ),
    );
  });
});

describe('parseFlags', () => {
  it('accepts every pflag spelling and keeps flags among positionals', () => {
    const p = parseFlags(['img1', '--key=k', '-a', 'x=1', '-ay=2,z=3', '-a=w=4', '--tlog-upload=false', '-yr', 'img2', '-o', 'text'], SPECS);
    expect(p.positionals).toEqual(['img1', 'img2']);
    expect(p.flags).toMatchObject({ key: 'k', annotations: ['x=1', 'y=2', 'z=3', 'w=4'], 'tlog-upload': false, yes: true, recursive: true, output: 'text' });
    expect([...p.given].sort()).toEqual(['annotations', 'key', 'output', 'recursive', 'tlog-upload', 'yes']);
  });
  it('Go booleans: 1/t/T/TRUE/true/True and 0/f/F/FALSE/false/False', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseFlags([`--tlog-upload=${t}`], SPECS).flags['tlog-upload']).toBe(true);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseFlags([`--tlog-upload=${f}`], SPECS).flags['tlog-upload']).toBe(false);
    expect(parseFlags(['-y=false'], SPECS).flags.yes).toBe(false);
  });
  it('defaults apply when absent; a boolean does not take the next argument', () => {
    const p = parseFlags(['--tlog-upload', 'false'], SPECS);
    expect(p.flags['tlog-upload']).toBe(true);
    expect(p.positionals).toEqual(['false']);
    expect(parseFlags([], SPECS).flags).toMatchObject({ key: '', output: 'json', annotations: [], yes: false });
  });
  it('values that look like flags are taken as values', () => {
    expect(parseFlags(['--key', '-weird'], SPECS).flags.key).toBe('-weird');
  });
  it('a flag named no-NAME is its own flag, not the negation of NAME', () => {
    const specs: FlagSpec[] = [
      ...SPECS,
      { name: 'no-upload', type: 'boolean', default: false, help: '' },
      { name: 'upload', type: 'boolean', default: true, help: '' },
    ];
    expect(parseFlags(['--no-upload'], specs).flags).toMatchObject({ 'no-upload': true, upload: true });
    expect(parseFlags(['--no-upload=false'], specs).flags).toMatchObject({ 'no-upload': false, upload: true });
    expect(parseFlags(['--upload=false', '--no-upload'], specs).flags).toMatchObject({ 'no-upload': true, upload: false });
  });
  it('the last occurrence of a boolean or string wins; arrays append', () => {
    expect(parseFlags(['--key=a', '--key=b', '--yes', '--yes=false', '-a', 'x=1', '-a', 'y=2'], SPECS).flags).toMatchObject({
      key: 'b',
      yes: false,
      annotations: ['x=1', 'y=2'],
    });
  });
  it('"--" ends the flags', () => {
    expect(parseFlags(['--', '--key'], SPECS).positionals).toEqual(['--key']);
  });
  it.each([
    [['--nope'], 'unknown flag: --nope'],
    [['--no-tlog-upload'], 'unknown flag: --no-tlog-upload'],
    [['-q'], "unknown shorthand flag: 'q' in -q"],
    [['--key'], 'flag needs an argument: --key'],
    [['--yes=maybe'], 'invalid argument "maybe" for "-y, --yes" flag: strconv.ParseBool: parsing "maybe": invalid syntax'],
  ])('%j → %s', (argv, msg) => {
    expect(() => parseFlags(argv, SPECS)).toThrow(UsageError);
    expect(() => parseFlags(argv, SPECS)).toThrow(msg);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['3m0s', 180_000],
    ['30s', 30_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['0', 0],
    ['+0', 0],
    ['+1s', 1000],
    ['-1s', -1000],
    ['.5s', 500],
    ['1.s', 1000],
    ['1\u00b5s', 0.001],
    ['1\u03bcs', 0.001],
    ['2562047h', 9_223_369_200_000],
    ['9223372036854775807ns', 9_223_372_036_854.775],
  ])('%s', (s, ms) => expect(parseGoDuration(s)).toBe(ms));
  it.each(['', '5', 'abc', '3 m', '.s', 's', '1s2', '--', '+', '9223372036854775808ns', '2562048h', '2562047.99h', '9999999h'])('%j is invalid', (s) =>
    expect(() => parseGoDuration(s)).toThrow(UsageError),
  );
  it('says why as Go does', () => {
    expect(() => parseGoDuration('9999999h')).toThrow('invalid argument "9999999h" for "-t, --timeout" flag: time: invalid duration "9999999h"');
    expect(() => parseGoDuration('1s2')).toThrow('time: missing unit in duration "1s2"');
    expect(() => parseGoDuration('1e3s')).toThrow('time: unknown unit "e" in duration "1e3s"');
  });
});
