import { PertokenError } from '../errors.js';
import { DAY_MS, HOUR_MS } from './rollups.js';
import type { GroupKey } from './types.js';

/** Group keys that are stored dimensions (everything but the time buckets). */
export type DimKey = Exclude<GroupKey, 'day' | 'hour'>;
export type DimColumn =
  | 'tenant'
  | 'project'
  | 'model'
  | 'requested_model'
  | 'provider'
  | 'feature'
  | 'user_id'
  | 'key_id'
  | 'route'
  | 'status'
  | 'trace_id';

/** Column of each dimension, the same name in `events` and in the rollups that keep it. */
export const DIM_COLUMN: Readonly<Record<DimKey, DimColumn>> = {
  tenant: 'tenant',
  project: 'project',
  model: 'model',
  requested_model: 'requested_model',
  provider: 'provider',
  feature: 'feature',
  user: 'user_id',
  key: 'key_id',
  route: 'route',
  status: 'status',
  trace: 'trace_id',
};

/** Dimensions that may be null (stored as '' in the rollups' primary keys). */
export const NULLABLE_DIMS: ReadonlySet<GroupKey> = new Set<GroupKey>(['project', 'feature', 'user', 'key', 'trace']);

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOUR_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):00:00(?:\.000)?Z$/;

export function formatDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function formatHour(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function parseBucket(value: string, key: 'day' | 'hour'): number {
  const m = (key === 'day' ? DAY_RE : HOUR_RE).exec(value);
  const ms = m === null ? Number.NaN : Date.parse(key === 'day' ? `${value}T00:00:00Z` : value);
  // Date.parse rolls 2026-02-30 over to March; the round trip rejects such dates.
  const canonical = Number.isFinite(ms) && (key === 'day' ? formatDay(ms) : formatHour(ms));
  if (m === null || canonical !== value.replace('.000Z', 'Z')) {
    const shape = key === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM-DDTHH:00:00Z';
    throw new PertokenError('invalid_request', `${key} filter must look like ${shape}`, {
      param: `filter[${key}]`,
    });
  }
  return ms;
}

function dateMs(value: Date | undefined, param: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new PertokenError('invalid_request', `${param} is not a valid date`, { param });
  return ms;
}

export interface Window {
  /** Inclusive lower bound in ms, or undefined for unbounded. */
  fromMs: number | undefined;
  /** Exclusive upper bound in ms, or undefined for unbounded. */
  toMs: number | undefined;
  /** Equality filters on stored dimensions (non-empty strings). */
  dims: Array<[DimColumn, string]>;
}

/**
 * Normalises from/to and filters into a time window plus dimension equalities: a `day`/`hour`
 * filter narrows the window instead of being a column.
 */
export function resolveWindow(
  from: Date | undefined,
  to: Date | undefined,
  filter: Partial<Record<GroupKey, string>>,
): Window {
  let fromMs = dateMs(from, 'from');
  let toMs = dateMs(to, 'to');
  const dims: Array<[DimColumn, string]> = [];
  for (const [key, value] of Object.entries(filter) as Array<[GroupKey, string | undefined]>) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') {
      throw new PertokenError('invalid_request', `filter ${key} must be a non-empty string`, {
        param: `filter[${key}]`,
      });
    }
    if (key === 'day' || key === 'hour') {
      const start = parseBucket(value, key);
      const end = start + (key === 'day' ? DAY_MS : HOUR_MS);
      fromMs = fromMs === undefined ? start : Math.max(fromMs, start);
      toMs = toMs === undefined ? end : Math.min(toMs, end);
      continue;
    }
    const column = DIM_COLUMN[key];
    if (column === undefined) {
      throw new PertokenError('invalid_request', `unknown filter ${String(key)}`, { param: `filter[${key}]` });
    }
    dims.push([column, value]);
  }
  return { fromMs, toMs, dims };
}
