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

/** `filter[tenant]=acme&filter[model]=gpt-4o` */
export function parseFilters(params: URLSearchParams): Partial<Record<GroupKey, string>> {
  const filter: Partial<Record<GroupKey, string>> = {};
  for (const [name, value] of params) {
    const match = /^filter\[(.+)\]$/.exec(name);
    if (!match) continue;
    const key = match[1] as string;
    if (!(GROUP_KEYS as readonly string[]).includes(key) || key === 'day' || key === 'hour') {
      throw new PertokenError('invalid_request', `unknown filter "${key}"`, { param: name });
    }
    filter[key as GroupKey] = value;
  }
  return filter;
}

export function parseLimit(value: string | null, fallback: number, max: number): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new PertokenError('invalid_request', `limit must be an integer from 1 to ${max}`, { param: 'limit' });
  return n;
}
