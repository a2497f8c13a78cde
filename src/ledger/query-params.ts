import { PertokenError } from '../errors.js';
import { GROUP_KEYS, type GroupKey } from './types.js';

const DAY_MS = 86_400_000;

export function parseInstant(value: string | null, param: string): Date | null {
  if (value === null || value === '') return null;
  // Dates alone mean UTC midnight; anything else must be a full ISO 8601 instant.
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const ms = /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(ms))
    throw new PertokenError(
      'invalid_request',
      `${param} must be an ISO 8601 date or instant with a zone, e.g. 2026-11-01 or 2026-11-01T00:00:00Z`,
      { param },
    );
  return new Date(ms);
}

/** `from` inclusive, `to` exclusive, UTC; defaults to the 30 days up to now. */
export function parseRange(params: URLSearchParams, now: Date): { from: Date; to: Date } {
  const to = parseInstant(params.get('to'), 'to') ?? now;
  const from = parseInstant(params.get('from'), 'from') ?? new Date(to.getTime() - 30 * DAY_MS);
  if (from.getTime() >= to.getTime())
    throw new PertokenError('invalid_request', 'from must be earlier than to', { param: 'from' });
  return { from, to };
}

export function parseGroupBy(value: string | null): GroupKey[] {
  if (value === null || value.trim() === '') return [];
  const keys = value.split(',').map((k) => k.trim());
  for (const key of keys) {
    if (!(GROUP_KEYS as readonly string[]).includes(key)) {
      throw new PertokenError('invalid_request', `unknown group_by key "${key}"; use ${GROUP_KEYS.join(', ')}`, {
        param: 'group_by',
      });
    }
  }
  return [...new Set(keys)] as GroupKey[];
}

/** The dimensions a `filter[KEY]` may name: the group keys but the time buckets. */
const FILTER_KEYS: readonly string[] = GROUP_KEYS.filter((k) => k !== 'day' && k !== 'hour');

/** `filter[tenant]=acme&filter[model]=gpt-4o` */
export function parseFilters(params: URLSearchParams): Partial<Record<GroupKey, string>> {
  const filter: Partial<Record<GroupKey, string>> = {};
  for (const [name, value] of params) {
    const match = /^filter\[(.+)\]$/.exec(name);
    if (!match) continue;
    const key = match[1] as string;
    if (!FILTER_KEYS.includes(key)) {
      throw new PertokenError(
        'invalid_request',
        `unknown filter "${key}"; use filter[KEY] with ${FILTER_KEYS.join(', ')}`,
        {
          param: name,
        },
      );
    }
    filter[key as GroupKey] = value;
  }
  return filter;
}

/** In a route's list of parameters: it takes one `filter[KEY]=VALUE` per dimension (parseFilters checks KEY). */
export const FILTERS = 'filter[KEY]';

/**
 * Refuses a parameter the route does not take, naming it and the right spelling: a misspelt
 * `group-by` or a bare `tenant` silently ignored would answer for the whole organisation or
 * ungrouped, and look right. Every GET route under /api/v1 declares `allowed` and calls this.
 */
export function checkQueryParams(params: URLSearchParams, allowed: readonly string[]): void {
  const filters = allowed.includes(FILTERS);
  for (const name of new Set(params.keys())) {
    if (allowed.includes(name) || (filters && /^filter\[.+\]$/.test(name))) continue;
    throw new PertokenError('invalid_request', unknownParameter(name, params.get(name) ?? '', allowed, filters), {
      param: name,
    });
  }
}

function unknownParameter(name: string, value: string, allowed: readonly string[], filters: boolean): string {
  const head = `unknown parameter "${name}"`;
  const norm = normalize(name);
  // `tenant=acme`, `Tenant=acme`, `filter.tenant=acme`, `filter_tenant=acme`: a dimension named bare.
  const dimension = FILTER_KEYS.find((k) => normalize(k) === norm || `filter${normalize(k)}` === norm);
  if (filters && dimension !== undefined) return `${head}; filter with filter[${dimension}]=${value || 'VALUE'}`;
  // `filter[tenant]=acme` on a route whose tenant is a plain parameter.
  const plain = /^filter\[(.+)\]$/.exec(name)?.[1];
  if (!filters && plain !== undefined && allowed.includes(plain))
    return `${head}; this route takes ${plain}=${value || 'VALUE'}`;
  const near = allowed.filter((a) => a !== FILTERS && isNearMiss(norm, normalize(a)));
  const takes = allowed.length === 0 ? 'this route takes no parameters' : `this route takes ${allowed.join(', ')}`;
  return near.length > 0 ? `${head}; did you mean "${near[0]}"? ${takes}` : `${head}; ${takes}`;
}

/** `group-by`, `groupBy`, `GROUP_BY` and `group by` all read as `groupby`. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The same name but for case and separators, or one or two typed characters off (one for short names). */
function isNearMiss(a: string, b: string): boolean {
  if (a === b) return true;
  const limit = Math.min(a.length, b.length) <= 3 ? 1 : 2;
  return Math.abs(a.length - b.length) <= limit && editDistance(a, b) <= limit;
}

/** Levenshtein distance with adjacent transpositions (`form` is one step from `from`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

export function parseLimit(value: string | null, fallback: number, max: number): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new PertokenError('invalid_request', `limit must be an integer from 1 to ${max}`, { param: 'limit' });
  return n;
}
