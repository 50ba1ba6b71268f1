/**
 * The test vectors in `fixtures/` are the project's own: every file listed in `SHA256SUMS` is there and
 * unchanged, and every file there (but the README, the index of sums itself) is listed.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedFixtures } from './helpers/fixtures.js';

describe('fixtures/', () => {
  const sums = readFileSync(path.join(sharedFixtures, 'SHA256SUMS'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(l);
      if (!m) throw new Error(`SHA256SUMS: bad line ${JSON.stringify(l)}`);
      return { hex: m[1]!, file: m[2]! };
    });

  it('lists at least the vectors index', () => {
    expect(sums.length).toBeGreaterThan(100);
    expect(sums.map((s) => s.file)).toContain('vectors.json');
  });

  it('every listed file has the recorded sha256', () => {
    const wrong = sums.filter(
      ({ hex, file }) =>
        createHash('sha256')
          .update(readFileSync(path.join(sharedFixtures, file)))
          .digest('hex') !== hex,
    );
    expect(wrong.map((w) => w.file)).toEqual([]);
  });

  it('every file is listed (README and SHA256SUMS aside)', () => {
    const listed = new Set(sums.map((s) => s.file));
    const files = readdirSync(sharedFixtures, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(sharedFixtures, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .filter((f) => f !== 'README.md' && f !== 'SHA256SUMS');
    expect(files.filter((f) => !listed.has(f))).toEqual([]);
  });
});
