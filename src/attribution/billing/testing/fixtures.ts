import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The billing-format fixtures (copied from the shared reference; see fixtures/README in the reference). */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export const fixturePath = (name: string): string => join(FIXTURES, name);
export const fixtureText = (name: string): string => readFileSync(fixturePath(name), 'utf8');

export const DAY1 = Date.parse('2026-08-01T00:00:00Z');
export const DAY2 = Date.parse('2026-08-02T00:00:00Z');
