import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (the folder holding package.json). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The project's own test vectors, `fixtures/` at the repository root (provenance in its README). */
export const sharedFixtures = path.join(repoRoot, 'fixtures');

/** Read a fixture file as bytes. */
export function fixture(rel: string): Buffer {
  return readFileSync(path.join(sharedFixtures, rel));
}

/** Read a fixture file as UTF-8 text. */
export function fixtureText(rel: string): string {
  return fixture(rel).toString('utf8');
}

/** One entry of `vectors.json`. */
export interface Vector {
  id: string;
  kind: string;
  files: string[];
  trust: Record<string, unknown>;
  expected: string;
  reason?: string;
}

/** All vectors from `vectors.json`. */
export function vectors(): Vector[] {
  return (JSON.parse(fixtureText('vectors.json')) as { vectors: Vector[] }).vectors;
}
