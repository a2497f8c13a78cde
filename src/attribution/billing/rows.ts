/**
 * What every billing parser produces and the field readers they share. A reader that finds a bad
 * value throws `invalidInput(path, reason)`; the parser turns that into a rejection of the row at
 * `path` and goes on, so one run lists every bad row of a file (the file is then refused whole).
 */
import { invalidInput, PertokenError } from '../../errors.js';
import type { BillingRow } from '../../ledger/index.js';
import { isObject, JsonNumber, type JsonObject, type JsonValue } from './json-text.js';

export const BILLING_FORMATS = ['openai-costs', 'openai-usage', 'anthropic-cost', 'anthropic-usage', 'focus'] as const;
export type BillingFormat = (typeof BILLING_FORMATS)[number];

/** A row (or a whole file) not imported, and why: `at` is a JSON path, a CSV line, or "file". */
export interface Rejection {
  file: string;
  at: string;
  reason: string;
}

/** A parsed bill line before account mapping: the stored row without source, tenant, project, file. */
export type BillingLine = Omit<BillingRow, 'source' | 'tenant' | 'project' | 'file'> & {
  /** FOCUS BillingAccountId when account_id is a SubAccountId: the mapping falls back to it. */
  parent_account_id?: string;
};

export interface ParsedFile {
  lines: BillingLine[];
  rejected: Rejection[];
}

/** Runs `read` for one row; a PertokenError becomes a rejection at its param, anything else is rethrown. */
export function guarded(file: string, rejected: Rejection[], read: () => void): void {
  try {
    read();
  } catch (err: unknown) {
    if (!(err instanceof PertokenError)) throw err;
    rejected.push({ file, at: err.param ?? 'file', reason: err.message });
  }
}

export function object(value: JsonValue | undefined, path: string): JsonObject {
  if (!isObject(value)) throw invalidInput(path, 'expected an object');
  return value;
}

export function array(value: JsonValue | undefined, path: string): JsonValue[] {
  if (!Array.isArray(value)) throw invalidInput(path, 'expected an array');
  return value;
}

/** A string field; absent or null is null (grouping fields are null unless grouped by). */
export function optString(o: JsonObject, key: string, path: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw invalidInput(`${path}.${key}`, 'expected a string or null');
  return v;
}

export function reqString(o: JsonObject, key: string, path: string): string {
  const v = optString(o, key, path);
  if (v === null || v === '') throw invalidInput(`${path}.${key}`, 'missing');
  return v;
}

export function optBoolean(o: JsonObject, key: string, path: string): boolean | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'boolean') throw invalidInput(`${path}.${key}`, 'expected true, false or null');
  return v;
}

/** The literal digits of a JSON number (trap T5): never a double. */
export function numberText(o: JsonObject, key: string, path: string): string {
  const v = o[key];
  if (v === undefined || v === null) throw invalidInput(`${path}.${key}`, 'missing');
  if (!(v instanceof JsonNumber)) throw invalidInput(`${path}.${key}`, `expected a number, got ${JSON.stringify(v)}`);
  return v.text;
}

/** A token or request count: a non-negative whole number, absent or null as `fallback`. */
export function count(o: JsonObject, key: string, path: string, fallback?: bigint): bigint {
  const v = o[key];
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  return wholeCount(numberText(o, key, path), `${path}.${key}`);
}

/** "1200000", "1200000.0" or "1.2e6" -> 1200000n; fractions and negatives are refused. */
export function wholeCount(text: string, param: string): bigint {
  const m = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) throw invalidInput(param, `not a non-negative count: ${JSON.stringify(text)}`);
  const [, whole = '', fraction = '', exp = '0'] = m;
  const e = Number(exp);
  if (Math.abs(e) > 30) throw invalidInput(param, `count out of range: ${text}`);
  const digits = whole + fraction;
  const shift = e - fraction.length;
  if (shift >= 0) return BigInt(digits) * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  const n = BigInt(digits);
  if (n % divisor !== 0n) throw invalidInput(param, `not a whole count: ${text}`);
  return n / divisor;
}

/** Unix seconds (OpenAI buckets) -> ms. */
export function unixSeconds(o: JsonObject, key: string, path: string): number {
  const n = Number(wholeCount(numberText(o, key, path), `${path}.${key}`));
  if (!Number.isSafeInteger(n * 1000)) throw invalidInput(`${path}.${key}`, 'out of range');
  return n * 1000;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 instant -> ms. */
export function instant(text: string | null, param: string): number {
  const ms = text !== null && INSTANT.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) throw invalidInput(param, `expected an RFC 3339 instant, got ${JSON.stringify(text)}`);
  return ms;
}

export function checkBucket(start: number, end: number, param: string): void {
  if (end <= start) throw invalidInput(param, 'the bucket ends before it starts');
}

/** The pages of a file: one page object, or an array of pages (pages concatenated by a script). */
export function pages(root: JsonValue): { page: JsonObject; path: string }[] {
  if (Array.isArray(root)) return root.map((p, i) => ({ page: object(p, `$[${i}]`), path: `$[${i}]` }));
  return [{ page: object(root, '$'), path: '$' }];
}

/** A row key from the fields that identify a line inside its bucket. */
export function rowKey(parts: ReadonlyArray<string | boolean | null>): string {
  return parts.map((p) => (p === null ? '' : String(p))).join('|');
}
